"""Fixtures shared by every test package: databases (SQLite, a real PostgreSQL), stores (local
folders, a real S3-compatible server) and the secret box; session-wide ones start once."""

from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, settings

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

# The suite runs in parallel processes (pytest-xdist) beside subprocess-heavy tests, so how long
# one example takes says nothing about the code under test (speed is measured in bench/): no
# per-example deadline, no health check on slow data generation.
settings.register_profile(
    "callarchive", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("callarchive")


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Each test starts with structlog's defaults: a command run in-process configures logging
    (its level, its stream) for the process, which must not leak into the tests after it."""
    yield
    structlog.reset_defaults()
