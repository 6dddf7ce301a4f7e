from tests.archive.fixtures import (
    archive,
    box,
    database_url,
    postgres_database,
    s3_server,
    sqlite_template,
)
from tests.imports.conftest import installation, make_installation

__all__ = [
    "archive",
    "box",
    "database_url",
    "installation",
    "make_installation",
    "postgres_database",
    "s3_server",
    "sqlite_template",
]
