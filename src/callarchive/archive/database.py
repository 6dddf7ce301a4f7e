"""The database connection: engine set-up for SQLite and PostgreSQL, migrations, error mapping.

Both databases are used through SQLAlchemy's asyncio layer (aiosqlite, psycopg 3). SQLite runs
in WAL mode with foreign keys on and a busy timeout, so the embedded default tolerates a web
process and an importer side by side. Migrations are the Alembic scripts shipped in
`migrations/`, the same on both databases.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from callarchive.errors import CallarchiveError, ConfigurationError, RetryableError

MIGRATIONS = Path(__file__).with_name("migrations")
_URL_FIELD = "CALLARCHIVE_DATABASE_URL"
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


class DatabaseUnavailableError(RetryableError):
    """The database cannot be reached or is busy; the same action may succeed later."""


def async_url(url: str) -> URL:
    """The asyncio driver URL for a `sqlite://` or `postgresql://` URL (any driver given)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"{url!r} is not a database URL; expected sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST:PORT/DATABASE",
            field=_URL_FIELD,
        ) from None
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise ConfigurationError(
            f"unsupported database {backend!r}; expected sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST:PORT/DATABASE",
            field=_URL_FIELD,
        )
    return parsed.set(drivername=_DRIVERS[backend])


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine for `url`; SQLite files get their folder created and WAL mode."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",  # readers never block the writer
        "synchronous=NORMAL",  # durable across application crashes, fast in WAL mode
        "foreign_keys=ON",
        "busy_timeout=10000",  # wait for another process's write instead of failing
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    async with translate_errors(), engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "head"))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema revision the database is at; None before the first upgrade."""
    async with translate_errors(), engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def head_revision() -> str | None:
    """The newest schema revision this version of callarchive ships."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def session_factory(
    engine: AsyncEngine, *, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (`info`: what they carry, such as
    the key that signs the audit chain)."""
    return async_sessionmaker(engine, expire_on_commit=False, info=info or {})


@contextlib.asynccontextmanager
async def translate_errors() -> AsyncIterator[None]:
    """Turn SQLAlchemy errors that escape a repository into the callarchive error tree."""
    try:
        yield
    except CallarchiveError:
        raise
    except OperationalError as error:
        if _disk_full(error):
            raise DatabaseUnavailableError(
                f"the database's disk is full ({_first_line(error)}); free space or enlarge it, "
                "then try again (an import does its window again)"
            ) from error
        raise DatabaseUnavailableError(
            f"the database is unavailable or busy ({_first_line(error)}); check that it is "
            "running and reachable, then try again"
        ) from error
    except DBAPIError as error:
        if error.connection_invalidated:
            raise DatabaseUnavailableError(
                f"the database connection was lost ({_first_line(error)}); try again"
            ) from error
        raise CallarchiveError(f"database error: {_first_line(error)}") from error
    except (SQLAlchemyError, OSError) as error:
        raise CallarchiveError(f"database error: {_first_line(error)}") from error


# SQLite: SQLITE_FULL on writing; SQLITE_IOERR_SHMSIZE when a connection cannot extend its WAL
# index (the -shm file) on a full disk. PostgreSQL: SQLSTATE 53100 disk_full.
_DISK_FULL = {"SQLITE_FULL", "SQLITE_IOERR_SHMSIZE", "53100"}


def _disk_full(error: DBAPIError) -> bool:
    """True when the database reports that its disk is full."""
    original = error.orig
    code = getattr(original, "sqlite_errorname", None) or getattr(original, "sqlstate", None)
    return code in _DISK_FULL


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__


__all__ = [
    "DatabaseUnavailableError",
    "async_url",
    "create_engine",
    "current_revision",
    "head_revision",
    "session_factory",
    "translate_errors",
    "upgrade",
]
