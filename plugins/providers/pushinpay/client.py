"""The HTTP client of PushinPay's API: one transaction by id, checked against its documented shape.

Auth is the account's API token as a bearer (`Authorization: Bearer <token>`, with `Accept` and
`Content-Type: application/json`, the three headers PushinPay's docs mark required); the token does
not expire on a schedule, so there is nothing to refresh and a refusal is final.

PushinPay has no list endpoint and no date filter, so there is no pagination, no end signal and
no stated total to check: the client reads one transaction at a time (`GET
/api/transactions/{id}`), and the sync decides which ids (see `provider.py`). Third-party guides
report a limit of about one query per minute per transaction, with the account blocked when
exceeded (UNCONFIRMED); so every retry of the same transaction waits at least a minute unless
PushinPay's own `Retry-After` says otherwise, and the provider asks for each id once per sync.

Error answers, before the transport's generic rules:
- 401 (invalid token) and 403 ("Apenas administradores": a token without the rights) are
  AuthenticationError at once: a static token cannot be renewed, so a second try would only spend
  the transaction's query;
- 404 in PushinPay's own body (`[]`, the official "not found" answer; or its JSON error envelope)
  means the transaction is not reachable with this token: NotLinkedError naming it. A 404 in any
  other body (an HTML page from a proxy) is not PushinPay's answer: ResponseShapeError;
- 429 is retried honouring `Retry-After`, then RateLimitedError; other 4xx (400, 405, 406, 410,
  422) are RequestRejectedError; 5xx and timeouts are retried (the transport's rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from plugins.providers.errors import AuthenticationError, NotLinkedError, ProviderError
from plugins.providers.pushinpay import shapes
from plugins.providers.pushinpay.records import normal_id
from plugins.providers.transport import RetryPolicy, Transport, TransportOptions, decode_as, shape_error

PROVIDER = "pushinpay"
# Third-party guides: about one query per minute per transaction (UNCONFIRMED; see the module docstring).
MIN_SECONDS_BETWEEN_QUERIES = 60.0

_TRANSACTION = msgspec.json.Decoder(shapes.Transaction)
_NOT_FOUND = msgspec.json.Decoder(list[Any] | shapes.NotFoundObject)


@dataclass(frozen=True)
class SpacedRetry(RetryPolicy):
    """The transport's retry policy, with every backoff at least `floor_s` seconds.

    A retried GET is a second query of the same transaction; PushinPay is reported to block
    accounts that query one transaction more than once a minute. A `Retry-After` from PushinPay
    is still obeyed as given (it is the platform's own word).
    """

    floor_s: float = MIN_SECONDS_BETWEEN_QUERIES

    @classmethod
    def from_policy(cls, policy: RetryPolicy) -> SpacedRetry:
        return policy if isinstance(policy, SpacedRetry) else cls(**asdict(policy))

    def backoff(self, attempt: int) -> float:
        return max(self.floor_s, super().backoff(attempt))


class BearerToken:
    """PushinPay's API token on every request; it is never renewed, so `invalidate` has nothing to do."""

    def __init__(self, token: str) -> None:
        if not token or any(c.isspace() for c in token):
            # a credentials problem a person must fix, found before any request (the token is not shown)
            raise AuthenticationError(
                "pushinpay: the token is empty or holds whitespace; give it as PushinPay issued it"
            )
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def headers(self) -> Mapping[str, str]:
        return self._headers

    def invalidate(self) -> None:
        return None

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"


class PushinPayClient:
    """Typed access to `GET /api/transactions/{id}`: every answer is checked against its shape."""

    DEFAULT_BASE_URL = "https://api.pushinpay.com.br"

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        options: TransportOptions | None = None,
        **overrides: Any,
    ) -> None:
        base = base_url or self.DEFAULT_BASE_URL
        self._base_path = httpx.URL(base).path.rstrip("/")
        options = (options or TransportOptions()).with_overrides(**overrides)
        self.transport = Transport(
            base,
            provider=PROVIDER,
            options=replace(options, retry=SpacedRetry.from_policy(options.retry)),
            classify=_classify_refusal,
        )
        self.auth = BearerToken(token)

    def close(self) -> None:
        self.transport.close()

    def transaction(self, transaction_id: str) -> tuple[bytes, shapes.Transaction]:
        """(the body exactly as PushinPay sent it, its typed reading) of one transaction.

        The body must be the transaction asked for (its `id`, compared case-insensitively); a 404
        in PushinPay's own body is NotLinkedError naming the transaction.
        """
        path = f"/api/transactions/{quote(transaction_id, safe='')}"
        response = self.transport.request("GET", path, auth=self.auth, accept_statuses=(404,))
        if response.status_code == 404:
            raise self._not_found(response, transaction_id)
        typed = decode_as(response, _TRANSACTION, provider=PROVIDER)
        if normal_id(typed.id) != normal_id(transaction_id):
            raise shape_error(
                response,
                f"transaction {typed.id!r} where transaction {transaction_id!r} was asked for",
                provider=PROVIDER,
            )
        return response.content, typed

    def _not_found(self, response: httpx.Response, transaction_id: str) -> ProviderError:
        if "json" not in response.headers.get("content-type", "").lower():
            return _not_its_404(response)
        try:
            body = _NOT_FOUND.decode(response.content)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return _not_its_404(response)
        said = ("[]" if not body else None) if isinstance(body, list) else (body.message or body.error)
        if not said:  # a non-empty list, or an object that says nothing, is not PushinPay's 404
            return _not_its_404(response)
        path = response.request.url.path.removeprefix(self._base_path)
        return NotLinkedError(
            f"pushinpay: transaction {transaction_id} is not reachable with this token ({response.request.method} "
            f"{path} answered 404 {said}): the token belongs to another PushinPay account than the one whose "
            "webhooks named it, or PushinPay no longer serves the transaction",
            status=404,
            body=response.text,
        )


def _not_its_404(response: httpx.Response) -> ProviderError:
    return shape_error(
        response, "a body that is not PushinPay's error envelope, so not its documented 404", provider=PROVIDER
    )


def _classify_refusal(response: httpx.Response) -> ProviderError | None:
    """401 and 403 are final for a static token: AuthenticationError without a second try."""
    status = response.status_code
    if status not in (401, 403):
        return None
    text = response.text.strip().replace("\n", " ")
    return AuthenticationError(
        f"pushinpay refused the credentials ({status}) on {response.request.method} {response.request.url.path}: "
        f"{text[:300]}",
        status=status,
        body=response.text,
    )
