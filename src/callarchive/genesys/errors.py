"""Genesys errors: what went wrong talking to Genesys Cloud, sorted into the error tree.

GenesysError (mixin: endpoint, status, Genesys code, correlation id)
├── GenesysUnavailableError    RetryableError: 429/5xx/network after every retry, bad JSON
├── DailyLimitError            FatalError: Retry-After above 180 s (a daily limit): end the run
├── MediaNotReadyError         SkipError: transcoding or uploading; `retry_after_s`
├── MediaUrlExpiredError       SkipError: the signed media URL expired; ask for a fresh one
├── TruncatedMediaError        RetryableError: the body ended before its Content-Length
├── UnexpectedMediaError       SkipError: the media host sent no audio (HTML) or too many bytes
├── NotFoundError              SkipError: the conversation or recording does not exist
├── ServerError                SkipError: 500, not retried (Genesys: fail fast)
├── RequestRejectedError       FatalError: 400/415: the request is wrong
├── AuthenticationError        FatalError: bad client credentials or region
├── GenesysPermissionError     PermissionDeniedError: 403 missing permissions
├── ProxyError                 FatalError: the forward proxy refused us (407) or is unreachable
└── TlsError                   FatalError: certificate verification or client certificate failed
"""

from __future__ import annotations

from callarchive.errors import (
    CallarchiveError,
    FatalError,
    PermissionDeniedError,
    RetryableError,
    SkipError,
)


class GenesysError(CallarchiveError):
    """A failed exchange with Genesys Cloud, with what is known about it."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        details = [
            f"endpoint {endpoint}" if endpoint else "",
            f"status {status}" if status is not None else "",
            f"code {code}" if code else "",
            f"correlation id {correlation_id}" if correlation_id else "",
        ]
        suffix = ", ".join(d for d in details if d)
        super().__init__(f"{message} ({suffix})" if suffix else message)
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.correlation_id = correlation_id


class GenesysUnavailableError(GenesysError, RetryableError):
    """Genesys (or the network to it) failed after every retry; try again later."""


class DailyLimitError(GenesysError, FatalError):
    """Genesys asked us to wait longer than we should (a daily limit): end the run cleanly."""

    def __init__(self, message: str, *, retry_after_s: float, **context: object) -> None:
        super().__init__(message, **context)  # type: ignore[arg-type]  # same keywords as the base
        self.retry_after_s = retry_after_s


class MediaNotReadyError(GenesysError, SkipError):
    """The media is still being uploaded or transcoded."""

    def __init__(self, message: str, *, retry_after_s: float, **context: object) -> None:
        super().__init__(message, **context)  # type: ignore[arg-type]  # same keywords as the base
        self.retry_after_s = retry_after_s


class MediaUrlExpiredError(GenesysError, SkipError):
    """The signed media URL is no longer valid."""


class TruncatedMediaError(GenesysError, RetryableError):
    """The media download ended early."""


class UnexpectedMediaError(GenesysError, SkipError):
    """The media host answered with something that is not the recording: a web page, or more
    bytes than a recording of the conversation's length can hold."""


class NotFoundError(GenesysError, SkipError):
    """Genesys does not know the conversation, recording, job or user."""


class ServerError(GenesysError, SkipError):
    """Genesys answered 500; not retried at once (its guidance: fail fast)."""


class RequestRejectedError(GenesysError, FatalError):
    """Genesys rejected the request as malformed."""


class AuthenticationError(GenesysError, FatalError):
    """The client credentials were refused."""


class GenesysPermissionError(GenesysError, PermissionDeniedError):
    """The OAuth client's role lacks a permission."""


class ProxyError(GenesysError, FatalError):
    """The forward proxy refused the connection or its credentials."""


class TlsError(GenesysError, FatalError):
    """TLS failed: untrusted server certificate, or the client certificate was refused."""
