"""Serving an ASGI app the way the sink is served: uvicorn with uvloop and httptools, no access log.

One configuration for the sink and for the benchmark's no-op app, so their figures compare the
apps and nothing else. The access log is off: it would cost more than the request and it would
print paths and query strings into logs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

BACKLOG = 2048


def config(app: Any, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=30,
        backlog=BACKLOG,
        server_header=False,
    )


def serve(app: Any, host: str, port: int) -> None:
    """Serve until interrupted (blocking)."""
    uvicorn.Server(config(app, host, port)).run()


def start_in_thread(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, timeout_s: float = 30.0
) -> tuple[str, Callable[[], None]]:
    """Serve `app` from a background thread on a real socket; returns (base URL, stop). For tests."""
    server = uvicorn.Server(config(app, host, port))
    thread = threading.Thread(target=server.run, name=f"sink-{host}:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.01)
    bound = next(sock.getsockname()[1] for srv in server.servers for sock in srv.sockets)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)

    return f"http://{host}:{bound}", stop
