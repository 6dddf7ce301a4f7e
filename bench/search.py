"""Archive search benchmark: conversations by time range and user over 1,000,000 conversations.

    .venv/bin/python bench/search.py [--conversations 1000000] [--backends sqlite,postgresql]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--queries 50]

Generates the conversations (one recording each, 1,000 users, one year of calls) straight into a
freshly migrated database (SQLite in a temporary folder; PostgreSQL in a new database that is
dropped afterwards), runs ANALYZE, then times `Archive.conversations.search` (the code the web
UI and the API use: query, recordings, partitions, domain values) for random users and windows.
Target: under 100 ms per search on both databases.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import platform
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
from sqlalchemy import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callarchive.archive import Archive, ConversationQuery, Direction
from callarchive.configuration import Codec, parse_import_source
from callarchive.secrets import Secret, SecretBox

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
YEAR_S = 365 * 24 * 3600
USERS = 1000
COLUMNS = (
    "id, import_source_id, policy_id, genesys_conversation_id, start_at, end_at, duration_s, "
    "recorded_user_id, user_name, agent_id, from_number, from_info, to_number, to_info, "
    "direction, direction_user, from_user, to_user, location, platform_call_id, "
    "source_platform, conversation_type, record_type, media_complete, deleted_in_genesys, "
    "imported_at"
)
RECORDING_COLUMNS = (
    "id, conversation_id, genesys_recording_id, codec, object_key, size, sha256, duration_ms, "
    "channels, stored_at"
)


def rows(count: int, seed: int = 7) -> Iterator[tuple[tuple[object, ...], tuple[object, ...]]]:
    """Conversation and recording rows, start times uniform over a year."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    for number in range(1, count + 1):
        start = START + dt.timedelta(seconds=rng.randrange(YEAR_S))
        duration = rng.randrange(20, 900)
        user = rng.randrange(1, USERS + 1)
        genesys_id = f"{number:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
        inbound = rng.random() < 0.5
        agent = f"+1312555{user:04d}"
        customer = f"+1415{rng.randrange(10**7):07d}"
        conversation = (
            number, 1, None, genesys_id, start, start + dt.timedelta(seconds=duration), duration,
            user, f"User {user}", f"agent-{user}", customer if inbound else agent, None,
            agent if inbound else customer, None,
            (Direction.INBOUND if inbound else Direction.OUTBOUND).value,
            "incoming" if inbound else "outgoing", None, None, "rec01", genesys_id, "Genesys",
            "Voice", "Standard", True, False, now,
        )  # fmt: skip
        recording = (
            number, number, f"{genesys_id}-r", Codec.MP3.value,
            f"media/1/{start:%Y/%m/%d}/{genesys_id}/{genesys_id}-r.mp3", duration * 4000,
            "0" * 64, duration * 1000, 2, now,
        )  # fmt: skip
        yield conversation, recording


async def prepare(url: str) -> None:
    """Migrate, then add the import source and the users through the archive's own API."""
    archive = Archive.open(url, SecretBox([SecretBox.generate_key()]))
    try:
        await archive.upgrade()
        await archive.import_sources.add(
            parse_import_source(
                {
                    "name": "Bench",
                    "client_id": "bench",
                    "client_secret": Secret("bench"),
                    "auth_url": "https://login.usw2.pure.cloud",
                    "api_url": "https://api.usw2.pure.cloud",
                    "codec": "MP3",
                    "recording_timezone": "UTC",
                    "recording_start": "2025",
                    "max_recording_length_min": 240,
                    "availability_delay_min": 30,
                    "cache_lifetime_min": 60,
                }
            ),
            actor="bench",
        )
    finally:
        await archive.close()


def load_sqlite(path: str, count: int) -> None:
    def text(value: object) -> object:
        if isinstance(value, dt.datetime):  # SQLAlchemy's SQLite format: naive UTC text
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
        return value

    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ")
    connection.executemany(
        "INSERT INTO users (id, login, name, role, recorded, created_at, updated_at) "
        "VALUES (?, ?, ?, 'agent', 1, ?, ?)",
        [(u, f"user{u}", f"User {u}", now, now) for u in range(1, USERS + 1)],
    )
    batch: list[tuple[tuple[object, ...], tuple[object, ...]]] = []
    for pair in rows(count):
        batch.append(pair)
        if len(batch) == 50_000:
            _sqlite_batch(connection, batch, text)
            batch = []
    _sqlite_batch(connection, batch, text)
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


def _sqlite_batch(
    connection: sqlite3.Connection,
    batch: list[tuple[tuple[object, ...], tuple[object, ...]]],
    text: Callable[[object], object],
) -> None:
    marks = ", ".join("?" * len(COLUMNS.split(",")))
    connection.executemany(
        f"INSERT INTO conversations ({COLUMNS}) VALUES ({marks})",  # noqa: S608 (constant)
        [tuple(text(v) for v in c) for c, _ in batch],
    )
    marks = ", ".join("?" * len(RECORDING_COLUMNS.split(",")))
    connection.executemany(
        f"INSERT INTO recordings ({RECORDING_COLUMNS}) VALUES ({marks})",  # noqa: S608
        [tuple(text(v) for v in r) for _, r in batch],
    )


def load_postgres(url: str, count: int) -> None:
    with psycopg.connect(_libpq(url)) as connection:
        now = dt.datetime.now(dt.UTC)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO users (id, login, name, role, recorded, created_at, updated_at) "
                "VALUES (%s, %s, %s, 'agent', true, %s, %s)",
                [(u, f"user{u}", f"User {u}", now, now) for u in range(1, USERS + 1)],
            )
            conversations = cursor.copy(f"COPY conversations ({COLUMNS}) FROM STDIN")
            recordings_buffer = io.StringIO()
            with conversations as copy:
                for conversation, recording in rows(count):
                    copy.write_row(conversation)
                    recordings_buffer.write("\t".join(_copy_text(v) for v in recording) + "\n")
            with cursor.copy(f"COPY recordings ({RECORDING_COLUMNS}) FROM STDIN") as copy:
                copy.write(recordings_buffer.getvalue())
            for table in ("users", "conversations", "recordings"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
        connection.commit()
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def _copy_text(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def measure(url: str, queries: int) -> dict[str, list[float]]:
    """Milliseconds per search, by kind of search."""
    rng = random.Random(11)
    archive = Archive.open(url, SecretBox([SecretBox.generate_key()]))
    timings: dict[str, list[float]] = {
        "user + 7-day window": [],
        "user + whole year": [],
        "1-day window, all users": [],
        "number + 30-day window": [],
        "platform call id": [],
    }
    try:
        await archive.conversations.search(ConversationQuery(limit=1))  # warm the pool
        for _ in range(queries):
            user = f"user{rng.randrange(1, USERS + 1)}"
            start = START + dt.timedelta(seconds=rng.randrange(YEAR_S - 30 * 86400))
            week = dt.timedelta(days=7)
            found = await _timed(
                archive,
                timings["user + 7-day window"],
                ConversationQuery(user=user, start_from=start, start_to=start + week),
            )
            assert all(c.user_login == user for c in found)
            await _timed(archive, timings["user + whole year"], ConversationQuery(user=user))
            await _timed(
                archive,
                timings["1-day window, all users"],
                ConversationQuery(start_from=start, start_to=start + dt.timedelta(days=1)),
            )
            agent = f"+1312555{rng.randrange(1, USERS + 1):04d}"
            await _timed(
                archive,
                timings["number + 30-day window"],
                ConversationQuery(
                    number=agent, start_from=start, start_to=start + dt.timedelta(days=30)
                ),
            )
            sample = found[0].platform_call_id if found else "none"
            await _timed(
                archive, timings["platform call id"], ConversationQuery(platform_call_id=sample)
            )
    finally:
        await archive.close()
    return timings


async def _timed(archive: Archive, into: list[float], query: ConversationQuery) -> list:  # type: ignore[type-arg]
    began = time.perf_counter()
    found = await archive.conversations.search(query)
    into.append((time.perf_counter() - began) * 1000)
    return found


def run_backend(backend: str, count: int, postgres_url: str, queries: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        if backend == "sqlite":
            path = f"{folder}/bench.db"
            url = f"sqlite:///{path}"
            asyncio.run(prepare(url))
            began = time.perf_counter()
            load_sqlite(path, count)
        else:
            name = f"callarchive_bench_{secrets.token_hex(4)}"
            admin = psycopg.connect(_libpq(postgres_url), autocommit=True)
            admin.execute(f'CREATE DATABASE "{name}"')
            url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
            asyncio.run(prepare(url))
            began = time.perf_counter()
            load_postgres(url, count)
        loaded = time.perf_counter() - began
        try:
            timings = asyncio.run(measure(url, queries))
        finally:
            if backend == "postgresql":
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                admin.close()
    print(f"\n### {backend}: {count:,} conversations (loaded in {loaded:.0f} s)\n")
    print("| search (limit 100, newest first) | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for kind, values in timings.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"| {kind} | {statistics.median(values):.1f} | {p95:.1f} | {max(values):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--queries", type=int, default=50)
    arguments = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d}")  # fmt: skip
    for backend in arguments.backends.split(","):
        run_backend(
            backend.strip(), arguments.conversations, arguments.postgres_url, arguments.queries
        )


if __name__ == "__main__":
    main()
