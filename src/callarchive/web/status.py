"""The status of every import (a policy and one of its import sources), for the Status page and
`/api/v1/status`: cursor, lag, catch-up progress and time to catch up, the last 24 hours of
batch reports (conversations imported per hour, lag after each run), the retry buffer and the
last errors; and what an administrator may do there (retry buffer add and remove, retry now),
each written to the audit log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from starlette.exceptions import HTTPException

from callarchive.archive import (
    AlertFilter,
    AlertRecord,
    BatchReport,
    PairFolders,
    WorkStore,
    pair_folders,
)
from callarchive.configuration import ImportSource, Policy
from callarchive.errors import ConfigurationError
from callarchive.imports import Cdr, Entry, RetryBuffer, RetryReason
from callarchive.imports.progress import Advance, CursorState, Progress, progress, read_cursor
from callarchive.web.auth import NotFoundError, Viewer
from callarchive.web.charts import Point, per_hour
from callarchive.web.state import WebState

SPAN = dt.timedelta(hours=24)
PACE_RUNS = 12  # the recent runs whose cursor advance gives the pace
MAX_REPORTS = 5000
ERROR_SEVERITIES = ("Error", "Critical", "Fatal")
LAST_ERRORS = 5


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PairStatus:
    """Everything the Status page shows of one import."""

    policy: Policy
    source: ImportSource
    cursor: CursorState
    progress: Progress
    retry_buffer: tuple[Entry, ...]
    last_errors: tuple[AlertRecord, ...]
    last_run: BatchReport | None
    imported_per_hour: tuple[Point, ...]
    lag: tuple[Point, ...]  # seconds behind real time after each run
    work_store: bool  # False: this server has no work store to read cursors from

    @property
    def anchor(self) -> str:
        """The page anchor and API path of this import: `<policyId>/<importSourceId>`."""
        return f"{self.policy.id}/{self.source.id}"


def lag_points(reports: list[BatchReport]) -> list[Point]:
    """The lag behind real time right after each run (that had a window), oldest first."""
    return sorted(
        (
            Point(at=r.finished_at, value=max(0.0, (r.finished_at - r.window_end).total_seconds()))
            for r in reports
            if r.window_end is not None
        ),
        key=lambda p: p.at,
    )


def advances(reports: list[BatchReport]) -> list[Advance]:
    """The cursor positions after the `PACE_RUNS` newest runs that had a window."""
    return [
        Advance(at=r.finished_at, position=r.window_end)
        for r in reports
        if r.window_end is not None
    ][:PACE_RUNS]


def horizon(source: ImportSource) -> dt.timedelta:
    """The lag no run may close: the maximum recording length plus the availability delay."""
    return dt.timedelta(minutes=source.max_recording_length_min + source.availability_delay_min)


async def pair_status(state: WebState, policy: Policy, source: ImportSource) -> PairStatus:
    """The status of one import, read now."""
    now = state.now()
    archive = state.archive
    folders = pair_folders(policy.id or 0, source.id or 0)
    if state.work is None:
        cursor = CursorState(
            key=folders.cursor,
            line=None,
            position=source.recording_start,
            error="this server has no work store: the cursor cannot be read here",
        )
        buffer: list[Entry] = []
    else:
        cursor = await read_cursor(
            state.work, folders, recording_start=source.recording_start, now=now
        )
        buffer = await RetryBuffer(state.work, folders).list()
    reports = await archive.batch_reports.list(
        policy_id=policy.id,
        import_source_id=source.id,
        since=now - SPAN,
        with_entries=False,
        limit=MAX_REPORTS,
    )
    latest = reports[:1] or await archive.batch_reports.list(
        policy_id=policy.id, import_source_id=source.id, with_entries=False, limit=1
    )
    errors = await archive.alerts.list(
        AlertFilter(policy_id=policy.id, import_source_id=source.id, severities=ERROR_SEVERITIES),
        limit=LAST_ERRORS,
    )
    return PairStatus(
        policy=policy,
        source=source,
        cursor=cursor,
        progress=progress(
            cursor.position,
            recording_start=source.recording_start,
            now=now,
            horizon=horizon(source),
            advances=advances(reports),
        ),
        retry_buffer=tuple(buffer),
        last_errors=tuple(errors),
        last_run=latest[0] if latest else None,
        imported_per_hour=tuple(per_hour(((r.finished_at, r.imported) for r in reports), end=now)),
        lag=tuple(lag_points(reports)),
        work_store=state.work is not None,
    )


async def statuses(state: WebState) -> list[PairStatus]:
    """The status of every import of every policy, by policy name then import source order."""
    found = []
    for policy in sorted(await state.archive.policies.list(), key=lambda p: p.name):
        for name in policy.import_sources:
            source = await state.archive.import_sources.get(name)
            found.append(await pair_status(state, policy, source))
    return found


async def pair(state: WebState, policy_id: int, source_id: int) -> tuple[Policy, ImportSource]:
    """The policy and import source of an import; `NotFoundError` unless the policy imports
    from that source."""
    try:
        policy = await state.archive.policies.get_by_id(policy_id)
        source = await state.archive.import_sources.get_by_id(source_id)
    except ConfigurationError:
        raise NotFoundError("no such import") from None
    if source.name not in policy.import_sources:
        raise NotFoundError("no such import")
    return policy, source


def _work(state: WebState) -> WorkStore:
    if state.work is None:
        raise HTTPException(503, "this server has no work store; use a server that runs imports")
    return state.work


def _buffer(state: WebState, folders: PairFolders) -> RetryBuffer:
    return RetryBuffer(_work(state), folders)


async def retry_buffer(state: WebState, policy_id: int, source_id: int) -> list[Entry]:
    """The files of an import's retry buffer."""
    await pair(state, policy_id, source_id)
    return await _buffer(state, pair_folders(policy_id, source_id)).list()


async def add_to_retry_buffer(
    state: WebState,
    viewer: Viewer,
    policy_id: int,
    source_id: int,
    *,
    conversation_id: str,
    start: dt.datetime,
) -> str:
    """Put a conversation into an import's retry buffer (the next run imports it); its key.

    `ConfigurationError` when the conversation id or start is not usable.
    """
    policy, source = await pair(state, policy_id, source_id)
    try:
        cdr = Cdr(
            conversation_id=conversation_id.strip(),
            conversation_start=start,
            policy_id=policy_id,
            import_source_id=source_id,
            reason=RetryReason.MANUAL,
            message=f"added by {viewer.login}",
        )
    except (ValueError, OverflowError) as error:
        raise ConfigurationError(str(error), field="conversation_id") from None
    key = await _buffer(state, pair_folders(policy_id, source_id)).add(cdr)
    await state.archive.audit.record(
        actor=viewer.login,
        action="retry_buffer_added",
        target=f"{policy.name}/{source.name}",
        details={"conversation_id": cdr.conversation_id, "key": key},
    )
    return key


async def remove_from_retry_buffer(
    state: WebState, viewer: Viewer, policy_id: int, source_id: int, *, conversation_id: str
) -> int:
    """Delete a conversation's files from an import's retry buffer; how many there were."""
    policy, source = await pair(state, policy_id, source_id)
    removed = await _buffer(state, pair_folders(policy_id, source_id)).remove(conversation_id)
    if removed:
        await state.archive.audit.record(
            actor=viewer.login,
            action="retry_buffer_removed",
            target=f"{policy.name}/{source.name}",
            details={"conversation_id": conversation_id, "files": removed},
        )
    return removed


async def retry_now(state: WebState, viewer: Viewer, policy_id: int, source_id: int) -> None:
    """Start a run of the import now (it takes the retry buffer first)."""
    policy, source = await pair(state, policy_id, source_id)
    if state.run_now is None:
        raise HTTPException(503, "this server does not run imports; wait for the next run")
    await state.run_now(policy_id, source_id)
    await state.archive.audit.record(
        actor=viewer.login, action="run_requested", target=f"{policy.name}/{source.name}"
    )


__all__ = [
    "PairStatus",
    "add_to_retry_buffer",
    "advances",
    "horizon",
    "lag_points",
    "pair",
    "pair_status",
    "remove_from_retry_buffer",
    "retry_buffer",
    "retry_now",
    "statuses",
]
