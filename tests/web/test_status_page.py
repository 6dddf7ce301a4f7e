"""Status: for an import with a cursor file, batch reports, a retry buffer and alerts, the page
and the API show cursor, lag, catch-up progress and time to catch up, the last 24 hours, the
retry buffer and the last errors; administrators add to and remove from the retry buffer and
start a run now; compliance officers only look; agents and supervisors see nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callarchive.archive import AlertRecord, BatchReport, pair_folders
from callarchive.clock import FakeClock
from callarchive.configuration import Policy
from callarchive.imports import Cdr, Cursor, RetryBuffer, RetryReason
from callarchive.secrets import SecretBox
from tests.web.site import Site, csrf_of

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
CURSOR = NOW - dt.timedelta(hours=10, minutes=30)
# finished at, cursor after the run (window end), conversations imported
RUNS = (
    (NOW - dt.timedelta(hours=1), NOW - dt.timedelta(hours=16), 10),
    (NOW - dt.timedelta(minutes=30), NOW - dt.timedelta(hours=13), 20),
    (NOW, CURSOR, 30),
)
WAITING = "c-waiting-1"


@dataclasses.dataclass
class Seeded:
    site: Site
    policy_id: int
    source_id: int
    runs: list[tuple[int, int]]

    @property
    def pair(self) -> str:
        return f"{self.policy_id}/{self.source_id}"


async def _seed(site: Site) -> tuple[int, int]:
    archive = site.archive()
    try:
        assert site.source is not None
        policy = await archive.policies.add(
            Policy(name="US", import_sources=(site.source.name,)), actor="test"
        )
        policy_id, source_id = policy.id or 0, site.source.id or 0
        for finished, window_end, imported in RUNS:
            await archive.batch_reports.add(
                BatchReport(
                    policy_id=policy_id,
                    import_source_id=source_id,
                    started_at=finished - dt.timedelta(minutes=5),
                    finished_at=finished,
                    window_start=window_end - dt.timedelta(hours=3),
                    window_end=window_end,
                    server="node-1",
                    imported=imported,
                )
            )
        for severity, source, message in (
            ("Error", source_id, "media 404 for c-9"),
            ("Warning", source_id, "c-8 still in progress"),
            ("Critical", None, "elsewhere"),
        ):
            await archive.alerts.add(
                AlertRecord(
                    kind="import_failed",
                    title="Conversation failed to import",
                    severity=severity,
                    state="Active",
                    message=message,
                    policy_id=policy_id,
                    import_source_id=source,
                )
            )
    finally:
        await archive.close()
    folders = pair_folders(policy_id, source_id)
    work = site.work()
    await work.put(
        folders.cursor, Cursor(position=CURSOR, conversation_id="c-last").render().encode()
    )
    await RetryBuffer(work, folders).add(
        Cdr(
            conversation_id=WAITING,
            conversation_start=NOW - dt.timedelta(hours=20),
            policy_id=policy_id,
            import_source_id=source_id,
            reason=RetryReason.MEDIA_NOT_READY,
            message="transcoding",
            attempts=2,
        )
    )
    return policy_id, source_id


@pytest.fixture
async def seeded(database_url: str, box: SecretBox, tmp_path: Path) -> AsyncIterator[Seeded]:
    """A site at `NOW` (a clock that stands still) with one import seeded, and a "Run now"
    hook that records what it was asked to run."""
    runs: list[tuple[int, int]] = []

    async def run_now(policy_id: int, source_id: int) -> None:
        runs.append((policy_id, source_id))

    site = Site(
        database_url=database_url,
        media_folder=tmp_path / "media",
        work_folder=tmp_path / "work",
        box=box,
        clock=FakeClock(NOW),
        run_now=run_now,
    )
    await site.seed()
    policy_id, source_id = await _seed(site)
    site.start()
    yield Seeded(site=site, policy_id=policy_id, source_id=source_id, runs=runs)
    site.stop()


def recording_start(seeded: Seeded) -> dt.datetime:
    assert seeded.site.source is not None
    return seeded.site.source.recording_start


async def test_the_api_gives_the_figures_of_each_import(seeded: Seeded) -> None:
    async with seeded.site.signed_in("officer") as client:
        answer = await client.get("/api/v1/status")
    assert answer.status_code == 200, answer.text
    (status,) = answer.json()["imports"]
    assert (status["policy"], status["import_source"]) == ("US", "Chicago")
    assert status["cursor"]["conversation_id"] == "c-last"
    assert dt.datetime.fromisoformat(status["cursor"]["position"]) == CURSOR
    assert status["lag_seconds"] == 10.5 * 3600
    start = recording_start(seeded)
    assert status["progress"] == pytest.approx((CURSOR - start) / (NOW - start))
    # 5.5 hours of history per hour; lag beyond the 4.5 h horizon (240 + 30 min): 6 h
    assert status["rate"] == pytest.approx(5.5)
    assert status["eta_seconds"] == pytest.approx(6 * 3600 / 4.5)
    assert not status["caught_up"]
    assert status["retry_buffer_size"] == 1
    hours = status["imported_per_hour"]
    assert len(hours) == 24
    assert [h["imported"] for h in hours[-2:]] == [30, 30]
    assert [lag["lag_seconds"] for lag in status["lag"]] == [15 * 3600, 12.5 * 3600, 10.5 * 3600]
    assert [e["message"] for e in status["last_errors"]] == ["media 404 for c-9"]
    assert status["last_run"]["imported"] == 30


async def test_the_page_shows_the_figures_charts_buffer_and_errors(seeded: Seeded) -> None:
    async with seeded.site.signed_in("admin") as client:
        page = await client.get("/status")
    assert page.status_code == 200, page.text
    text = page.text
    assert '<td class="lag">10h30m</td>' in text
    assert "caught up in 1h20m" in text
    assert "c-last" in text
    assert 'aria-label="History imported: ' in text
    assert "Conversations imported per hour" in text
    assert '<polyline class="line"' in text
    assert WAITING in text
    assert "media_not_ready" in text
    assert "media 404 for c-9" in text
    assert "c-8 still in progress" not in text  # a warning is not an error
    assert "Retry now" in text
    every_alert = f"/alerts?policy_id={seeded.policy_id}&amp;import_source_id={seeded.source_id}"
    assert every_alert in text


async def test_retry_buffer_add_and_remove_through_the_page(seeded: Seeded) -> None:
    buffer = RetryBuffer(seeded.site.work(), pair_folders(seeded.policy_id, seeded.source_id))
    async with seeded.site.signed_in("admin") as client:
        token = csrf_of((await client.get("/status")).text)
        added = await client.post(
            f"/status/{seeded.pair}/retry-buffer",
            data={
                "csrf_token": token,
                "conversation_id": "c-by-hand",
                "conversation_start": "2026.11.24 08:00:00.000",
            },
        )
        assert added.status_code == 303
        assert added.headers["location"].endswith(f"#pair-{seeded.policy_id}-{seeded.source_id}")
        waiting = {e.cdr.conversation_id: e.cdr for e in await buffer.list() if e.cdr}
        assert waiting["c-by-hand"].reason is RetryReason.MANUAL
        assert waiting["c-by-hand"].conversation_start == dt.datetime(
            2026, 11, 24, 8, tzinfo=dt.UTC
        )
        wrong = await client.post(
            f"/status/{seeded.pair}/retry-buffer",
            data={"csrf_token": token, "conversation_id": "c-2", "conversation_start": "soon"},
        )
        assert wrong.status_code == 422
        assert "is not a time" in wrong.text
        removed = await client.post(
            f"/status/{seeded.pair}/retry-buffer/remove",
            data={"csrf_token": token, "conversation_id": WAITING},
        )
        assert removed.status_code == 303
        assert [e.cdr.conversation_id for e in await buffer.list() if e.cdr] == ["c-by-hand"]
        audit = (await client.get("/api/v1/audit", params={"actor": "admin"})).json()
    assert {"retry_buffer_added", "retry_buffer_removed"} <= {e["action"] for e in audit["items"]}


async def test_retry_buffer_through_the_api(seeded: Seeded) -> None:
    path = f"/api/v1/status/{seeded.pair}/retry-buffer"
    async with seeded.site.signed_in("admin") as client:
        headers = {"x-csrf-token": csrf_of((await client.get("/status")).text)}
        (entry,) = (await client.get(path)).json()
        assert (entry["conversation_id"], entry["attempts"]) == (WAITING, 2)
        body = {"conversation_id": "c-api", "conversation_start": "2026-11-24T08:00:00Z"}
        added = await client.post(path, json=body, headers=headers)
        assert added.status_code == 201, added.text
        assert added.json()["reason"] == "manual"
        gone = await client.delete(path, params={"conversation_id": WAITING}, headers=headers)
        assert gone.status_code == 204
        again = await client.delete(path, params={"conversation_id": WAITING}, headers=headers)
        assert again.status_code == 404
        assert [e["conversation_id"] for e in (await client.get(path)).json()] == ["c-api"]
        unknown = await client.get(f"/api/v1/status/{seeded.policy_id}/999/retry-buffer")
        assert unknown.status_code == 404


async def test_retry_now_starts_a_run_of_the_import(seeded: Seeded) -> None:
    async with seeded.site.signed_in("admin") as client:
        token = csrf_of((await client.get("/status")).text)
        started = await client.post(f"/status/{seeded.pair}/run", data={"csrf_token": token})
        assert started.status_code == 303
        api = await client.post(
            f"/api/v1/status/{seeded.pair}/run", headers={"x-csrf-token": token}
        )
        assert api.status_code == 202
    assert seeded.runs == [(seeded.policy_id, seeded.source_id)] * 2


async def test_a_compliance_officer_looks_but_does_not_change(seeded: Seeded) -> None:
    async with seeded.site.signed_in("officer") as client:
        page = await client.get("/status")
        assert page.status_code == 200
        assert "Retry now" not in page.text
        assert "Add to the retry buffer" not in page.text
        token = csrf_of(page.text)
        path = f"/api/v1/status/{seeded.pair}/retry-buffer"
        assert (await client.get(path)).status_code == 200
        body = {"conversation_id": "c-x", "conversation_start": "2026-11-24T08:00:00Z"}
        refused = await client.post(path, json=body, headers={"x-csrf-token": token})
        assert refused.status_code == 403
        form = await client.post(f"/status/{seeded.pair}/run", data={"csrf_token": token})
        assert form.status_code == 403
    assert seeded.runs == []


@pytest.mark.parametrize("login", ["pat", "lead"])
async def test_agents_and_supervisors_see_no_status(seeded: Seeded, login: str) -> None:
    async with seeded.site.signed_in(login) as client:
        assert (await client.get("/status")).status_code == 403
        assert (await client.get("/api/v1/status")).status_code == 403


async def test_before_the_first_run_and_without_a_runner_the_page_says_so(site: Site) -> None:
    # The shared site has a work store but no runner; its import has no cursor yet.
    archive = site.archive()
    try:
        assert site.source is not None
        policy = await archive.policies.add(
            Policy(name="EU", import_sources=(site.source.name,)), actor="test"
        )
    finally:
        await archive.close()
    async with site.signed_in("admin") as client:
        page = await client.get("/status")
        assert "no cursor yet" in page.text
        assert "Retry now" not in page.text
        assert "The retry buffer is empty." in page.text
        token = csrf_of(page.text)
        pair = f"{policy.id}/{site.source.id}"
        refused = await client.post(f"/status/{pair}/run", data={"csrf_token": token})
        assert refused.status_code == 503
        await site.work().put(
            pair_folders(policy.id or 0, site.source.id or 0).cursor, b"edited by hand\n"
        )
        broken = await client.get("/status")
        assert "Cursor problem" in broken.text
        assert "edited by hand" in broken.text
        (status,) = (await client.get("/api/v1/status")).json()["imports"]
        assert status["cursor"]["line"] == "edited by hand"
        assert "is not <conversation id>;YYYY.MM.DD" in status["cursor"]["error"]
