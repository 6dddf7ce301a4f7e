"""Status: each import's cursor, lag, catch-up progress, last 24 hours, retry buffer and last
errors. Administrators and compliance officers see it; administrators add to and remove from
the retry buffer and start a run now."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from callarchive.errors import ConfigurationError
from callarchive.imports.cursor import parse_time
from callarchive.web import status
from callarchive.web.api.ids import ArchiveId
from callarchive.web.api.reconciliation import recent_days
from callarchive.web.auth import Administrator, OperationsViewer, Viewer
from callarchive.web.charts import bar_chart, line_chart, nice_duration, percent, progress_bar
from callarchive.web.state import web_state
from callarchive.web.templating import render, zone_of

router = APIRouter(include_in_schema=False)


def span(seconds: float | dt.timedelta | None) -> str:
    """`3d04h`, `5h07m`, `4m09s` or `12s`."""
    if seconds is None:
        return ""
    whole = int(seconds.total_seconds() if isinstance(seconds, dt.timedelta) else seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _shown(pair: status.PairStatus, viewer: Viewer, now: dt.datetime) -> dict[str, Any]:
    zone = zone_of(viewer)

    def hour(at: dt.datetime) -> str:
        return at.astimezone(zone).strftime("%H:%M")

    return {
        "s": pair,
        "id": f"pair-{pair.policy.id}-{pair.source.id}",
        "bar": progress_bar(pair.progress.fraction, title="History imported"),
        "imported": bar_chart(
            pair.imported_per_hour, title="Conversations imported per hour", label=hour
        ),
        "lag": line_chart(
            pair.lag,
            start=now - status.SPAN,
            end=now,
            title="Lag behind real time after each run",
            label=hour,
            value_label=span,
            ceiling=nice_duration,
        ),
        "caught_up_at": now + pair.progress.eta if pair.progress.eta is not None else None,
    }


async def _page(
    request: Request,
    viewer: Viewer,
    *,
    status_code: int = 200,
    problem: tuple[str, str] | None = None,
) -> Response:
    state = web_state(request)
    now = state.now()
    pairs = [_shown(pair, viewer, now) for pair in await status.statuses(state)]
    for shown in pairs:
        shown["days"] = await recent_days(state, shown["s"].policy, shown["s"].source)
    return render(
        request,
        "status.html",
        viewer,
        status_code=status_code,
        pairs=pairs,
        span=span,
        percent=percent,
        problem=problem,
        can_run=state.run_now is not None,
        done=request.query_params.get("done"),
    )


def _back(policy_id: int, source_id: int, done: str) -> Response:
    return RedirectResponse(f"/status?done={done}#pair-{policy_id}-{source_id}", status_code=303)


@router.get("/status")
async def status_page(request: Request, viewer: OperationsViewer) -> Response:
    return await _page(request, viewer)


@router.post("/status/{policy_id}/{source_id}/retry-buffer")
async def retry_buffer_add(
    request: Request,
    viewer: Administrator,
    *,
    policy_id: ArchiveId,
    source_id: ArchiveId,
    conversation_id: Annotated[str, Form(max_length=200)],
    conversation_start: Annotated[str, Form(max_length=100)],
) -> Response:
    state = web_state(request)
    try:
        await status.add_to_retry_buffer(
            state,
            viewer,
            policy_id,
            source_id,
            conversation_id=conversation_id,
            start=parse_time(conversation_start),
        )
    except ConfigurationError as error:
        anchor = f"pair-{policy_id}-{source_id}"
        return await _page(request, viewer, status_code=422, problem=(anchor, str(error)))
    return _back(policy_id, source_id, "added")


@router.post("/status/{policy_id}/{source_id}/retry-buffer/remove")
async def retry_buffer_remove(
    request: Request,
    viewer: Administrator,
    policy_id: ArchiveId,
    source_id: ArchiveId,
    conversation_id: Annotated[str, Form(max_length=200)],
) -> Response:
    await status.remove_from_retry_buffer(
        web_state(request), viewer, policy_id, source_id, conversation_id=conversation_id
    )
    return _back(policy_id, source_id, "removed")


@router.post("/status/{policy_id}/{source_id}/run")
async def run_now(
    request: Request, viewer: Administrator, policy_id: ArchiveId, source_id: ArchiveId
) -> Response:
    await status.retry_now(web_state(request), viewer, policy_id, source_id)
    return _back(policy_id, source_id, "started")


__all__ = ["router", "span"]
