"""A window holding more conversations than CALLARCHIVE_WINDOW_MAX_CONVERSATIONS ends where the
first one beyond them starts; the next window goes on from there, through the details query
and through the async details jobs alike, and nothing is lost or archived twice. A catch-up lists
a long window once, then only each capped window its listing planned."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from callarchive.cli import Wiring
from callarchive.imports.cursor import parse
from callarchive.settings import Settings
from tests.imports.completeness import assert_archive_is_ground_truth, wanted
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import Installation

CAP = 10
CODEC = "WAV"


@dataclasses.dataclass
class CappedInstallation(Installation):
    """The installation with CALLARCHIVE_WINDOW_MAX_CONVERSATIONS set to `CAP`."""

    def wiring(self) -> Wiring:
        settings = Settings(
            home=self.home, database_url=self.database_url, window_max_conversations=CAP
        )
        return Wiring(settings=settings, clock=self.clock)


def capped_day(
    make_installation: InstallationFactory, *, days_back: int, calls_per_hour: int
) -> CappedInstallation:
    """One day of traffic `days_back` days ago, imported in windows of a whole day."""
    today = dt.datetime.now(dt.UTC).date()
    plain = make_installation(
        start=today - dt.timedelta(days=days_back),
        days=1,
        calls_per_hour=calls_per_hour,
        data_lag_s=600,
    )
    installation = CappedInstallation(
        **{field.name: getattr(plain, field.name) for field in dataclasses.fields(plain)}
    )
    installation.configure(codec=CODEC, batch_duration_min=24 * 60)  # the whole day at once
    return installation


@pytest.mark.parametrize("days_back", [1, 40], ids=["details query", "details jobs"])
def test_a_window_over_the_cap_ends_at_the_first_conversation_beyond_it(
    make_installation: InstallationFactory, days_back: int
) -> None:
    installation = capped_day(make_installation, days_back=days_back, calls_per_hour=2)
    truth = installation.emulator.ground_truth(formats=CODEC)
    ordered = sorted(wanted(truth).values(), key=lambda c: (c["start"], c["conversation_id"]))
    assert len(ordered) > 3 * CAP

    installation.must("import", "run", "--policy", "Genesys import")  # one window
    first = {r["platform_call_id"] for r in installation.exported()}
    assert first == {c["conversation_id"] for c in ordered[:CAP]}
    cursor = parse(installation.cursor_line()).position
    assert cursor == dt.datetime.fromisoformat(ordered[CAP]["start"])

    installation.catch_up()  # windows of at most CAP conversations each, then the rest of the day
    assert_archive_is_ground_truth(installation.exported(), truth, CODEC)


@pytest.mark.parametrize("days_back", [1, 40], ids=["details query", "details jobs"])
def test_a_catch_up_lists_a_long_window_once_and_then_only_each_capped_window(
    make_installation: InstallationFactory, days_back: int
) -> None:
    installation = capped_day(make_installation, days_back=days_back, calls_per_hour=3)
    truth = installation.emulator.ground_truth(formats=CODEC)
    day = len(truth["conversations"])
    assert day > 5 * CAP
    installation.emulator.control("DELETE", "stats")

    installation.catch_up()

    assert_archive_is_ground_truth(installation.exported(), truth, CODEC)
    # The day once, then each window of at most CAP again (and what overlaps their edges);
    # listing the rest of the day again for every window would come to about 3 days' worth.
    listed = installation.emulator.stats()["conversations_listed"]
    assert listed < 2.3 * day, (listed, day)
