"""Fixtures shared by every test package: databases (SQLite, a real PostgreSQL), stores (local
folders, a real S3-compatible server) and the secret box; session-wide ones start once."""

from collections.abc import Iterator

import pytest
import structlog

from tests.archive.fixtures import (
    archive,
    box,
    database_url,
    object_store,
    postgres_database,
    s3_server,
    sqlite_template,
    store_url,
    work_store,
)

__all__ = [
    "archive",
    "box",
    "database_url",
    "object_store",
    "postgres_database",
    "s3_server",
    "sqlite_template",
    "store_url",
    "work_store",
]


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Each test starts with structlog's defaults: a command run in-process configures logging
    (its level, its stream) for the process, which must not leak into the tests after it."""
    yield
    structlog.reset_defaults()
