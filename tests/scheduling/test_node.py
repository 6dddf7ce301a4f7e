"""A node against the emulated org: scheduled jobs import it, stop cleanly, and show in /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from callarchive import logs
from callarchive.archive import (
    AlertFilter,
    AlertRecord,
    Archive,
    DatabaseUnavailableError,
    PairLockedError,
    StoreUnavailableError,
)
from callarchive.cli.running import Node, listening_socket, minimum_severity
from callarchive.configuration import ImportSource, Policy
from callarchive.errors import ConfigurationError
from callarchive.imports import RunResult, RunStatus
from callarchive.monitoring import Metrics
from callarchive.scheduling import WindowRunner, execute_pair
from callarchive.scheduling.jobs import OUTAGE_RETRIES, outage_pause
from tests.alerts.receivers import syslog_listener, wait_for, webhook
from tests.imports.completeness import (
    assert_archive_is_ground_truth,
    buffered,
    cursor_position,
    wanted,
)
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import POLICY, SOURCE, Installation

CODEC = "WAV"


@pytest.fixture
def configured(make_installation: InstallationFactory) -> Installation:
    """The emulated org, configured with four-hour windows (a day is a few windows)."""
    installation = make_installation()
    installation.configure(codec=CODEC, batch_duration_min=240)
    return installation


@contextlib.asynccontextmanager
async def running_node(installation: Installation) -> AsyncIterator[tuple[Node, Archive]]:
    wired = installation.wiring()
    async with wired.archive() as archive:
        yield Node(wired, archive, metrics=Metrics()), archive


@contextlib.asynccontextmanager
async def web(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    """The node's web app served by uvicorn on a loopback port."""
    sock = listening_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(node.app(), log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
            yield client
    finally:
        server.should_exit = True
        await serving
        sock.close()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def pair(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"policy": POLICY, "source": SOURCE, **labels}.items()))


@pytest.fixture
def observed_logs() -> Iterator[Metrics]:
    metrics = Metrics()
    logs.configure(level=30, json=True, observer=metrics.observe_log)
    yield metrics
    logs.configure(level=30, json=False)


async def test_a_due_run_imports_the_org_and_metrics_show_it_over_http(
    configured: Installation, observed_logs: Metrics
) -> None:
    truth = configured.emulator.ground_truth(formats=CODEC)
    async with running_node(configured) as (node, _archive):
        node.metrics = observed_logs
        claimed = await node.scheduler.tick()
        assert [(run.policy, run.source) for run in claimed] == [(POLICY, SOURCE)]
        assert await node.scheduler.tick() == []  # the same slot is not started twice
        await node.local.wait()
        async with web(node) as client:
            scraped = await client.get("/metrics")
            health, ready = await client.get("/health"), await client.get("/ready")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    values = samples(scraped.text)
    expected = len(wanted(truth))
    assert values["callarchive_conversations_total", pair(outcome="imported")] == expected
    assert values["callarchive_conversations_total", pair(outcome="failed")] == 0
    assert values["callarchive_retry_buffer_size", pair()] == 0
    runs = values["callarchive_runs_total", pair(status="completed")]
    assert runs == values["callarchive_run_duration_seconds_count", pair()]
    assert runs >= 6  # a day and more in four-hour windows
    # Caught up: the cursor stands at most max length (10) + delay (2) + an hour behind.
    assert values["callarchive_lag_seconds", pair()] < 12 * 60 + 3600
    position = cursor_position(configured.work_folder()).timestamp()
    assert values["callarchive_cursor_timestamp_seconds", pair()] == pytest.approx(position)
    query = "POST /api/v2/analytics/conversations/details/query"
    assert values["callarchive_genesys_requests_total", (("endpoint", query), ("status", "200"))]
    assert health.json() == {"status": "ok", "problems": []}
    assert ready.status_code == 200
    assert_archive_is_ground_truth(await asyncio.to_thread(configured.exported), truth, CODEC)


def _interrupting(
    node: Node, interrupt: Any, windows: list[RunResult]
) -> contextlib.AbstractAsyncContextManager[WindowRunner]:
    """node.open_pair, with `interrupt()` awaited while the first window is running."""

    @contextlib.asynccontextmanager
    async def opened(policy: Policy, source: ImportSource) -> AsyncIterator[WindowRunner]:
        async with node.open_pair(policy, source) as window:

            async def interrupted() -> RunResult:
                running = asyncio.ensure_future(window())
                if not windows:
                    await interrupt()
                windows.append(await running)
                return windows[-1]

            yield interrupted

    return opened  # type: ignore[return-value]


@pytest.mark.parametrize("how", ["policy disabled", "node stopping"])
async def test_an_interrupted_job_finishes_its_window_and_stops_cleanly(
    configured: Installation, how: str
) -> None:
    truth = configured.emulator.ground_truth(formats=CODEC)
    async with running_node(configured) as (node, archive):
        policy = await archive.policies.get(POLICY)
        source = await archive.import_sources.get(SOURCE)

        async def interrupt() -> None:
            if how == "policy disabled":
                await archive.policies.set_enabled(POLICY, False, actor="test")
            else:
                node.stopping.set()

        windows: list[RunResult] = []
        results = await execute_pair(
            archive,
            policy.id or 0,
            source.id or 0,
            server=node.server,
            open_pair=_interrupting(node, interrupt, windows),  # type: ignore[arg-type]
            stopping=node.stopping,
            clock=configured.clock,
        )
        assert len(results) == 1
        [first] = results
        assert first.status is RunStatus.COMPLETED
        assert first.window is not None
        # The window was finished: the cursor stands at its end, nothing is in flight.
        assert cursor_position(configured.work_folder()) == first.window.end
        assert buffered(configured.work_folder())["inflight"] == []
        archived = {r["platform_call_id"] for r in await asyncio.to_thread(configured.exported)}
        in_window = {
            cid
            for cid, c in wanted(truth).items()
            if first.window.start <= dt.datetime.fromisoformat(c["start"]) < first.window.end
        }
        assert in_window <= archived
        assert first.report.imported == len(in_window)
        # The job keeps each window's counts, not its line per conversation: those are stored
        # with the report (a job of many windows does not grow with them).
        assert first.report.entries == ()
        [stored] = await archive.batch_reports.list(report_id=first.report.id)
        assert {e.genesys_conversation_id for e in stored.entries} >= in_window
        # Re-enabled (or restarted), the next job continues where the first stopped.
        await archive.policies.set_enabled(POLICY, True, actor="test")
        rest = await execute_pair(
            archive,
            policy.id or 0,
            source.id or 0,
            server=node.server,
            open_pair=node.open_pair,
            stopping=asyncio.Event(),
            clock=configured.clock,
        )
        assert rest[0].window is not None
        assert rest[0].window.start == first.window.end
        assert rest[-1].caught_up
    assert_archive_is_ground_truth(await asyncio.to_thread(configured.exported), truth, CODEC)


def _failing_first(
    node: Node, failures: list[Exception]
) -> contextlib.AbstractAsyncContextManager[WindowRunner]:
    """node.open_pair, whose next windows raise `failures` (one each) before running."""

    @contextlib.asynccontextmanager
    async def opened(policy: Policy, source: ImportSource) -> AsyncIterator[WindowRunner]:
        async with node.open_pair(policy, source) as window:

            async def failing() -> RunResult:
                if failures:
                    raise failures.pop(0)
                return await window()

            yield failing

    return opened  # type: ignore[return-value]


async def _job_meeting(
    configured: Installation, failures: list[Exception]
) -> tuple[list[RunResult], list[AlertRecord]]:
    """The policy's job on a node whose windows first meet `failures`, and the
    "Failed to retrieve next batch" alerts it left."""
    async with running_node(configured) as (node, archive):
        policy = await archive.policies.get(POLICY)
        source = await archive.import_sources.get(SOURCE)
        results = await execute_pair(
            archive,
            policy.id or 0,
            source.id or 0,
            server=node.server,
            open_pair=_failing_first(node, failures),  # type: ignore[arg-type]
            stopping=asyncio.Event(),
            clock=configured.clock,
        )
        raised = await archive.alerts.list(AlertFilter(kind="batch_retrieval_failed"))
    return results, raised


async def test_windows_failing_on_an_outage_are_tried_again_by_the_same_job(
    configured: Installation,
) -> None:
    truth = configured.emulator.ground_truth(formats=CODEC)
    failures: list[Exception] = [
        StoreUnavailableError("the store failed on 'x' (connection refused)"),
        DatabaseUnavailableError("the database is unavailable or busy (connection refused)"),
    ]
    results, raised = await _job_meeting(configured, failures)
    assert failures == []
    # No alert could be stored while it lasted; the job raises it once the import went on.
    [said] = [a.message for a in raised]
    assert said.startswith("the store failed on 'x' (connection refused) (not raised as an")
    assert "tried again 2 time(s) and the import went on" in said
    assert results[-1].caught_up
    assert results[-1].status is RunStatus.COMPLETED
    # Tried again after a second, then two: the same job, not the next slot of the schedule.
    assert configured.clock.slept[:2] == [outage_pause(0), outage_pause(1)] == [1.0, 2.0]
    assert_archive_is_ground_truth(await asyncio.to_thread(configured.exported), truth, CODEC)


async def test_an_outage_is_said_when_the_pair_was_taken_over_before_the_window_was_tried_again(
    configured: Installation,
) -> None:
    # A database restart stops the node's heartbeat, so another node may take the job over: the
    # next try finds the pair locked and leaves the work to it, but only this job met the outage.
    failures: list[Exception] = [
        DatabaseUnavailableError("the database is unavailable or busy (connection refused)"),
        PairLockedError("another node runs this pair"),
    ]
    results, raised = await _job_meeting(configured, failures)
    assert failures == []
    assert results == []
    [said] = [a.message for a in raised]
    assert said.startswith("the database is unavailable or busy (connection refused) (not")
    assert "tried again 1 time(s)" in said


@pytest.mark.parametrize(
    ("retried", "pause"),
    [(0, 1.0), (1, 2.0), (4, 16.0), (5, 30.0), (OUTAGE_RETRIES - 1, 30.0), (OUTAGE_RETRIES, None)],
)
def test_the_pause_before_trying_a_window_again_doubles_up_to_half_a_minute_then_gives_up(
    retried: int, pause: float | None
) -> None:
    assert outage_pause(retried) == pause


async def test_a_job_gives_up_on_a_long_outage_and_leaves_it_to_the_next_slot(
    configured: Installation,
) -> None:
    failures: list[Exception] = [
        DatabaseUnavailableError("the database is unavailable (connection refused)")
    ] * (OUTAGE_RETRIES + 1)
    results, _ = await _job_meeting(configured, failures)
    assert results == []
    assert failures == []  # tried OUTAGE_RETRIES times after the first
    assert len(configured.clock.slept) == OUTAGE_RETRIES
    assert sum(configured.clock.slept) < 10 * 60  # minutes, not the rest of the day


async def test_a_nodes_alerts_go_to_the_channels_its_settings_name(
    configured: Installation,
) -> None:
    base = configured.wiring()
    with syslog_listener("udp") as listener, webhook() as hook:
        settings = base.settings.model_copy(
            update={
                "alert_syslog_url": listener.url,
                "alert_webhook_url": hook.url,
                "alert_min_severity": "notification",
            }
        )
        wired = dataclasses.replace(base, settings=settings)
        async with wired.archive() as archive:
            node = Node(wired, archive, metrics=Metrics())
            assert [c.name for c in node.delivery.channels] == ["syslog", "webhook"]
            await node.scheduler.tick()
            await node.local.wait()
            sent = await node.delivery.deliver_pending()
            await wait_for(listener.arrived)
    assert sent >= 1
    assert any(b"Genesys Cloud import batch completed" in m for m in listener.received)
    assert {d["kind"] for d in hook.received} == {"batch_notification"}
    assert {d["policy"] for d in hook.received} == {POLICY}


def test_a_wrong_minimum_severity_is_refused_naming_the_variable(
    configured: Installation,
) -> None:
    settings = configured.wiring().settings.model_copy(update={"alert_min_severity": "Loud"})
    with pytest.raises(ConfigurationError, match="CALLARCHIVE_ALERT_MIN_SEVERITY"):
        minimum_severity(settings)
