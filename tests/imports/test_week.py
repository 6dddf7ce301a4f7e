"""A simulated week of live traffic: the clock moves a day at a time, an import runs after each
day, and fault profiles are switched on and off between days.

After every day nothing behind the cursor is lost (archived or in the retry buffer); after a day
without faults the import has caught up again (the cursor within one window of the horizon, the
retry buffer empty); at the end the archive is the ground truth, once, and reconciliation finds
every day of the week complete.
"""

from __future__ import annotations

import datetime as dt

from tests.imports.completeness import (
    assert_archive_is_ground_truth,
    buffered,
    cursor_position,
)
from tests.imports.conftest import TODAY, InstallationFactory
from tests.imports.harness import POLICY, SOURCE
from tests.imports.test_fault_profiles import CODEC, lost

DAY_S = 86_400
LAG = dt.timedelta(minutes=10 + 2 + 60)  # max recording length + availability delay + a window
# Faults switched on for a day, then off: the next day shows the import catching up.
WEEK = [
    "",
    "server-errors:0.3,truncated-media:0.3",
    "",
    "rate-limit-burst:0.05,connection-resets:0.1,internal-errors:0.1",
    "",
    "malformed-json:0.2,mistyped-fields:0.1,wrong-content-type:0.1",
    "",
]


def test_a_week_of_live_traffic_with_faults_on_some_days_ends_with_the_ground_truth(
    make_installation: InstallationFactory,
) -> None:
    installation = make_installation(start=TODAY, days=len(WEEK), calls_per_hour=0.5)
    installation.configure(codec=CODEC, recording_start=f"{TODAY}T00:00:00Z")
    for day, profile in enumerate(WEEK):
        installation.clock.advance(DAY_S)
        installation.emulator.control("POST", "faults", json={"profile": profile})
        result = installation.import_run("--until-caught-up")
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        truth = installation.emulator.ground_truth(formats="none")
        assert lost(installation, truth) == set(), f"lost on day {day}"
        if not profile:
            assert result.exit_code == 0, (day, result.output)
            work = installation.work_folder()
            assert cursor_position(work) >= installation.clock.now() - LAG, f"lagging, day {day}"
            assert not any(buffered(work).values()), f"retry buffer not empty after day {day}"
    installation.emulator.control("POST", "faults", json={"profile": ""})
    installation.clock.advance(DAY_S)
    installation.catch_up()
    truth = installation.emulator.ground_truth(formats=CODEC)
    assert_archive_is_ground_truth(installation.exported(), truth, CODEC)
    assert len(installation.exported()) > 5 * 24 * 0.5 / 2, "a week of traffic"
    stats = installation.emulator.stats()
    assert sum(r["count"] for r in stats["requests"] if r["status"] >= 500) > 0, "faults fired"
    # Reconciliation asks Genesys again for each day of the week: every one is complete.
    for day in range(len(WEEK)):
        date = (TODAY + dt.timedelta(days=day)).isoformat()
        found = installation.must(
            "reconcile", "--source", SOURCE, "--policy", POLICY, "--day", date
        ).output
        assert "missing 0" in found, (date, found)
        assert "completeness 100.0 %" in found, (date, found)
