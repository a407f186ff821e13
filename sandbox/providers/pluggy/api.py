"""A fake Pluggy API serving the sandbox world, on Pluggy's paths and wire formats.

`POST /auth` trades a tenant's client id / secret for an API key (an HS256 JWT living two hours);
every other endpoint wants it in `X-API-KEY` and only shows that tenant's items, accounts and
transactions. Transactions come cursor-paged from `GET /v2/transactions` (500 per page, ordered by
(date, id)) or page-numbered from the deprecated `GET /transactions`. Requests are counted per
endpoint and client IP in one-minute windows and refused with Pluggy's 429 beyond the limit.

Choices where Pluggy's documentation is silent (see docs/sandbox-world.md, "Fake APIs"): v1
`from`/`to` are inclusive dates; `next` repeats the request's filters plus `after`; resources
of another tenant answer 404 as if they did not exist.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.core.bank import UUID_BITS, UUID_MASK, BankLedger
from sandbox.core.httputil import LruCache, json_response
from sandbox.core.parties import Tenant
from sandbox.core.platform import OutsideRoute, SharedWorld
from sandbox.core.ratelimit import FixedWindowLimiter
from sandbox.core.tokens import TokenError, TokenIssuer, derive_key
from sandbox.providers.pluggy import NAME
from sandbox.providers.pluggy.facts import PluggyFacts
from sandbox.providers.pluggy.options import PluggyOptions
from sandbox.providers.pluggy.records import BankItem
from sandbox.providers.pluggy.wire import TransactionRenderer, account, decode_cursor, encode_cursor, item

PAGE_SIZE = 500
MAX_IDS = 500
TOO_MANY = "Too many requests. Please try again later (see Retry-After header in seconds)"

Params = list[tuple[str, str]]
PageBuilder = Callable[[BankItem, BankLedger, Params], tuple[bytes, "Params | None"]]


def error_body(status: int, message: str) -> dict[str, Any]:
    """Pluggy's error envelope for a status alone (what an injected fault answers by default)."""
    return {"code": status, "message": message}


def bad_request(message: str, code_description: str | None = None) -> Response:
    body: dict[str, Any] = {"message": message, "code": 400}
    if code_description:
        body["codeDescription"] = code_description
    return json_response(body, 400)


def error(status: int, message: str, code_description: str | None = None) -> Response:
    body: dict[str, Any] = {"code": status}
    if code_description:
        body["codeDescription"] = code_description
    body["message"] = message
    return json_response(body, status)


class _Reply(Exception):
    """An early answer (400 / 404) raised from deep in parameter parsing, returned as is."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _parse_uuid(value: str | None, name: str) -> str:
    if not value:
        raise _Reply(bad_request(f"{name} should not be null or undefined,{name} must be a UUID"))
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _Reply(bad_request(f"{name} must be a UUID")) from None


def _parse_date(value: str | None, name: str) -> date | None:
    """`YYYY-MM-DD` (a full ISO timestamp is cut to its date, as clients sometimes send)."""
    if value is None or value == "":
        return None
    try:
        if len(value) < 10 or (len(value) > 10 and value[10] != "T"):
            raise ValueError
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _Reply(bad_request(f"{name} must be a valid ISO 8601 date string (YYYY-MM-DD)")) from None


def _parse_timestamp(value: str | None, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Reply(bad_request(f"{name} must be a valid ISO 8601 date string")) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class PluggyApi:
    """The fake Pluggy: state (keys, limiter, caches) plus the Starlette app that serves it."""

    def __init__(
        self,
        world: SharedWorld,
        facts: PluggyFacts,
        options: PluggyOptions | None = None,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` (monotonic seconds) drives the rate-limit windows (`window_s` long); tests pass one they advance."""
        self.world = world
        self.facts = facts
        self.options = options or PluggyOptions()
        self.keys = TokenIssuer(derive_key(world.config.seed, "pluggy"), issuer="conciliador-sandbox/pluggy")
        self.limiter = FixedWindowLimiter(self.options.rate_limit, window_s, clock)
        self._clients = {t.credentials[NAME].client_id: t for t in world.tenants}
        self._renderers: dict[str, TransactionRenderer] = {}
        self._pages = LruCache(64)
        self._following = LruCache(64)  # page key → parameters of the page after it
        self._filtered = LruCache(16)
        self._prefetching: dict[Hashable, Future[bytes]] = {}
        self._workers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pluggy-prefetch")
        self._id_index: dict[int, tuple[str, int]] | None = None

    def close(self) -> None:
        """Stop the page-ahead worker (pending renders are dropped)."""
        self._workers.shutdown(wait=False, cancel_futures=True)

    def outside_routes(self) -> list[OutsideRoute]:
        """Everything Pluggy serves is under `/pluggy`."""
        return []

    # --------------------------------------------------------------------------- plumbing

    def app(self) -> Starlette:
        routes = [
            Route("/auth", self._limited("POST /auth", self.auth, authenticated=False), methods=["POST"]),
            Route("/items/{id}", self._limited("GET /items/{id}", self.get_item), methods=["GET"]),
            Route("/accounts", self._limited("GET /accounts", self.list_accounts), methods=["GET"]),
            Route("/accounts/{id}", self._limited("GET /accounts/{id}", self.get_account), methods=["GET"]),
            Route("/v2/transactions", self._limited("GET /v2/transactions", self.transactions_v2), methods=["GET"]),
            Route("/transactions", self._limited("GET /transactions", self.transactions_v1), methods=["GET"]),
            Route("/transactions/{id}", self._limited("GET /transactions/{id}", self.get_transaction), methods=["GET"]),
        ]

        async def not_found(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 404
            return error(status, "Not Found" if status == 404 else "Method Not Allowed")

        return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})

    def _limited(
        self, endpoint: str, handler: Callable[..., Awaitable[Response]], *, authenticated: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler with Pluggy's rate limit (per endpoint, per client IP) and API-key check."""

        async def endpoint_fn(request: Request) -> Response:
            client = request.client.host if request.client else "unknown"
            refusal = self.limiter.hit(endpoint, client)
            if refusal is not None:
                return json_response(
                    {"message": TOO_MANY, "code": 429},
                    429,
                    {
                        "Retry-After": str(refusal.reset_s),
                        "RateLimit-Limit": str(refusal.limit),
                        "RateLimit-Remaining": "0",
                        "RateLimit-Reset": str(refusal.reset_s),
                    },
                )
            try:
                if not authenticated:
                    return await handler(request)
                tenant = self._tenant(request)
                if isinstance(tenant, Response):
                    return tenant
                return await handler(request, tenant)
            except _Reply as exc:
                return exc.response

        return endpoint_fn

    def _tenant(self, request: Request) -> Tenant | Response:
        key = request.headers.get("x-api-key")
        if not key:
            return error(403, "Missing API key: send it in the X-API-KEY header")
        try:
            claims = self.keys.verify(key)
        except TokenError as exc:
            return error(403, f"Invalid API key ({exc})")
        tenant = self._clients.get(claims["sub"])
        return tenant if tenant is not None else error(403, "Invalid API key (unknown client)")

    def _item(self, tenant: Tenant, item_id: str) -> BankItem | None:
        found = self.facts.item_by_id.get(item_id)
        return found if found is not None and found.tenant_id == tenant.tenant_id else None

    def _item_of_account(self, tenant: Tenant, account_id: str) -> BankItem | None:
        found = self.facts.item_by_account.get(account_id)
        return found if found is not None and found.tenant_id == tenant.tenant_id else None

    def _renderer(self, bank_item: BankItem) -> TransactionRenderer:
        renderer = self._renderers.get(bank_item.account_id)
        if renderer is None:
            renderer = self._renderers[bank_item.account_id] = TransactionRenderer(self.world, bank_item)
        return renderer

    # --------------------------------------------------------------------------- endpoints

    async def auth(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return bad_request("Request body must be JSON with clientId and clientSecret")
        if not isinstance(body, dict):
            return bad_request("Request body must be JSON with clientId and clientSecret")
        missing = [
            f"{name} should not be empty"
            for name in ("clientId", "clientSecret")
            if not isinstance(body.get(name), str) or not body.get(name)
        ]
        if missing:
            return bad_request(",".join(missing))
        tenant = self._clients.get(body["clientId"])
        credentials = tenant.credentials[NAME] if tenant is not None else None
        if credentials is None or body["clientSecret"] != credentials.client_secret:
            return error(401, "Client keys are invalid", "CLIENT_KEYS_UNAUTHORIZED")
        api_key = self.keys.issue(credentials.client_id, self.options.api_key_ttl_s, tenant=tenant.tenant_id)
        return json_response({"apiKey": api_key})

    async def get_item(self, request: Request, tenant: Tenant) -> Response:
        found = self._item(tenant, request.path_params["id"])
        if found is None:
            return error(404, "item not found", "ITEM_NOT_FOUND")
        return json_response(item(self.world, found))

    async def list_accounts(self, request: Request, tenant: Tenant) -> Response:
        item_id = _parse_uuid(request.query_params.get("itemId"), "itemId")
        kind = request.query_params.get("type")
        if kind not in (None, "", "BANK", "CREDIT"):
            return bad_request("type must be one of the following values: BANK, CREDIT")
        found = self._item(tenant, item_id)
        if found is None:
            return error(404, "item not found", "ITEM_NOT_FOUND")
        results = [] if kind == "CREDIT" else [account(self.world, found)]
        return json_response({"page": 1, "total": len(results), "totalPages": 1 if results else 0, "results": results})

    async def get_account(self, request: Request, tenant: Tenant) -> Response:
        found = self._item_of_account(tenant, request.path_params["id"])
        if found is None:
            return error(404, "Account not found", "ACCOUNT_NOT_FOUND")
        return json_response(account(self.world, found))

    async def get_transaction(self, request: Request, tenant: Tenant) -> Response:
        try:
            wanted = uuid.UUID(request.path_params["id"]).int
        except ValueError:
            return error(404, "Transaction not found", "TRANSACTION_NOT_FOUND")
        found = self._ids().get(wanted)
        owner = self._item_of_account(tenant, found[0]) if found else None
        if found is None or owner is None:
            return error(404, "Transaction not found", "TRANSACTION_NOT_FOUND")
        return json_response(self._renderer(owner).render(found[1]))

    async def transactions_v2(self, request: Request, tenant: Tenant) -> Response:
        params = request.query_params
        bank_item, ledger = self._account_param(tenant, params.get("accountId"))
        if params.get("dateFrom") and params.get("createdAtFrom"):
            return bad_request("dateFrom and createdAtFrom cannot be used together")
        return json_response(await self._page(self._v2_page, bank_item, ledger, params.multi_items()))

    async def transactions_v1(self, request: Request, tenant: Tenant) -> Response:
        params = request.query_params
        bank_item, ledger = self._account_param(tenant, params.get("accountId"))
        return json_response(await self._page(self._v1_page, bank_item, ledger, params.multi_items()))

    # --------------------------------------------------------------------------- pages

    async def _page(self, build: PageBuilder, bank_item: BankItem, ledger: BankLedger, params: Params) -> bytes:
        """A transactions page body, from the cache or built now; the following page is then built
        ahead in a worker thread.

        Clients walk pages in order and spend a while on each (decoding, writing to a database), so
        rendering page n+1 while they work on page n takes the sandbox off their critical path.
        """
        key = (build.__name__, bank_item.account_id, tuple(sorted(params)))
        body = self._pages.get(key)
        if body is None:
            pending = self._prefetching.get(key)
            if pending is not None:
                body = await asyncio.wrap_future(pending)
            else:
                body, following = build(bank_item, ledger, params)
                self._pages.put(key, body)
                if following is not None:
                    self._following.put(key, following)
                self._prefetch(build, bank_item, ledger, following)
                return body
        following = self._following.get(key)
        self._prefetch(build, bank_item, ledger, following)
        return body

    def _prefetch(self, build: PageBuilder, bank_item: BankItem, ledger: BankLedger, params: Params | None) -> None:
        if params is None:
            return
        key = (build.__name__, bank_item.account_id, tuple(sorted(params)))
        if key in self._prefetching or self._pages.get(key) is not None:
            return

        def render() -> bytes:
            try:
                body, following = build(bank_item, ledger, params)
                self._pages.put(key, body)
                if following is not None:
                    self._following.put(key, following)
                return body
            finally:
                self._prefetching.pop(key, None)

        try:
            self._prefetching[key] = self._workers.submit(render)
        except RuntimeError:  # shutting down: the page will simply be rendered on request
            pass

    def _v2_page(self, bank_item: BankItem, ledger: BankLedger, params: Params) -> tuple[bytes, Params | None]:
        """One cursor page and the parameters of the next (None on the last page)."""
        query = dict(params)
        rows = self._select(
            ledger,
            date_from=_parse_date(query.get("dateFrom"), "dateFrom"),
            date_to=_parse_date(query.get("dateTo"), "dateTo"),
            created_from=_parse_timestamp(query.get("createdAtFrom"), "createdAtFrom"),
            ids=query.get("ids"),
        )
        start = 0
        if query.get("after"):
            try:
                cursor_key = decode_cursor(query["after"])
            except ValueError:
                raise _Reply(bad_request("Invalid cursor")) from None
            keys = ledger.keys
            start = bisect.bisect_right(rows, cursor_key, key=lambda i: keys[i])
        page = rows[start : start + PAGE_SIZE]
        following: Params | None = None
        next_query = "null"
        if start + PAGE_SIZE < len(rows):
            kept = [(k, v) for k, v in params if k in ("accountId", "ids", "dateFrom", "dateTo", "createdAtFrom")]
            following = [*kept, ("after", encode_cursor(ledger, page[-1]))]
            next_query = '"?' + urlencode(following) + '"'
        body = f'{{"results":[{self._renderer(bank_item).render_many(page)}],"next":{next_query}}}'
        return body.encode(), following

    def _v1_page(self, bank_item: BankItem, ledger: BankLedger, params: Params) -> tuple[bytes, Params | None]:
        """One numbered page (deprecated endpoint) and the parameters of the next."""
        query = dict(params)
        page_size = self._positive_int(query.get("pageSize"), "pageSize", PAGE_SIZE, maximum=PAGE_SIZE)
        page = self._positive_int(query.get("page"), "page", 1)
        rows = self._select(
            ledger,
            date_from=_parse_date(query.get("from"), "from"),
            date_to=_parse_date(query.get("to"), "to"),
            created_from=_parse_timestamp(query.get("createdAtFrom"), "createdAtFrom"),
            ids=query.get("ids"),
        )
        total = len(rows)
        total_pages = math.ceil(total / page_size)
        chunk = rows[(page - 1) * page_size : page * page_size]
        body = (
            f'{{"total":{total},"totalPages":{total_pages},"page":{page},'
            f'"results":[{self._renderer(bank_item).render_many(chunk)}]}}'
        )
        following = None
        if page < total_pages:
            following = [(k, v) for k, v in params if k != "page"] + [("page", str(page + 1))]
        return body.encode(), following

    # --------------------------------------------------------------------------- helpers

    def _account_param(self, tenant: Tenant, value: str | None) -> tuple[BankItem, BankLedger]:
        account_id = _parse_uuid(value, "accountId")
        found = self._item_of_account(tenant, account_id)
        if found is None:
            raise _Reply(error(404, "Account not found", "ACCOUNT_NOT_FOUND"))
        return found, self.world.ledgers[found.account_id]

    @staticmethod
    def _positive_int(value: str | None, name: str, default: int, maximum: int | None = None) -> int:
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise _Reply(bad_request(f"{name} must be an integer number")) from None
        if number < 1:
            raise _Reply(bad_request(f"{name} must not be less than 1"))
        if maximum is not None and number > maximum:
            raise _Reply(bad_request(f"{name} must not be greater than {maximum}"))
        return number

    def _select(
        self,
        ledger: BankLedger,
        *,
        date_from: date | None,
        date_to: date | None,
        created_from: datetime | None,
        ids: str | None,
    ) -> Sequence[int]:
        """Row numbers matching the filters, in (date, id) order: a `range` unless a filter forces a list.

        `ids` wins over the date filters (as Pluggy documents for v1). `createdAtFrom` needs a scan;
        its result is cached, since a client pages through the same filter many times.
        """
        if ids:
            wanted = [part.strip() for part in ids.split(",") if part.strip()]
            if len(wanted) > MAX_IDS:
                raise _Reply(
                    bad_request(
                        f"ids parameter exceeds the maximum of {MAX_IDS} ids", "IDS_PARAMETER_EXCEEDS_MAX_LENGTH"
                    )
                )
            index = self._ids()
            rows = set()
            for text in wanted:
                try:
                    found = index.get(uuid.UUID(text).int)
                except ValueError:
                    raise _Reply(bad_request("each value in ids must be a UUID")) from None
                if found and found[0] == ledger.account_id:
                    rows.add(found[1])
            return sorted(rows)
        keys = ledger.keys
        lo = bisect.bisect_left(keys, date_from.toordinal() << UUID_BITS) if date_from else 0
        hi = bisect.bisect_left(keys, (date_to.toordinal() + 1) << UUID_BITS) if date_to else len(keys)
        if created_from is None:
            return range(lo, max(lo, hi))
        cache_key = (ledger.account_id, lo, hi, created_from)
        cached = self._filtered.get(cache_key)
        if cached is None:
            threshold = created_from.date().toordinal() * 86_400 + (
                created_from.hour * 3600
                + created_from.minute * 60
                + created_from.second
                + (1 if created_from.microsecond else 0)
            )
            created = ledger.created
            cached = [i for i in range(lo, hi) if (keys[i] >> UUID_BITS) * 86_400 + created[i] >= threshold]
            self._filtered.put(cache_key, cached)
        return cached

    def _ids(self) -> dict[int, tuple[str, int]]:
        """Transaction id → (account id, row), built on first use (a world may hold millions of rows)."""
        if self._id_index is None:
            self._id_index = {
                key & UUID_MASK: (account_id, i)
                for account_id, ledger in self.world.ledgers.items()
                for i, key in enumerate(ledger.keys)
            }
        return self._id_index


def create_pluggy_app(
    world: SharedWorld,
    facts: PluggyFacts,
    options: PluggyOptions | None = None,
    *,
    window_s: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The fake Pluggy as an ASGI app (mount it at `/pluggy`)."""
    return PluggyApi(world, facts, options, window_s=window_s, clock=clock).app()
