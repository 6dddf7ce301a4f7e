"""Stored policies and servers.

A policy refers to its import sources and servers by name in the domain value and by id in the
database. A server is created when a policy first names it or when a node registers itself, and
keeps its host name and last heartbeat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from callarchive.archive._context import Context
from callarchive.archive.audit import write_entry
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import (
    ImportSourceRow,
    PolicyRow,
    ServerRow,
    policy_import_sources,
    policy_servers,
)
from callarchive.configuration import (
    Policy,
    PolicyAction,
    Schedule,
    Server,
    export_schedule,
    parse_active_hours,
)
from callarchive.errors import ConfigurationError


class Policies:
    """Add, change, read and list Data Import policies."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def add(self, policy: Policy, *, actor: str) -> Policy:
        """Store a new policy; `ConfigurationError` when the name is taken or a source unknown."""
        async with translate_errors(), self._context.sessions.begin() as session:
            if await _row_by_name(session, policy.name) is not None:
                raise ConfigurationError(
                    f"a policy named {policy.name!r} already exists; expected a new name",
                    field="name",
                )
            return await save_policy(session, self._context, policy, actor=actor)

    async def save(self, policy: Policy, *, actor: str) -> Policy:
        """Store `policy`, replacing the stored one of the same id, else of the same name."""
        async with translate_errors(), self._context.sessions.begin() as session:
            return await save_policy(session, self._context, policy, actor=actor)

    async def get(self, name: str) -> Policy:
        """The policy called `name`; `ConfigurationError` when there is none."""
        async with translate_errors(), self._context.sessions() as session:
            return await _to_policy(session, await _existing(session, name))

    async def delete(self, name: str, *, actor: str) -> None:
        """Delete the policy `name`; `ConfigurationError` when there is none.

        Its conversations, alerts and batch reports stay, no longer linked to a policy.
        """
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _existing(session, name)
            target = f"policy:{row.name}"
            await session.delete(row)
            write_entry(
                session, at=self._context.now(), actor=actor, action="policy_deleted", target=target
            )

    async def get_by_id(self, policy_id: int) -> Policy:
        """The policy with this archive id; `ConfigurationError` when there is none."""
        async with translate_errors(), self._context.sessions() as session:
            row = await session.get(PolicyRow, policy_id)
            if row is None:
                raise ConfigurationError(f"no policy has id {policy_id}", field="id")
            return await _to_policy(session, row)

    async def set_enabled(self, name: str, enabled: bool, *, actor: str) -> Policy:
        """Enable or disable the policy `name` (a running run finishes its window)."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _existing(session, name)
            row.enabled = enabled
            row.updated_at = self._context.now()
            write_entry(
                session,
                at=self._context.now(),
                actor=actor,
                action="policy_enabled" if enabled else "policy_disabled",
                target=f"policy:{row.name}",
                details={"enabled": enabled},
            )
            return await _to_policy(session, row)

    async def list(self) -> list[Policy]:
        """Every policy, by name."""
        async with translate_errors(), self._context.sessions() as session:
            rows = (await session.scalars(select(PolicyRow).order_by(PolicyRow.name))).all()
            return [await _to_policy(session, row) for row in rows]


class Servers:
    """The callarchive nodes: registration and heartbeats."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def register(self, name: str, *, host: str) -> Server:
        """Record that node `name` runs on `host`, now (creating it when new)."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _server(session, Server(name=name).name, now=self._context.now())
            row.host = host
            row.last_heartbeat = self._context.now()
            return _to_server(row)

    async def heartbeat(self, name: str) -> None:
        """Record that node `name` is alive now (creating it when new)."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _server(session, Server(name=name).name, now=self._context.now())
            row.last_heartbeat = self._context.now()

    async def list(self) -> list[Server]:
        """Every known server, by name."""
        async with translate_errors(), self._context.sessions() as session:
            rows = await session.scalars(select(ServerRow).order_by(ServerRow.name))
            return [_to_server(row) for row in rows]


async def save_policy(
    session: AsyncSession, context: Context, policy: Policy, *, actor: str
) -> Policy:
    """Insert or replace (by id, else by name) inside the caller's transaction."""
    source_ids = await _source_ids(session, policy.import_sources)
    row = await session.get(PolicyRow, policy.id) if policy.id is not None else None
    named = await _row_by_name(session, policy.name)
    if row is not None and named is not None and named.id != row.id:
        raise ConfigurationError(
            f"another policy is named {policy.name!r}; expected a new name", field="name"
        )
    row = row or named
    now = context.now()
    action = "policy_changed"
    if row is None:
        row = PolicyRow(created_at=now)
        session.add(row)
        action = "policy_added"
    row.name = policy.name
    row.action = policy.action.value
    row.enable_recording_rules = policy.enable_recording_rules
    _store_schedule(row, policy.schedule)
    row.enabled = policy.enabled
    row.retention_days = policy.retention_days
    row.updated_at = now
    await session.flush()
    await session.execute(
        delete(policy_import_sources).where(policy_import_sources.c.policy_id == row.id)
    )
    await session.execute(delete(policy_servers).where(policy_servers.c.policy_id == row.id))
    await session.execute(
        insert(policy_import_sources),
        [
            {"policy_id": row.id, "import_source_id": source_id, "position": position}
            for position, source_id in enumerate(source_ids)
        ],
    )
    servers = [await _server(session, name, now=now) for name in policy.servers]
    if servers:
        await session.execute(
            insert(policy_servers), [{"policy_id": row.id, "server_id": s.id} for s in servers]
        )
    write_entry(
        session,
        at=now,
        actor=actor,
        action=action,
        target=f"policy:{policy.name}",
        details={
            "import_sources": list(policy.import_sources),
            "schedule": export_schedule(policy.schedule),
            "enabled": policy.enabled,
            "servers": list(policy.servers),
            "retention_days": policy.retention_days,
        },
    )
    return await _to_policy(session, row)


async def _source_ids(session: AsyncSession, names: Sequence[str]) -> list[int]:
    rows = await session.execute(
        select(ImportSourceRow.name, ImportSourceRow.id).where(ImportSourceRow.name.in_(names))
    )
    ids = dict(rows.all())
    for name in names:
        if name not in ids:
            raise ConfigurationError(
                f"there is no import source named {name!r}; expected the names of existing "
                "import sources (see `callarchive source list`)",
                field="import_sources",
            )
    return [ids[name] for name in names]


async def _server(session: AsyncSession, name: str, *, now: dt.datetime) -> ServerRow:
    row = await session.scalar(select(ServerRow).where(ServerRow.name == name))
    if row is None:
        row = ServerRow(name=name, created_at=now)
        session.add(row)
        await session.flush()
    return row


async def _to_policy(session: AsyncSession, row: PolicyRow) -> Policy:
    sources = await session.scalars(
        select(ImportSourceRow.name)
        .join(policy_import_sources, policy_import_sources.c.import_source_id == ImportSourceRow.id)
        .where(policy_import_sources.c.policy_id == row.id)
        .order_by(policy_import_sources.c.position)
    )
    servers = await session.scalars(
        select(ServerRow.name)
        .join(policy_servers, policy_servers.c.server_id == ServerRow.id)
        .where(policy_servers.c.policy_id == row.id)
        .order_by(ServerRow.name)
    )
    return Policy(
        name=row.name,
        import_sources=tuple(sources),
        schedule=_schedule(row),
        enabled=row.enabled,
        servers=tuple(servers),
        enable_recording_rules=row.enable_recording_rules,
        action=PolicyAction(row.action),
        retention_days=row.retention_days,
        id=row.id,
    )


def _store_schedule(row: PolicyRow, schedule: Schedule) -> None:
    row.every_minutes = schedule.every_minutes
    row.cron = schedule.cron
    hours = schedule.active_hours
    row.active_from = f"{hours.start:%H:%M}" if hours else None
    row.active_to = f"{hours.end:%H:%M}" if hours else None
    row.schedule_timezone = schedule.timezone


def _schedule(row: PolicyRow) -> Schedule:
    hours = None
    if row.active_from and row.active_to:
        hours = parse_active_hours({"from": row.active_from, "to": row.active_to})
    return Schedule(
        every_minutes=row.every_minutes,
        cron=row.cron,
        active_hours=hours,
        timezone=row.schedule_timezone or "UTC",
    )


def _to_server(row: ServerRow) -> Server:
    return Server(name=row.name, host=row.host, last_heartbeat=row.last_heartbeat, id=row.id)


async def _existing(session: AsyncSession, name: str) -> PolicyRow:
    row = await _row_by_name(session, name)
    if row is None:
        raise ConfigurationError(
            f"there is no policy named {name!r} (see `callarchive policy list`)", field="name"
        )
    return row


async def _row_by_name(session: AsyncSession, name: str) -> PolicyRow | None:
    row: PolicyRow | None = await session.scalar(
        select(PolicyRow).where(PolicyRow.name == name.strip())
    )
    return row


__all__ = ["Policies", "Servers", "save_policy"]
