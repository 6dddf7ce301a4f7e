"""The reconciliation's accounting and its day, as pure functions: one verdict per conversation."""

from __future__ import annotations

import datetime as dt

import pytest

from callarchive.genesys import Conversation
from callarchive.imports.reconciliation import Verdict, account, day_window, due_day

DAY = dt.date(2026, 3, 8)
WINDOW = day_window(DAY, "UTC")
CURSOR = dt.datetime(2026, 3, 9, tzinfo=dt.UTC)


def conversation(name: str, hour: int) -> Conversation:
    start = dt.datetime.combine(DAY, dt.time(), dt.UTC) + dt.timedelta(hours=hour)
    return Conversation(conversation_id=name, conversation_start=start)


@pytest.mark.parametrize(
    ("archived", "deleted", "buffered", "cursor_hour", "recorded", "verdict"),
    [
        ({"c": True}, set(), set(), 24, True, Verdict.ARCHIVED),
        ({"c": True}, set(), {"c"}, 24, False, Verdict.ARCHIVED),  # archived wins over all
        ({"c": True}, {"c"}, set(), 24, True, Verdict.ARCHIVED),  # deleted, then re-imported
        ({}, {"c"}, set(), 24, True, Verdict.DELETED_BY_RETENTION),
        ({}, {"c"}, {"c"}, 0, True, Verdict.DELETED_BY_RETENTION),
        ({"c": False}, {"c"}, set(), 24, True, Verdict.DELETED_BY_RETENTION),
        ({"c": False}, set(), {"c"}, 24, True, Verdict.RETRY_BUFFERED),  # media incomplete
        ({}, set(), {"c"}, 0, True, Verdict.RETRY_BUFFERED),
        ({}, set(), set(), 5, True, Verdict.NOT_REACHED),  # starts at the cursor
        ({}, set(), set(), 24, False, Verdict.SKIPPED_BY_RULES),
        ({}, set(), set(), 24, True, Verdict.MISSING),
        ({"c": False}, set(), set(), 24, True, Verdict.MISSING),  # archived without its media
        ({}, {"other"}, set(), 24, True, Verdict.MISSING),
    ],
)
def test_each_conversation_gets_one_verdict_in_order_of_precedence(
    archived: dict[str, bool],
    deleted: set[str],
    buffered: set[str],
    cursor_hour: int,
    recorded: bool,
    verdict: Verdict,
) -> None:
    found = account(
        DAY,
        WINDOW,
        [conversation("c", 5)],
        archived=archived,
        deleted=deleted,
        buffered=buffered,
        cursor=dt.datetime.combine(DAY, dt.time(), dt.UTC) + dt.timedelta(hours=cursor_hour),
        recorded=lambda _: recorded,
    )
    assert [e.verdict for e in found.entries] == [verdict]
    final = (Verdict.ARCHIVED, Verdict.DELETED_BY_RETENTION, Verdict.SKIPPED_BY_RULES)
    assert found.complete is (verdict in final)


def test_only_conversations_starting_in_the_day_count_and_archive_only_ones_are_apart() -> None:
    listed = [
        conversation("late", 23),
        conversation("early", 0),
        conversation("yesterday", -1),  # the details query overlaps; it started the day before
        conversation("tomorrow", 24),
        conversation("early", 0),  # a page repeated: counted once
    ]
    found = account(
        DAY,
        WINDOW,
        listed,
        archived={"early": True, "deleted-in-genesys": True},
        buffered=set(),
        cursor=CURSOR,
        recorded=lambda _: True,
    )
    assert [(e.conversation_id, e.verdict) for e in found.entries] == [
        ("early", Verdict.ARCHIVED),
        ("late", Verdict.MISSING),
    ]
    assert found.archive_only == ("deleted-in-genesys",)
    assert found.count(Verdict.MISSING) == 1


def test_the_rules_are_asked_only_about_undecided_conversations() -> None:
    asked: list[str] = []

    def recorded(c: Conversation) -> bool:
        asked.append(c.conversation_id)
        return False

    account(
        DAY,
        WINDOW,
        [conversation(name, 1) for name in ("a", "b", "c")],
        archived={"a": True},
        buffered={"b"},
        cursor=CURSOR,
        recorded=recorded,
    )
    assert asked == ["c"]


def test_a_day_is_midnight_to_midnight_in_the_recording_timezone() -> None:
    # 2026-03-08: clocks in New York go forward, the day has 23 hours.
    window = day_window(DAY, "America/New_York")
    assert window.start == dt.datetime(2026, 3, 8, 5, tzinfo=dt.UTC)
    assert window.end - window.start == dt.timedelta(hours=23)


@pytest.mark.parametrize(
    ("limit", "start", "day"),
    [
        (
            dt.datetime(2026, 3, 9, 0, 12, tzinfo=dt.UTC),
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            DAY,
        ),
        (
            dt.datetime(2026, 3, 9, 23, 59, tzinfo=dt.UTC),
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            DAY,
        ),
        (dt.datetime(2026, 3, 9, 0, 0, tzinfo=dt.UTC), dt.datetime(2026, 3, 8, tzinfo=dt.UTC), DAY),
        (
            dt.datetime(2026, 3, 9, 0, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 9, tzinfo=dt.UTC),
            None,
        ),
    ],
)
def test_the_daily_job_reconciles_the_last_day_ended_before_the_horizon_and_the_cursor(
    limit: dt.datetime, start: dt.datetime, day: dt.date | None
) -> None:
    assert due_day(limit=limit, start=start, timezone="UTC") == day
