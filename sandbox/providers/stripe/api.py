"""A fake Stripe API serving the sandbox world, on Stripe's paths and wire format (`/v1/…`).

Every request authenticates one account with its secret key (`Authorization: Bearer sk_…`, or
HTTP Basic with the key as user name) and sees only that account's objects, as of the world's
clock (`StripeFacts.now`: noon São Paulo on the as-of day; nothing later exists). Lists are
Stripe's cursor lists: newest first, `limit` 1–100 (default 10), `starting_after` /
`ending_before`, `has_more` as the only end signal, filters on `created` (and per resource on
`payout`, `type`, `source`, `currency`, `arrival_date`, `status`, `charge`, `payment_intent`).
`expand[]` works for the id fields listed in `EXPANDABLE`. Errors use Stripe's envelope
`{"error": {"type", "message", "code", "param", "doc_url"}}`; requests are counted per key and
endpoint in one-minute windows (Stripe's test-mode figure, 25 per second).
"""

from __future__ import annotations

import base64
import binascii
import random
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.core.httputil import json_response
from sandbox.core.platform import OutsideRoute, SharedWorld
from sandbox.core.ratelimit import FixedWindowLimiter
from sandbox.providers.stripe import wire
from sandbox.providers.stripe.facts import StripeFacts
from sandbox.providers.stripe.options import StripeOptions
from sandbox.providers.stripe.records import StripeAccount

API_VERSION = "2026-10-28.endive"  # stripe-python 16.1.0's pinned version (`_ApiVersion.CURRENT`)
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, using "
    "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
    "for details, or we can help at https://support.stripe.com/."
)
TOO_MANY = "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
COMPARISONS = ("gt", "gte", "lt", "lte")

# resource path → (object kind, its extra list filters)
RESOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "charges": ("charge", ("payment_intent", "customer", "transfer_group")),
    "payment_intents": ("payment_intent", ("customer",)),
    "refunds": ("refund", ("charge", "payment_intent")),
    "disputes": ("dispute", ("charge", "payment_intent")),
    "payouts": ("payout", ("arrival_date", "status", "destination")),
    "balance_transactions": ("balance_transaction", ("payout", "type", "source", "currency")),
}
RANGE_FILTERS = {"created", "arrival_date"}
# object kind → its fields holding an id that `expand[]` may replace with the object
EXPANDABLE: dict[str, tuple[str, ...]] = {
    "charge": ("balance_transaction", "payment_intent"),
    "payment_intent": ("latest_charge",),
    "refund": ("balance_transaction", "charge", "payment_intent"),
    "dispute": ("charge", "payment_intent"),
    "payout": ("balance_transaction",),
    "balance_transaction": ("source",),
}


# The error code Stripe gives with a status, where one status has one usual code: a 404 is an object
# that does not exist for this key ("The requested resource doesn't exist", docs.stripe.com/api/errors;
# `resource_missing`: "Either the resource does not exist, or an ID for a different resource has been
# provided", docs.stripe.com/error-codes). [OFFICIAL] Other statuses carry no code by default; a 429
# in particular has none since API version 2015-09-08 ("Rate-limited requests now return an HTTP 429
# error, no longer including the rate_limit field", docs.stripe.com/changelog/2015-09-08). [OFFICIAL]
STATUS_CODES = {404: "resource_missing"}


def error_body(status: int, message: str) -> dict[str, Any]:
    """Stripe's error envelope for a status alone (what an injected fault answers by default), with
    the error code Stripe gives with that status (`STATUS_CODES`) where it has a usual one."""
    kind = "api_error" if status >= 500 else "invalid_request_error"
    code = STATUS_CODES.get(status)
    return {"error": {"code": code, "message": message, "type": kind} if code else {"message": message, "type": kind}}


def stripe_error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {}
    if code:
        body["code"] = code
        body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    body["message"] = message
    if param:
        body["param"] = param
    body["type"] = "api_error" if status >= 500 else "invalid_request_error"
    return json_response({"error": body}, status, headers)


class _Reply(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _bad(message: str, param: str | None = None, code: str | None = None) -> _Reply:
    return _Reply(stripe_error(400, message, param=param, code=code))


@dataclass(frozen=True, slots=True)
class _Entry:
    key: tuple[int, str]  # (created, id): lists are sorted newest first on it
    kind: str
    obj_id: str


class StripeApi:
    """The fake Stripe: per-account indexes, the limiter, and the Starlette app serving them."""

    def __init__(
        self,
        world: SharedWorld,
        facts: StripeFacts,
        options: StripeOptions | None = None,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.world = world
        self.facts = facts
        self.options = options or StripeOptions()
        self.limiter = FixedWindowLimiter(self.options.rate_limit, window_s, clock)
        self.now: datetime = facts.now or datetime.max
        self._ids = random.Random()  # request ids only
        self._objects: dict[str, tuple[str, str, Any]] = {}  # id → (kind, account id, record)
        self._lists: dict[tuple[str, str], list[_Entry]] = {}  # (account id, kind) → entries, newest first
        self._rendered: dict[str, dict[str, Any]] = {}
        self._index()

    def close(self) -> None:
        """Nothing runs in the background."""

    def outside_routes(self) -> list[OutsideRoute]:
        return []

    # --------------------------------------------------------------------------- indexes

    def _add(self, kind: str, account_id: str, obj_id: str, created: datetime, record: Any) -> None:
        if created > self.now:
            return  # not in the world yet
        self._objects[obj_id] = (kind, account_id, record)
        self._lists.setdefault((account_id, kind), []).append(_Entry((wire.ts(created), obj_id), kind, obj_id))

    def _index(self) -> None:
        f = self.facts
        for c in f.charges:
            self._add("charge", c.account_id, c.charge_id, c.created, c)
            self._add("payment_intent", c.account_id, c.intent_id, c.order.created_at, c)
            if c.refund is not None:
                self._add("refund", c.account_id, c.refund.refund_id, c.refund.created, c)
            if c.dispute is not None:
                self._add("dispute", c.account_id, c.dispute.dispute_id, c.dispute.created, c)
        for p in f.stripe_payouts:
            self._add("payout", p.account_id, p.payout_id, p.created, p)
        for t in f.balance_transactions:
            self._add("balance_transaction", t.account_id, t.txn_id, t.created, t)
        for entries in self._lists.values():
            entries.sort(key=lambda e: e.key, reverse=True)

    def render(self, obj_id: str) -> dict[str, Any]:
        """The object as the API serves it now (cached: the world does not move)."""
        found = self._rendered.get(obj_id)
        if found is not None:
            return found
        kind, account_id, record = self._objects[obj_id]
        account = self.facts.account_by_id[account_id]
        now = self.now
        if kind == "charge":
            body = wire.charge(record, account, now)
        elif kind == "payment_intent":
            body = wire.payment_intent(record, account, now)
        elif kind == "refund":
            body = wire.refund(record.refund, record, now)
        elif kind == "dispute":
            body = wire.dispute(record.dispute, record, self.facts.txn_by_id[record.dispute.txn_id], now)
        elif kind == "payout":
            body = wire.payout(record, account, now)
        else:
            body = wire.balance_transaction(record, now)
        self._rendered[obj_id] = body
        return body

    # --------------------------------------------------------------------------- plumbing

    def app(self) -> Starlette:
        routes = []
        for path, (kind, filters) in RESOURCES.items():
            routes.append(Route(f"/v1/{path}", self._endpoint(f"GET /v1/{path}", self._lister(path, kind, filters))))
            routes.append(Route(f"/v1/{path}/{{id}}", self._endpoint(f"GET /v1/{path}/:id", self._getter(kind))))

        async def unrecognized(request: Request, exc: Exception) -> Response:
            response = stripe_error(
                404,
                f"Unrecognized request URL ({request.method}: {request.url.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            )
            self._stamp(response)
            return response

        return Starlette(routes=routes, exception_handlers={HTTPException: unrecognized})

    def _endpoint(
        self, endpoint: str, handler: Callable[[Request, StripeAccount], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            response = await answer(request)
            self._stamp(response)
            response.headers["Stripe-Version"] = request.headers.get("stripe-version", API_VERSION)
            return response

        async def answer(request: Request) -> Response:
            key = _presented_key(request)
            client = key or (request.client.host if request.client else "unknown")
            refusal = self.limiter.hit(endpoint, client)
            if refusal is not None:
                return stripe_error(429, TOO_MANY, headers={"Retry-After": str(refusal.reset_s)})
            if not key:
                return stripe_error(401, NO_KEY, headers={"WWW-Authenticate": 'Basic realm="Stripe"'})
            account = self.facts.account_by_key.get(key)
            if account is None:
                shown = f"{key[:8]}{'*' * max(0, len(key) - 12)}{key[-4:]}" if len(key) > 12 else key
                return stripe_error(401, f"Invalid API Key provided: {shown}")
            try:
                return await handler(request, account)
            except _Reply as exc:
                return exc.response

        return serve

    def _stamp(self, response: Response) -> None:
        """`Request-Id` on every answer, errors (401, 404, 429) included: "Each API request has an
        associated request identifier. You can find this value in the response headers, under
        `Request-Id`" (docs.stripe.com/api/request_ids). [OFFICIAL]"""
        response.headers["Request-Id"] = f"req_{self._ids.getrandbits(64):016x}"

    # --------------------------------------------------------------------------- endpoints

    def _getter(self, kind: str) -> Callable[[Request, StripeAccount], Awaitable[Response]]:
        async def get(request: Request, account: StripeAccount) -> Response:
            obj_id = request.path_params["id"]
            found = self._objects.get(obj_id)
            if found is None or found[0] != kind or found[1] != account.account_id:
                return stripe_error(404, f"No such {kind}: '{obj_id}'", code="resource_missing", param="id")
            params = request.query_params
            unknown = [k for k in params if not _is_expand(k)]
            if unknown:
                raise _bad(f"Received unknown parameter: {unknown[0]}", unknown[0], "parameter_unknown")
            expand = [v for k, v in params.multi_items() if _is_expand(k)]
            return json_response(self._expanded(self.render(obj_id), kind, expand, account))

        return get

    def _lister(
        self, path: str, kind: str, filters: tuple[str, ...]
    ) -> Callable[[Request, StripeAccount], Awaitable[Response]]:
        allowed = {"limit", "starting_after", "ending_before", "created", *filters}

        async def list_(request: Request, account: StripeAccount) -> Response:
            params = request.query_params
            simple: dict[str, str] = {}
            ranges: dict[str, dict[str, int]] = {}
            expand: list[str] = []
            for name, value in params.multi_items():
                if _is_expand(name):
                    expand.append(value)
                    continue
                base, _, op = name.partition("[")
                op = op.rstrip("]")
                if base not in allowed or (op and (base not in RANGE_FILTERS or op not in COMPARISONS)):
                    raise _bad(f"Received unknown parameter: {name}", name, "parameter_unknown")
                if base in RANGE_FILTERS:
                    ranges.setdefault(base, {})[op or "eq"] = _integer(value, name)
                else:
                    simple[base] = value
            limit = _integer(simple.get("limit", str(DEFAULT_LIMIT)), "limit")
            if not 1 <= limit <= MAX_LIMIT:
                raise _bad(f"Invalid limit: must be between 1 and {MAX_LIMIT}", "limit", "parameter_invalid_integer")
            if "starting_after" in simple and "ending_before" in simple:
                raise _bad("You may only specify one of these parameters: ending_before, starting_after.")
            for e in expand:
                if not e.startswith("data.") or e[5:].split(".")[0] not in EXPANDABLE[kind]:
                    raise _bad(f"This property cannot be expanded ({e}).", "expand")
            entries = self._select(account, kind, simple, ranges)
            page, has_more = self._page(account, kind, entries, simple, limit)
            data = [self._expanded(self.render(e.obj_id), kind, [x[5:] for x in expand], account) for e in page]
            body = {"object": "list", "data": data, "has_more": has_more, "url": f"/v1/{path}"}
            return json_response(body)

        return list_

    # --------------------------------------------------------------------------- lists

    def _select(
        self, account: StripeAccount, kind: str, simple: dict[str, str], ranges: dict[str, dict[str, int]]
    ) -> list[_Entry]:
        entries = self._lists.get((account.account_id, kind), [])
        if kind == "balance_transaction" and "payout" in simple:
            payout = self.facts.payout_by_id.get(simple["payout"])
            if payout is None or payout.account_id != account.account_id or payout.payout_id not in self._objects:
                raise _Reply(
                    stripe_error(404, f"No such payout: '{simple['payout']}'", code="resource_missing", param="payout")
                )
            members = {payout.txn_id, *payout.paid_txns}
            entries = [e for e in entries if e.obj_id in members]
        checks = {k: v for k, v in simple.items() if k not in ("limit", "starting_after", "ending_before", "payout")}
        if not checks and not ranges:
            return entries
        kept = []
        for e in entries:
            body = self.render(e.obj_id)
            if any(str(body.get(k)) != v for k, v in checks.items()):
                continue
            if any(not _in_range(body.get(field), bounds) for field, bounds in ranges.items()):
                continue
            kept.append(e)
        return kept

    def _page(
        self, account: StripeAccount, kind: str, entries: list[_Entry], simple: dict[str, str], limit: int
    ) -> tuple[list[_Entry], bool]:
        """Stripe's cursor: `starting_after` → the older objects after it; `ending_before` → the
        newer ones right before it (still listed newest first); `has_more` says whether more
        lie beyond the page in the direction walked."""
        # entries are newest first; negate keys to search them ascending
        keys = [(-e.key[0], _Desc(e.key[1])) for e in entries]
        for param in ("starting_after", "ending_before"):
            cursor_id = simple.get(param)
            if cursor_id is None:
                continue
            found = self._objects.get(cursor_id)
            if found is None or found[0] != kind or found[1] != account.account_id:
                raise _Reply(stripe_error(404, f"No such {kind}: '{cursor_id}'", code="resource_missing", param=param))
            created = self.render(cursor_id)["created"]
            at = bisect_left(keys, (-created, _Desc(cursor_id)))
            cursor_here = at < len(entries) and entries[at].obj_id == cursor_id
            if param == "starting_after":
                rest = entries[at + 1 if cursor_here else at :]
                return rest[:limit], len(rest) > limit
            before = entries[:at]
            return before[-limit:], len(before) > limit
        return entries[:limit], len(entries) > limit

    def _expanded(self, body: dict[str, Any], kind: str, expand: list[str], account: StripeAccount) -> dict[str, Any]:
        if not expand:
            return body
        out = dict(body)
        for path in expand:
            field = path.split(".")[0]
            if field not in EXPANDABLE[kind]:
                raise _bad(f"This property cannot be expanded ({path}).", "expand")
            value = out.get(field)
            if isinstance(value, str) and value in self._objects and self._objects[value][1] == account.account_id:
                out[field] = self.render(value)
        return out


class _Desc(str):
    """A string ordered backwards: ids descend within one `created` second, as the lists do."""

    def __lt__(self, other: object) -> bool:
        return str.__gt__(self, other)  # type: ignore[operator]

    def __gt__(self, other: object) -> bool:
        return str.__lt__(self, other)  # type: ignore[operator]


def _is_expand(name: str) -> bool:
    return name == "expand" or (name.startswith("expand[") and name.endswith("]"))


def _integer(value: str, param: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _bad(f"Invalid integer: {value}", param, "parameter_invalid_integer") from None


def _in_range(value: Any, bounds: dict[str, int]) -> bool:
    if not isinstance(value, int):
        return False
    for op, bound in bounds.items():
        if (
            (op == "eq" and value != bound)
            or (op == "gt" and not value > bound)
            or (op == "gte" and not value >= bound)
            or (op == "lt" and not value < bound)
            or (op == "lte" and not value <= bound)
        ):
            return False
    return True


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if scheme.lower() == "basic" and credentials.strip():
        try:
            user = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user.partition(":")[0] or None
    return None
