"""A fake PushinPay API serving the sandbox world, on PushinPay's paths and wire format.

- `GET /api/transactions/{id}`: one PIX charge of the token's account, as PushinPay knows it at the
  world's end (`PushinpayFacts.world_end`: `as_of` 00:00 in São Paulo; nothing later is shown).
  An id of another account, or unknown, answers **404 with the body `[]`** (the official "Consultar
  PIX" page: "se não encontrado é retornado um []"). Ids match in any case (the create call gives
  them lower-case, this endpoint writes them upper-case).
- `POST /api/pix/cashIn`: creates a charge (`value` in centavos, at least 50; `webhook_url`;
  `split_rules` `[{value, account_id}]`), answered in the create shape and readable by id
  afterwards (status `created`). Validation errors are Laravel's 422 `{message, errors}` with
  PushinPay's Portuguese messages (`O campo value deve ser no mínimo 50.`).
- There is no list endpoint (PushinPay has none): charges reach the warehouse by webhook
  (`sandbox.providers.pushinpay.webhooks`) and are re-read by id.

Every request needs `Authorization: Bearer <token>` (a Sanctum token of one of the world's accounts);
otherwise 401 `{"message": "Unauthenticated."}` (Laravel Sanctum's answer; PushinPay's docs list 401
"Chave TOKEN inválida" without a body). Requests are counted per endpoint and client IP in one-minute
windows (`PushinpayOptions.rate_limit`), and, when switched on, reads of one transaction per token
(`transaction_rate_limit`); beyond either, Laravel's throttle answer: 429 `{"message": "Too Many
Attempts."}` with `Retry-After`, `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`.
Unknown paths and methods answer Laravel's JSON 404 / 405.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.core.httputil import json_response
from sandbox.core.ids import uuid4
from sandbox.core.platform import OutsideRoute, SharedWorld
from sandbox.core.ratelimit import FixedWindowLimiter, Refusal
from sandbox.core.streams import stream
from sandbox.providers.pushinpay import NAME
from sandbox.providers.pushinpay.facts import PushinpayFacts
from sandbox.providers.pushinpay.options import PushinpayOptions
from sandbox.providers.pushinpay.records import PushinpayAccount
from sandbox.providers.pushinpay.wire import created, fresh_transaction, pix_emv, transaction

TRANSACTION_PATH = "/api/transactions/{id}"
CASH_IN_PATH = "/api/pix/cashIn"
MIN_VALUE = 50  # centavos (official: "Valor mínimo de 50 centavos")
MAX_SPLIT_SHARE = 0.5  # official: "Percentual máximo de 50% para SPLIT entre contas"
NOT_FOUND_BODY = b"[]"


def error_body(status: int, message: str) -> dict[str, Any]:
    """PushinPay's (Laravel's) error envelope for a status alone (what an injected fault answers by default)."""
    return {"message": message}


def _too_many(refusal: Refusal) -> Response:
    return json_response(
        {"message": "Too Many Attempts."},
        429,
        {
            "Retry-After": str(refusal.reset_s),
            "X-RateLimit-Limit": str(refusal.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(time.time()) + refusal.reset_s),
        },
    )


def _invalid(errors: dict[str, list[str]]) -> Response:
    """Laravel's 422: the first message, `(and N more errors)` when there are more, and every error by field."""
    messages = [m for ms in errors.values() for m in ms]
    message = messages[0]
    if len(messages) > 1:
        more = len(messages) - 1
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return json_response({"message": message, "errors": errors}, 422)


@dataclass(frozen=True, slots=True)
class _Created:
    """A charge made through the fake API (not part of the world): its account and its read body."""

    account: str
    body: dict[str, Any]


class PushinpayApi:
    """The fake PushinPay: state (limiters, charges created through it) plus the Starlette app that serves it."""

    def __init__(
        self,
        world: SharedWorld,
        facts: PushinpayFacts,
        options: PushinpayOptions | None = None,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` (monotonic seconds) drives the rate-limit windows (`window_s` long); tests pass one they advance."""
        self.world = world
        self.facts = facts
        self.options = options or PushinpayOptions()
        self.limiter = FixedWindowLimiter(self.options.rate_limit, window_s, clock)
        self.transaction_limiter = FixedWindowLimiter(self.options.transaction_rate_limit, window_s, clock)
        self._created: dict[str, _Created] = {}
        self._ids = stream(world.config.seed, NAME, "api-created")
        self._lock = threading.Lock()

    def close(self) -> None:
        """Nothing runs in the background."""

    def outside_routes(self) -> list[OutsideRoute]:
        """Everything PushinPay serves is under `/pushinpay`."""
        return []

    # --------------------------------------------------------------------------- plumbing

    def app(self) -> Starlette:
        routes = [
            Route(TRANSACTION_PATH, self._limited("GET " + TRANSACTION_PATH, self.get_transaction), methods=["GET"]),
            Route(CASH_IN_PATH, self._limited("POST " + CASH_IN_PATH, self.cash_in), methods=["POST"]),
        ]

        async def not_found(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 404
            path = request.url.path.removeprefix(request.scope.get("root_path", "")).lstrip("/")
            if status == 405:
                allowed = "POST" if path.startswith(CASH_IN_PATH.lstrip("/")) else "GET, HEAD"
                message = (
                    f"The {request.method} method is not supported for route {path}. Supported methods: {allowed}."
                )
                return json_response({"message": message}, 405)
            return json_response({"message": f"The route {path} could not be found."}, 404)

        return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})

    def _limited(
        self, endpoint: str, handler: Callable[[Request, PushinpayAccount], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """Laravel's `throttle` (per endpoint, per client IP), then Sanctum's bearer-token check."""

        async def endpoint_fn(request: Request) -> Response:
            client = request.client.host if request.client else "unknown"
            refusal = self.limiter.hit(endpoint, client)
            if refusal is not None:
                return _too_many(refusal)
            account = self._account(request)
            if account is None:
                return json_response({"message": "Unauthenticated."}, 401)
            return await handler(request, account)

        return endpoint_fn

    def _account(self, request: Request) -> PushinpayAccount | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.facts.account_by_token.get(token.strip())

    # --------------------------------------------------------------------------- endpoints

    async def get_transaction(self, request: Request, account: PushinpayAccount) -> Response:
        wanted = request.path_params["id"].strip().lower()
        if self.options.transaction_rate_limit is not None:
            refusal = self.transaction_limiter.hit(wanted, account.token)
            if refusal is not None:
                return _too_many(refusal)
        charge = self.facts.charge_by_id.get(wanted)
        if charge is not None and charge.account == account.name:
            state = charge.state_at(self.facts.world_end or datetime.max.replace(tzinfo=UTC))
            if state is not None:
                return json_response(transaction(charge, *state))
        made = self._created.get(wanted)
        if made is not None and made.account == account.name:
            return json_response(made.body)
        return Response(NOT_FOUND_BODY, 404, media_type="application/json")

    async def cash_in(self, request: Request, account: PushinpayAccount) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return json_response({"message": "Not Acceptable -- Formato JSON inválido"}, 406)
        if not isinstance(body, dict):
            body = {}
        errors: dict[str, list[str]] = {}
        value = body.get("value")
        if value is None or value == "":
            errors["value"] = ["O campo value é obrigatório."]
        elif isinstance(value, bool) or not isinstance(value, int):
            errors["value"] = ["O campo value deve ser um número inteiro."]
        elif value < MIN_VALUE:
            errors["value"] = [f"O campo value deve ser no mínimo {MIN_VALUE}."]
        webhook_url = body.get("webhook_url")
        if webhook_url is not None and (not isinstance(webhook_url, str) or "://" not in webhook_url):
            errors["webhook_url"] = ["O campo webhook url deve ser uma URL válida."]
        rules = body.get("split_rules") or []
        if not isinstance(rules, list) or not all(
            isinstance(r, dict)
            and isinstance(r.get("value"), int)
            and not isinstance(r.get("value"), bool)
            and r["value"] >= 1
            and isinstance(r.get("account_id"), str)
            and r["account_id"]
            for r in rules
        ):
            errors["split_rules"] = ["O campo split rules deve ser uma lista de {value, account_id}."]
        if errors:
            return _invalid(errors)
        split_total = sum(r["value"] for r in rules)
        if split_total > value * MAX_SPLIT_SHARE:
            return _invalid({"split_rules": ["O valor total dos splits não pode exceder 50% do valor da transação."]})
        now = datetime.now(UTC)
        with self._lock:
            charge_id = uuid4(self._ids)
            pix_id = uuid4(self._ids).upper()
            emv = pix_emv(uuid4(self._ids))
        clean_rules = [{"value": r["value"], "account_id": r["account_id"]} for r in rules]
        answer = created(charge_id, value, webhook_url, clean_rules, emv)
        self._created[charge_id] = _Created(
            account.name, fresh_transaction(charge_id, value, webhook_url, clean_rules, pix_id, emv, now)
        )
        return json_response(answer)


def create_pushinpay_app(
    world: SharedWorld,
    facts: PushinpayFacts,
    options: PushinpayOptions | None = None,
    *,
    window_s: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The fake PushinPay as an ASGI app (mount it at `/pushinpay`)."""
    return PushinpayApi(world, facts, options, window_s=window_s, clock=clock).app()


__all__ = ["PushinpayApi", "create_pushinpay_app", "error_body"]
