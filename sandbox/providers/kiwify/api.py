"""A fake Kiwify public API serving the sandbox world (mounted at `/kiwify`; production base
`https://public-api.kiwify.com`).

- `POST /v1/oauth/token` (form `client_id`, `client_secret`) → `{access_token, token_type: "Bearer",
  expires_in: 345600, scope}` (96 h, docs.kiwify.com.br "Autenticação"); bad credentials: 401.
- Every other call needs `Authorization: Bearer <token>` **and** `x-kiwify-account-id` (the token's
  account); missing or wrong: 401 `{"error": "unauthorized", "message": …}` (Kiwify documents the
  401 status, not its body: the envelope `{error, message}` is our choice, UNCONFIRMED).
- `GET /v1/sales?start_date&end_date` (both required, `YYYY-MM-DD` São Paulo dates or ISO
  timestamps, inclusive, on `created_at`; more than 90 days apart → 400 "O período máximo entre o
  start_date e o end_date é de 90 dias"), `status`, `payment_method` (boleto|credit_card|pix),
  `product_id`, `affiliate_id`, `view_full_sale_details` (true: full sales), `page_size` (default
  10, at most 100: 400 beyond), `page_number` (1-based) → `{pagination: {count (the total
  matching), page_number, page_size}, data}`; the last page is the one reaching `count` (a page
  past it is empty). Sales are ordered by `created_at`, then id.
- `GET /v1/sales/{id}` → the full sale; another account's or unknown: 404.
- `GET /v1/payouts?page_size&page_number` → `{pagination, data}` of payout objects, newest first;
  `GET /v1/payouts/{id}`.
Everything is as of the world's end (`as_of` 00:00 São Paulo). Past `KiwifyOptions.rate_limit` per
minute per account: 429 `{"error": "too_many_requests", …}` with `Retry-After`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.httputil import json_response
from sandbox.core.platform import OutsideRoute, SharedWorld
from sandbox.core.ratelimit import FixedWindowLimiter, Refusal
from sandbox.core.tokens import TokenError, TokenIssuer, derive_key
from sandbox.providers.kiwify import NAME
from sandbox.providers.kiwify.facts import KiwifyFacts
from sandbox.providers.kiwify.options import KiwifyOptions
from sandbox.providers.kiwify.records import PAYMENT_METHODS, KiwifyAccount
from sandbox.providers.kiwify.wire import full_sale, payout_item, sale_item

MAX_WINDOW_DAYS = 90
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
ACCOUNT_HEADER = "x-kiwify-account-id"
SCOPE = "sales products financial webhooks"


def error_body(status: int, message: str) -> dict[str, Any]:
    code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "too_many_requests"}
    return {"error": code.get(status, "internal_server_error"), "message": message}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(error_body(status, message), status, headers)


class BadRequest(ValueError):
    pass


def _day(raw: str | None, name: str) -> datetime:
    if not raw:
        raise BadRequest(f"{name} é obrigatório")
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), dtime(), SAO_PAULO)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} inválido: use YYYY-MM-DD") from None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


def _page_args(request: Request) -> tuple[int, int]:
    params = request.query_params
    size_raw, number_raw = params.get("page_size") or "", params.get("page_number") or ""
    size = int(size_raw) if size_raw.isdigit() else DEFAULT_PAGE_SIZE if not size_raw else -1
    number = int(number_raw) if number_raw.isdigit() else 1 if not number_raw else -1
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadRequest(f"page_size deve estar entre 1 e {MAX_PAGE_SIZE}")
    if number < 1:
        raise BadRequest("page_number deve ser maior ou igual a 1")
    return size, number


class KiwifyApi:
    """The fake Kiwify: token issuer, limiter, and the Starlette app that serves the world's sales and payouts."""

    def __init__(
        self,
        world: SharedWorld,
        facts: KiwifyFacts,
        options: KiwifyOptions | None = None,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.world = world
        self.facts = facts
        self.options = options or KiwifyOptions()
        self.limiter = FixedWindowLimiter(self.options.rate_limit, window_s, clock)
        self.tokens = TokenIssuer(derive_key(world.config.seed, NAME), issuer="kiwify-sandbox")
        self._sorted = {
            name: sorted(sales, key=lambda k: (k.sale.created_at, k.id))
            for name, sales in facts.sales_by_account.items()
        }

    def close(self) -> None:
        """Nothing runs in the background."""

    def outside_routes(self) -> list[OutsideRoute]:
        return []

    def app(self) -> Starlette:
        routes = [
            Route("/v1/oauth/token", self.token, methods=["POST"]),
            Route("/v1/sales", self._guarded(self.list_sales), methods=["GET"]),
            Route("/v1/sales/{id}", self._guarded(self.get_sale), methods=["GET"]),
            Route("/v1/payouts", self._guarded(self.list_payouts), methods=["GET"]),
            Route("/v1/payouts/{id}", self._guarded(self.get_payout), methods=["GET"]),
        ]

        async def not_found(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 404
            return _error(status, "Método não permitido" if status == 405 else "Rota não encontrada")

        return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})

    async def token(self, request: Request) -> Response:
        form = await request.form()
        account = self.facts.account_by_client.get(str(form.get("client_id", "")))
        if account is None or str(form.get("client_secret", "")) != account.client_secret:
            return _error(401, "client_id ou client_secret inválidos")
        ttl = self.options.token_ttl_s
        access = self.tokens.issue(account.name, ttl, store_api_integration_id=account.client_id)
        return json_response({"access_token": access, "token_type": "Bearer", "expires_in": ttl, "scope": SCOPE})

    def _guarded(
        self, handler: Callable[[Request, KiwifyAccount], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return _error(401, "Token de acesso ausente")
            try:
                claims = self.tokens.verify(token.strip())
            except TokenError:
                return _error(401, "Token de acesso inválido ou expirado")
            account = self.facts.account_by_name.get(claims["sub"])
            if account is None:
                return _error(401, "Token de acesso inválido ou expirado")
            if request.headers.get(ACCOUNT_HEADER, "") != account.account_id:
                return _error(401, f"{ACCOUNT_HEADER} ausente ou inválido")
            refusal: Refusal | None = self.limiter.hit("api", account.name)
            if refusal is not None:
                return _error(429, "Limite de requisições excedido", {"Retry-After": str(refusal.reset_s)})
            try:
                return await handler(request, account)
            except BadRequest as exc:
                return _error(400, str(exc))

        return endpoint

    async def list_sales(self, request: Request, account: KiwifyAccount) -> Response:
        params = request.query_params
        start, end = _day(params.get("start_date"), "start_date"), _day(params.get("end_date"), "end_date")
        if len(params.get("end_date", "")) == 10:
            end = end + timedelta(days=1) - timedelta(microseconds=1)  # a date includes its whole day
        if end < start:
            raise BadRequest("end_date deve ser posterior a start_date")
        if end - start > timedelta(days=MAX_WINDOW_DAYS):
            raise BadRequest("O período máximo entre o start_date e o end_date é de 90 dias")
        size, number = _page_args(request)
        status = params.get("status") or None
        method = params.get("payment_method") or None
        if method is not None and method not in PAYMENT_METHODS.values():
            raise BadRequest("payment_method deve ser boleto, credit_card ou pix")
        product = params.get("product_id") or None
        affiliate = params.get("affiliate_id") or None
        full = (params.get("view_full_sale_details") or "").lower() == "true"
        moment = self.facts.world_end
        assert moment is not None
        selected = []
        for k in self._sorted[account.name]:
            current = k.status_at(moment)
            if current is None or not start <= k.sale.created_at <= end:
                continue
            if status is not None and current != status:
                continue
            if method is not None and PAYMENT_METHODS[k.sale.method] != method:
                continue
            if product is not None and k.product_id != product:
                continue
            if affiliate is not None and (k.affiliate is None or k.affiliate.id != affiliate):
                continue
            selected.append((k, current))
        page = selected[(number - 1) * size : number * size]
        data = [full_sale(k, account, s, moment) if full else sale_item(k, s, moment) for k, s in page]
        return json_response(
            {"pagination": {"count": len(selected), "page_number": number, "page_size": size}, "data": data}
        )

    async def get_sale(self, request: Request, account: KiwifyAccount) -> Response:
        k = self.facts.sale_by_id.get(request.path_params["id"])
        moment = self.facts.world_end
        assert moment is not None
        status = k.status_at(moment) if k is not None else None
        if k is None or k.account != account.name or status is None:
            return _error(404, "Venda não encontrada")
        return json_response(full_sale(k, account, status, moment))

    def _payouts(self, account: KiwifyAccount) -> list:
        moment = self.facts.world_end
        assert moment is not None
        made = [x for x in self.facts.payouts_by_account[account.name] if x.created_at < moment]
        return sorted(made, key=lambda x: (x.created_at, x.id), reverse=True)

    async def list_payouts(self, request: Request, account: KiwifyAccount) -> Response:
        size, number = _page_args(request)
        made = self._payouts(account)
        page = made[(number - 1) * size : number * size]
        return json_response(
            {
                "pagination": {"count": len(made), "page_number": number, "page_size": size},
                "data": [payout_item(x) for x in page],
            }
        )

    async def get_payout(self, request: Request, account: KiwifyAccount) -> Response:
        wanted = request.path_params["id"]
        for x in self._payouts(account):
            if x.id == wanted:
                return json_response(payout_item(x))
        return _error(404, "Saque não encontrado")


__all__ = ["KiwifyApi", "error_body"]
