"""Provider-side failures, one hierarchy so callers can tell 'fix your credentials' from 'retry later'."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider call failed after the transport gave up; `status` is the last HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class AuthenticationError(ProviderError):
    """The provider refused our credentials: retrying will not help, the user must fix them."""


class RateLimitedError(ProviderError):
    """Still rate limited after every retry the transport was allowed."""


class UnknownProviderError(ValueError):
    """A provider name that the registry does not know."""
