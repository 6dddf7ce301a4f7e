"""Under every emulator fault profile the import ends with the ground truth, once, nothing lost.

Each profile runs `callarchive import run --until-caught-up` round after round against an
emulator with that profile on. A round may stop early ("Failed to retrieve next batch" exits 1);
after every round each conversation behind the cursor is archived or in the retry buffer. The
profiles that can hold a conversation back for good (transcoding that never ends, 500s, which
Genesys says not to retry) are switched off after a few rounds; the others stay on to the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.imports.completeness import (
    assert_archive_is_ground_truth,
    buffered,
    cursor_position,
    duplicates,
    traffic_end,
    wanted,
)
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import Installation, LinkedClock

CODEC = "WAV"
MAX_ROUNDS = 10
RECORDINGS = "GET /api/v2/conversations/{conversationId}/recordings"
MEDIA = "GET /media"
# While a transcode never ends, Genesys holds each request maxWaitMs (5 s) in real time; the
# clock then runs this many times faster, so one held request uses up a run's patience.
SPEED = 120
TICK_S = 0.25


@dataclasses.dataclass(frozen=True)
class Observed:
    stats: dict[str, Any]  # the emulator's request statistics
    truth: dict[str, Any]
    held_back: set[str]  # conversations that were in the retry buffer after some round


Evidence = Callable[[Observed], bool]


def answered(*codes: int) -> Evidence:
    """The emulator answered some request with one of `codes`."""
    return lambda seen: any(r["status"] in codes for r in seen.stats["requests"])


def retried(seen: Observed) -> bool:
    """Some recording list or media download was requested again (a fault cost a retry)."""
    conversations = wanted(seen.truth).values()
    recordings = sum(len(c["recordings"]) for c in conversations)
    asked = seen.stats["by_endpoint"]
    return asked.get(RECORDINGS, 0) > len(conversations) or asked.get(MEDIA, 0) > recordings


@dataclasses.dataclass(frozen=True)
class Profile:
    spec: str
    # How the emulator's statistics show that the faults happened (None: they cannot).
    evidence: Evidence | None
    # Rounds with the faults on before they are switched off; None keeps them on throughout.
    faulty_rounds: int | None = None
    slow_ms: int = 2000
    # Profiles that hold transcodes back run on a fast clock and in windows of a whole day:
    # every window retries the buffered CDRs, and each retry is held maxWaitMs in real time.
    fast_clock: bool = False


PROFILES = {
    "rate-limit-burst": Profile("rate-limit-burst:0.1", answered(429)),
    "server-errors": Profile("server-errors:0.3", answered(502, 503, 504)),
    "internal-errors": Profile("internal-errors:0.1", answered(500), faulty_rounds=3),
    "connection-resets": Profile("connection-resets:0.15", retried),
    "slow": Profile("slow:0.2", None, slow_ms=50),
    "truncated-media": Profile("truncated-media:0.5", retried),
    "malformed-json": Profile("malformed-json:0.15", retried),
    "stuck-transcode": Profile(
        "stuck-transcode:0.1", lambda seen: bool(seen.held_back), faulty_rounds=1, fast_clock=True
    ),
    "token-revocation": Profile("token-revocation:0.03", answered(401)),
    "chaos": Profile("chaos", retried, faulty_rounds=2, slow_ms=50, fast_clock=True),
}


@contextlib.contextmanager
def fast(clock: LinkedClock, *, on: bool) -> Iterator[None]:
    """While on, the clock (the importer's and the emulator's) runs SPEED times real time."""
    if not on:
        yield
        return
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(TICK_S):
            clock.advance(TICK_S * SPEED)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def lost(installation: Installation, truth: dict[str, Any]) -> set[str]:
    """Conversations behind the cursor that are neither archived nor in the retry buffer."""
    records = installation.exported()
    assert duplicates(r["platform_call_id"] for r in records) == []
    waiting = buffered(installation.work_folder())
    held = {r["platform_call_id"] for r in records} | set(waiting["buffer"] + waiting["inflight"])
    passed = cursor_position(installation.work_folder())
    behind = {c for c, v in wanted(truth).items() if dt.datetime.fromisoformat(v["start"]) < passed}
    return behind - held


def finished(installation: Installation, truth: dict[str, Any], exit_code: int) -> bool:
    waiting = buffered(installation.work_folder())
    position = cursor_position(installation.work_folder())
    return exit_code == 0 and not any(waiting.values()) and position > traffic_end(truth)


@pytest.mark.parametrize("name", list(PROFILES))
def test_import_under_fault_profile_ends_with_the_ground_truth_and_loses_nothing(
    make_installation: InstallationFactory, name: str
) -> None:
    profile = PROFILES[name]
    installation = make_installation(faults=profile.spec, slow_ms=profile.slow_ms)
    # An hour past the traffic's midnight end, so that the whole day is due.
    installation.clock.advance(3600)
    installation.configure(codec=CODEC, batch_duration_min=1440 if profile.fast_clock else 60)
    truth = installation.emulator.ground_truth(formats=CODEC)
    exit_codes: list[int] = []
    held_back: set[str] = set()
    for round_ in range(MAX_ROUNDS):
        faulty = profile.faulty_rounds is None or round_ < profile.faulty_rounds
        if round_ == profile.faulty_rounds:
            installation.emulator.control("POST", "faults", json={"profile": ""})
        with fast(installation.clock, on=faulty and profile.fast_clock):
            result = installation.import_run("--until-caught-up")
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        exit_codes.append(result.exit_code)
        assert lost(installation, truth) == set(), f"lost in round {round_}"
        held_back.update(*buffered(installation.work_folder()).values())
        if finished(installation, truth, result.exit_code):
            break
    else:
        pytest.fail(f"not finished after {MAX_ROUNDS} rounds (exit codes {exit_codes})")
    assert_archive_is_ground_truth(installation.exported(), truth, CODEC)
    seen = Observed(stats=installation.emulator.stats(), truth=truth, held_back=held_back)
    if profile.evidence is not None:
        assert profile.evidence(seen), f"no sign of {profile.spec}: {seen.stats}"
    if profile.fast_clock:
        # A transcode that never ends costs a run its patience in clock time, however long
        # Genesys holds each request: on the fast clock that is one request per attempt.
        assert seen.stats["by_endpoint"][RECORDINGS] < 2 * len(wanted(truth)), seen.stats
