"""Small HTTP helpers shared by the fake providers: JSON responses from bytes, a page cache."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from starlette.responses import Response


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response; `body` may already be encoded (bytes / str) so cached pages skip `json.dumps`."""
    if isinstance(body, str):
        content = body.encode()
    elif isinstance(body, bytes):
        content = body
    else:
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content=content, status_code=status, headers=dict(headers or {}), media_type="application/json")


class LruCache:
    """A bounded map of recently served page bodies, so a retried request costs no rendering."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()  # pages are also rendered ahead in a worker thread

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)
