"""The importer's wall clock leaping ahead and set back while live traffic goes on: nothing is
lost or archived twice, the cursor never moves backwards nor past what Genesys has, and each jump
is said in an alert or the run's output.

The emulator's clock is Genesys's (true) time; the importer's clock is that time plus a jump of
its wall clock, which time passing (`advance`) does not undo. Its monotonic reading does not jump.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import Result

from tests.imports.conftest import TODAY, InstallationFactory
from tests.imports.harness import Installation, LinkedClock
from tests.imports.observe import alerts
from tests.reliability.invariants import Holdings, lost_or_doubled

HOUR_S = 3600
# The configuration's maximum recording length and availability delay (demo defaults).
MARGINS = dt.timedelta(minutes=10 + 2)


class JumpingClock(LinkedClock):
    """The emulator's time plus `jump`: a wall clock set ahead or back."""

    def __init__(self, installation: Installation) -> None:
        super().__init__(installation.emulator)
        self.jump = dt.timedelta()

    def now(self) -> dt.datetime:
        return super().now() + self.jump


class Importer:
    """Runs the import and checks the invariant after each run."""

    def __init__(self, installation: Installation, start: dt.datetime) -> None:
        self.installation = installation
        self.start = start  # the Recording Start Timestamp
        self.positions: list[dt.datetime] = []

    def truth(self) -> dict[str, Any]:
        """The ground truth from the Recording Start Timestamp on."""
        truth = self.installation.emulator.ground_truth()
        started = [
            c for c in truth["conversations"] if dt.datetime.fromisoformat(c["start"]) >= self.start
        ]
        return {**truth, "conversations": started}

    def run(self) -> Result:
        installation = self.installation
        result = installation.import_run("--until-caught-up")
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        holdings = Holdings.read(
            installation.database_url,
            media_url=str(installation.home / "media"),
            work_url=str(installation.home / "work"),
        )
        assert lost_or_doubled(holdings, self.truth()) == []
        assert holdings.cursor is not None
        assert not self.positions or holdings.cursor >= self.positions[-1], "cursor went back"
        # Never past Genesys's horizon (a second for Date's whole seconds).
        genesys_horizon = installation.emulator.now() - MARGINS
        assert holdings.cursor <= genesys_horizon + dt.timedelta(seconds=1)
        self.positions.append(holdings.cursor)
        return result


@pytest.fixture
def importer(make_installation: InstallationFactory) -> Importer:
    installation = make_installation(start=TODAY, days=2, calls_per_hour=6)
    installation.clock = JumpingClock(installation)
    # Both clocks to the next noon (UTC): the emulator's traffic is quiet at night, and the
    # tests need calls in every hour they import, whatever time of day they run at.
    now = installation.emulator.now()
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    installation.clock.advance(((noon - now) % dt.timedelta(days=1)).total_seconds())
    start = (installation.emulator.now() - dt.timedelta(hours=2)).replace(
        minute=0, second=0, microsecond=0
    )
    installation.configure(recording_start=start.isoformat())
    return Importer(installation, start)


def titles(installation: Installation) -> list[str]:
    return [a.title for a in alerts(installation)]


@pytest.mark.slow
def test_a_wall_clock_leaping_ahead_never_carries_the_cursor_past_genesys_time(
    importer: Importer,
) -> None:
    installation = importer.installation
    clock = installation.clock
    assert isinstance(clock, JumpingClock)
    assert importer.run().exit_code == 0
    caught_up = importer.positions[-1]

    clock.jump = dt.timedelta(days=1, hours=3)  # the wall clock leaps a day and 3 hours ahead
    assert importer.run().exit_code == 0
    assert importer.positions[-1] - caught_up < dt.timedelta(minutes=1)
    assert "System clock ahead of Genesys Cloud" in titles(installation)

    clock.advance(2 * HOUR_S)  # two hours of calls while the clock is still ahead
    assert importer.run().exit_code == 0
    assert importer.positions[-1] - caught_up > dt.timedelta(hours=1, minutes=55)

    clock.jump = dt.timedelta()  # set right again
    clock.advance(HOUR_S)
    assert importer.run().exit_code == 0
    assert len(installation.exported()) > 6  # calls were imported through all of it


@pytest.mark.slow
def test_a_wall_clock_set_back_stops_the_cursor_and_says_so_then_imports_on(
    importer: Importer,
) -> None:
    installation = importer.installation
    clock = installation.clock
    assert isinstance(clock, JumpingClock)
    assert importer.run().exit_code == 0
    caught_up = importer.positions[-1]

    clock.jump = -dt.timedelta(minutes=4)  # an NTP correction: nothing is due for a while
    result = importer.run()
    assert result.exit_code == 0, result.output
    assert importer.positions[-1] == caught_up

    clock.jump = -dt.timedelta(hours=1)  # set back an hour, well behind the cursor
    for _ in range(2):
        result = importer.run()
        assert result.exit_code == 1
        assert "clock moved backwards" in result.output
        assert importer.positions[-1] == caught_up
        clock.advance(HOUR_S / 4)
    [alert] = [a for a in alerts(installation) if "clock moved backwards" in a.message][-1:]
    assert alert.title == "Failed to retrieve next batch"

    clock.jump = dt.timedelta()  # set right again: the half hour missed is imported
    assert importer.run().exit_code == 0
    assert importer.positions[-1] - caught_up >= dt.timedelta(minutes=29)
