"""The daily retention job: due from its hour each day, run by exactly one node."""

from __future__ import annotations

import datetime as dt

import pytest

from callarchive.retention import due_day, run_if_due
from tests.retention.conftest import NOW, Setting


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (dt.datetime(2026, 6, 1, 1, 59, tzinfo=dt.UTC), None),
        (dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC), "2026-06-01"),
        (dt.datetime(2026, 6, 1, 23, 59, tzinfo=dt.UTC), "2026-06-01"),
        (dt.datetime(2026, 6, 2, 3, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))), None),
    ],
)
def test_the_job_is_due_from_its_hour_in_utc(now: dt.datetime, day: str | None) -> None:
    assert due_day(now) == day


async def test_one_node_runs_each_day_and_records_the_run(setting: Setting) -> None:
    await setting.archived("old", age_days=5 * 365 + 1)

    first = await run_if_due(setting.archive, setting.objects, setting.clock, server="n1")
    second = await run_if_due(setting.archive, setting.objects, setting.clock, server="n2")

    assert first is not None
    assert [c.genesys_id for c in first.conversations] == ["old"]
    assert second is None
    [run] = await setting.archive.retention.runs()
    assert (run.day, run.server, run.deleted) == (NOW.date().isoformat(), "n1", 1)
    assert run.finished_at is not None
    setting.clock.advance(24 * 3600)
    assert await run_if_due(setting.archive, setting.objects, setting.clock, server="n2")
