"""A full media store: writes fail with a clear error and alert, nothing is lost, and once space
is freed the next runs complete.

The media folder is a tmpfs of 2 MiB (a WAV recording of the org is about 160 kB), mounted for
the test (root only), enlarged with a remount once the import has hit the limit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import subprocess
from collections.abc import Iterator

import pytest

from tests.imports.conftest import ORG, InstallationFactory
from tests.imports.harness import Installation
from tests.reliability.invariants import Holdings, lost_or_doubled, violations

CODEC = "WAV"
DAY_END = dt.datetime.combine(ORG.start, dt.time(), dt.UTC) + dt.timedelta(days=ORG.days)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def small_disk(make_installation: InstallationFactory) -> Iterator[Installation]:
    """An installation whose media folder is a 2 MiB tmpfs."""
    installation = make_installation()
    media = installation.home / "media"
    media.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(media)], check=True)
    try:
        yield installation
    finally:
        subprocess.run(["umount", "-l", str(media)], check=True)


def holdings(installation: Installation) -> Holdings:
    return Holdings.read(
        installation.database_url,
        media_url=str(installation.home / "media"),
        work_url=str(installation.home / "work"),
    )


def alert_messages(installation: Installation) -> list[str]:
    """Title and message of every alert raised."""
    database = installation.home / "callarchive.db"
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
