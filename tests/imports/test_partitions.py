"""The partition backfill's decisions and its state file (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from callarchive.imports.partitions import MAX_STEP, STEP, BackfillState, due, parse_state
from callarchive.imports.window import Window

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
MAX_LENGTH = dt.timedelta(minutes=10)
H = dt.timedelta(hours=1)


def state(position: dt.datetime, lag: dt.timedelta = dt.timedelta(minutes=30)) -> BackfillState:
    return BackfillState(position=position, lake_lag=lag)


def plan(backfill: BackfillState, *, cursor: dt.datetime, caught_up: bool = True) -> Window | None:
    return due(
        backfill, cursor=cursor, now=NOW, max_recording_length=MAX_LENGTH, caught_up=caught_up
    )


def test_a_caught_up_import_backfills_up_to_the_lake_less_the_longest_recording() -> None:
    span = plan(state(NOW - 5 * H), cursor=NOW - dt.timedelta(minutes=12))
    assert span == Window(start=NOW - 5 * H, end=NOW - dt.timedelta(minutes=40))


def test_the_span_never_passes_the_import_cursor() -> None:
    cursor = NOW - 3 * H
    assert plan(state(NOW - 5 * H), cursor=cursor) == Window(start=NOW - 5 * H, end=cursor)


@pytest.mark.parametrize(
    ("position", "cursor"),
    [
        (NOW - dt.timedelta(minutes=90), NOW),  # the lake holds 50 minutes more: too little
        (NOW - 5 * H, NOW - 4.5 * H),  # the import got just 30 minutes further
        (NOW - H, NOW - 2 * H),  # behind the backfill (the cursor was moved back)
    ],
)
def test_no_step_is_due_for_less_than_a_step(position: dt.datetime, cursor: dt.datetime) -> None:
    assert plan(state(position), cursor=cursor) is None


def test_a_backlog_waits_for_a_long_span() -> None:
    backlog = state(NOW - 30 * 24 * H)
    assert plan(backlog, cursor=NOW - 28 * 24 * H, caught_up=False) is None
    span = plan(backlog, cursor=NOW - 20 * 24 * H, caught_up=False)
    assert span == Window(start=NOW - 30 * 24 * H, end=NOW - 30 * 24 * H + MAX_STEP)


def test_a_step_spans_at_most_max_step() -> None:
    span = plan(state(NOW - 30 * 24 * H), cursor=NOW)
    assert span is not None
    assert span.end - span.start == MAX_STEP


def test_the_lake_lag_seen_last_decides_whether_to_ask() -> None:
    position = NOW - 2 * H
    assert plan(state(position, lag=dt.timedelta()), cursor=NOW) is not None
    assert plan(state(position, lag=2 * H - STEP), cursor=NOW) is None


def test_the_state_reads_back_what_it_wrote() -> None:
    written = BackfillState(
        position=dt.datetime(2026, 3, 1, 8, 30, 15, 123000, tzinfo=dt.UTC),
        lake_lag=dt.timedelta(seconds=1800),
    )
    assert written.render() == b'{"position": "2026-03-01T08:30:15.123Z", "lake_lag_s": 1800}\n'
    assert parse_state(written.render()) == written


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[]",
        b'{"lake_lag_s": 10}',
        b'{"position": "2026-03-01T08:30:15"}',
        b'{"position": "yesterday"}',
        b'{"position": "2026-03-01T08:30:15Z", "lake_lag_s": -1}',
        b'{"position": "2026-03-01T08:30:15Z", "lake_lag_s": "1"}',
        b"\xff\xfe",
    ],
)
def test_a_state_that_is_not_one_is_rejected(content: bytes) -> None:
    with pytest.raises((ValueError, TypeError)):
        parse_state(content)
