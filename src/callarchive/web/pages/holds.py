"""Legal holds: the holds, a new hold from the current search, one more conversation for a hold,
release request and approval (four eyes); and what retention would delete now. For
administrators and compliance officers.

The conversations page's search can be carried here in the query string (`?user=jane&...`): the
new hold's form then holds every conversation that search finds.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ConfigDict, Field

from callarchive.archive import FourEyesError
from callarchive.errors import ConfigurationError
from callarchive.retention import RetentionJob
from callarchive.web.api.holds import PREVIEW_LIMIT, HoldSearch, search_query
from callarchive.web.api.ids import ArchiveId
from callarchive.web.auth import NotFoundError, OperationsViewer, Viewer
from callarchive.web.state import web_state
from callarchive.web.templating import render

router = APIRouter(include_in_schema=False)
SHOWN_EXPIRING = 50


class NewHoldForm(HoldSearch):
    """The new hold's form: a name, a reason and the search it holds (and the CSRF token)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = Field(max_length=200)
    reason: str = Field(max_length=2000)

    def search(self) -> HoldSearch:
        return HoldSearch(**self.model_dump(exclude={"name", "reason"}))


async def _page(
    request: Request,
    viewer: Viewer,
    search: HoldSearch,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    state = web_state(request)
    outcome = await RetentionJob(state.archive, state.media, state.clock).run(
        dry_run=True, limit=PREVIEW_LIMIT
    )
    return render(
        request,
        "holds.html",
        viewer,
        status_code=status_code,
        holds=await state.archive.holds.list(),
        search=search,
        searching=any(search.model_dump().values()),
        errors=errors or {},
        expiring=outcome.conversations[:SHOWN_EXPIRING],
        expiring_total=len(outcome.conversations),
        expiring_more=len(outcome.conversations) >= PREVIEW_LIMIT,
        runs=await state.archive.retention.runs(limit=7),
    )


@router.get("/holds")
async def holds_page(
    request: Request, viewer: OperationsViewer, search: Annotated[HoldSearch, Query()]
) -> Response:
    return await _page(request, viewer, search)


@router.post("/holds")
async def create_hold(
    request: Request,
    viewer: OperationsViewer,
    form: Annotated[NewHoldForm, Form()],
) -> Response:
    search = form.search()
    try:
        await web_state(request).archive.holds.create(
            form.name,
            reason=form.reason,
            actor=viewer.login,
            matching=search_query(search, viewer),
        )
    except ConfigurationError as error:
        errors = {error.field or "hold": str(error)}
        return await _page(request, viewer, search, errors=errors, status_code=422)
    return RedirectResponse("/holds", status_code=303)


async def _hold_name(request: Request, hold_id: int) -> str:
    found = await web_state(request).archive.holds.get_by_id(hold_id)
    if found is None:
        raise NotFoundError("no such legal hold")
    return found.name


@router.post("/holds/{hold_id}/conversations")
async def add_conversation(
    request: Request,
    viewer: OperationsViewer,
    hold_id: ArchiveId,
    conversation_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
) -> Response:
    name = await _hold_name(request, hold_id)
    holds = web_state(request).archive.holds
    try:
        await holds.add(name, actor=viewer.login, conversation_ids=[conversation_id])
    except ConfigurationError as error:
        errors = {error.field or "hold": str(error)}
        return await _page(request, viewer, HoldSearch(), errors=errors, status_code=422)
    return RedirectResponse("/holds", status_code=303)


@router.post("/holds/{hold_id}/release-request")
async def request_release(
    request: Request, viewer: OperationsViewer, hold_id: ArchiveId
) -> Response:
    name = await _hold_name(request, hold_id)
    try:
        await web_state(request).archive.holds.request_release(name, actor=viewer.login)
    except ConfigurationError as error:
        errors = {error.field or "hold": str(error)}
        return await _page(request, viewer, HoldSearch(), errors=errors, status_code=422)
    return RedirectResponse("/holds", status_code=303)


@router.post("/holds/{hold_id}/release-approve")
async def approve_release(
    request: Request, viewer: OperationsViewer, hold_id: ArchiveId
) -> Response:
    name = await _hold_name(request, hold_id)
    try:
        await web_state(request).archive.holds.approve_release(name, actor=viewer.login)
    except FourEyesError as error:
        errors = {"four eyes": str(error)}
        return await _page(request, viewer, HoldSearch(), errors=errors, status_code=403)
    except ConfigurationError as error:
        errors = {error.field or "hold": str(error)}
        return await _page(request, viewer, HoldSearch(), errors=errors, status_code=422)
    return RedirectResponse("/holds", status_code=303)


__all__ = ["router"]
