"""Conversations: the search page and a conversation's page with its players, reports and the
Verify button (administrators and compliance officers) that checks its seal."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from callarchive.archive import Direction, Verification, export_record
from callarchive.errors import ConfigurationError
from callarchive.web.api.conversations import (
    media_url,
    verify_conversation,
    visible_conversation,
    zones,
)
from callarchive.web.api.ids import ArchiveId
from callarchive.web.auth import CurrentViewer, OperationsViewer, Viewer
from callarchive.web.search import PAGE_SIZES, SearchForm, to_query
from callarchive.web.state import web_state
from callarchive.web.templating import render, zone_of
from callarchive.web.waveform import waveform_svg

router = APIRouter(include_in_schema=False)

COLUMNS = (
    ("start", "Start"),
    ("duration", "Duration"),
    ("user", "User"),
    ("from", "From"),
    ("to", "To"),
    ("direction", "Direction"),
)


@router.get("/conversations")
async def conversations_page(
    request: Request, viewer: CurrentViewer, form: Annotated[SearchForm, Query()]
) -> Response:
    state = web_state(request)
    fields = form.model_dump(exclude_defaults=True)
    try:
        query = to_query(form, scope=viewer.account.scope, zone=zone_of(viewer))
    except ConfigurationError as error:
        return render(
            request,
            "conversations.html",
            viewer,
            status_code=422,
            form=form,
            errors={error.field or "search": str(error)},
            conversations=[],
            total=0,
            pages=0,
            columns=COLUMNS,
            directions=list(Direction),
            page_sizes=PAGE_SIZES,
            link=lambda **_: "",
        )
    found = await state.archive.conversations.search(query)
    total = await state.archive.conversations.count(query)

    def link(**changes: object) -> str:
        return "/conversations?" + urlencode({**fields, **changes})

    return render(
        request,
        "conversations.html",
        viewer,
        form=form,
        errors={},
        conversations=found,
        total=total,
        pages=max(1, -(-total // form.page_size)),
        columns=COLUMNS,
        directions=list(Direction),
        page_sizes=PAGE_SIZES,
        link=link,
    )


@router.get("/conversations/{conversation_id}")
async def conversation_page(
    request: Request, viewer: CurrentViewer, conversation_id: ArchiveId
) -> Response:
    return await _conversation(request, viewer, conversation_id)


@router.post("/conversations/{conversation_id}/verify")
async def verify_page(
    request: Request,
    viewer: OperationsViewer,
    conversation_id: ArchiveId,
    media: Annotated[bool, Form()] = False,
) -> Response:
    """The Verify button: the conversation's page with the verification's result."""
    result = await verify_conversation(web_state(request), viewer, conversation_id, media=media)
    return await _conversation(request, viewer, conversation_id, verification=result)


async def _conversation(
    request: Request,
    viewer: Viewer,
    conversation_id: int,
    *,
    verification: Verification | None = None,
) -> Response:
    state = web_state(request)
    conversation = await visible_conversation(state, viewer, conversation_id)
    zone = (await zones(state, [conversation]))[conversation.import_source_id]
    metadata = export_record(conversation, zone)
    metadata.pop("recordings")
    reports = await state.archive.batch_reports.list(conversation_id=conversation.id, limit=5)
    source = await state.archive.import_sources.get_by_id(conversation.import_source_id)
    players = []
    for recording in conversation.recordings:
        peaks = await state.archive.conversations.waveform(
            conversation.id or 0, recording.recording_id
        )
        players.append(
            {
                "recording": recording,
                "url": media_url(conversation, recording.recording_id, recording.codec.value),
                "waveform": waveform_svg(peaks) if peaks is not None else None,
            }
        )
    return render(
        request,
        "conversation.html",
        viewer,
        conversation=conversation,
        metadata=metadata,
        recording_zone=zone.key,
        source=source,
        players=players,
        reports=reports,
        verification=verification,
    )


__all__ = ["router"]
