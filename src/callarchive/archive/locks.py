"""The pair lock across nodes: one run of a policy and import source at a time, whichever node.

On PostgreSQL a session-level advisory lock, taken with `pg_try_advisory_lock` on a connection of
its own and held for the whole run. The server releases it when that connection ends, however
it ends (SIGKILL, power loss once TCP gives up), so a dead node never leaves a stale lock, and a
live node keeps it however late its queue heartbeats are: a job taken over from a worker that was
only slow waits instead of running the same window beside it (two runs of a pair at once move each
other's retry buffer files). SQLite serves one node only; the run lock of `imports` (a file lock)
is enough there, and this lock holds nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callarchive.archive.database import translate_errors
from callarchive.errors import RetryableError

log = structlog.get_logger("callarchive.archive")


class PairLockedError(RetryableError):
    """Another node runs the same policy and import source now; try again later."""


def _lock_name(policy_id: int, import_source_id: int) -> str:
    return f"callarchive pair {policy_id}/{import_source_id}"


@contextlib.asynccontextmanager
async def pair_lock(
    engine: AsyncEngine, policy_id: int, import_source_id: int
) -> AsyncIterator[None]:
    """Hold the pair's lock for the block; PairLockedError at once when another holds it."""
    if engine.dialect.name != "postgresql":
        yield
        return
    name = _lock_name(policy_id, import_source_id)
    async with contextlib.AsyncExitStack() as stack:
        async with translate_errors():
            connection = await stack.enter_async_context(engine.connect())
            # Autocommit: a session lock needs no transaction, and none stays open for the run.
            session = await connection.execution_options(isolation_level="AUTOCOMMIT")
            taken = await session.scalar(
                text("SELECT pg_try_advisory_lock(hashtext(:name))"), {"name": name}
            )
        if not taken:
            raise PairLockedError(
                f"another node is running policy {policy_id} with import source "
                f"{import_source_id} now ({name!r}); this run waits for its next slot"
            )
        try:
            yield
        finally:
            await _release(connection, session, name)


async def _release(connection: AsyncConnection, session: AsyncConnection, name: str) -> None:
    try:
        await session.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": name})
    except (SQLAlchemyError, OSError):
        # The lock may still be held on this connection: it must not go back to the pool.
        log.warning("pair_lock_release_failed", lock=name)
        await connection.invalidate()


__all__ = ["PairLockedError", "pair_lock"]
