"""`/api/v1/conversations`: search, one conversation, its recordings' media, the verification
of its seal; and `/api/v1/me`.

A conversation outside the viewer's scope answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from callarchive.archive import Conversation, ObjectStoreMedia, Verification, export_record
from callarchive.web.api.ids import ArchiveId
from callarchive.web.api.problems import NOT_FOUND
from callarchive.web.auth import CurrentViewer, NotFoundError, OperationsViewer, Viewer
from callarchive.web.media import find_recording, media_response
from callarchive.web.search import SearchForm, to_query
from callarchive.web.state import WebState, web_state
from callarchive.web.templating import zone_of

router = APIRouter(tags=["conversations"])


class RecordingOut(BaseModel):
    """A stored recording of a conversation."""

    recording_id: str
    codec: str
    size: int
    sha256: str
    duration_ms: int | None
    channels: int | None
    media_subtype: str | None
    media_url: str = Field(description="GET (with Range) to play, add ?download=1 to download")


class ConversationOut(BaseModel):
    """An archived conversation: ids, UTC times, and the standard metadata (section 5 keys,
    dates and times there in the Recording Timezone)."""

    id: int
    genesys_id: str
    import_source_id: int
    start: dt.datetime
    end: dt.datetime | None
    duration: int | None
    user: str | None
    user_login: str | None
    from_number: str | None
    to_number: str | None
    direction: str | None
    partitions: list[str]
    media_complete: bool
    deleted_in_genesys: bool
    metadata: dict[str, Any]
    recordings: list[RecordingOut]


class ConversationPage(BaseModel):
    """One page of a search."""

    total: int
    page: int
    page_size: int
    items: list[ConversationOut]


class Me(BaseModel):
    """The signed-in user."""

    login: str
    name: str
    role: str
    time_zone: str


def media_url(conversation: Conversation, recording_id: str, codec: str) -> str:
    """Where a recording's media is served."""
    return f"/api/v1/conversations/{conversation.id}/recordings/{recording_id}/{codec}/media"


async def zones(state: WebState, conversations: list[Conversation]) -> dict[int, Any]:
    """The Recording Timezone of each import source of `conversations`."""
    found: dict[int, Any] = {}
    for source_id in {c.import_source_id for c in conversations}:
        source = await state.archive.import_sources.get_by_id(source_id)
        found[source_id] = ZoneInfo(source.recording_timezone)
    return found


def conversation_out(conversation: Conversation, zone: Any) -> ConversationOut:
    """The API form of an archived conversation."""
    c = conversation
    metadata = export_record(c, zone)
    metadata.pop("recordings")
    return ConversationOut(
        id=c.id or 0,
        genesys_id=c.genesys_id,
        import_source_id=c.import_source_id,
        start=c.start,
        end=c.end,
        duration=c.duration,
        user=c.user,
        user_login=c.user_login,
        from_number=c.from_number,
        to_number=c.to_number,
        direction=c.direction.value if c.direction else None,
        partitions=list(c.partitions),
        media_complete=c.media_complete,
        deleted_in_genesys=c.deleted_in_genesys,
        metadata=metadata,
        recordings=[
            RecordingOut(
                recording_id=r.recording_id,
                codec=r.codec.value,
                size=r.size,
                sha256=r.sha256,
                duration_ms=r.duration_ms,
                channels=r.channels,
                media_subtype=r.media_subtype,
                media_url=media_url(c, r.recording_id, r.codec.value),
            )
            for r in c.recordings
        ],
    )


async def visible_conversation(
    state: WebState, viewer: Viewer, conversation_id: int
) -> Conversation:
    """The conversation if it exists and the viewer may see it; `NotFoundError` otherwise."""
    conversation = await state.archive.conversations.get(conversation_id)
    if conversation is None or not viewer.account.scope.allows(
        conversation.user_login, conversation.partitions
    ):
        raise NotFoundError("no such conversation")
    return conversation


@router.get("/me", tags=["account"])
async def me(viewer: CurrentViewer) -> Me:
    """Who the session or API key acts as."""
    account = viewer.account
    return Me(
        login=account.login,
        name=account.name,
        role=account.role.value,
        time_zone=account.time_zone or "UTC",
    )


@router.get("/conversations")
async def search_conversations(
    request: Request, viewer: CurrentViewer, form: Annotated[SearchForm, Query()]
) -> ConversationPage:
    """Conversations the viewer may see, matching every criterion given."""
    state = web_state(request)
    query = to_query(form, scope=viewer.account.scope, zone=zone_of(viewer))
    found = await state.archive.conversations.search(query)
    by_source = await zones(state, found)
    return ConversationPage(
        total=await state.archive.conversations.count(query),
        page=form.page,
        page_size=form.page_size,
        items=[conversation_out(c, by_source[c.import_source_id]) for c in found],
    )


@router.get("/conversations/{conversation_id}", responses=NOT_FOUND)
async def get_conversation(
    request: Request, viewer: CurrentViewer, conversation_id: ArchiveId
) -> ConversationOut:
    """One conversation with its metadata and recordings."""
    state = web_state(request)
    conversation = await visible_conversation(state, viewer, conversation_id)
    by_source = await zones(state, [conversation])
    return conversation_out(conversation, by_source[conversation.import_source_id])


@router.get(
    "/conversations/{conversation_id}/recordings/{recording_id}/{codec}/media",
    response_class=Response,
    responses={
        200: {"content": {"audio/*": {}}, "description": "The media"},
        206: {"content": {"audio/*": {}}, "description": "The requested range"},
        **NOT_FOUND,
        416: {"description": "Range not satisfiable"},
    },
)
async def recording_media(
    request: Request,
    viewer: CurrentViewer,
    *,
    conversation_id: ArchiveId,
    recording_id: str,
    codec: str,
    download: bool = False,
) -> Response:
    """A recording's media (HTTP Range supported); written to the audit log."""
    state = web_state(request)
    conversation = await visible_conversation(state, viewer, conversation_id)
    recording = find_recording(conversation, recording_id, codec)
    return await media_response(request, state, viewer, conversation, recording, download=download)


class ProblemOut(BaseModel):
    """One thing verification found wrong."""

    kind: str = Field(description="metadata changed, media changed, chain broken, ...")
    subject: str
    message: str


class VerificationOut(BaseModel):
    """The verification of a conversation's seal, its day's chain and (optionally) its media."""

    ok: bool
    conversations: int
    seals: int
    chains: list[str]
    recordings_read: int
    notes: list[str]
    problems: list[ProblemOut]
    report: str


async def verify_conversation(
    state: WebState, viewer: Viewer, conversation_id: int, *, media: bool
) -> Verification:
    """Verify one conversation (written to the audit log); `NotFoundError` when it has neither
    a row nor a seal."""
    archive = state.archive
    result = await archive.seals.verify(
        conversation_id=conversation_id,
        media=ObjectStoreMedia(state.media) if media else None,
    )
    if result.seals == 0 and await archive.conversations.get(conversation_id) is None:
        raise NotFoundError("no such conversation")
    await archive.audit.record(
        actor=viewer.login,
        action="conversation_verified",
        target=f"conversation:{conversation_id}",
        details={"problems": len(result.problems), "media": media},
    )
    return result


def verification_out(result: Verification) -> VerificationOut:
    """The API's form of a verification."""
    return VerificationOut(
        ok=result.ok,
        conversations=result.conversations,
        seals=result.seals,
        chains=list(result.chains),
        recordings_read=result.recordings_read,
        notes=list(result.notes),
        problems=[
            ProblemOut(kind=p.kind.value, subject=p.subject, message=p.message)
            for p in result.problems
        ],
        report=result.report(),
    )


@router.post("/conversations/{conversation_id}/verify", responses=NOT_FOUND)
async def verify(
    request: Request,
    viewer: OperationsViewer,
    conversation_id: ArchiveId,
    media: bool = False,
) -> VerificationOut:
    """Check the conversation against its seal, its day's chain and signatures, and with
    `media` its recordings' bytes (administrators and compliance officers)."""
    result = await verify_conversation(web_state(request), viewer, conversation_id, media=media)
    return verification_out(result)


__all__ = [
    "ConversationOut",
    "VerificationOut",
    "conversation_out",
    "media_url",
    "router",
    "verification_out",
    "verify_conversation",
    "visible_conversation",
]
