"""When runs are due: every N minutes or cron, in a time zone, inside active hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from callarchive.configuration import Policy, parse_schedule
from callarchive.errors import ConfigurationError
from callarchive.scheduling import due_runs, due_slot, latest_slot


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("schedule", "now", "slot"),
    [
        ({"every_minutes": 5}, "2026-06-01 10:07:30", "2026-06-01 10:05:00"),
        ({"every_minutes": 5}, "2026-06-01 10:05:00", "2026-06-01 10:05:00"),
        ({"every_minutes": 5}, "2026-06-01 10:04:59.999", "2026-06-01 10:00:00"),
        ({"every_minutes": 60}, "2026-06-01 00:59:59", "2026-06-01 00:00:00"),
        # 7 does not divide a day: the grid starts again at midnight.
        ({"every_minutes": 7}, "2026-06-01 23:59:00", "2026-06-01 23:55:00"),
        ({"every_minutes": 7}, "2026-06-02 00:03:00", "2026-06-02 00:00:00"),
        # Counted from local midnight: Kolkata is UTC+05:30.
        (
            {"every_minutes": 60, "timezone": "Asia/Kolkata"},
            "2026-06-01 10:45:00",
            "2026-06-01 10:30:00",
        ),
        ({"cron": "*/15 * * * *"}, "2026-06-01 10:29:59", "2026-06-01 10:15:00"),
        ({"cron": "*/15 * * * *"}, "2026-06-01 10:30:00", "2026-06-01 10:30:00"),
        ({"cron": "0 2 * * *"}, "2026-06-01 01:00:00", "2026-05-31 02:00:00"),
        # Cron in New York (UTC-4 in June): 08:00 local is 12:00 UTC.
        (
            {"cron": "0 8 * * *", "timezone": "America/New_York"},
            "2026-06-01 13:00",
            "2026-06-01 12:00",
        ),
        ({"cron": "@hourly"}, "2026-06-01 10:59:00", "2026-06-01 10:00:00"),
    ],
)
def test_the_latest_slot_is_the_last_scheduled_time_at_or_before_now(
    schedule: dict[str, Any], now: str, slot: str
) -> None:
    assert latest_slot(parse_schedule(schedule), utc(now)) == utc(slot)


@pytest.mark.parametrize(
    ("schedule", "now", "slot"),
    [
        ({"every_minutes": 5, "active_hours": "08:00-18:00"}, "2026-06-01 07:59", None),
        (
            {"every_minutes": 5, "active_hours": "08:00-18:00"},
            "2026-06-01 08:01",
            "2026-06-01 08:00",
        ),
        (
            {"every_minutes": 5, "active_hours": "08:00-18:00"},
            "2026-06-01 17:59",
            "2026-06-01 17:55",
        ),
        ({"every_minutes": 5, "active_hours": "08:00-18:00"}, "2026-06-01 18:00", None),
        # Overnight: 22:00 to 06:00.
        (
            {"every_minutes": 30, "active_hours": "22:00-06:00"},
            "2026-06-01 23:10",
            "2026-06-01 23:00",
        ),
        (
            {"every_minutes": 30, "active_hours": "22:00-06:00"},
            "2026-06-02 05:59",
            "2026-06-02 05:30",
        ),
        ({"every_minutes": 30, "active_hours": "22:00-06:00"}, "2026-06-02 12:00", None),
        # Active hours in the schedule's zone: 08:00-18:00 in London is 07:00-17:00 UTC in June.
        (
            {"every_minutes": 60, "active_hours": "08:00-18:00", "timezone": "Europe/London"},
            "2026-06-01 07:30",
            "2026-06-01 07:00",
        ),
        (
            {"every_minutes": 60, "active_hours": "08:00-18:00", "timezone": "Europe/London"},
            "2026-06-01 17:30",
            None,
        ),
    ],
)
def test_a_slot_is_due_only_inside_the_active_hours(
    schedule: dict[str, Any], now: str, slot: str | None
) -> None:
    assert due_slot(parse_schedule(schedule), utc(now)) == (utc(slot) if slot else None)


def _policy(name: str, **overrides: Any) -> Policy:
    values: dict[str, Any] = {"name": name, "import_sources": ("A", "B"), "id": len(name)}
    values.update(overrides)
    return Policy(**values)


def test_due_runs_are_one_per_import_source_of_each_enabled_policy_allowed_here() -> None:
    policies = [
        _policy("everywhere"),
        _policy("disabled", enabled=False),
        _policy("pinned-here", servers=("node-1",)),
        _policy("pinned-elsewhere", servers=("node-2", "node-3")),
    ]
    runs = due_runs(policies, {"A": 1, "B": 2}, server="node-1", now=utc("2026-06-01 10:07"))
    assert [(r.policy, r.source, r.import_source_id) for r in runs] == [
        ("everywhere", "A", 1),
        ("everywhere", "B", 2),
        ("pinned-here", "A", 1),
        ("pinned-here", "B", 2),
    ]
    assert {r.due_at for r in runs} == {utc("2026-06-01 10:05")}


@pytest.mark.parametrize(
    ("raw", "field", "expected"),
    [
        ({"every_minutes": 5, "cron": "* * * * *"}, "schedule", "one of them"),
        ({"cron": "* * * *"}, "schedule.cron", "five-field"),
        ({"cron": "0 0 * * * *"}, "schedule.cron", "five-field"),
        ({"active_hours": "8-18"}, "schedule.active_hours", "HH:MM"),
        ({"active_hours": "08:00"}, "schedule.active_hours", "period"),
        ({"active_hours": "08:00-08:00"}, "schedule.active_hours", "same time"),
        ({"active_hours": {"from": "08:00"}}, "schedule.active_hours", "object"),
        ({"timezone": "Mars/Olympus"}, "schedule.timezone", "time zone"),
    ],
)
def test_wrong_schedules_are_refused_naming_the_item(
    raw: dict[str, Any], field: str, expected: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_schedule(raw)
    assert caught.value.field == field
    assert expected in caught.value.reason
