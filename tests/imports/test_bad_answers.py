"""Genesys (or something in its place) answering what it should not: JSON with missing or
mistyped fields, a web page instead of JSON or audio, pages that come back empty or never end,
media of gigabytes, a media host that never answers.

Each is refused with a reason (in an alert or the run's output), and nothing is lost: while the
emulator misbehaves, every conversation behind the cursor is archived or in the retry buffer;
once it behaves again, the archive becomes the ground truth, once. Invalid JSON, 5xx, 429 and
truncated media: `test_bad_input.py` and `test_fault_profiles.py`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from tests.imports.completeness import assert_archive_is_ground_truth, wanted
from tests.imports.harness import Installation
from tests.imports.observe import alerts, cursor_file
from tests.imports.test_fault_profiles import CODEC, finished
from tests.imports.test_fault_profiles import lost as lost_behind_the_cursor

MAX_ROUNDS = 4
TIMEOUT_S = "0.2"  # CALLARCHIVE_GENESYS_TIMEOUT_S while the media host hangs (default 60 s)


@dataclasses.dataclass(frozen=True)
class Bad:
    spec: str  # the emulator's fault profile
    complaint: str  # what the alerts or the run's output say (a regular expression)
    whole_day: bool = True  # the first run: to the end of the day, or one window of an hour


CASES = {
    "mistyped-fields": Bad("mistyped-fields:1", "does not match the API model"),
    "html-instead-of-json": Bad("wrong-content-type:1", "does not match the API model"),
    "html-instead-of-audio": Bad("wrong-content-type:0.3", "text/html, not audio"),
    "empty-pages": Bad("empty-pages:1", "is empty though Genesys counts"),
    # The first page repeats (a paging loop), or is empty though a million are counted.
    "endless-paging": Bad("endless-paging:1", "paging loop|is empty though Genesys counts"),
    "oversized-media": Bad("oversized-media:1", r"announced \d+ bytes, more than the \d+"),
    # One window of an hour from the first call: each download waits TIMEOUT_S, then is
    # asked again (30 times).
    "hanging-media-host": Bad("hanging-media:1", "broke off after 0 bytes", whole_day=False),
}


def lost(installation: Installation, truth: dict[str, Any]) -> set[str]:
    """Conversations behind the cursor neither archived nor in the retry buffer (none if the
    cursor was never written: the run stopped in its first window)."""
    if not cursor_file(installation).exists():
        assert installation.exported() == []
        return set()
    return lost_behind_the_cursor(installation, truth)


def complaints(installation: Installation, output: str) -> str:
    return output + "\n".join(f"{a.title}: {a.message}" for a in alerts(installation))


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_answer_is_refused_with_a_reason_and_loses_nothing(
    installation: Installation, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    bad = CASES[name]
    monkeypatch.setenv("CALLARCHIVE_GENESYS_TIMEOUT_S", TIMEOUT_S)
    installation.clock.advance(3600)  # the whole day is due
    truth = installation.emulator.ground_truth(formats=CODEC)
    first = min(c["start"] for c in wanted(truth).values())
    installation.configure(codec=CODEC, recording_start=first)
    installation.emulator.control("POST", "faults", json={"profile": bad.spec})
    result = installation.import_run(*(["--until-caught-up"] if bad.whole_day else []))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert re.search(bad.complaint, complaints(installation, result.output))
    assert lost(installation, truth) == set()
    installation.emulator.control("POST", "faults", json={"profile": ""})
    for _ in range(MAX_ROUNDS):
        result = installation.import_run("--until-caught-up")
        assert lost(installation, truth) == set()
        if finished(installation, truth, result.exit_code):
            break
    else:
        pytest.fail(f"not finished after {MAX_ROUNDS} rounds: {result.output}")
    assert_archive_is_ground_truth(installation.exported(), truth, CODEC)
