"""Provider-side failures, one hierarchy so callers can tell 'fix your credentials' from 'retry later'.

Every class says two things its callers act on: `retryable` (would the same call, made again
later, plausibly succeed?) and `advice` (one sentence telling a person what to do). The CLI
prints the advice after the message; the DAG fails a task at once, without retries, when
`retryable` is false, because wrong credentials or an unlinked account do not heal by waiting.

Webhook requests fail in a hierarchy of their own (`WebhookError`, at the end): nothing is
retried on our side there, the sink only has to know what to answer.
"""

from __future__ import annotations


class ProviderError(Exception):
    """A provider call failed after the transport gave up; `status` is the last HTTP status, if any."""

    retryable: bool = True
    advice: str = "The provider may be down or unreachable; the next run retries."

    def __init__(self, message: str, *, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class AuthenticationError(ProviderError):
    """The provider refused our credentials: retrying will not help, the user must fix them."""

    retryable = False
    advice = "Check the integration's credentials; `conciliador integrations add` replaces them."


class NotLinkedError(ProviderError):
    """The credentials work but the account id does not belong to them (not linked to the
    application, deleted, never created): a person must fix the integration's ids."""

    retryable = False
    advice = (
        "The credentials were accepted but this account is not reachable with them: check the "
        "integration's external ids (the account still exists and is linked to these credentials)."
    )


class NeedsUserActionError(ProviderError):
    """The account is linked but its connection to the source is broken in a way only its holder
    can mend (new bank credentials, an MFA answer, a consent to renew): waiting will not help."""

    retryable = False
    advice = (
        "The account's connection to its source needs its holder: ask them to reconnect it "
        "(new credentials or a pending confirmation), then run the sync again."
    )


class SourceOutdatedError(ProviderError):
    """The aggregator could not refresh the account from its source on its last attempt, so what
    it serves may be behind; nothing is landed, so the integration reads as stale until it heals."""

    advice = (
        "The aggregator could not refresh this account from the bank on its last attempt; "
        "its data may be behind. The next run retries; if it persists, check the connection."
    )


class ResponseShapeError(ProviderError):
    """A response that is not what the provider documents (missing or mistyped field, HTML,
    truncated JSON, wrong kind of body). Nothing of the interval is landed; a proxy or an
    outage may be the cause, so a later run may succeed."""

    advice = (
        "The provider answered something other than its documented format; nothing of this "
        "interval was loaded. If it persists, the provider changed its API: report it."
    )


class IncompleteExtractionError(ProviderError):
    """What was fetched does not add up to what the provider said exists (page counts, totals)."""

    advice = "The provider's pages did not add up to its own totals; nothing was loaded. The next run retries."


class RequestRejectedError(ProviderError):
    """The provider refused the request itself as invalid (400, 405, 422, …): the same request
    will be refused again however long we wait, so it fails at once."""

    retryable = False
    advice = (
        "The provider rejected the request as invalid; waiting will not change that. It is a bug "
        "in Conciliador's client or a change in the provider's API: report it with this message."
    )


class RateLimitedError(ProviderError):
    """Still rate limited after every retry the transport was allowed."""

    advice = "The provider is rate limiting us; the next run retries. Fewer parallel syncs help."


class UnknownProviderError(ValueError):
    """A provider name that the registry does not know."""


# ------------------------------------------------------------------------------- webhooks


class WebhookError(Exception):
    """A webhook request that must not land: it does not prove where it comes from, or is not
    the platform's documented notification.

    `http_status` is what the sink answers. Failed authentication is 401, which platforms read as
    "do not retry" (some document exactly that); a body that is not the documented shape is 400.
    Messages name the header or field at fault, never a secret or a signature value.
    """

    http_status: int = 401


class MissingHeaderError(WebhookError):
    """The header that carries the secret, signature or timestamp is absent."""


class BadSignatureError(WebhookError):
    """The secret or signature does not match (or the header carrying it is unreadable)."""


class StaleTimestampError(WebhookError):
    """The signed timestamp is further from now than the tolerance: a replay, or a wrong clock."""


class WebhookPayloadError(WebhookError):
    """An authenticated body that is not the platform's documented notification shape."""

    http_status = 400
