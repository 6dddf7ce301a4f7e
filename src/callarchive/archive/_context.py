"""What every repository shares: the session factory, the clock, the secret box and the
signing key of seals."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callarchive.clock import Clock, SystemClock
from callarchive.secrets import SealKey, SecretBox
from callarchive.signing import SealKeyring


@dataclasses.dataclass(kw_only=True, slots=True)
class Context:
    """Dependencies of the repositories, built once by `Archive` (the box changes on rotation)."""

    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    clock: Clock = dataclasses.field(default_factory=SystemClock)
    seal_keys: SealKeyring = dataclasses.field(
        default_factory=lambda: SealKeyring(SealKey.generate())
    )

    @property
    def seal_key(self) -> SealKey:
        """The key that signs new seals and audit entries."""
        return self.seal_keys.signer

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        return self.clock.now()


def upsert_insert(session: AsyncSession) -> Callable[..., postgresql.Insert | sqlite.Insert]:
    """The dialect's INSERT that supports ON CONFLICT (SQLite and PostgreSQL both do)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
