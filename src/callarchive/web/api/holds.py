"""`/api/v1/holds` and `/api/v1/retention`: legal holds and what retention would delete
(administrators and compliance officers).

A hold is created over the conversations of a search (the search's fields, in the viewer's
time zone) and/or a list of archive ids; more can be added while it is active. Releasing takes
two people: one requests, a different one approves (four eyes; the requester's approval answers
403). Every change is audited with the signed-in user as its actor.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from callarchive.archive import ConversationQuery, FourEyesError, LegalHold, Scope
from callarchive.retention import RetentionJob
from callarchive.web.api.ids import ArchiveId, ArchiveIdValue
from callarchive.web.api.problems import NOT_FOUND
from callarchive.web.auth import ForbiddenError, NotFoundError, OperationsViewer, Viewer
from callarchive.web.search import SearchCriteria, SearchForm, to_query
from callarchive.web.state import web_state
from callarchive.web.templating import zone_of

router = APIRouter(tags=["legal holds"])

MAX_IDS = 1000
PREVIEW_LIMIT = 1000


class HoldSearch(SearchCriteria):
    """The conversation search whose results go under the hold (empty fields: any)."""


class HoldIn(BaseModel):
    """A new legal hold."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    reason: str = Field(max_length=2000, description="why: a case or matter number")
    conversation_ids: list[ArchiveIdValue] = Field(default_factory=list, max_length=MAX_IDS)
    search: HoldSearch | None = None


class HoldAdd(BaseModel):
    """Conversations to put under a hold: archive ids and/or a search."""

    model_config = ConfigDict(extra="forbid")

    conversation_ids: list[ArchiveIdValue] = Field(default_factory=list, max_length=MAX_IDS)
    search: HoldSearch | None = None


class HoldOut(BaseModel):
    """A legal hold."""

    id: int
    name: str
    reason: str
    state: str = Field(description="active or released")
    created_by: str
    created_at: dt.datetime
    released_at: dt.datetime | None
    conversations: int
    release_requested_by: str | None
    release_approved_by: str | None


class HoldDetail(HoldOut):
    """A legal hold with the archive ids of its conversations."""

    conversation_ids: list[int]


class Added(BaseModel):
    """How many conversations were new to the hold."""

    added: int


class Expiring(BaseModel):
    """A conversation past its retention that the next run deletes (no hold protects it)."""

    conversation_id: int
    genesys_id: str
    start: dt.datetime
    retention_days: int | None
    expired_at: dt.datetime | None


class RetentionPreview(BaseModel):
    """What a retention run would delete now (a dry run), oldest first."""

    total: int = Field(description=f"how many; {PREVIEW_LIMIT} means at least that many")
    items: list[Expiring]


def hold_out(hold: LegalHold) -> HoldOut:
    """The API form of a hold."""
    release = hold.release
    return HoldOut(
        id=hold.id,
        name=hold.name,
        reason=hold.reason,
        state=hold.state.value,
        created_by=hold.created_by,
        created_at=hold.created_at,
        released_at=hold.released_at,
        conversations=hold.conversations,
        release_requested_by=release.requested_by if release else None,
        release_approved_by=release.approved_by if release else None,
    )


def search_query(search: HoldSearch | None, viewer: Viewer) -> ConversationQuery | None:
    """The archive query of a hold's search (None: no search)."""
    if search is None or not any(search.model_dump().values()):
        return None
    form = SearchForm(**search.model_dump())
    return to_query(form, scope=Scope(everything=True), zone=zone_of(viewer))


async def _hold(request: Request, hold_id: int) -> LegalHold:
    found = await web_state(request).archive.holds.get_by_id(hold_id)
    if found is None:
        raise NotFoundError("no such legal hold")
    return found


@router.get("/holds")
async def list_holds(request: Request, viewer: OperationsViewer) -> list[HoldOut]:
    """Every legal hold, active ones first."""
    del viewer
    return [hold_out(h) for h in await web_state(request).archive.holds.list()]


@router.post("/holds", status_code=201)
async def create_hold(request: Request, viewer: OperationsViewer, body: HoldIn) -> HoldOut:
    """A new active hold over the given conversations and those the search finds."""
    created = await web_state(request).archive.holds.create(
        body.name,
        reason=body.reason,
        actor=viewer.login,
        conversation_ids=body.conversation_ids,
        matching=search_query(body.search, viewer),
    )
    return hold_out(created)


@router.get("/holds/{hold_id}", responses=NOT_FOUND)
async def get_hold(request: Request, viewer: OperationsViewer, hold_id: ArchiveId) -> HoldDetail:
    """One hold with its conversations' archive ids."""
    del viewer
    found = await _hold(request, hold_id)
    ids = await web_state(request).archive.holds.conversation_ids(found.name)
    return HoldDetail(**hold_out(found).model_dump(), conversation_ids=ids)


@router.post("/holds/{hold_id}/conversations", responses=NOT_FOUND)
async def add_to_hold(
    request: Request, viewer: OperationsViewer, hold_id: ArchiveId, body: HoldAdd
) -> Added:
    """Put more conversations under an active hold."""
    found = await _hold(request, hold_id)
    added = await web_state(request).archive.holds.add(
        found.name,
        actor=viewer.login,
        conversation_ids=body.conversation_ids,
        matching=search_query(body.search, viewer),
    )
    return Added(added=added)


@router.post("/holds/{hold_id}/release-request", responses=NOT_FOUND)
async def request_release(
    request: Request, viewer: OperationsViewer, hold_id: ArchiveId
) -> HoldOut:
    """Ask for the hold's release; a different person must approve it."""
    found = await _hold(request, hold_id)
    holds = web_state(request).archive.holds
    return hold_out(await holds.request_release(found.name, actor=viewer.login))


@router.post("/holds/{hold_id}/release-approve", responses=NOT_FOUND)
async def approve_release(
    request: Request, viewer: OperationsViewer, hold_id: ArchiveId
) -> HoldOut:
    """Approve the requested release (403 for its requester): the hold is released."""
    found = await _hold(request, hold_id)
    try:
        released = await web_state(request).archive.holds.approve_release(
            found.name, actor=viewer.login
        )
    except FourEyesError as error:
        raise ForbiddenError(str(error)) from error
    return hold_out(released)


@router.get("/retention/preview")
async def retention_preview(request: Request, viewer: OperationsViewer) -> RetentionPreview:
    """What a retention run would delete now, oldest first (a dry run: nothing is deleted)."""
    del viewer
    state = web_state(request)
    outcome = await RetentionJob(state.archive, state.media, state.clock).run(
        dry_run=True, limit=PREVIEW_LIMIT
    )
    return RetentionPreview(
        total=len(outcome.conversations),
        items=[
            Expiring(
                conversation_id=c.conversation_id,
                genesys_id=c.genesys_id,
                start=c.start,
                retention_days=c.retention_days,
                expired_at=c.expires_at,
            )
            for c in outcome.conversations[:PREVIEW_LIMIT]
        ],
    )


__all__ = ["HoldSearch", "hold_out", "router", "search_query"]
