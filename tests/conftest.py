"""Fixtures shared by every test package: databases (SQLite, a real PostgreSQL), stores (local
folders, a real S3-compatible server) and the secret box; session-wide ones start once."""

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
