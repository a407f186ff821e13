"""A fake iFood Merchant API (authentication + Financial v3.0) serving the world.

Financial v3.0: sales, financial events, settlements, anticipations (404 for a store that never
anticipated a payout) and reconciliation on demand, whose files are served outside the `/ifood`
prefix at `/_sandbox/files/…` behind expiring, signed links (like pre-signed S3 URLs).

`POST /authentication/v1.0/oauth/token` is OAuth2 client credentials with iFood's camelCase form
fields and answers `{accessToken, type, expiresIn}`; the financial endpoints want
`Authorization: Bearer …` and refuse (403) merchants that belong to another application. Sales
and events are filtered by their calendar day in America/Sao_Paulo, both bounds inclusive.
Errors use iFood's `{"error": {"code", "message", ...}}` envelope; 429 carries `Retry-After`
and `X-RateLimit-*` headers.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.control import clock_offset
from sandbox.core.httputil import LruCache, json_response
from sandbox.core.parties import Tenant
from sandbox.core.platform import OutsideRoute, SharedWorld
from sandbox.core.ratelimit import FixedWindowLimiter, Refusal
from sandbox.core.tokens import TokenError, TokenIssuer, derive_key
from sandbox.providers.ifood import NAME
from sandbox.providers.ifood.facts import IfoodFacts
from sandbox.providers.ifood.financial import (
    anticipated_batches,
    anticipations_body,
    closing_items,
    reconciliation_csv_gz,
    reconciliation_rows,
    settlements_body,
)
from sandbox.providers.ifood.options import IfoodOptions
from sandbox.providers.ifood.records import Merchant
from sandbox.providers.ifood.wire import financial_event, sale

SALES_PAGE_SIZE = 100
SALES_MAX_WINDOW_DAYS = 90
EVENTS_DEFAULT_SIZE = 100
EVENTS_MAX_SIZE = 500
TOKEN_PATH = "/authentication/v1.0/oauth/token"
SALES_PATH = "/financial/v3.0/merchants/{merchantId}/sales"
EVENTS_PATH = "/financial/v3.0/merchants/{merchantId}/financial-events"
SETTLEMENTS_PATH = "/financial/v3.0/merchants/{merchantId}/settlements"
ANTICIPATIONS_PATH = "/financial/v3.0/merchants/{merchantId}/anticipations"
ON_DEMAND_PATH = "/financial/v3.0/merchants/{merchantId}/reconciliation/on-demand"
ON_DEMAND_STATUS_PATH = ON_DEMAND_PATH + "/{requestId}"
FILES_PREFIX = "/_sandbox/files/"  # outside the /ifood prefix, like a pre-signed S3 link
FILES_PATH = FILES_PREFIX + "{name}"
SETTLEMENTS_MAX_WINDOW_DAYS = 31
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COMPETENCE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def error_body(status: int, message: str) -> dict[str, Any]:
    """iFood's error envelope for a status alone (what an injected fault answers by default)."""
    return {"error": {"code": f"Http{status}", "message": message}}


def ifood_error(
    status: int, code: str, message: str, *, field: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if status == 400:
        body["field"] = field
        body["details"] = [message]
    return json_response({"error": body}, status, headers)


def _s3_denied(message: str) -> Response:
    """What S3 answers for an expired or tampered pre-signed URL: 403 with an XML error."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>'
    )
    return Response(body, status_code=403, media_type="application/xml")


@dataclass(slots=True)
class _OnDemand:
    """One reconciliation-on-demand request: who asked, for what, when, how often it was polled."""

    request_id: str
    merchant_id: str
    competence: str
    created: float  # IfoodApi's clock
    polls: int = 0


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

    def __init__(
        self,
        world: SharedWorld,
        facts: IfoodFacts,
        options: IfoodOptions | None = None,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` (monotonic seconds) drives the rate-limit windows (`window_s` long) and the
        on-demand requests' ages (processing delay, de-duplication window, expiry); tests pass one
        they advance."""
        self.world = world
        self.facts = facts
        self.options = options or IfoodOptions()
        self._clock = clock
        self.tokens = TokenIssuer(derive_key(world.config.seed, "ifood"), issuer="conciliador-sandbox/ifood")
        self.limiter = FixedWindowLimiter(self.options.rate_limit, window_s, clock)
        self.token_limiter = FixedWindowLimiter(self.options.token_rate_limit, window_s, clock)
        self._clients = {t.credentials[NAME].client_id: t for t in world.tenants}
        self._pages = LruCache(128)
        # Per merchant, the São Paulo day of each sale / event, aligned with the facts' sorted lists.
        self._sale_days = {
            m: [o.business_date.toordinal() for o in orders] for m, orders in facts.sales_by_merchant.items()
        }
        self._event_days = {
            m: [e.date_time.astimezone(SAO_PAULO).date().toordinal() for e in events]
            for m, events in facts.events_by_merchant.items()
        }
        self._closing_items = closing_items(facts)
        self._anticipated = anticipated_batches(facts)
        self._on_demand: dict[str, _OnDemand] = {}
        self._on_demand_lock = threading.Lock()
        self._files: dict[str, tuple[str, str]] = {}  # file token → (merchant id, competence)
        self._file_key = derive_key(world.config.seed, "ifood-files")
        self._file_cache = LruCache(16)

    def close(self) -> None:
        """Nothing runs in the background here."""

    def outside_routes(self) -> list[OutsideRoute]:
        """The reconciliation files, served like pre-signed S3 links outside the `/ifood` prefix."""
        return [OutsideRoute(FILES_PREFIX, Route(FILES_PATH, self.download, methods=["GET"]))]

    def app(self) -> Starlette:
        routes = [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(SALES_PATH, self._financial("GET " + SALES_PATH, self.sales), methods=["GET"]),
            Route(EVENTS_PATH, self._financial("GET " + EVENTS_PATH, self.financial_events), methods=["GET"]),
            Route(SETTLEMENTS_PATH, self._financial("GET " + SETTLEMENTS_PATH, self.settlements), methods=["GET"]),
            Route(
                ANTICIPATIONS_PATH, self._financial("GET " + ANTICIPATIONS_PATH, self.anticipations), methods=["GET"]
            ),
            Route(ON_DEMAND_PATH, self._financial("POST " + ON_DEMAND_PATH, self.on_demand_request), methods=["POST"]),
            Route(
                ON_DEMAND_STATUS_PATH,
                self._financial("GET " + ON_DEMAND_STATUS_PATH, self.on_demand_status),
                methods=["GET"],
            ),
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
        credentials = tenant.credentials[NAME] if tenant is not None else None
        if credentials is None or form.get("clientSecret") != credentials.client_secret:
            return ifood_error(401, "Unauthorized", "Invalid client credentials")
        ttl = self.options.token_ttl_s
        token = self.tokens.issue(credentials.client_id, ttl, app=tenant.tenant_id)
        return json_response({"accessToken": token, "type": "bearer", "expiresIn": ttl})

    def _financial(
        self, endpoint: str, handler: Callable[[Request, Merchant], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """Rate limit (per application), bearer check (401), merchant ownership (403), then the handler."""

        async def endpoint_fn(request: Request) -> Response:
            tenant, problem = self._bearer(request)
            client = request.client.host if request.client else "unknown"
            refusal = self.limiter.hit(endpoint, tenant.credentials[NAME].client_id if tenant else client)
            if refusal is not None:
                return _too_many(refusal)
            if tenant is None:
                return ifood_error(401, "Unauthorized", problem)
            merchant = self.facts.merchant_by_id.get(request.path_params["merchantId"])
            if merchant is None or merchant.tenant_id != tenant.tenant_id:
                return ifood_error(403, "Forbidden", "The merchant is not authorized for this application")
            try:
                return await handler(request, merchant)
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

    async def sales(self, request: Request, merchant: Merchant) -> Response:
        begin, end = _window(request, "beginSalesDate", "endSalesDate", SALES_MAX_WINDOW_DAYS)
        page = _int_param(request, "page", 1)
        key = ("sales", merchant.merchant_id, begin, end, page)
        body = self._pages.get(key)
        if body is None:
            days = self._sale_days[merchant.merchant_id]
            lo = bisect.bisect_left(days, begin.toordinal())
            hi = bisect.bisect_right(days, end.toordinal())
            total = hi - lo
            first = lo + (page - 1) * SALES_PAGE_SIZE
            orders = self.facts.sales_by_merchant[merchant.merchant_id][first : min(hi, first + SALES_PAGE_SIZE)]
            body = json_response(
                {
                    "beginSalesDate": begin.isoformat(),
                    "endSalesDate": end.isoformat(),
                    "page": page,
                    "size": SALES_PAGE_SIZE,
                    "total": total,
                    "pageCount": math.ceil(total / SALES_PAGE_SIZE),
                    "sales": [sale(o, merchant) for o in orders],
                }
            ).body
            self._pages.put(key, body)
        return json_response(body)

    async def financial_events(self, request: Request, merchant: Merchant) -> Response:
        begin, end = _window(request, "beginDate", "endDate", None)
        page = _int_param(request, "page", 1)
        size = _int_param(request, "size", EVENTS_DEFAULT_SIZE, EVENTS_MAX_SIZE)
        key = ("events", merchant.merchant_id, begin, end, page, size)
        body = self._pages.get(key)
        if body is None:
            days = self._event_days[merchant.merchant_id]
            lo = bisect.bisect_left(days, begin.toordinal())
            hi = bisect.bisect_right(days, end.toordinal())
            first = lo + (page - 1) * size
            events = self.facts.events_by_merchant[merchant.merchant_id][first : min(hi, first + size)]
            body = json_response(
                {
                    "page": page,
                    "size": size,
                    "hasNextPage": first + size < hi,
                    "financialEvents": [financial_event(e, merchant) for e in events],
                }
            ).body
            self._pages.put(key, body)
        return json_response(body)

    # ------------------------------------------------------------------- settlements, anticipations

    async def settlements(self, request: Request, merchant: Merchant) -> Response:
        by_payment = "beginCalculationDate" not in request.query_params or "beginPaymentDate" in request.query_params
        names = ("beginPaymentDate", "endPaymentDate") if by_payment else ("beginCalculationDate", "endCalculationDate")
        begin, end = _window(request, *names, SETTLEMENTS_MAX_WINDOW_DAYS)
        body = settlements_body(
            self.facts, merchant, self._closing_items[merchant.merchant_id], begin, end, by_payment=by_payment
        )
        if body is None:
            return ifood_error(404, "NO_SETTLEMENTS_FOUND", "No settlements found for the given period")
        return json_response(body)

    async def anticipations(self, request: Request, merchant: Merchant) -> Response:
        by_anticipated = "beginAnticipatedPaymentDate" in request.query_params
        names = (
            ("beginAnticipatedPaymentDate", "endAnticipatedPaymentDate")
            if by_anticipated
            else ("beginCalculationDate", "endCalculationDate")
        )
        begin, end = _window(request, *names, SETTLEMENTS_MAX_WINDOW_DAYS)
        batches = self._anticipated[merchant.merchant_id]
        if not batches:  # a store that never anticipated has no anticipation plan
            return ifood_error(404, "NO_ANTICIPATION_PLAN", "The merchant has no anticipation plan")
        return json_response(
            anticipations_body(self.facts, merchant, batches, begin, end, by_anticipated=by_anticipated)
        )

    # --------------------------------------------------------------- reconciliation on demand

    async def on_demand_request(self, request: Request, merchant: Merchant) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        competence = body.get("competence") if isinstance(body, dict) else None
        if not isinstance(competence, str) or not _COMPETENCE.fullmatch(competence):
            return json_response({"code": "400", "message": "competence is required, in the format YYYY-MM"}, 400)
        now = self._clock()
        with self._on_demand_lock:
            for previous in self._on_demand.values():
                if (
                    previous.merchant_id == merchant.merchant_id
                    and previous.competence == competence
                    and now - previous.created < self.options.ondemand_dedup_s
                ):
                    return json_response(
                        {
                            "code": "409",
                            "message": f"There is already a recent and valid request Id: {previous.request_id}",
                        },
                        409,
                    )
            request_id = str(uuid.uuid4())
            self._on_demand[request_id] = _OnDemand(request_id, merchant.merchant_id, competence, now)
        return json_response(
            {"competence": competence, "merchantId": merchant.merchant_id, "requestId": request_id}, 202
        )

    async def on_demand_status(self, request: Request, merchant: Merchant) -> Response:
        request_id = request.path_params["requestId"]
        with self._on_demand_lock:
            entry = self._on_demand.get(request_id)
            alive = entry is not None and self._clock() - entry.created < self.options.ondemand_request_ttl_s
            if entry is None or not alive or entry.merchant_id != merchant.merchant_id:
                return json_response({"error": "404", "message": f"Request Id {request_id} not found"}, 404)
            entry.polls += 1
            first_poll = entry.polls == 1
        body: dict[str, Any] = {"id": entry.request_id, "competence": entry.competence}
        if first_poll or self._clock() - entry.created < self.options.ondemand_delay_s:
            return json_response({**body, "status": "created"})
        if not self._rows(merchant, entry.competence):
            message = "File generation failed: No financial entries exist"
            return json_response({**body, "status": "error", "message": message})
        return json_response({**body, "status": "processed", "downloadPath": self._signed_link(request, entry)})

    def _rows(self, merchant: Merchant, competence: str) -> list[dict[str, str]]:
        key = ("rows", merchant.merchant_id, competence)
        rows = self._file_cache.get(key)
        if rows is None:
            rows = reconciliation_rows(self.facts, merchant, competence)
            self._file_cache.put(key, rows)
        return rows

    def _sign(self, token: str, expires: int) -> str:
        return hmac.new(self._file_key, f"{token}|{expires}".encode(), hashlib.sha256).hexdigest()

    def _signed_link(self, request: Request, entry: _OnDemand) -> str:
        """A new link on every call: absolute, outside the iFood prefix, valid for the download TTL."""
        token = hmac.new(self._file_key, entry.request_id.encode(), hashlib.sha256).hexdigest()[:32]
        self._files[token] = (entry.merchant_id, entry.competence)
        expires = math.ceil(time.time() + self.options.download_ttl_s)
        root = f"{request.url.scheme}://{request.url.netloc}"
        return f"{root}/_sandbox/files/{token}.csv.gz?expires={expires}&signature={self._sign(token, expires)}"

    async def download(self, request: Request) -> Response:
        """`GET /_sandbox/files/<token>.csv.gz?expires=&signature=`: no bearer; 403 once expired or tampered.

        A fault's `advance_clock_s` (sandbox.control) makes "now" that much later, so a test can
        present a link that has expired the way S3 says it has.
        """
        name = request.path_params["name"]
        token = name.removesuffix(".csv.gz")
        expires = request.query_params.get("expires", "")
        signature = request.query_params.get("signature", "")
        if not expires.isdigit() or not hmac.compare_digest(signature, self._sign(token, int(expires))):
            return _s3_denied("The request signature we calculated does not match the signature you provided")
        if time.time() + clock_offset(request.scope) > int(expires):
            return _s3_denied("Request has expired")
        target = self._files.get(token)
        if target is None or not name.endswith(".csv.gz"):
            body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code></Error>'
            return Response(body, status_code=404, media_type="application/xml")
        merchant_id, competence = target
        key = ("file", merchant_id, competence)
        content = self._file_cache.get(key)
        if content is None:
            content = reconciliation_csv_gz(self._rows(self.facts.merchant_by_id[merchant_id], competence))
            self._file_cache.put(key, content)
        filename = f"reconciliation-{merchant_id}-{competence}.csv.gz"
        return Response(
            content,
            media_type="application/gzip",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def create_ifood_app(
    world: SharedWorld,
    facts: IfoodFacts,
    options: IfoodOptions | None = None,
    *,
    window_s: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The fake iFood as an ASGI app (mount it at `/ifood`; its report downloads are `outside_routes`)."""
    return IfoodApi(world, facts, options, window_s=window_s, clock=clock).app()
