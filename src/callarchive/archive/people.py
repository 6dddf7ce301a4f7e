"""Stored users (with their partitions and place in the hierarchy) and extensions.

A user's supervisor must exist and the hierarchy has no cycles. An extension belongs to one user
at a time: two extensions with the same type and value may not have overlapping validity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callarchive.archive._context import Context, upsert_insert
from callarchive.archive.audit import write_entry
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import (
    ConversationRow,
    ExtensionRow,
    PartitionRow,
    UserRow,
    user_partitions,
)
from callarchive.configuration import Extension, ExtensionType, Role, User
from callarchive.errors import ConfigurationError


class Users:
    """Add, change, read and list users."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def add(self, user: User, *, actor: str) -> User:
        """Store a new user; `ConfigurationError` if the login is taken or supervisor unknown."""
        async with translate_errors(), self._context.sessions.begin() as session:
            if await _user_row(session, user.login) is not None:
                raise ConfigurationError(
                    f"a user with login {user.login!r} already exists; expected a new login",
                    field="login",
                )
            return await save_user(session, self._context, user, actor=actor)

    async def save(self, user: User, *, actor: str) -> User:
        """Store `user`, replacing the stored one with the same login."""
        async with translate_errors(), self._context.sessions.begin() as session:
            return await save_user(session, self._context, user, actor=actor)

    async def get(self, login: str) -> User:
        """The user with this login; `ConfigurationError` when there is none."""
        async with translate_errors(), self._context.sessions() as session:
            return (await _to_users(session, [await _existing_user(session, login)]))[0]

    async def delete(self, login: str, *, actor: str) -> None:
        """Delete the user `login` with their extensions, sessions and API keys.

        `ConfigurationError` when there is none, for the acting user themselves, and for a user
        with recorded conversations: those would lose their owner, and with it the access of the
        owner's supervisors (turn `recorded` off instead). Users they supervised keep no
        supervisor.
        """
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _existing_user(session, login)
            if row.login == actor:
                raise ConfigurationError(
                    "you cannot delete your own account; expected another user", field="login"
                )
            recorded = await session.scalar(
                select(func.count()).where(ConversationRow.recorded_user_id == row.id)
            )
            if recorded:
                raise ConfigurationError(
                    f"{recorded} conversations are recorded for {row.login!r}; deleting the user "
                    "would take them away from their supervisors; turn 'recorded' off instead",
                    field="login",
                )
            supervised = (
                await session.scalars(select(UserRow.login).where(UserRow.supervisor_id == row.id))
            ).all()
            await session.delete(row)
            write_entry(
                session,
                at=self._context.now(),
                actor=actor,
                action="user_deleted",
                target=f"user:{login}",
                details={"supervised": list(supervised)},
            )

    async def list(self) -> list[User]:
        """Every user, by login."""
        async with translate_errors(), self._context.sessions() as session:
            rows = (await session.scalars(select(UserRow).order_by(UserRow.login))).all()
            return await _to_users(session, rows)


class Extensions:
    """Add and list extensions; find who owned a number or address at a moment."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def add(self, extension: Extension, *, actor: str) -> Extension:
        """Store a new extension; `ConfigurationError` when its user is unknown or it overlaps."""
        async with translate_errors(), self._context.sessions.begin() as session:
            return await save_extension(session, self._context, extension, actor=actor)

    async def delete(self, extension_id: int, *, actor: str) -> Extension:
        """Delete one extension by id; the deleted one. `ConfigurationError` when there is none."""
        async with translate_errors(), self._context.sessions.begin() as session:
            found = (
                await session.execute(
                    select(ExtensionRow, UserRow.login)
                    .join(UserRow, UserRow.id == ExtensionRow.user_id)
                    .where(ExtensionRow.id == extension_id)
                )
            ).first()
            if found is None:
                raise ConfigurationError(f"no extension has id {extension_id}", field="id")
            extension = _to_extension(found[0], found[1])
            await session.delete(found[0])
            write_entry(
                session,
                at=self._context.now(),
                actor=actor,
                action="extension_deleted",
                target=f"extension:{extension.type.value}:{extension.value}",
                details={"user": extension.user, "period": _period(extension)},
            )
            return extension

    async def list(self, *, user: str | None = None) -> list[Extension]:
        """Every extension (of one user when given), by type and value."""
        async with translate_errors(), self._context.sessions() as session:
            query = (
                select(ExtensionRow, UserRow.login)
                .join(UserRow, UserRow.id == ExtensionRow.user_id)
                .order_by(ExtensionRow.type, ExtensionRow.value, ExtensionRow.valid_from)
            )
            if user is not None:
                query = query.where(UserRow.login == user)
            rows = await session.execute(query)
            return [_to_extension(row, login) for row, login in rows]

    async def owner(self, kind: ExtensionType, value: str, at: dt.datetime) -> User | None:
        """The user who owned this number or address at `at`, if anyone did."""
        async with translate_errors(), self._context.sessions() as session:
            row = await session.scalar(
                select(UserRow)
                .join(ExtensionRow, ExtensionRow.user_id == UserRow.id)
                .where(ExtensionRow.type == kind.value, ExtensionRow.value == value)
                .where(or_(ExtensionRow.valid_from.is_(None), ExtensionRow.valid_from <= at))
                .where(or_(ExtensionRow.valid_to.is_(None), ExtensionRow.valid_to > at))
            )
            return None if row is None else (await _to_users(session, [row]))[0]


async def save_user(session: AsyncSession, context: Context, user: User, *, actor: str) -> User:
    """Insert or replace (by login) inside the caller's transaction."""
    supervisor_id = await _supervisor_id(session, user)
    row = await _user_row(session, user.login)
    now = context.now()
    action = "user_changed"
    if row is None:
        row = UserRow(login=user.login, created_at=now)
        session.add(row)
        action = "user_added"
    row.name = user.name
    row.role = user.role.value
    row.supervisor_id = supervisor_id
    row.recorded = user.recorded
    row.retention_days = user.retention_days
    row.updated_at = now
    await session.flush()
    await session.execute(delete(user_partitions).where(user_partitions.c.user_id == row.id))
    partition_ids = await partition_ids_for(session, user.partitions)
    if partition_ids:
        await session.execute(
            insert(user_partitions), [{"user_id": row.id, "partition_id": p} for p in partition_ids]
        )
    write_entry(
        session,
        at=now,
        actor=actor,
        action=action,
        target=f"user:{user.login}",
        details={
            "name": user.name,
            "role": user.role.value,
            "supervisor": user.supervisor,
            "partitions": list(user.partitions),
            "recorded": user.recorded,
            "retention_days": user.retention_days,
        },
    )
    return (await _to_users(session, [row]))[0]


async def _supervisor_id(session: AsyncSession, user: User) -> int | None:
    if user.supervisor is None:
        return None
    supervisor = await _user_row(session, user.supervisor)
    if supervisor is None:
        raise ConfigurationError(
            f"there is no user with login {user.supervisor!r}; expected the login of an "
            "existing user (add the supervisor first)",
            field="supervisor",
        )
    seen = {user.login}
    current: UserRow | None = supervisor
    while current is not None:
        if current.login in seen:
            raise ConfigurationError(
                f"{user.supervisor!r} is below {user.login!r} in the hierarchy; expected a "
                "supervisor who is not supervised by this user",
                field="supervisor",
            )
        seen.add(current.login)
        current = (
            await session.get(UserRow, current.supervisor_id) if current.supervisor_id else None
        )
    return supervisor.id


async def partition_ids_for(session: AsyncSession, names: Sequence[str]) -> list[int]:
    """Ids of the named partitions, creating the ones that do not exist yet."""
    if not names:
        return []
    insert_ = upsert_insert(session)
    await session.execute(
        insert_(PartitionRow).on_conflict_do_nothing(index_elements=["name"]),
        [{"name": name} for name in names],
    )
    rows = await session.execute(
        select(PartitionRow.name, PartitionRow.id).where(PartitionRow.name.in_(names))
    )
    ids = dict(rows.all())
    return [ids[name] for name in names]


async def save_extension(
    session: AsyncSession, context: Context, extension: Extension, *, actor: str
) -> Extension:
    """Insert (or keep, when identical) inside the caller's transaction."""
    owner = await _user_row(session, extension.user)
    if owner is None:
        raise ConfigurationError(
            f"there is no user with login {extension.user!r}; expected the login of an existing "
            "user (see `callarchive user list`)",
            field="user",
        )
    rows = await session.execute(
        select(ExtensionRow, UserRow.login)
        .join(UserRow, UserRow.id == ExtensionRow.user_id)
        .where(ExtensionRow.type == extension.type.value, ExtensionRow.value == extension.value)
    )
    for row, login in rows:
        existing = _to_extension(row, login)
        if _same(existing, extension):
            return existing
        if _overlap(existing, extension):
            raise ConfigurationError(
                f"{extension.value!r} already belongs to {login!r} "
                f"({_period(existing)}); expected a value not assigned in {_period(extension)}, "
                "or end the other assignment first",
                field="value",
            )
    row = ExtensionRow(
        type=extension.type.value,
        value=extension.value,
        user_id=owner.id,
        valid_from=extension.valid_from,
        valid_to=extension.valid_to,
    )
    session.add(row)
    await session.flush()
    write_entry(
        session,
        at=context.now(),
        actor=actor,
        action="extension_added",
        target=f"extension:{extension.type.value}:{extension.value}",
        details={"user": extension.user, "period": _period(extension)},
    )
    return _to_extension(row, extension.user)


def _same(a: Extension, b: Extension) -> bool:
    return (a.user, a.valid_from, a.valid_to) == (b.user, b.valid_from, b.valid_to)


def _overlap(a: Extension, b: Extension) -> bool:
    lowest = dt.datetime.min.replace(tzinfo=dt.UTC)
    highest = dt.datetime.max.replace(tzinfo=dt.UTC)
    return max(a.valid_from or lowest, b.valid_from or lowest) < min(
        a.valid_to or highest, b.valid_to or highest
    )


def _period(extension: Extension) -> str:
    start = extension.valid_from.isoformat() if extension.valid_from else "always"
    end = extension.valid_to.isoformat() if extension.valid_to else "open end"
    return f"from {start} to {end}"


async def _to_users(session: AsyncSession, rows: Sequence[UserRow]) -> list[User]:
    ids = [row.id for row in rows]
    supervisors = dict(
        (
            await session.execute(
                select(UserRow.id, UserRow.login).where(
                    UserRow.id.in_([r.supervisor_id for r in rows if r.supervisor_id])
                )
            )
        ).all()
    )
    partitions: dict[int, list[str]] = {}
    memberships = await session.execute(
        select(user_partitions.c.user_id, PartitionRow.name)
        .join(PartitionRow, PartitionRow.id == user_partitions.c.partition_id)
        .where(user_partitions.c.user_id.in_(ids))
        .order_by(PartitionRow.name)
    )
    for user_id, name in memberships:
        partitions.setdefault(user_id, []).append(name)
    return [
        User(
            login=row.login,
            name=row.name,
            role=Role(row.role),
            supervisor=supervisors.get(row.supervisor_id) if row.supervisor_id else None,
            partitions=tuple(partitions.get(row.id, [])),
            recorded=row.recorded,
            retention_days=row.retention_days,
            id=row.id,
        )
        for row in rows
    ]


def _to_extension(row: ExtensionRow, login: str) -> Extension:
    return Extension(
        type=ExtensionType(row.type),
        value=row.value,
        user=login,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        id=row.id,
    )


async def _existing_user(session: AsyncSession, login: str) -> UserRow:
    row = await _user_row(session, login)
    if row is None:
        raise ConfigurationError(
            f"there is no user with login {login!r} (see `callarchive user list`)", field="login"
        )
    return row


async def _user_row(session: AsyncSession, login: str) -> UserRow | None:
    row: UserRow | None = await session.scalar(select(UserRow).where(UserRow.login == login))
    return row


__all__ = ["Extensions", "Users", "partition_ids_for", "save_extension", "save_user"]
