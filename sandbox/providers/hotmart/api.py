"""A fake Hotmart serving the sandbox world, on Hotmart's paths and wire format (mounted at `/hotmart`).

- `POST /security/oauth/token?grant_type=client_credentials&client_id=…&client_secret=…` with
  `Authorization: Basic <basic>`; the same parameters are also read from an
  `application/x-www-form-urlencoded` body (a form field wins), as an OAuth2 token endpoint reads
  them (RFC 6749 §2.3.1, §4.4): Hotmart's docs show the query form, our client sends the secret in
  the body to keep it out of URLs and logs, and the sandbox must not decide that for Hotmart → `{access_token, token_type: "bearer", expires_in: 86400, scope,
  jti}` (reference §6.3; the production host is api-sec-vlc.hotmart.com, here the same prefix).
  Wrong credentials: 401 `{"error": "invalid_client", "error_description": "Bad client credentials"}`
  (the Spring Security OAuth2 envelope Hotmart's `{error, error_description}` errors use; the exact
  wording is our choice).
- `GET /payments/api/v1/sales/history`, `/sales/commissions`, `/sales/price/details` with `Authorization:
  Bearer <token>`: the token's account's purchases as of the world's end (`as_of` 00:00 São Paulo).
  Filters `start_date` / `end_date` (epoch ms, inclusive, on `order_date`), `transaction`,
  `transaction_status` (one status or several, comma-separated), `product_id`; **without
  `transaction` or `transaction_status` only APPROVED and COMPLETE purchases are returned** (Hotmart's
  documented default). Pages: `max_results` (default 10, at most 500: larger values are served as
  500; the cap is our choice, Hotmart publishes none we could read) and `page_token` (opaque base64
  text); the answer is `{items, page_info: {total_results, next_page_token, prev_page_token,
  results_per_page}}`, `next_page_token` **absent on the last page** (the end signal) and
  `prev_page_token` absent on the first. Items are ordered by `order_date`, then transaction.
- Errors are Hotmart's `{error, error_description}`: 401 `unauthorized` without a bearer token,
  `invalid_token` for an unknown or expired one; 400 `invalid_parameter` for a malformed filter or
  page token; 429 `too_many_requests` past 500 calls per minute per account (`HotmartOptions`),
  with `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Awaitable, Callable
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
from sandbox.core.tokens import TokenError, TokenIssuer, derive_key
from sandbox.providers.hotmart import NAME
from sandbox.providers.hotmart.facts import HotmartFacts
from sandbox.providers.hotmart.options import HotmartOptions
from sandbox.providers.hotmart.records import HotmartAccount, HotmartSale
from sandbox.providers.hotmart.wire import commissions_item, dumps, history_item, price_details_item

TOKEN_PATH = "/security/oauth/token"
SALES_PREFIX = "/payments/api/v1/sales"
DEFAULT_STATUSES = ("APPROVED", "COMPLETE")
DEFAULT_MAX_RESULTS = 10
MAX_RESULTS = 500
SCOPE = "read write"


def error_body(status: int, message: str) -> dict[str, Any]:
    """Hotmart's error envelope for a status alone (what an injected fault answers by default)."""
    code = {
        400: "invalid_parameter",
        401: "unauthorized",
        403: "access_denied",
        404: "not_found",
        429: "too_many_requests",
    }
    return {"error": code.get(status, "server_error"), "error_description": message}


def _error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": error, "error_description": description}, status, headers)


def _too_many(refusal: Refusal) -> Response:
    return _error(
        429,
        "too_many_requests",
        "Rate limit exceeded",
        {
            "RateLimit-Limit": str(refusal.limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(refusal.reset_s),
            "Retry-After": str(refusal.reset_s),
        },
    )


class BadRequest(ValueError):
    pass


class HotmartApi:
    """The fake Hotmart: token issuer, limiter, and the Starlette app that serves the world's purchases."""

    def __init__(
        self,
        world: SharedWorld,
        facts: HotmartFacts,
        options: HotmartOptions | None = None,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.world = world
        self.facts = facts
        self.options = options or HotmartOptions()
        self.limiter = FixedWindowLimiter(self.options.rate_limit, window_s, clock)
        self.tokens = TokenIssuer(derive_key(world.config.seed, NAME), issuer="hotmart-sandbox")
        self._jti = stream(world.config.seed, NAME, "jti")
        self._sorted = {
            name: sorted(sales, key=lambda h: (h.sale.created_at, h.transaction))
            for name, sales in facts.sales_by_account.items()
        }

    def close(self) -> None:
        """Nothing runs in the background."""

    def outside_routes(self) -> list[OutsideRoute]:
        return []

    def app(self) -> Starlette:
        routes = [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(f"{SALES_PREFIX}/history", self._endpoint(history_item, with_account=True), methods=["GET"]),
            Route(f"{SALES_PREFIX}/commissions", self._endpoint(commissions_item, with_account=True), methods=["GET"]),
            Route(
                f"{SALES_PREFIX}/price/details", self._endpoint(price_details_item, with_account=False), methods=["GET"]
            ),
        ]

        async def not_found(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 404
            if status == 405:
                return _error(405, "method_not_allowed", f"Request method '{request.method}' not supported")
            return _error(404, "not_found", "Resource not found")

        return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})

    # ----------------------------------------------------------------------------- auth

    async def token(self, request: Request) -> Response:
        params = request.query_params
        form = await request.form() if _is_form(request) else {}
        # Hotmart documents every parameter in the query string; an OAuth2 server (RFC 6749 §2.3.1,
        # §4.4) also reads them from a form body, and our client sends `client_secret` there so the
        # secret is in no URL and no log. Both are served: a form field wins over the query's.
        secret = str(form.get("client_secret") or params.get("client_secret") or "")
        client_id = str(form.get("client_id") or params.get("client_id") or "")
        grant_type = str(form.get("grant_type") or params.get("grant_type") or "")
        scheme, _, basic = request.headers.get("authorization", "").partition(" ")
        account = self.facts.account_by_client.get(client_id)
        if (
            scheme.lower() != "basic"
            or account is None
            or basic.strip() != account.basic
            or secret != account.client_secret
        ):
            return _error(401, "invalid_client", "Bad client credentials")
        if grant_type != "client_credentials":
            return _error(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
        refusal = self.limiter.hit("token", account.name)
        if refusal is not None:
            return _too_many(refusal)
        ttl = self.options.token_ttl_s
        jti = uuid4(self._jti)
        access = self.tokens.issue(account.name, ttl, jti=jti)
        return json_response(
            {"access_token": access, "token_type": "bearer", "expires_in": ttl, "scope": SCOPE, "jti": jti}
        )

    def _account(self, request: Request) -> HotmartAccount | Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error(401, "unauthorized", "Full authentication is required to access this resource")
        try:
            claims = self.tokens.verify(token.strip())
        except TokenError:
            return _error(401, "invalid_token", "Invalid access token")
        account = self.facts.account_by_name.get(claims["sub"])
        if account is None:
            return _error(401, "invalid_token", "Invalid access token")
        return account

    # ------------------------------------------------------------------------- endpoints

    def _endpoint(
        self, render: Callable[..., dict[str, Any]], *, with_account: bool
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            found = self._account(request)
            if isinstance(found, Response):
                return found
            refusal = self.limiter.hit("api", found.name)
            if refusal is not None:
                return _too_many(refusal)
            try:
                return self._page(request, found, render, with_account)
            except BadRequest as exc:
                return _error(400, "invalid_parameter", str(exc))

        return endpoint

    def _selected(self, request: Request, account: HotmartAccount) -> list[tuple[HotmartSale, str]]:
        params = request.query_params
        end = self.facts.world_end
        assert end is not None

        def epoch(name: str) -> int | None:
            raw = params.get(name)
            if raw is None or raw == "":
                return None
            if not raw.lstrip("-").isdigit():
                raise BadRequest(f"The request was unacceptable: {name} must be a timestamp in milliseconds")
            return int(raw)

        start, stop = epoch("start_date"), epoch("end_date")
        transaction = params.get("transaction") or None
        statuses_raw = params.get("transaction_status") or None
        product = params.get("product_id") or None
        if product is not None and not product.isdigit():
            raise BadRequest("The request was unacceptable: product_id must be a number")
        if transaction is None and statuses_raw is None:
            statuses: tuple[str, ...] | None = DEFAULT_STATUSES
        elif statuses_raw is not None:
            statuses = tuple(x.strip().upper() for x in statuses_raw.split(",") if x.strip())
        else:
            statuses = None
        out = []
        for h in self._sorted[account.name]:
            status = h.status_at(end)
            if status is None:
                continue
            order_ms = int(h.sale.created_at.timestamp() * 1000)
            if (start is not None and order_ms < start) or (stop is not None and order_ms > stop):
                continue
            if transaction is not None and h.transaction != transaction:
                continue
            if statuses is not None and status not in statuses:
                continue
            if product is not None and h.product.id != int(product):
                continue
            out.append((h, status))
        return out

    def _page(self, request: Request, account: HotmartAccount, render, with_account: bool) -> Response:
        params = request.query_params
        raw = params.get("max_results")
        if raw is None or raw == "":
            size = DEFAULT_MAX_RESULTS
        elif raw.isdigit() and int(raw) >= 1:
            size = min(int(raw), MAX_RESULTS)
        else:
            raise BadRequest("The request was unacceptable: max_results must be a positive number")
        selected = self._selected(request, account)
        fingerprint = _fingerprint(request, account)
        offset = 0
        token = params.get("page_token")
        if token:
            offset = _offset(token, fingerprint)
        page = selected[offset : offset + size]
        items = [render(h, account, status) if with_account else render(h, status) for h, status in page]
        info: dict[str, Any] = {"total_results": len(selected), "results_per_page": size}
        if offset + size < len(selected):
            info["next_page_token"] = _token(offset + size, fingerprint)
        if offset > 0:
            info["prev_page_token"] = _token(max(0, offset - size), fingerprint)
        return json_response(dumps({"items": items, "page_info": info}))


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


def _fingerprint(request: Request, account: HotmartAccount) -> str:
    """What a page token is bound to: the account, the endpoint and its filters (not the page)."""
    params = sorted((k, v) for k, v in request.query_params.multi_items() if k not in ("page_token", "max_results"))
    text = f"{account.name}|{request.url.path}|{params}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"{fingerprint}:{offset}".encode()).decode().rstrip("=")


def _offset(token: str, fingerprint: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        bound, _, offset = text.partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("The request was unacceptable: invalid page_token") from None
    if bound != fingerprint or not offset.isdigit():
        raise BadRequest("The request was unacceptable: invalid page_token")
    return int(offset)


__all__ = ["HotmartApi", "error_body"]
