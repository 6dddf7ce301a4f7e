"""Accounts: how users sign in to the web UI and the REST API, and what each may see.

A user signs in with a password (only its argon2 hash is stored), holds server-side sessions
(only the sha256 of the cookie token is stored, so a database copy opens no session) and API
keys (likewise stored as sha256). Failed sign-ins are counted per login and per client address
for the throttle. `Scope` is DESIGN.md section 6: the recorded users and partitions whose
recordings a user may see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callarchive.archive._context import Context
from callarchive.archive.audit import write_entry
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import (
    ApiKeyRow,
    LoginThrottleRow,
    PartitionRow,
    UserRow,
    WebSessionRow,
    user_partitions,
)
from callarchive.configuration import Role
from callarchive.errors import ConfigurationError

LAST_USE_EVERY = dt.timedelta(minutes=1)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Scope:
    """Whose recordings a user sees: every one, or those of these users and partitions."""

    everything: bool = False
    logins: frozenset[str] = frozenset()
    partitions: frozenset[str] = frozenset()

    def allows(self, user_login: str | None, partitions: Iterable[str]) -> bool:
        """Whether a recording of `user_login` tagged with `partitions` is in scope."""
        if self.everything:
            return True
        return (user_login is not None and user_login in self.logins) or bool(
            self.partitions.intersection(partitions)
        )


def scope_of(
    login: str, role: Role, supervisors: Mapping[str, str | None], partitions: Iterable[str]
) -> Scope:
    """The scope of a user: everything for administrators and compliance officers; otherwise
    the user's own recordings, those of everyone below a supervisor in the hierarchy
    (`supervisors` maps each login to its supervisor's), and the partitions granted."""
    if role in {Role.ADMINISTRATOR, Role.COMPLIANCE_OFFICER}:
        return Scope(everything=True)
    logins = {login}
    if role is Role.SUPERVISOR:
        below: dict[str, list[str]] = {}
        for member, boss in supervisors.items():
            if boss is not None:
                below.setdefault(boss, []).append(member)
        pending = [login]
        while pending:
            for member in below.get(pending.pop(), []):
                if member not in logins:
                    logins.add(member)
                    pending.append(member)
    return Scope(logins=frozenset(logins), partitions=frozenset(partitions))


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Account:
    """A user as the web layer needs it: identity, role, time zone, scope."""

    id: int
    login: str
    name: str
    role: Role
    time_zone: str | None
    password_hash: str | None
    scope: Scope


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class WebSession:
    """A signed-in browser."""

    account: Account
    csrf_token: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_seen_at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ApiKey:
    """An API key (its secret is shown once, when created, and never stored)."""

    id: int
    name: str
    prefix: str
    login: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Throttle:
    """Failed sign-ins of one key (a login or a client address)."""

    failures: int = 0
    last_failure_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None


class Accounts:
    """Passwords, sessions, API keys, the sign-in throttle and users' scopes."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def get(self, login: str) -> Account | None:
        """The account of `login`, with its scope; None when there is no such user."""
        async with translate_errors(), self._context.sessions() as session:
            row = await session.scalar(select(UserRow).where(UserRow.login == login))
            return None if row is None else await _account(session, row)

    async def set_password(self, login: str, password_hash: str, *, actor: str) -> None:
        """Store a new password hash; every session of the user is closed."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _user(session, login)
            row.password_hash = password_hash
            row.updated_at = self._context.now()
            await session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))
            write_entry(
                session, at=self._context.now(), actor=actor, action="password_set", target=login
            )

    async def set_time_zone(self, login: str, time_zone: str | None, *, actor: str) -> None:
        """The time zone `login`'s pages show times in (None: UTC)."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _user(session, login)
            row.time_zone = time_zone
            write_entry(
                session,
                at=self._context.now(),
                actor=actor,
                action="time_zone_set",
                target=login,
                details={"time_zone": time_zone},
            )

    # -- sessions --------------------------------------------------------------------------

    async def open_session(
        self, login: str, *, token_sha256: str, csrf_token: str, idle: dt.timedelta
    ) -> None:
        """A new session of `login` that expires after `idle` without activity (the sign-in is
        written to the audit log)."""
        now = self._context.now()
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _user(session, login)
            session.add(
                WebSessionRow(
                    token_sha256=token_sha256,
                    user_id=row.id,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + idle,
                )
            )
            await session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
            write_entry(session, at=now, actor=login, action="signed_in", target=login)

    async def session(self, token_sha256: str) -> WebSession | None:
        """The live session with this token hash (None when unknown or expired)."""
        async with translate_errors(), self._context.sessions() as session:
            found = await session.execute(
                select(WebSessionRow, UserRow)
                .join(UserRow, UserRow.id == WebSessionRow.user_id)
                .where(WebSessionRow.token_sha256 == token_sha256)
            )
            pair = found.first()
            if pair is None or pair[0].expires_at <= self._context.now():
                return None
            web, user = pair
            return WebSession(
                account=await _account(session, user),
                csrf_token=web.csrf_token,
                created_at=web.created_at,
                expires_at=web.expires_at,
                last_seen_at=web.last_seen_at,
            )

    async def touch_session(self, token_sha256: str, *, expires_at: dt.datetime) -> None:
        """Record activity: the idle timeout starts again."""
        async with translate_errors(), self._context.sessions.begin() as session:
            await session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.token_sha256 == token_sha256)
                .values(last_seen_at=self._context.now(), expires_at=expires_at)
            )

    async def close_session(self, token_sha256: str) -> None:
        """Sign out (nothing happens for an unknown token)."""
        async with translate_errors(), self._context.sessions.begin() as session:
            await session.execute(
                delete(WebSessionRow).where(WebSessionRow.token_sha256 == token_sha256)
            )

    # -- API keys --------------------------------------------------------------------------

    async def add_api_key(
        self, login: str, *, name: str, key_sha256: str, prefix: str, actor: str
    ) -> ApiKey:
        """Store a new API key of `login`."""
        now = self._context.now()
        async with translate_errors(), self._context.sessions.begin() as session:
            user = await _user(session, login)
            row = ApiKeyRow(
                name=name, key_sha256=key_sha256, prefix=prefix, user_id=user.id, created_at=now
            )
            session.add(row)
            await session.flush()
            write_entry(
                session,
                at=now,
                actor=actor,
                action="api_key_added",
                target=login,
                details={"name": name, "prefix": prefix},
            )
            return _api_key(row, login)

    async def api_keys(self, login: str | None = None) -> list[ApiKey]:
        """Every API key (of one user when given), newest first."""
        async with translate_errors(), self._context.sessions() as session:
            query = (
                select(ApiKeyRow, UserRow.login)
                .join(UserRow, UserRow.id == ApiKeyRow.user_id)
                .order_by(ApiKeyRow.id.desc())
            )
            if login is not None:
                query = query.where(UserRow.login == login)
            return [_api_key(row, owner) for row, owner in await session.execute(query)]

    async def revoke_api_key(self, key_id: int, *, actor: str) -> bool:
        """Revoke a key; False when there is no such live key."""
        now = self._context.now()
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await session.get(ApiKeyRow, key_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = now
            write_entry(
                session,
                at=now,
                actor=actor,
                action="api_key_revoked",
                target=str(key_id),
                details={"name": row.name, "prefix": row.prefix},
            )
            return True

    async def by_api_key(self, key_sha256: str) -> Account | None:
        """The account a live API key acts as. Its last use is recorded at most once a minute,
        so automation calling often does not turn every read into a database write."""
        async with translate_errors(), self._context.sessions.begin() as session:
            found = await session.execute(
                select(ApiKeyRow, UserRow)
                .join(UserRow, UserRow.id == ApiKeyRow.user_id)
                .where(ApiKeyRow.key_sha256 == key_sha256, ApiKeyRow.revoked_at.is_(None))
            )
            pair = found.first()
            if pair is None:
                return None
            now = self._context.now()
            last = pair[0].last_used_at
            if last is None or now - last >= LAST_USE_EVERY:
                pair[0].last_used_at = now
            return await _account(session, pair[1])

    # -- throttle --------------------------------------------------------------------------

    async def throttle(self, key: str) -> Throttle:
        """The failed sign-ins counted for `key`."""
        async with translate_errors(), self._context.sessions() as session:
            row = await session.get(LoginThrottleRow, key)
            if row is None:
                return Throttle()
            return Throttle(
                failures=row.failures,
                last_failure_at=row.last_failure_at,
                locked_until=row.locked_until,
            )

    async def record_failure(
        self, key: str, *, failures: int, locked_until: dt.datetime | None
    ) -> None:
        """Store the new count of failures of `key` and its lock-out."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await session.get(LoginThrottleRow, key)
            if row is None:
                row = LoginThrottleRow(key=key)
                session.add(row)
            row.failures = failures
            row.last_failure_at = self._context.now()
            row.locked_until = locked_until

    async def clear_failures(self, key: str) -> None:
        """Forget the failures of `key` (after a successful sign-in)."""
        async with translate_errors(), self._context.sessions.begin() as session:
            await session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == key))


async def _user(session: AsyncSession, login: str) -> UserRow:
    row = await session.scalar(select(UserRow).where(UserRow.login == login))
    if row is None:
        raise ConfigurationError(f"there is no user with login {login!r}", field="login")
    return row


async def _account(session: AsyncSession, row: UserRow) -> Account:
    role = Role(row.role)
    supervisors: dict[str, str | None] = {}
    if role is Role.SUPERVISOR:
        boss = UserRow.__table__.alias("boss")
        pairs = await session.execute(
            select(UserRow.login, boss.c.login).outerjoin(boss, boss.c.id == UserRow.supervisor_id)
        )
        supervisors = {str(login): boss_login for login, boss_login in pairs}
    granted = await session.scalars(
        select(PartitionRow.name)
        .join(user_partitions, user_partitions.c.partition_id == PartitionRow.id)
        .where(user_partitions.c.user_id == row.id)
    )
    return Account(
        id=row.id,
        login=row.login,
        name=row.name,
        role=role,
        time_zone=row.time_zone,
        password_hash=row.password_hash,
        scope=scope_of(row.login, role, supervisors, granted.all()),
    )


def _api_key(row: ApiKeyRow, login: str) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        login=login,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


__all__ = ["Account", "Accounts", "ApiKey", "Scope", "Throttle", "WebSession", "scope_of"]
