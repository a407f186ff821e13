"""A fake iFood Merchant API (authentication + Financial v3.0 sales and events) serving the world.

`POST /authentication/v1.0/oauth/token` is OAuth2 client credentials with iFood's camelCase form
fields and answers `{accessToken, type, expiresIn}`; the financial endpoints want
`Authorization: Bearer …` and refuse (403) merchants that belong to another application. Sales
and events are filtered by their calendar day in America/Sao_Paulo, both bounds inclusive.
Errors use iFood's `{"error": {"code", "message", ...}}` envelope; 429 carries `Retry-After`
and `X-RateLimit-*` headers.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.httputil import LruCache, json_response
from sandbox.ifood_wire import financial_event, sale
from sandbox.options import ServerOptions
from sandbox.ratelimit import FixedWindowLimiter, Refusal
from sandbox.tokens import TokenError, TokenIssuer, derive_key
from sandbox.world import SAO_PAULO, Store, Tenant, World

SALES_PAGE_SIZE = 100
SALES_MAX_WINDOW_DAYS = 90
EVENTS_DEFAULT_SIZE = 100
EVENTS_MAX_SIZE = 500
TOKEN_PATH = "/authentication/v1.0/oauth/token"
SALES_PATH = "/financial/v3.0/merchants/{merchantId}/sales"
EVENTS_PATH = "/financial/v3.0/merchants/{merchantId}/financial-events"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def ifood_error(
    status: int, code: str, message: str, *, field: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if status == 400:
        body["field"] = field
        body["details"] = [message]
    return json_response({"error": body}, status, headers)


class _Reply(Exception):
    """An early answer raised from parameter parsing, returned as is."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _bad(field: str, message: str) -> _Reply:
    return _Reply(ifood_error(400, "BadRequest", message, field=field))


def _date_param(request: Request, name: str) -> date:
    value = request.query_params.get(name)
    if not value:
        raise _bad(name, f"{name} is required (YYYY-MM-DD)")
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(name, f"{name} must be a valid date in the format YYYY-MM-DD") from None


def _int_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or int(value) < 1:
        raise _bad(name, f"{name} must be a positive integer")
    if maximum is not None and int(value) > maximum:
        raise _bad(name, f"{name} must not be greater than {maximum}")
    return int(value)


def _window(request: Request, begin_name: str, end_name: str, max_days: int | None) -> tuple[date, date]:
    begin, end = _date_param(request, begin_name), _date_param(request, end_name)
    if end < begin:
        raise _bad(end_name, f"{end_name} must not be before {begin_name}")
    if max_days is not None and (end - begin).days + 1 > max_days:
        raise _bad(end_name, f"the period between {begin_name} and {end_name} must not exceed {max_days} days")
    return begin, end


def _too_many(refusal: Refusal) -> Response:
    return ifood_error(
        429,
        "TooManyRequests",
        "Too many requests, retry after the period in Retry-After",
        headers={
            "Retry-After": str(refusal.reset_s),
            "X-RateLimit-Limit": str(refusal.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(refusal.reset_s),
        },
    )


class IfoodApi:
    """The fake iFood: tokens, per-application limiter, indexed sales and events, page cache."""

    def __init__(self, world: World, options: ServerOptions | None = None) -> None:
        self.world = world
        self.options = options or ServerOptions()
        self.tokens = TokenIssuer(derive_key(world.config.seed, "ifood"), issuer="conciliador-sandbox/ifood")
        self.limiter = FixedWindowLimiter(self.options.ifood_rate_limit, self.options.rate_limit_window_s)
        self.token_limiter = FixedWindowLimiter(self.options.ifood_token_rate_limit, self.options.rate_limit_window_s)
        self._clients = {t.ifood_client_id: t for t in world.tenants}
        self._pages = LruCache(128)
        # Per merchant, the São Paulo day of each sale / event, aligned with the world's sorted lists.
        self._sale_days = {
            m: [o.business_date.toordinal() for o in orders] for m, orders in world.orders_by_merchant.items()
        }
        self._event_days = {
            m: [e.date_time.astimezone(SAO_PAULO).date().toordinal() for e in events]
            for m, events in world.events_by_merchant.items()
        }

    def app(self) -> Starlette:
        routes = [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(SALES_PATH, self._financial("GET " + SALES_PATH, self.sales), methods=["GET"]),
            Route(EVENTS_PATH, self._financial("GET " + EVENTS_PATH, self.financial_events), methods=["GET"]),
        ]

        async def not_found(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 404
            return ifood_error(
                status,
                "NotFound" if status == 404 else "MethodNotAllowed",
                "Resource not found" if status == 404 else "Method not allowed",
            )

        return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})

    # --------------------------------------------------------------------------- auth

    async def token(self, request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        client = request.client.host if request.client else "unknown"
        refusal = self.token_limiter.hit("POST " + TOKEN_PATH, form.get("clientId") or client)
        if refusal is not None:
            return _too_many(refusal)
        grant = form.get("grantType")
        if grant != "client_credentials":
            message = (
                "grantType is required"
                if not grant
                else f"grantType {grant!r} is not supported here: use client_credentials"
            )
            return ifood_error(400, "BadRequest", message, field="grantType")
        tenant = self._clients.get(form.get("clientId", ""))
        if tenant is None or form.get("clientSecret") != tenant.ifood_client_secret:
            return ifood_error(401, "Unauthorized", "Invalid client credentials")
        ttl = self.options.ifood_token_ttl_s
        token = self.tokens.issue(tenant.ifood_client_id, ttl, app=tenant.tenant_id)
        return json_response({"accessToken": token, "type": "bearer", "expiresIn": ttl})

    def _financial(
        self, endpoint: str, handler: Callable[[Request, Store], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """Rate limit (per application), bearer check (401), merchant ownership (403), then the handler."""

        async def endpoint_fn(request: Request) -> Response:
            tenant, problem = self._bearer(request)
            client = request.client.host if request.client else "unknown"
            refusal = self.limiter.hit(endpoint, tenant.ifood_client_id if tenant else client)
            if refusal is not None:
                return _too_many(refusal)
            if tenant is None:
                return ifood_error(401, "Unauthorized", problem)
            store = self.world.store_by_merchant.get(request.path_params["merchantId"])
            if store is None or store.tenant_id != tenant.tenant_id:
                return ifood_error(403, "Forbidden", "The merchant is not authorized for this application")
            try:
                return await handler(request, store)
            except _Reply as exc:
                return exc.response

        return endpoint_fn

    def _bearer(self, request: Request) -> tuple[Tenant | None, str]:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "Missing bearer token"
        try:
            claims = self.tokens.verify(token.strip())
        except TokenError as exc:
            return None, f"Invalid access token ({exc})"
        tenant = self._clients.get(claims["sub"])
        return (tenant, "") if tenant else (None, "Invalid access token (unknown application)")

    # --------------------------------------------------------------------------- data

    async def sales(self, request: Request, store: Store) -> Response:
        begin, end = _window(request, "beginSalesDate", "endSalesDate", SALES_MAX_WINDOW_DAYS)
        page = _int_param(request, "page", 1)
        key = ("sales", store.merchant_id, begin, end, page)
        body = self._pages.get(key)
        if body is None:
            days = self._sale_days[store.merchant_id]
            lo = bisect.bisect_left(days, begin.toordinal())
            hi = bisect.bisect_right(days, end.toordinal())
            total = hi - lo
            first = lo + (page - 1) * SALES_PAGE_SIZE
            orders = self.world.orders_by_merchant[store.merchant_id][first : min(hi, first + SALES_PAGE_SIZE)]
            body = json_response(
                {
                    "beginSalesDate": begin.isoformat(),
                    "endSalesDate": end.isoformat(),
                    "page": page,
                    "size": SALES_PAGE_SIZE,
                    "total": total,
                    "pageCount": math.ceil(total / SALES_PAGE_SIZE),
                    "sales": [sale(o, store) for o in orders],
                }
            ).body
            self._pages.put(key, body)
        return json_response(body)

    async def financial_events(self, request: Request, store: Store) -> Response:
        begin, end = _window(request, "beginDate", "endDate", None)
        page = _int_param(request, "page", 1)
        size = _int_param(request, "size", EVENTS_DEFAULT_SIZE, EVENTS_MAX_SIZE)
        key = ("events", store.merchant_id, begin, end, page, size)
        body = self._pages.get(key)
        if body is None:
            days = self._event_days[store.merchant_id]
            lo = bisect.bisect_left(days, begin.toordinal())
            hi = bisect.bisect_right(days, end.toordinal())
            first = lo + (page - 1) * size
            events = self.world.events_by_merchant[store.merchant_id][first : min(hi, first + size)]
            body = json_response(
                {
                    "page": page,
                    "size": size,
                    "hasNextPage": first + size < hi,
                    "financialEvents": [financial_event(e, store) for e in events],
                }
            ).body
            self._pages.put(key, body)
        return json_response(body)


def create_ifood_app(world: World, options: ServerOptions | None = None) -> Starlette:
    """The fake iFood as an ASGI app (mount it at `/ifood`)."""
    return IfoodApi(world, options).app()
