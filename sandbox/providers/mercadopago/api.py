"""A fake Mercado Pago API (payments search, one payment, the token's account) serving the world.

Every endpoint wants `Authorization: Bearer <access token>` (an account's `APP_USR-…` token from
the credentials) and shows only that account's payments:

- `GET /v1/payments/search`: `range` (`date_created` default, `date_approved`,
  `date_last_updated`, `money_release_date`) filtered by `begin_date` / `end_date` (ISO-8601 with
  an offset, or `NOW`, `NOW-<n>MINUTES|HOURS|DAYS|WEEKS|MONTHS`; defaults `NOW-3MONTHS` / `NOW`; both
  inclusive; `NOW` is the world's `as_of` at 00:00 São Paulo), exact filters `status`,
  `status_detail`, `external_reference`, `payment_type_id`, `payment_method_id`, `operation_type`,
  `installments`, `collector.id`; `sort` (`date_approved`, `date_created` default,
  `date_last_updated`, `id`, `money_release_date`; ties by id, payments without the sorted date
  last) and `criteria` (`asc`, `desc` default); `offset` (default 0, at most 10000) and `limit`
  (default 30, at most 50) → `{"paging": {"total", "limit", "offset"}, "results": [...]}`. The
  end of the listing is offset + results ≥ `paging.total` (a page past the end is empty).
- `GET /v1/payments/{id}`: one payment (404 for an id of another account, as if it did not exist).
- `GET /users/me`: the account behind the token (id = `collector_id`, `identification` = the
  store's CNPJ), which clients use to tie a token to the documents it pays out to.

Errors are MP's `{"message", "error", "status", "cause": [...]}`: a bad token 401
`invalid access token`; no token at all 403 from MP's policy layer (`PA_UNAUTHORIZED_RESULT_FROM_POLICIES`);
bad parameters 400 with MP's cause codes (1 `Params Error.`, 1000 `Number of rows exceeded the
limits.` for a limit over 50 or an offset over 10000, 1001 date format, 1003 sort, 1004 criteria);
429 with `Retry-After` beyond the rate limit (per endpoint and access token).
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.core.httputil import LruCache, json_response
from sandbox.core.platform import OutsideRoute, SharedWorld
from sandbox.core.ratelimit import FixedWindowLimiter
from sandbox.providers.mercadopago.facts import MercadoPagoFacts
from sandbox.providers.mercadopago.options import MercadoPagoOptions
from sandbox.providers.mercadopago.records import Account, Payment
from sandbox.providers.mercadopago.story import as_of_instant
from sandbox.providers.mercadopago.wire import cause, error_body, payment_json, user

SEARCH_PATH = "/v1/payments/search"
PAYMENT_PATH = "/v1/payments/{id}"
USER_PATH = "/users/me"
DEFAULT_LIMIT = 30
MAX_LIMIT = 50  # "limit: max value = 50" (MP's guide "Received payments management")
MAX_OFFSET = 10_000  # "offset: max. allowed: 10000" (the same guide)
SORTS = ("date_approved", "date_created", "date_last_updated", "id", "money_release_date")
RANGES = ("date_created", "date_approved", "date_last_updated", "money_release_date")
CRITERIA = ("asc", "desc")
ROWS_EXCEEDED = "Number of rows exceeded the limits."
DATE_FORMAT = "Date format must be yyyy-MM-dd'T'HH:mm:ss.SSSZ."
_RELATIVE = re.compile(r"NOW(?:-(\d{1,4})(MINUTES|HOURS|DAYS|WEEKS|MONTHS))?")
_ABSOLUTE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})")

_DATES: dict[str, Callable[[Payment], datetime | None]] = {
    "date_created": lambda p: p.created_at,
    "date_approved": lambda p: p.approved_at,
    "date_last_updated": lambda p: p.last_updated,
    "money_release_date": lambda p: p.release_at if p.took_money else None,
}
_FILTERS: dict[str, Callable[[Payment], str]] = {
    "status": lambda p: p.status,
    "status_detail": lambda p: p.status_detail,
    "external_reference": lambda p: p.order.order_id,
    "payment_type_id": lambda p: p.payment_type_id,
    "payment_method_id": lambda p: p.payment_method_id,
    "operation_type": lambda p: "regular_payment",
    "installments": lambda p: str(p.installments),
    "collector.id": lambda p: str(p.collector_id),
}
POLICY_REFUSAL = {
    "code": "PA_UNAUTHORIZED_RESULT_FROM_POLICIES",
    "blocked_by": "PolicyAgent",
    "message": "At least one policy returned UNAUTHORIZED.",
    "status": 403,
}


def mp_error(status: int, message: str, *causes: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return json_response(error_body(status, message, list(causes)), status, headers)


class _Reply(Exception):
    """An early answer raised from parameter parsing, returned as is."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _bad(code: int, description: str) -> _Reply:
    return _Reply(mp_error(400, description, cause(code, description)))


def _months_before(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 - months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def parse_moment(value: str, now: datetime) -> datetime:
    """An absolute ISO-8601 time with its offset, or `NOW[-<n><UNIT>]` counted back from `now`."""
    relative = _RELATIVE.fullmatch(value)
    if relative:
        amount, unit = relative.groups()
        if unit is None:
            return now
        n = int(amount)
        if unit == "MONTHS":
            return _months_before(now, n)
        return now - timedelta(**{unit.lower(): n})
    if not _ABSOLUTE.fullmatch(value):
        raise _bad(1001, DATE_FORMAT)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(1001, DATE_FORMAT) from None


def _whole(request: Request, name: str, default: int, maximum: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise _bad(1, "Params Error.")
    number = int(value)
    if number > maximum:
        raise _bad(1000, ROWS_EXCEEDED)
    return number


def error_body_of(status: int, message: str) -> dict[str, Any]:
    """MP's error envelope for a status alone (what an injected fault answers by default)."""
    return error_body(status, message)


class MercadoPagoApi:
    """The fake Mercado Pago: bearer tokens of the accounts, a limiter, rendered payments and pages."""

    def __init__(
        self,
        world: SharedWorld,
        facts: MercadoPagoFacts,
        options: MercadoPagoOptions | None = None,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` (monotonic seconds) drives the rate-limit windows (`window_s` long)."""
        self.world = world
        self.facts = facts
        self.options = options or MercadoPagoOptions()
        self.limiter = FixedWindowLimiter(self.options.rate_limit, window_s, clock)
        self.now = as_of_instant(facts.as_of)
        self._rendered: dict[int, bytes] = {}
        self._selections = LruCache(64)

    def close(self) -> None:
        """Nothing runs in the background here."""

    def outside_routes(self) -> list[OutsideRoute]:
        """Everything Mercado Pago serves is under `/mercadopago`."""
        return []

    def app(self) -> Starlette:
        routes = [
            Route(SEARCH_PATH, self._guard("GET " + SEARCH_PATH, self.search), methods=["GET"]),
            Route(PAYMENT_PATH, self._guard("GET " + PAYMENT_PATH, self.get_payment), methods=["GET"]),
            Route(USER_PATH, self._guard("GET " + USER_PATH, self.users_me), methods=["GET"]),
        ]

        async def not_found(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 404
            return mp_error(status, "resource not found" if status == 404 else "method not allowed")

        return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})

    # --------------------------------------------------------------------------- plumbing

    def _guard(
        self, endpoint: str, handler: Callable[[Request, Account], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """Rate limit (per endpoint and token), bearer check (403 without one, 401 for a bad one)."""

        async def endpoint_fn(request: Request) -> Response:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            token = token.strip()
            account = self.facts.account_by_token.get(token) if scheme.lower() == "bearer" else None
            client = request.client.host if request.client else "unknown"
            refusal = self.limiter.hit(endpoint, account.access_token if account else client)
            if refusal is not None:
                return mp_error(
                    429,
                    "Too many requests",
                    headers={
                        "Retry-After": str(refusal.reset_s),
                        "X-RateLimit-Limit": str(refusal.limit),
                        "X-RateLimit-Remaining": "0",
                    },
                )
            if scheme.lower() != "bearer" or not token:
                return json_response(POLICY_REFUSAL, 403)
            if account is None:
                return mp_error(401, "invalid access token")
            try:
                return await handler(request, account)
            except _Reply as exc:
                return exc.response

        return endpoint_fn

    def _json(self, payment: Payment) -> bytes:
        body = self._rendered.get(payment.payment_id)
        if body is None:
            body = self._rendered[payment.payment_id] = payment_json(
                payment, self.facts.account_by_name[payment.account]
            )
        return body

    # --------------------------------------------------------------------------- endpoints

    async def users_me(self, request: Request, account: Account) -> Response:
        return json_response(user(account))

    async def get_payment(self, request: Request, account: Account) -> Response:
        raw = request.path_params["id"]
        found = self.facts.payment_by_id.get(int(raw)) if raw.isdigit() else None
        if found is None or found.account != account.name:
            return mp_error(404, "Payment not found", cause(2000, "Payment not found"))
        return json_response(self._json(found))

    async def search(self, request: Request, account: Account) -> Response:
        params = request.query_params
        sort = params.get("sort") or "date_created"
        if sort not in SORTS:
            raise _bad(1003, "Invalid sort value.")
        criteria = params.get("criteria") or "desc"
        if criteria not in CRITERIA:
            raise _bad(1004, "Invalid criteria value.")
        field = params.get("range") or "date_created"
        if field not in RANGES:
            raise _bad(1, "Params Error.")
        begin = parse_moment(params.get("begin_date") or "NOW-3MONTHS", self.now)
        end = parse_moment(params.get("end_date") or "NOW", self.now)
        limit = _whole(request, "limit", DEFAULT_LIMIT, MAX_LIMIT)
        offset = _whole(request, "offset", 0, MAX_OFFSET)
        filters = tuple(sorted((name, params[name]) for name in _FILTERS if params.get(name) not in (None, "")))
        key = (account.name, field, begin, end, sort, criteria, filters)
        selected: list[Payment] | None = self._selections.get(key)
        if selected is None:
            selected = self._select(account, field, begin, end, sort, criteria, filters)
            self._selections.put(key, selected)
        page = selected[offset : offset + limit]
        head = f'{{"paging":{{"total":{len(selected)},"limit":{limit},"offset":{offset}}},"results":['
        return json_response(head.encode() + b",".join(self._json(p) for p in page) + b"]}")

    def _select(
        self,
        account: Account,
        field: str,
        begin: datetime,
        end: datetime,
        sort: str,
        criteria: str,
        filters: tuple[tuple[str, str], ...],
    ) -> list[Payment]:
        moment = _DATES[field]
        chosen = []
        for p in self.facts.payments_by_account[account.name]:
            at = moment(p)
            if at is None or not begin <= at <= end:
                continue
            if all(_FILTERS[name](p) == value for name, value in filters):
                chosen.append(p)
        if sort == "id":
            return sorted(chosen, key=lambda p: p.payment_id, reverse=criteria == "desc")
        by = _DATES[sort]
        dated = sorted((p for p in chosen if by(p) is not None), key=lambda p: (by(p), p.payment_id))
        if criteria == "desc":
            dated.reverse()
        return dated + sorted((p for p in chosen if by(p) is None), key=lambda p: p.payment_id)


def create_mercadopago_app(
    world: SharedWorld,
    facts: MercadoPagoFacts,
    options: MercadoPagoOptions | None = None,
    *,
    window_s: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The fake Mercado Pago as an ASGI app (mount it at `/mercadopago`)."""
    return MercadoPagoApi(world, facts, options, window_s=window_s, clock=clock).app()
