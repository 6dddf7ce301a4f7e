"""A full disk: writes fail with a clear error and alert, nothing is lost or left half written,
and once space is freed the next runs complete.

The media folder is a tmpfs of 2 MiB (a WAV recording of the org is about 160 kB), enlarged with
a remount once the import has hit the limit. The work store (cursor, retry buffer, token cache)
is a tmpfs filled to the last byte by a filler file, deleted to free the space. Mounting needs
root.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.imports.conftest import ORG, InstallationFactory
from tests.imports.harness import Installation
from tests.imports.observe import PAIR_OPTIONS as PAIR
from tests.reliability.invariants import Holdings, lost_or_doubled, selected, violations

CODEC = "WAV"
DAY_END = dt.datetime.combine(ORG.start, dt.time(), dt.UTC) + dt.timedelta(days=ORG.days)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """`folder` as a tmpfs of `size` for the duration of the block."""
    folder.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.fixture
def small_disk(make_installation: InstallationFactory) -> Iterator[Installation]:
    """An installation whose media folder is a 2 MiB tmpfs."""
    installation = make_installation()
    with tmpfs(installation.home / "media", "2m"):
        yield installation


@pytest.fixture
def small_work_disk(make_installation: InstallationFactory) -> Iterator[Installation]:
    """An installation whose work store is a 1 MiB tmpfs."""
    installation = make_installation()
    with tmpfs(installation.home / "work", "1m"):
        yield installation


@pytest.fixture
def small_database_disk(
    make_installation: InstallationFactory, tmp_path: Path
) -> Iterator[Installation]:
    """An installation whose SQLite database lies on a 16 MiB tmpfs."""
    with tmpfs(tmp_path / "database", "16m") as folder:
        yield make_installation(database_url=f"sqlite:///{folder / 'callarchive.db'}")


def fill(folder: Path, *, leave: int = 0) -> Path:
    """Fill the file system of `folder` to the last byte, then free `leave` bytes; the filler
    file (delete it to free the space)."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(descriptor, bytes(4096))
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
    finally:
        os.close(descriptor)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def holdings(installation: Installation) -> Holdings:
    return Holdings.read(
        installation.database_url,
        media_url=str(installation.home / "media"),
        work_url=str(installation.home / "work"),
    )


def alert_messages(installation: Installation) -> list[str]:
    """Title and message of every alert raised."""
    database = installation.database_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT title, message FROM alerts").fetchall()
    return [f"{title}: {message}" for title, message in rows]


@pytest.mark.slow
def test_a_full_media_disk_fails_clearly_loses_nothing_and_the_next_run_completes(
    small_disk: Installation,
) -> None:
    installation = small_disk
    installation.configure(codec=CODEC)
    truth = installation.emulator.ground_truth(formats=CODEC)
    installation.import_run("--until-caught-up")
    assert lost_or_doubled(holdings(installation), truth) == []
    full = [m for m in alert_messages(installation) if "the store is full" in m]
    assert full, alert_messages(installation)[-5:]
    assert all("No space left on device" in m and "free space" in m for m in full), full[:3]
    assert any(m.startswith("CDR placed in retry buffer: ") for m in full), full[:3]
    assert holdings(installation).buffered, "the conversations that did not fit wait for a retry"

    subprocess.run(
        ["mount", "-o", "remount,size=64m", str(installation.home / "media")], check=True
    )
    for _ in range(6):  # each run retries at most 25 CDRs of the retry buffer
        installation.catch_up()
        found = holdings(installation)
        if not found.buffered and not found.inflight:
            break
    records = installation.exported()
    assert violations(holdings(installation), truth, records, CODEC, cursor_past=DAY_END) == []


def work_files(installation: Installation) -> dict[str, bytes]:
    """Every file of the seed's folders in the work store, by path."""
    root = installation.work_folder()
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_whole(files: dict[str, bytes], before: dict[str, bytes]) -> None:
    """Nothing half written: each file is as it was or gone (taken from the retry buffer into
    flight and back), no staging file was left, and every cursor and CDR parses (Holdings)."""
    assert all(files[path] == data for path, data in before.items() if path in files)
    assert all(
        path in before or "/inflight/" in path or "/retryBuffer/" in path for path in files
    ), sorted(set(files) - set(before))
    assert not [path for path in files if "#" in path or path.endswith(".tmp")]


@pytest.mark.slow
def test_a_full_work_store_keeps_the_cursor_and_retry_files_whole_and_the_next_run_completes(
    small_work_disk: Installation,
) -> None:
    installation = small_work_disk
    work = installation.home / "work"
    installation.configure(codec=CODEC)
    truth = installation.emulator.ground_truth(formats=CODEC)
    assert installation.import_run().exit_code == 0  # the first window, the cursor written

    # The next window is archived, then its cursor does not fit.
    before = work_files(installation)
    filler = fill(work)
    result = installation.import_run()
    assert result.exit_code != 0, result.output
    assert work_files(installation) == before
    assert lost_or_doubled(holdings(installation), truth) == []
    full = [m for m in alert_messages(installation) if "the store is full" in m]
    assert full, alert_messages(installation)[-3:]
    assert all("No space left on device" in m and "free space" in m for m in full), full

    # CDRs wait in the retry buffer; with the disk full again, adding one by hand is refused
    # and taking them does not fit.
    filler.unlink()
    waiting = list(selected(truth).values())[:3]
    for conversation in waiting:
        installation.must("retry-buffer", "add", *PAIR, conversation["conversation_id"],
                          "--start", conversation["start"])  # fmt: skip
    before = work_files(installation)
    filler = fill(work)
    refused = installation.cli("retry-buffer", "add", *PAIR, "x", "--start", waiting[0]["start"])
    assert refused.exit_code != 0
    assert "the store is full" in refused.output + str(refused.exception)
    result = installation.import_run("--until-caught-up")
    assert result.exit_code != 0, result.output
    assert_whole(work_files(installation), before)
    assert lost_or_doubled(holdings(installation), truth) == []
    assert len([m for m in alert_messages(installation) if "the store is full" in m]) > len(full)

    filler.unlink()
    for _ in range(6):  # each run retries at most 25 CDRs of the retry buffer
        installation.catch_up()
        found = holdings(installation)
        if not found.buffered and not found.inflight:
            break
    records = installation.exported()
    assert violations(holdings(installation), truth, records, CODEC, cursor_past=DAY_END) == []


@pytest.mark.slow
# Full from the start (a connection cannot even create its WAL index), or full mid-run (a
# window is archived, then a row of the next does not fit).
@pytest.mark.parametrize("leave", [0, 48 * 1024], ids=["full", "nearly-full"])
def test_a_full_database_disk_fails_clearly_loses_nothing_and_the_next_run_completes(
    small_database_disk: Installation, leave: int
) -> None:
    installation = small_database_disk
    folder = Path(installation.database_url.removeprefix("sqlite:///")).parent
    installation.configure(codec=CODEC)
    truth = installation.emulator.ground_truth(formats=CODEC)
    assert installation.import_run().exit_code == 0  # the first window
    cursor = installation.cursor_line()

    filler = fill(folder, leave=leave)
    result = installation.import_run("--until-caught-up")
    assert result.exit_code != 0, result.output
    said = result.output + str(result.exception)
    assert "the database's disk is full" in said, said[-2000:]
    assert "free space" in said
    filler.unlink()
    assert lost_or_doubled(holdings(installation), truth) == []
    if not leave:
        assert installation.cursor_line() == cursor

    installation.catch_up()
    records = installation.exported()
    assert violations(holdings(installation), truth, records, CODEC, cursor_past=DAY_END) == []
