"""The emulator's clock: moved by tests, and the `Date` of every answer (RFC 9110, 6.6.1)."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

from tests.emulator.harness import RunningEmulator


def _dates(emulator: RunningEmulator) -> list[dt.datetime]:
    """The `Date` of a login, an API answer, a 404 and a control answer."""
    token = emulator.token()
    with emulator.api(token) as api:
        answers = [
            emulator.login(),
            api.get("/api/v2/users?pageSize=1"),
            api.get("/api/v2/no-such-thing"),
            api.get("/_emulator/clock"),
        ]
    assert [a.status_code for a in answers] == [200, 200, 404, 200]
    assert all(len(a.headers.get_list("date")) == 1 for a in answers)
    return [parsedate_to_datetime(a.headers["date"]) for a in answers]


def test_every_answer_is_dated_by_the_emulators_clock_as_it_moves(emulator: RunningEmulator):
    before = emulator.now().replace(microsecond=0)
    assert all(before <= d <= before + dt.timedelta(seconds=30) for d in _dates(emulator))
    moved = emulator.advance(3 * 86_400).replace(microsecond=0)
    assert all(moved <= d <= moved + dt.timedelta(seconds=30) for d in _dates(emulator))
