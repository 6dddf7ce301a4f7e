"""Sign-in security: password hashing, secret tokens, the throttle, security headers.

Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed when they change). Session
cookies, CSRF tokens and API keys are random 256-bit tokens; the database keeps only their
sha256. The throttle is a pure decision: after `LOCK_AFTER` failures of one login (or
`ADDRESS_LOCK_AFTER` of one client address) within `FAILURE_MEMORY`, sign-in is refused for a
lock-out that doubles with every further failure, up to `MAX_LOCK`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callarchive.archive import Throttle

LOCK_AFTER = 5
ADDRESS_LOCK_AFTER = 20
FAILURE_MEMORY = dt.timedelta(minutes=15)
FIRST_LOCK = dt.timedelta(minutes=1)
MAX_LOCK = dt.timedelta(minutes=15)
API_KEY_PREFIX = "ca_"
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
# A real hash to verify against when the login is unknown, so both cases take as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The argon2id hash to store for `password`."""
    return _hasher.hash(password)


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if password.strip() != password:
        return "a password may not start or end with spaces"
    return None


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash` (None: no password set, never matches)."""
    try:
        _hasher.verify(stored_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


def new_token() -> str:
    """A random URL-safe token of 256 bits."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """The sha256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens (None never matches)."""
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


def new_api_key() -> tuple[str, str]:
    """A new API key and its displayable prefix."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:10]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Failure:
    """What to store after a failed sign-in."""

    failures: int
    locked_until: dt.datetime | None


def locked(throttle: Throttle, now: dt.datetime) -> dt.datetime | None:
    """Until when sign-in stays refused, or None when it may be tried."""
    if throttle.locked_until is not None and throttle.locked_until > now:
        return throttle.locked_until
    return None


def after_failure(throttle: Throttle, now: dt.datetime, *, lock_after: int) -> Failure:
    """The throttle state after one more failed sign-in."""
    recent = (
        throttle.last_failure_at is not None and now - throttle.last_failure_at < FAILURE_MEMORY
    )
    failures = (throttle.failures if recent else 0) + 1
    if failures < lock_after:
        return Failure(failures=failures, locked_until=None)
    lock = min(FIRST_LOCK * 2 ** (failures - lock_after), MAX_LOCK)
    return Failure(failures=failures, locked_until=now + lock)


SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
        "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding `SECURITY_HEADERS` (and HSTS over HTTPS) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = dict(SECURITY_HEADERS)
        if scope.get("scheme") == "https":
            extra["strict-transport-security"] = "max-age=31536000"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(
                        (k.encode(), v.encode())
                        for k, v in extra.items()
                        if k.encode() not in present
                    ),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


__all__ = [
    "ADDRESS_LOCK_AFTER",
    "LOCK_AFTER",
    "SECURITY_HEADERS",
    "Failure",
    "SecurityHeaders",
    "after_failure",
    "digest",
    "hash_password",
    "locked",
    "new_api_key",
    "new_token",
    "password_problem",
    "same",
    "verify_password",
]
