"""The schema: migrations equal the models on both databases; SQLite runs in WAL mode."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from callarchive.archive import Archive, DatabaseUnavailableError, current_revision, head_revision
from callarchive.archive.schema import Base
from callarchive.secrets import SecretBox


async def test_the_migrations_create_exactly_the_models(archive: Archive) -> None:
    async with archive.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    assert differences == []
    assert await current_revision(archive.engine) == head_revision()


async def test_upgrading_twice_changes_nothing(archive: Archive) -> None:
    await archive.upgrade()
    await archive.upgrade()
    assert await current_revision(archive.engine) == head_revision()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(archive: Archive) -> None:
    if archive.engine.dialect.name != "sqlite":
        assert archive.engine.dialect.name == "postgresql"
        return
    async with archive.engine.connect() as connection:
        assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1


async def test_an_unreachable_database_is_a_retryable_error(box: SecretBox) -> None:
    unreachable = Archive.open("postgresql+psycopg://nobody@127.0.0.1:1/none", box)
    try:
        with pytest.raises(DatabaseUnavailableError, match="unavailable") as caught:
            await unreachable.upgrade()
        assert caught.value.exit_code == 75
    finally:
        await unreachable.close()
