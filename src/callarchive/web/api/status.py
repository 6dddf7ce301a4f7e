"""`/api/v1/status`: each import's figures, as on the Status page; its retry buffer, read by
administrators and compliance officers and changed by administrators; and a run started now."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from callarchive.imports import Entry
from callarchive.web import status
from callarchive.web.api.alerts import AlertOut, alert_out
from callarchive.web.api.ids import ArchiveId
from callarchive.web.api.problems import NOT_FOUND, Problem
from callarchive.web.auth import Administrator, NotFoundError, OperationsViewer
from callarchive.web.state import web_state

router = APIRouter(tags=["status"])
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "This server runs no imports (no work store or runner)"}
}


class CursorOut(BaseModel):
    """The cursor file of an import."""

    key: str = Field(description="its path in the work store")
    line: str | None = Field(description="its content; null before the first run")
    position: dt.datetime = Field(description="where the next run starts (UTC)")
    conversation_id: str
    error: str | None = Field(description="why the file cannot be used, if it cannot")


class HourOut(BaseModel):
    """Conversations imported in one hour."""

    hour: dt.datetime
    imported: int


class LagOut(BaseModel):
    """The lag right after one run."""

    at: dt.datetime
    lag_seconds: float


class RunOut(BaseModel):
    """The last run of an import."""

    started_at: dt.datetime
    finished_at: dt.datetime
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    server: str | None
    imported: int
    already_imported: int
    retry_buffered: int
    failed: int


class PairOut(BaseModel):
    """The status of one import (a policy and one of its import sources)."""

    policy_id: int
    policy: str
    import_source_id: int
    import_source: str
    enabled: bool
    cursor: CursorOut
    lag_seconds: float
    progress: float = Field(description="(cursor - recording start) / (now - recording start)")
    caught_up: bool
    rate: float | None = Field(description="seconds of history imported per second, lately")
    eta_seconds: float | None = Field(description="time to catch up; null when not known")
    retry_buffer_size: int
    imported_per_hour: list[HourOut] = Field(description="the last 24 hours, oldest first")
    lag: list[LagOut] = Field(description="after each run of the last 24 hours, oldest first")
    last_run: RunOut | None
    last_errors: list[AlertOut]


class StatusOut(BaseModel):
    """Every import's status."""

    now: dt.datetime
    imports: list[PairOut]


class RetryEntryOut(BaseModel):
    """A file of the retry buffer; `error` instead of the CDR's fields when unreadable."""

    key: str
    conversation_id: str | None = None
    conversation_start: dt.datetime | None = None
    reason: str | None = None
    attempts: int | None = None
    message: str | None = None
    error: str | None = None


class RetryAdd(BaseModel):
    """A conversation to put into the retry buffer."""

    conversation_id: str = Field(max_length=200, description="the Genesys conversation id")
    conversation_start: dt.datetime = Field(description="its start (ISO 8601; UTC if no zone)")


def pair_out(pair: status.PairStatus) -> PairOut:
    """The API form of an import's status."""
    p = pair.progress
    run = pair.last_run
    return PairOut(
        policy_id=pair.policy.id or 0,
        policy=pair.policy.name,
        import_source_id=pair.source.id or 0,
        import_source=pair.source.name,
        enabled=pair.policy.enabled,
        cursor=CursorOut(
            key=pair.cursor.key,
            line=pair.cursor.line,
            position=pair.cursor.position,
            conversation_id=pair.cursor.conversation_id,
            error=pair.cursor.error,
        ),
        lag_seconds=p.lag.total_seconds(),
        progress=p.fraction,
        caught_up=p.caught_up,
        rate=p.rate,
        eta_seconds=None if p.eta is None else p.eta.total_seconds(),
        retry_buffer_size=len(pair.retry_buffer),
        imported_per_hour=[
            HourOut(hour=h.at, imported=int(h.value)) for h in pair.imported_per_hour
        ],
        lag=[LagOut(at=point.at, lag_seconds=point.value) for point in pair.lag],
        last_run=None
        if run is None
        else RunOut(
            started_at=run.started_at,
            finished_at=run.finished_at,
            window_start=run.window_start,
            window_end=run.window_end,
            server=run.server,
            imported=run.imported,
            already_imported=run.already_imported,
            retry_buffered=run.retry_buffered,
            failed=run.failed,
        ),
        last_errors=[alert_out(a) for a in pair.last_errors],
    )


def entry_out(entry: Entry) -> RetryEntryOut:
    """The API form of a retry buffer file."""
    cdr = entry.cdr
    if cdr is None:
        return RetryEntryOut(key=entry.key, error=entry.error)
    return RetryEntryOut(
        key=entry.key,
        conversation_id=cdr.conversation_id,
        conversation_start=cdr.conversation_start,
        reason=cdr.reason.value,
        attempts=cdr.attempts,
        message=cdr.message,
    )


@router.get("/status")
async def get_status(request: Request, viewer: OperationsViewer) -> StatusOut:
    """Cursor, lag, catch-up progress, last 24 hours, retry buffer size and last errors of
    every import."""
    del viewer
    state = web_state(request)
    return StatusOut(now=state.now(), imports=[pair_out(p) for p in await status.statuses(state)])


@router.get("/status/{policy_id}/{source_id}/retry-buffer", responses={**NOT_FOUND, **UNAVAILABLE})
async def list_retry_buffer(
    request: Request, viewer: OperationsViewer, policy_id: ArchiveId, source_id: ArchiveId
) -> list[RetryEntryOut]:
    """The files of an import's retry buffer, oldest first."""
    del viewer
    entries = await status.retry_buffer(web_state(request), policy_id, source_id)
    return [entry_out(e) for e in entries]


@router.post(
    "/status/{policy_id}/{source_id}/retry-buffer",
    status_code=201,
    responses={**NOT_FOUND, **UNAVAILABLE},
)
async def add_retry_buffer(
    request: Request,
    viewer: Administrator,
    policy_id: ArchiveId,
    source_id: ArchiveId,
    body: RetryAdd,
) -> RetryEntryOut:
    """Put a conversation into an import's retry buffer: the next run imports it."""
    start = body.conversation_start
    key = await status.add_to_retry_buffer(
        web_state(request),
        viewer,
        policy_id,
        source_id,
        conversation_id=body.conversation_id,
        start=start if start.tzinfo else start.replace(tzinfo=dt.UTC),
    )
    entries = await status.retry_buffer(web_state(request), policy_id, source_id)
    return next(entry_out(e) for e in entries if e.key == key)


@router.delete(
    "/status/{policy_id}/{source_id}/retry-buffer",
    status_code=204,
    responses={**NOT_FOUND, **UNAVAILABLE},
)
async def remove_retry_buffer(
    request: Request,
    viewer: Administrator,
    policy_id: ArchiveId,
    source_id: ArchiveId,
    conversation_id: str,
) -> Response:
    """Remove a conversation's files from an import's retry buffer (404 when it has none)."""
    removed = await status.remove_from_retry_buffer(
        web_state(request), viewer, policy_id, source_id, conversation_id=conversation_id
    )
    if not removed:
        raise NotFoundError("the conversation is not in the retry buffer")
    return Response(status_code=204)


@router.post(
    "/status/{policy_id}/{source_id}/run",
    status_code=202,
    responses={**NOT_FOUND, **UNAVAILABLE},
)
async def run_now(
    request: Request, viewer: Administrator, policy_id: ArchiveId, source_id: ArchiveId
) -> Response:
    """Start a run of the import now ("Retry now"); 503 when this server runs no imports."""
    await status.retry_now(web_state(request), viewer, policy_id, source_id)
    return Response(status_code=202)


__all__ = ["router"]
