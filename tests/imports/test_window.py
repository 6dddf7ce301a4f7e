"""Window arithmetic: what one run covers, as pure functions of now."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from callarchive.imports.window import Window, lag, needs_async_job, next_window

NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def window(cursor: dt.datetime, now: dt.datetime = NOW) -> Window:
    return next_window(
        cursor, now, batch=HOUR, max_recording_length=120 * MINUTE, availability_delay=10 * MINUTE
    )


def test_a_cursor_far_behind_gets_a_full_batch() -> None:
    cursor = NOW - dt.timedelta(days=3)
    assert window(cursor) == Window(start=cursor, end=cursor + HOUR)


def test_the_window_closes_at_now_minus_length_and_delay() -> None:
    cursor = NOW - 150 * MINUTE
    assert window(cursor).end == NOW - 130 * MINUTE


def test_a_cursor_inside_the_horizon_gives_an_empty_window() -> None:
    cursor = NOW - 30 * MINUTE
    result = window(cursor)
    assert result.empty
    assert result.start == result.end == cursor


@given(
    offset_min=st.integers(min_value=-100_000, max_value=100_000),
    batch_min=st.integers(min_value=1, max_value=10_000),
    length_min=st.integers(min_value=0, max_value=100_000),
    delay_min=st.integers(min_value=0, max_value=10_000),
)
def test_window_never_passes_the_horizon_nor_goes_backwards(
    offset_min: int, batch_min: int, length_min: int, delay_min: int
) -> None:
    cursor = NOW + offset_min * MINUTE
    result = next_window(
        cursor,
        NOW,
        batch=batch_min * MINUTE,
        max_recording_length=length_min * MINUTE,
        availability_delay=delay_min * MINUTE,
    )
    assert result.start == cursor
    assert result.end >= cursor
    assert result.end - result.start <= batch_min * MINUTE
    if not result.empty:
        assert result.end <= NOW - (length_min + delay_min) * MINUTE


def test_old_or_long_windows_need_the_async_jobs() -> None:
    assert needs_async_job(
        Window(start=NOW - dt.timedelta(days=40), end=NOW - dt.timedelta(days=39)), NOW
    )
    assert needs_async_job(
        Window(start=NOW - dt.timedelta(days=9), end=NOW - dt.timedelta(days=1)), NOW
    )
    assert not needs_async_job(
        Window(start=NOW - dt.timedelta(days=2), end=NOW - dt.timedelta(days=1)), NOW
    )


def test_lag_is_never_negative() -> None:
    assert lag(NOW + HOUR, NOW) == dt.timedelta()
    assert lag(NOW - HOUR, NOW) == HOUR
