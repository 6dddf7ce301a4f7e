"""Who is asking: sessions for the browser, API keys for automation, and what each may do.

A page or API call finds its `Viewer` from the session cookie (a browser) or an API key in
`Authorization: Bearer ca_…` or `X-API-Key` (automation). A state-changing request from a
browser must carry the session's CSRF token (form field `csrf_token` or header
`X-CSRF-Token`); API keys are not sent by browsers by themselves, so they need none. Signing in
always starts a new session (no fixation), and the throttle of `security` applies per login and
per client address.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import Depends, Request

from callarchive.archive import Account
from callarchive.configuration import Role
from callarchive.errors import CallarchiveError
from callarchive.web import security
from callarchive.web.state import WebState, web_state

SESSION_COOKIE = "callarchive_session"
LOGIN_CSRF_COOKIE = "callarchive_login_csrf"
TOUCH_EVERY = dt.timedelta(minutes=1)


class SignInRequiredError(CallarchiveError):
    """No valid session or API key: pages redirect to the sign-in page, the API answers 401."""


class ForbiddenError(CallarchiveError):
    """Signed in, but the role does not allow this (403)."""


class CsrfError(CallarchiveError):
    """A state-changing browser request without the session's CSRF token (403)."""


class NotFoundError(CallarchiveError):
    """Nothing there, or nothing the viewer may see: both answer 404 alike."""


class ThrottledError(CallarchiveError):
    """Too many failed sign-ins: refused until `until` (429)."""

    def __init__(self, until: dt.datetime) -> None:
        self.until = until
        super().__init__(f"too many failed sign-ins; try again after {until:%H:%M:%S} UTC")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Viewer:
    """The signed-in user of a request."""

    account: Account
    csrf_token: str | None  # None: an API key, which needs no CSRF token
    session_sha256: str | None = None

    @property
    def login(self) -> str:
        return self.account.login

    @property
    def is_administrator(self) -> bool:
        return self.account.role is Role.ADMINISTRATOR

    @property
    def sees_operations(self) -> bool:
        """Administrators and compliance officers see alerts, status and reports."""
        return self.account.role in {Role.ADMINISTRATOR, Role.COMPLIANCE_OFFICER}


async def _api_key_viewer(request: Request, state: WebState) -> Viewer | None:
    header = request.headers.get("authorization", "")
    key = request.headers.get("x-api-key")
    if header.lower().startswith("bearer "):
        key = header[7:].strip()
    if not key:
        return None
    account = await state.archive.accounts.by_api_key(security.digest(key))
    if account is None:
        raise SignInRequiredError("the API key is unknown or revoked")
    return Viewer(account=account, csrf_token=None)


async def _session_viewer(request: Request, state: WebState) -> Viewer | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    token_sha256 = security.digest(token)
    session = await state.archive.accounts.session(token_sha256)
    if session is None:
        return None
    now = state.now()
    if now - session.last_seen_at >= TOUCH_EVERY:
        expires = min(now + state.session_idle, session.created_at + state.session_lifetime)
        await state.archive.accounts.touch_session(token_sha256, expires_at=expires)
    return Viewer(
        account=session.account, csrf_token=session.csrf_token, session_sha256=token_sha256
    )


async def current_viewer(request: Request) -> Viewer:
    """The viewer of `request`; `SignInRequiredError` when there is none."""
    state = web_state(request)
    viewer = await _api_key_viewer(request, state) or await _session_viewer(request, state)
    if viewer is None:
        raise SignInRequiredError("sign in first")
    if request.method not in {"GET", "HEAD", "OPTIONS"} and viewer.csrf_token is not None:
        sent = request.headers.get("x-csrf-token")
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            field = form.get("csrf_token")
            sent = field if isinstance(field, str) else None
        if not security.same(sent, viewer.csrf_token):
            raise CsrfError("the form has expired or did not come from callarchive; reload it")
    return viewer


async def administrator(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    """The viewer, who must be an administrator."""
    if not viewer.is_administrator:
        raise ForbiddenError("only administrators may do this")
    return viewer


async def operations_viewer(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    """The viewer, who must be an administrator or a compliance officer."""
    if not viewer.sees_operations:
        raise ForbiddenError("only administrators and compliance officers may see this")
    return viewer


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
Administrator = Annotated[Viewer, Depends(administrator)]
OperationsViewer = Annotated[Viewer, Depends(operations_viewer)]


def client_address(request: Request) -> str:
    """The address the request came from (the throttle's second key)."""
    return request.client.host if request.client else "unknown"


async def sign_in(state: WebState, login: str, password: str, *, address: str) -> str:
    """Check the password and open a session; the new session's cookie token.

    `ThrottledError` while the login or the address is locked out; `SignInRequiredError` for
    a wrong login or password (the same answer for both, and failures are counted).
    """
    accounts = state.archive.accounts
    now = state.now()
    keys = {
        f"login:{login.lower()}": security.LOCK_AFTER,
        f"address:{address}": security.ADDRESS_LOCK_AFTER,
    }
    throttles = {key: await accounts.throttle(key) for key in keys}
    for throttle in throttles.values():
        until = security.locked(throttle, now)
        if until is not None:
            raise ThrottledError(until)
    account = await accounts.get(login)
    if account is None or not security.verify_password(account.password_hash, password):
        if account is None:
            security.verify_password(None, password)  # as slow as a wrong password
        for key, lock_after in keys.items():
            failure = security.after_failure(throttles[key], now, lock_after=lock_after)
            await accounts.record_failure(
                key, failures=failure.failures, locked_until=failure.locked_until
            )
        await state.archive.audit.record(
            actor=login[:200],
            action="sign_in_failed",
            target=login[:400],
            details={"address": address},
        )
        raise SignInRequiredError("wrong login or password")
    for key in keys:
        await accounts.clear_failures(key)
    token = security.new_token()
    await accounts.open_session(
        account.login,
        token_sha256=security.digest(token),
        csrf_token=security.new_token(),
        idle=state.session_idle,
    )
    return token


__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "Administrator",
    "CsrfError",
    "CurrentViewer",
    "ForbiddenError",
    "NotFoundError",
    "OperationsViewer",
    "SignInRequiredError",
    "ThrottledError",
    "Viewer",
    "administrator",
    "client_address",
    "current_viewer",
    "operations_viewer",
    "sign_in",
]
