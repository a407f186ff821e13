"""A fake Asaas API serving the sandbox world, on Asaas's paths and wire format (mounted at `/asaas`).

Every request needs an account's API key in the `access_token` header (401 in Asaas's error
envelope otherwise: `access_token_not_found`, `invalid_access_token_format`,
`invalid_environment` for a production key, `invalid_access_token`) and, by default, a
`User-Agent` (400 `invalid_user_agent`); a GET with a body is refused with 403, as Asaas
documents. An account sees only its own payments, transfers and statement.

- `GET /v3/payments`: offset pages (`offset` ≥ 0, `limit` 1–100, default 10) in the envelope
  `{object: "list", hasMore, totalCount, limit, offset, data}`, newest first (creation date, then
  installment number); filters `installment`, `billingType`, `status`, `externalReference`,
  `customer`, `subscription`, `anticipated`, `paymentDate`, `estimatedCreditDate` and the ranges
  `dateCreated|paymentDate|estimatedCreditDate|dueDate[ge|le]` (inclusive São Paulo dates).
  Deleted payments are listed, with `deleted: true` (our choice).
- `GET /v3/payments/{id}`: one payment; another account's or an unknown id answers 404.
- `GET /v3/transfers`: the account's transfers, newest first; `dateCreated[ge|le]`,
  `transferDate[ge|le]` (the effective date), `type`.
- `GET /v3/financialTransactions`: the statement; `startDate`, `finishDate` (inclusive), `order`
  `asc` (default, our choice) or `desc`, `offset`, `limit`; a split's debit and its reversal
  carry `splitId` besides `paymentId`.
- `GET /v3/myAccount/commercialInfo/`: the account owner's commercial data (`cpfCnpj` = the
  store's CNPJ), as the official SDK's `AccountInfoService.retrieveBusinessData` reads it.

Everything is served as the world knows it at its as-of (00:00 São Paulo of that day): nothing
that happens later. Requests are counted per endpoint and account in fixed windows
(`AsaasOptions.rate_limit`) and per account in 12-hour windows (`quota`, 25,000); over either,
429 with `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (Asaas's headers) and
`Retry-After`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.core.httputil import json_response
from sandbox.core.platform import OutsideRoute, SharedWorld
from sandbox.core.ratelimit import FixedWindowLimiter, Refusal
from sandbox.providers.asaas.facts import AsaasFacts
from sandbox.providers.asaas.options import QUOTA_WINDOW_S, AsaasOptions
from sandbox.providers.asaas.records import AsaasAccount
from sandbox.providers.asaas.wire import commercial_info, error, page, payment_at, statement_item, transfer_at

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
BILLING_TYPES = ("UNDEFINED", "BOLETO", "CREDIT_CARD", "PIX")
STATUSES = (
    "PENDING",
    "RECEIVED",
    "CONFIRMED",
    "OVERDUE",
    "REFUNDED",
    "RECEIVED_IN_CASH",
    "REFUND_REQUESTED",
    "REFUND_IN_PROGRESS",
    "CHARGEBACK_REQUESTED",
    "CHARGEBACK_DISPUTE",
    "AWAITING_CHARGEBACK_REVERSAL",
    "DUNNING_REQUESTED",
    "DUNNING_RECEIVED",
    "AWAITING_RISK_ANALYSIS",
)
_ERROR_CODES = {400: "invalid_request", 401: "invalid_access_token", 403: "forbidden", 404: "not_found"}
_ERROR_CODES[429] = "too_many_requests"


def error_body(status: int, message: str) -> dict[str, Any]:
    """Asaas's error envelope for a status alone (what an injected fault answers by default)."""
    code = _ERROR_CODES.get(status, "internal_error" if status >= 500 else "error")
    return error(code, message)


class _Reply(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _bad(code: str, text: str, status: int = 400) -> _Reply:
    return _Reply(json_response(error(code, text), status))


def _date(params: dict[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value).isoformat() if len(value) == 10 else _raise()
    except ValueError:
        raise _bad("invalid_date", f"O parâmetro {name} deve ser uma data no formato YYYY-MM-DD.") from None


def _raise() -> str:
    raise ValueError


def _whole(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise _bad(f"invalid_{name}", f"O parâmetro {name} deve ser um número inteiro.") from None


class AsaasApi:
    """The fake Asaas: state (limiters, rendered pages) plus the Starlette app that serves it."""

    def __init__(
        self,
        world: SharedWorld,
        facts: AsaasFacts,
        options: AsaasOptions | None = None,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.world = world
        self.facts = facts
        self.options = options or AsaasOptions()
        self.limiter = FixedWindowLimiter(self.options.rate_limit, window_s, clock)
        self.quota = FixedWindowLimiter(self.options.quota, QUOTA_WINDOW_S, clock)
        self._payments: dict[str, list[dict[str, Any]]] = {}
        self._transfers: dict[str, list[dict[str, Any]]] = {}
        self._statements: dict[str, list[dict[str, Any]]] = {}

    def close(self) -> None:
        """Nothing runs in the background."""

    def outside_routes(self) -> list[OutsideRoute]:
        return []

    # --------------------------------------------------------------------------- plumbing

    def app(self) -> Starlette:
        routes = [
            Route("/v3/payments", self._guarded("GET /v3/payments", self.list_payments), methods=["GET"]),
            Route("/v3/payments/{id}", self._guarded("GET /v3/payments/{id}", self.get_payment), methods=["GET"]),
            Route("/v3/transfers", self._guarded("GET /v3/transfers", self.list_transfers), methods=["GET"]),
            Route(
                "/v3/financialTransactions",
                self._guarded("GET /v3/financialTransactions", self.list_statement),
                methods=["GET"],
            ),
            Route(
                "/v3/myAccount/commercialInfo/",
                self._guarded("GET /v3/myAccount/commercialInfo/", self.get_commercial_info),
                methods=["GET"],
            ),
        ]

        async def not_found(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 404
            text = "Recurso não encontrado." if status == 404 else "Método não permitido."
            return json_response(error_body(status, text), status)

        return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})

    def _guarded(
        self, endpoint: str, handler: Callable[[Request, AsaasAccount], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint_fn(request: Request) -> Response:
            try:
                account = self._account(request)
                if await request.body():
                    return Response(status_code=403)
                if self.options.require_user_agent and not request.headers.get("user-agent", "").strip():
                    raise _bad("invalid_user_agent", "O header User-Agent é obrigatório em todas as requisições.")
                refusal = self.quota.hit("quota", account.name) or self.limiter.hit(endpoint, account.name)
                if refusal is not None:
                    return self._too_many(refusal)
                return await handler(request, account)
            except _Reply as reply:
                return reply.response

        return endpoint_fn

    @staticmethod
    def _too_many(refusal: Refusal) -> Response:
        return json_response(
            error("too_many_requests", "Limite de requisições excedido. Aguarde para tentar novamente."),
            429,
            {
                "RateLimit-Limit": str(refusal.limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(refusal.reset_s),
                "Retry-After": str(refusal.reset_s),
            },
        )

    def _account(self, request: Request) -> AsaasAccount:
        key = request.headers.get("access_token")
        if key is None or not key.strip():
            raise _bad(
                "access_token_not_found",
                "O cabeçalho de autenticação 'access_token' é obrigatório e não foi encontrado na requisição",
                401,
            )
        key = key.strip()
        if key.startswith("$aact_prod_"):
            raise _bad("invalid_environment", "A chave de API informada não pertence a este ambiente", 401)
        if not key.startswith("$aact_"):
            raise _bad(
                "invalid_access_token_format",
                "O valor fornecido não parece ser uma chave de API válida do Asaas. Verifique o formato da sua chave",
                401,
            )
        account = self.facts.account_by_key.get(key)
        if account is None:
            raise _bad("invalid_access_token", "A chave de API fornecida é inválida", 401)
        return account

    def _window(self, params: dict[str, str]) -> tuple[int, int]:
        offset = _whole(params, "offset", 0)
        limit = _whole(params, "limit", DEFAULT_LIMIT)
        if offset < 0:
            raise _bad("invalid_offset", "O parâmetro offset não pode ser negativo.")
        if limit < 1:
            raise _bad("invalid_limit", "O parâmetro limit deve ser maior que zero.")
        if limit > MAX_LIMIT:
            if self.options.limit_over_max == "error":
                raise _bad("invalid_limit", f"O valor máximo permitido para o parâmetro limit é {MAX_LIMIT}.")
            limit = MAX_LIMIT
        return offset, limit

    @staticmethod
    def _page(rows: Sequence[dict[str, Any]], offset: int, limit: int) -> Response:
        chunk = list(rows[offset : offset + limit])
        body = json.dumps(page(chunk, len(rows), limit, offset), separators=(",", ":"), ensure_ascii=False)
        return json_response(body)

    # --------------------------------------------------------------------------- rendering

    def _payments_of(self, account: AsaasAccount) -> list[dict[str, Any]]:
        rows = self._payments.get(account.name)
        if rows is None:
            at = self.facts.as_of_moment
            payments = sorted(
                (p for p in self.facts.payments_by_account[account.name] if p.created_at < at),
                key=lambda p: (-p.created_at.timestamp(), p.installment_number or 0, p.payment_id),
            )
            rows = self._payments[account.name] = [payment_at(p, at) for p in payments]
        return rows

    def _transfers_of(self, account: AsaasAccount) -> list[dict[str, Any]]:
        rows = self._transfers.get(account.name)
        if rows is None:
            transfers = sorted(
                self.facts.transfers_by_account[account.name], key=lambda t: (t.created_at, t.transfer_id), reverse=True
            )
            rows = self._transfers[account.name] = [transfer_at(t, account, self.facts.as_of) for t in transfers]
        return rows

    def _statement_of(self, account: AsaasAccount) -> list[dict[str, Any]]:
        rows = self._statements.get(account.name)
        if rows is None:
            rows = self._statements[account.name] = [statement_item(i) for i in self.facts.statements[account.name]]
        return rows

    # --------------------------------------------------------------------------- endpoints

    async def list_payments(self, request: Request, account: AsaasAccount) -> Response:
        params = dict(request.query_params)
        offset, limit = self._window(params)
        billing = params.get("billingType")
        if billing and billing not in BILLING_TYPES:
            raise _bad("invalid_billingType", f"Forma de pagamento inválida: {billing}.")
        status = params.get("status")
        if status and status not in STATUSES:
            raise _bad("invalid_status", f"Status inválido: {status}.")
        exact = {
            key: params[key]
            for key in ("installment", "externalReference", "customer", "subscription")
            if params.get(key)
        }
        if billing:
            exact["billingType"] = billing
        if status:
            exact["status"] = status
        for name in ("paymentDate", "estimatedCreditDate"):
            value = _date(params, name)
            if value:
                exact[name] = value
        anticipated = params.get("anticipated")
        if anticipated not in (None, "", "true", "false"):
            raise _bad("invalid_anticipated", "O parâmetro anticipated deve ser true ou false.")
        ranges = []
        for name in ("dateCreated", "paymentDate", "estimatedCreditDate", "dueDate"):
            low, high = _date(params, f"{name}[ge]"), _date(params, f"{name}[le]")
            if low or high:
                ranges.append((name, low, high))

        def keep(row: dict[str, Any]) -> bool:
            if any(row.get(key) != value for key, value in exact.items()):
                return False
            if anticipated == "true":
                return False  # nothing of the world is anticipated
            for name, low, high in ranges:
                value = row.get(name)
                if value is None or (low and value < low) or (high and value > high):
                    return False
            return True

        rows = self._payments_of(account)
        if exact or ranges or anticipated == "true":
            rows = [row for row in rows if keep(row)]
        return self._page(rows, offset, limit)

    async def get_payment(self, request: Request, account: AsaasAccount) -> Response:
        wanted = request.path_params["id"]
        for row in self._payments_of(account):
            if row["id"] == wanted:
                return json_response(row)
        return json_response(error("not_found", "Cobrança não encontrada."), 404)

    async def get_commercial_info(self, request: Request, account: AsaasAccount) -> Response:
        return json_response(commercial_info(account))

    async def list_transfers(self, request: Request, account: AsaasAccount) -> Response:
        params = dict(request.query_params)
        offset, limit = self._window(params)
        kind = params.get("type")
        if kind and kind not in ("BANK_ACCOUNT", "ASAAS_ACCOUNT"):
            raise _bad("invalid_type", f"Tipo de transferência inválido: {kind}.")
        created = (_date(params, "dateCreated[ge]"), _date(params, "dateCreated[le]"))
        done = (_date(params, "transferDate[ge]"), _date(params, "transferDate[le]"))
        rows = []
        for row in self._transfers_of(account):
            if kind and row["type"] != kind:
                continue
            if not _within(row["dateCreated"], *created) or not _within(row["effectiveDate"], *done):
                continue
            rows.append(row)
        return self._page(rows, offset, limit)

    async def list_statement(self, request: Request, account: AsaasAccount) -> Response:
        params = dict(request.query_params)
        offset, limit = self._window(params)
        order = params.get("order") or "asc"
        if order not in ("asc", "desc"):
            raise _bad("invalid_order", "O parâmetro order deve ser asc ou desc.")
        start, finish = _date(params, "startDate"), _date(params, "finishDate")
        if start and finish and finish < start:
            raise _bad("invalid_finishDate", "A data final deve ser maior ou igual à data inicial.")
        rows = [row for row in self._statement_of(account) if _within(row["date"], start, finish)]
        if order == "desc":
            rows.reverse()
        return self._page(rows, offset, limit)


def _within(value: str | None, low: str | None, high: str | None) -> bool:
    """An ISO date within inclusive bounds; a missing value passes only when there are no bounds."""
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)
