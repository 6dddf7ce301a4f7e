"""A Recording Start Timestamp far back is caught up by successive runs, through the async
details jobs for the windows the near-real-time query cannot reach."""

from __future__ import annotations

import datetime as dt

from callarchive.imports.cursor import parse
from tests.imports.conftest import InstallationFactory
from tests.imports.test_end_to_end import COMPARED_KEYS, expected


def test_history_beyond_the_query_reach_is_caught_up_through_details_jobs(
    make_installation: InstallationFactory,
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    installation = make_installation(
        start=today - dt.timedelta(days=40), days=40, calls_per_hour=0.15, data_lag_s=600
    )
    installation.configure(codec="WAV", batch_duration_min=24 * 60)
    installation.catch_up()
    truth = expected(installation, "WAV")
    archived = {c["platform_call_id"]: c for c in installation.exported()}
    assert len(truth) > 50
    assert set(archived) == set(truth)
    for conversation_id, conversation in truth.items():
        for key in COMPARED_KEYS:
            assert archived[conversation_id][key] == conversation["export"][key], key
    stats = installation.emulator.stats()["by_endpoint"]
    assert stats["POST /api/v2/analytics/conversations/details/jobs"] >= 5
    assert stats["POST /api/v2/analytics/conversations/details/query"] >= 30
    position = parse(installation.cursor_line()).position
    lag = installation.clock.now() - position
    # Caught up: the cursor stands at now - max recording length (10) - availability delay (2).
    assert dt.timedelta(minutes=12) <= lag < dt.timedelta(minutes=13)
