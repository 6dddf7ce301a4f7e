"""An import's progress: the cursor as found, lag, imported share of history, pace and time to
catch up; and the times operators type."""

from __future__ import annotations

import datetime as dt

import pytest

from callarchive.archive import WorkStore, pair_folders
from callarchive.errors import ConfigurationError
from callarchive.imports import Cursor
from callarchive.imports.cursor import parse_time
from callarchive.imports.progress import Advance, progress, rate, read_cursor

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
START = NOW - dt.timedelta(days=10)
HORIZON = dt.timedelta(minutes=30)


def test_half_the_history_imported_is_half_way() -> None:
    found = progress(NOW - dt.timedelta(days=5), recording_start=START, now=NOW, horizon=HORIZON)
    assert found.fraction == pytest.approx(0.5)
    assert found.lag == dt.timedelta(days=5)
    assert not found.caught_up
    assert found.rate is None
    assert found.eta is None


def test_the_time_to_catch_up_follows_the_pace_of_the_recent_runs() -> None:
    # The cursor moved 6 hours of history in one hour of real time: pace 6, lag shrinks 5 h/h.
    advances = [
        Advance(at=NOW - dt.timedelta(hours=1), position=NOW - dt.timedelta(hours=16)),
        Advance(at=NOW - dt.timedelta(minutes=30), position=NOW - dt.timedelta(hours=13)),
        Advance(at=NOW, position=NOW - dt.timedelta(hours=10, minutes=30)),
    ]
    position = NOW - dt.timedelta(hours=10, minutes=30)
    found = progress(position, recording_start=START, now=NOW, horizon=HORIZON, advances=advances)
    assert found.rate == pytest.approx(5.5)
    # 10 h of lag beyond the horizon, shrinking by 4.5 h per hour
    assert found.eta == dt.timedelta(hours=10 / 4.5)


def test_an_import_slower_than_real_time_never_catches_up() -> None:
    advances = [
        Advance(at=NOW - dt.timedelta(hours=1), position=NOW - dt.timedelta(days=3)),
        Advance(at=NOW, position=NOW - dt.timedelta(days=3) + dt.timedelta(minutes=30)),
    ]
    found = progress(
        advances[-1].position, recording_start=START, now=NOW, horizon=HORIZON, advances=advances
    )
    assert found.rate == pytest.approx(0.5)
    assert found.eta is None


def test_an_import_within_the_horizon_is_caught_up() -> None:
    found = progress(NOW - HORIZON, recording_start=START, now=NOW, horizon=HORIZON)
    assert found.caught_up
    assert found.eta == dt.timedelta()
    assert found.fraction == pytest.approx(1 - HORIZON / (NOW - START))


@pytest.mark.parametrize(
    ("position", "fraction"),
    [(START - dt.timedelta(days=1), 0.0), (NOW + dt.timedelta(minutes=1), 1.0)],
)
def test_the_share_stays_between_nothing_and_everything(
    position: dt.datetime, fraction: float
) -> None:
    found = progress(position, recording_start=START, now=NOW, horizon=HORIZON)
    assert found.fraction == fraction


def test_a_pace_needs_two_runs_at_different_times() -> None:
    one = Advance(at=NOW, position=NOW - dt.timedelta(days=1))
    assert rate([one]) is None
    assert rate([one, one]) is None


async def test_the_cursor_is_read_from_the_work_store() -> None:
    store = WorkStore.from_url("memory://")
    folders = pair_folders(3, 4)
    missing = await read_cursor(store, folders, recording_start=START, now=NOW)
    assert (missing.line, missing.position, missing.error) == (None, START, None)
    cursor = Cursor(position=NOW - dt.timedelta(hours=2), conversation_id="c-9")
    await store.put(folders.cursor, cursor.render().encode())
    found = await read_cursor(store, folders, recording_start=START, now=NOW)
    assert (found.position, found.conversation_id) == (cursor.position, "c-9")
    assert found.line == cursor.render().strip()
    await store.put(folders.cursor, b"not a cursor")
    broken = await read_cursor(store, folders, recording_start=START, now=NOW)
    assert broken.position == START
    assert broken.error is not None
    assert "not a cursor" in broken.error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023.02.02 07:00:00.000", dt.datetime(2023, 2, 2, 7, tzinfo=dt.UTC)),
        ("2023-02-02T08:00:00+01:00", dt.datetime(2023, 2, 2, 7, tzinfo=dt.UTC)),
        ("2023-02-02 07:00", dt.datetime(2023, 2, 2, 7, tzinfo=dt.UTC)),
    ],
)
def test_operators_type_times_as_the_cursor_or_iso_8601(text: str, expected: dt.datetime) -> None:
    assert parse_time(text) == expected


def test_a_time_that_is_not_one_says_what_is_expected() -> None:
    with pytest.raises(ConfigurationError, match=r"YYYY\.MM\.DD HH:MM:SS\.mmm"):
        parse_time("yesterday")
