"""The scheduler claims each due run once, across ticks, restarts and nodes."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from structlog.testing import capture_logs

from callarchive.archive import Archive
from callarchive.clock import FakeClock
from callarchive.configuration import (
    Policy,
    export_configuration,
    import_configuration,
    parse_schedule,
)
from callarchive.scheduling import DueRun, LocalDispatcher, Scheduler
from tests.configuration.builders import make_source

START = dt.datetime(2026, 6, 1, 10, 0, 1, tzinfo=dt.UTC)


class Recorder:
    """A dispatcher that writes down what it was given; `busy_pairs` are refused as busy."""

    def __init__(self) -> None:
        self.dispatched: list[DueRun] = []
        self.busy_pairs: set[tuple[int, int]] = set()

    def busy(self, run: DueRun) -> bool:
        return run.pair in self.busy_pairs

    async def dispatch(self, run: DueRun) -> None:
        self.dispatched.append(run)


async def _setup(archive: Archive, **policy: Any) -> Policy:
    for name in ("A", "B"):
        await archive.import_sources.add(make_source(name=name), actor="test")
    values: dict[str, Any] = {"name": "P", "import_sources": ("A", "B")}
    values.update(policy)
    return await archive.policies.add(Policy(**values), actor="test")


def _scheduler(archive: Archive, clock: FakeClock, dispatcher: Recorder, server: str) -> Scheduler:
    return Scheduler(archive=archive, clock=clock, server=server, dispatcher=dispatcher)


async def test_a_due_run_is_started_once_however_often_the_scheduler_ticks(
    archive: Archive,
) -> None:
    await _setup(archive, schedule=parse_schedule({"every_minutes": 5}))
    clock, recorder = FakeClock(START), Recorder()
    scheduler = _scheduler(archive, clock, recorder, "node-1")
    for _ in range(21):  # 21 ticks of 15 s: slots 10:00 and 10:05
        await scheduler.tick()
        clock.advance(15)
    assert [(r.source, r.due_at.strftime("%H:%M")) for r in recorder.dispatched] == [
        ("A", "10:00"),
        ("B", "10:00"),
        ("A", "10:05"),
        ("B", "10:05"),
    ]


async def test_two_nodes_ticking_together_start_each_due_run_once(archive: Archive) -> None:
    await _setup(archive)
    clock = FakeClock(START)
    recorders = [Recorder() for _ in range(3)]
    schedulers = [
        _scheduler(archive, clock, recorder, f"node-{n}") for n, recorder in enumerate(recorders)
    ]
    await asyncio.gather(*(s.tick() for s in schedulers))
    dispatched = [r for recorder in recorders for r in recorder.dispatched]
    assert sorted(r.source for r in dispatched) == ["A", "B"]
    claims = await archive.scheduled_runs.list()
    assert len(claims) == 2


async def test_a_scheduler_that_restarts_does_not_start_the_current_run_again(
    archive: Archive,
) -> None:
    await _setup(archive)
    clock = FakeClock(START)
    first, second = Recorder(), Recorder()
    await _scheduler(archive, clock, first, "node-1").tick()
    await _scheduler(archive, clock, second, "node-1").tick()
    assert len(first.dispatched) == 2
    assert second.dispatched == []


async def test_a_pair_whose_job_is_still_going_is_claimed_when_it_has_finished(
    archive: Archive,
) -> None:
    policy = await _setup(archive)
    clock, recorder = FakeClock(START), Recorder()
    scheduler = _scheduler(archive, clock, recorder, "node-1")
    source_a = await archive.import_sources.get("A")
    recorder.busy_pairs.add((policy.id or 0, source_a.id or 0))
    await scheduler.tick()
    assert [r.source for r in recorder.dispatched] == ["B"]
    recorder.busy_pairs.clear()
    clock.advance(60)
    await scheduler.tick()
    assert [r.source for r in recorder.dispatched] == ["B", "A"]


async def test_disabled_policies_and_policies_pinned_elsewhere_are_not_started(
    archive: Archive,
) -> None:
    await _setup(archive, servers=("node-2",))
    await archive.policies.add(
        Policy(name="off", import_sources=("A",), enabled=False), actor="test"
    )
    clock = FakeClock(START)
    here, pinned = Recorder(), Recorder()
    await _scheduler(archive, clock, here, "node-1").tick()
    await _scheduler(archive, clock, pinned, "node-2").tick()
    assert here.dispatched == []
    assert [(r.policy, r.source) for r in pinned.dispatched] == [("P", "A"), ("P", "B")]


async def test_outside_the_active_hours_nothing_is_due(archive: Archive) -> None:
    await _setup(
        archive, schedule=parse_schedule({"every_minutes": 5, "active_hours": "11:00-12:00"})
    )
    clock, recorder = FakeClock(START), Recorder()
    scheduler = _scheduler(archive, clock, recorder, "node-1")
    await scheduler.tick()
    assert recorder.dispatched == []
    clock.advance(3600)
    await scheduler.tick()
    assert {r.due_at for r in recorder.dispatched} == {START.replace(hour=11, second=0)}


async def test_the_scheduler_loop_runs_jobs_in_process_on_the_clock(archive: Archive) -> None:
    await _setup(archive, schedule=parse_schedule({"cron": "*/10 * * * *"}))
    clock = FakeClock(START)
    started: list[tuple[str, dt.datetime]] = []
    stop = asyncio.Event()

    async def job(run: DueRun) -> None:
        started.append((run.source, clock.now()))
        if len(started) == 6:
            stop.set()

    dispatcher = LocalDispatcher(job)
    scheduler = Scheduler(
        archive=archive, clock=clock, server="node-1", dispatcher=dispatcher, tick_s=30
    )
    await scheduler.run(stop)
    await dispatcher.wait()
    assert [(source, f"{at:%H:%M}") for source, at in started] == [
        ("A", "10:00"),
        ("B", "10:00"),
        ("A", "10:10"),
        ("B", "10:10"),
        ("A", "10:20"),
        ("B", "10:20"),
    ]


async def test_a_schedule_with_cron_and_active_hours_survives_the_archive(
    archive: Archive,
) -> None:
    schedule = parse_schedule(
        {"cron": "0 8-18 * * 1-5", "active_hours": "08:00-18:00", "timezone": "Europe/London"}
    )
    await _setup(archive, schedule=schedule)
    assert (await archive.policies.get("P")).schedule == schedule
    configuration = await archive.load_configuration()
    document = export_configuration(configuration)
    assert document["policies"][0]["schedule"] == {
        "cron": "0 8-18 * * 1-5",
        "active_hours": {"from": "08:00", "to": "18:00"},
        "timezone": "Europe/London",
    }
    known = {s.name: s for s in configuration.import_sources}
    again = import_configuration(document, existing_sources=known)
    assert again.policies[0].schedule == schedule


async def test_claims_older_than_a_week_are_forgotten(archive: Archive) -> None:
    await _setup(archive)
    clock, recorder = FakeClock(START), Recorder()
    scheduler = _scheduler(archive, clock, recorder, "node-1")
    await scheduler.tick()
    clock.advance(8 * 24 * 3600)
    await scheduler.tick()
    claims = await archive.scheduled_runs.list()
    assert {c.due_at.date() for c in claims} == {(START + dt.timedelta(days=8)).date()}
    assert len(claims) == 2


def _slots(recorder: Recorder, source: str = "A") -> list[str]:
    return [f"{r.due_at:%d %H:%M}" for r in recorder.dispatched if r.source == source]


async def _tick_for(scheduler: Scheduler, clock: FakeClock, minutes: int) -> None:
    for _ in range(minutes * 4):  # ticks of 15 s
        await scheduler.tick()
        clock.advance(15)


async def test_a_wall_clock_leaping_forward_starts_one_run_not_one_per_missed_slot(
    archive: Archive,
) -> None:
    await _setup(archive, schedule=parse_schedule({"every_minutes": 5}))
    clock, recorder = FakeClock(START), Recorder()
    scheduler = _scheduler(archive, clock, recorder, "node-1")
    await _tick_for(scheduler, clock, 6)
    clock.jump(2 * 86_400 + 3600)  # two days and an hour ahead, 864 slots leapt over
    await _tick_for(scheduler, clock, 6)
    assert _slots(recorder) == ["01 10:00", "01 10:05", "03 11:05", "03 11:10"]


async def test_a_wall_clock_set_back_keeps_the_slots_firing(archive: Archive) -> None:
    await _setup(archive, schedule=parse_schedule({"every_minutes": 5}))
    clock, recorder = FakeClock(START), Recorder()
    scheduler = _scheduler(archive, clock, recorder, "node-1")
    await _tick_for(scheduler, clock, 16)
    with capture_logs() as logs:
        clock.jump(-600)  # back to 10:06: the slots up to 10:15 are claimed already
        await _tick_for(scheduler, clock, 10)
        clock.jump(600)  # set right again: the slots go on as before, none twice
        await _tick_for(scheduler, clock, 10)
    assert _slots(recorder) == [f"01 10:{m:02d}" for m in range(0, 40, 5)]
    events = [e["event"] for e in logs]
    assert events.count("clock_moved_backwards") == 1
    assert events.count("clock_caught_up") == 1
    [moved] = [e for e in logs if e["event"] == "clock_moved_backwards"]
    assert moved["behind_s"] == 600


async def test_a_scheduler_started_with_the_clock_behind_its_claims_goes_on_from_the_newest(
    archive: Archive,
) -> None:
    await _setup(archive, schedule=parse_schedule({"every_minutes": 5}))
    clock, first = FakeClock(START), Recorder()
    await _tick_for(_scheduler(archive, clock, first, "node-1"), clock, 6)
    clock.jump(-3600)
    second = Recorder()
    await _tick_for(_scheduler(archive, clock, second, "node-1"), clock, 11)
    assert _slots(first) + _slots(second) == ["01 10:00", "01 10:05", "01 10:10", "01 10:15"]
