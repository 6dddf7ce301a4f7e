"""Real databases and stores for the archive's tests: SQLite and PostgreSQL, local folders and
an S3-compatible server (moto) on loopback.

PostgreSQL comes from CALLARCHIVE_TEST_POSTGRES_URL (default: the local server). The tests make
their own database with a random name, migrate it once, empty it before each test and drop it at
the end. A PostgreSQL that does not answer fails the tests (`make services` starts it).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import make_url

from callarchive.archive import Archive, ObjectStore, S3Options, WorkStore
from callarchive.archive.schema import Base
from callarchive.secrets import Secret, SecretBox

POSTGRES_URL = os.environ.get(
    "CALLARCHIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]
STORES = ["local", "s3"]
BUCKET = "callarchive-test"
LOCKED_BUCKET = "callarchive-locked"  # created with object lock enabled


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _migrate(url: str) -> None:
    async def upgrade() -> None:
        archive = Archive.open(url, SecretBox([SecretBox.generate_key()]))
        try:
            await archive.upgrade()
        finally:
            await archive.close()

    asyncio.run(upgrade())


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A migrated PostgreSQL database of this test session (dropped at the end)."""
    try:
        admin = psycopg.connect(_libpq(POSTGRES_URL), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not answering at {POSTGRES_URL} ({error}); start it with "
            "`make services` or set CALLARCHIVE_TEST_POSTGRES_URL",
            pytrace=False,
        )
    name = f"callarchive_test_{secrets.token_hex(6)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        try:
            _migrate(url)
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "archive.db"
    _migrate(f"sqlite:///{path}")
    return path


def empty_postgres(url: str) -> str:
    """`url` (the session's migrated PostgreSQL database) with every table emptied."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: a fresh SQLite file, or the session's emptied PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "archive.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return empty_postgres(request.getfixturevalue("postgres_database"))


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([SecretBox.generate_key()])


@pytest.fixture
async def archive(database_url: str, box: SecretBox) -> AsyncIterator[Archive]:
    opened = Archive.open(database_url, box)
    try:
        yield opened
    finally:
        await opened.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def s3_admin(options: S3Options) -> Any:
    """A boto3 client of the test server with full rights: the administrator of the bucket."""
    return boto3.client(
        "s3",
        endpoint_url=options.endpoint_url,
        region_name=options.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Options]:
    """An S3-compatible server (moto) on loopback with the test bucket."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    options = S3Options(
        endpoint_url=f"http://127.0.0.1:{port}",
        region="us-east-1",
        access_key_id="testing",
        secret_access_key=Secret("testing"),
    )
    admin = s3_admin(options)
    admin.create_bucket(Bucket=BUCKET)
    admin.create_bucket(Bucket=LOCKED_BUCKET, ObjectLockEnabledForBucket=True)
    try:
        yield options
    finally:
        server.stop()


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, S3Options | None]:
    """A store URL: a local folder, or a fresh prefix of the S3 test bucket."""
    if request.param == "local":
        return str(tmp_path / "store"), None
    options: S3Options = request.getfixturevalue("s3_server")
    return f"s3://{BUCKET}/{secrets.token_hex(6)}", options


@pytest.fixture
def object_store(store_url: tuple[str, S3Options | None]) -> ObjectStore:
    url, options = store_url
    return ObjectStore.from_url(url, s3=options)


@pytest.fixture
def work_store(store_url: tuple[str, S3Options | None]) -> WorkStore:
    url, options = store_url
    return WorkStore.from_url(url, s3=options)
