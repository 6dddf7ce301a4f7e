"""API keys: each user's own on their account page, everyone's for administrators on
`/api-keys`. A new key is shown once, on the page that answers its creation."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from callarchive.errors import ConfigurationError
from callarchive.web.api.api_keys import create_key, revoke_key, visible_keys
from callarchive.web.api.ids import ArchiveId
from callarchive.web.auth import Administrator, CurrentViewer, Viewer
from callarchive.web.state import web_state
from callarchive.web.templating import render

router = APIRouter(include_in_schema=False)


async def _account(
    request: Request, viewer: Viewer, *, status_code: int = 200, **context: object
) -> Response:
    return render(
        request,
        "account.html",
        viewer,
        status_code=status_code,
        zones=sorted(available_timezones()),
        api_keys=await visible_keys(web_state(request), viewer),
        **context,
    )


async def _all_keys(
    request: Request, viewer: Viewer, *, status_code: int = 200, **context: object
) -> Response:
    state = web_state(request)
    return render(
        request,
        "api_keys.html",
        viewer,
        status_code=status_code,
        api_keys=await visible_keys(state, viewer, everyone=True),
        logins=sorted(user.login for user in await state.archive.users.list()),
        **context,
    )


@router.post("/account/api-keys")
async def add_own_key(
    request: Request, viewer: CurrentViewer, name: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    try:
        stored, secret = await create_key(web_state(request), viewer, name)
    except ConfigurationError as error:
        return await _account(request, viewer, status_code=422, errors={"key_name": str(error)})
    return await _account(request, viewer, new_key=stored, secret=secret)


@router.post("/account/api-keys/{key_id}/revoke")
async def revoke_own_key(request: Request, viewer: CurrentViewer, key_id: ArchiveId) -> Response:
    await revoke_key(web_state(request), viewer, key_id)
    return RedirectResponse("/account?revoked=1", status_code=303)


@router.get("/api-keys")
async def api_keys_page(request: Request, viewer: Administrator) -> Response:
    return await _all_keys(request, viewer, revoked=request.query_params.get("revoked"))


@router.post("/api-keys")
async def add_key(
    request: Request,
    viewer: Administrator,
    name: Annotated[str, Form(max_length=1000)] = "",
    login: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        stored, secret = await create_key(web_state(request), viewer, name, login)
    except ConfigurationError as error:
        field = "login" if error.field == "login" else "key_name"
        return await _all_keys(request, viewer, status_code=422, errors={field: str(error)})
    return await _all_keys(request, viewer, new_key=stored, secret=secret)


@router.post("/api-keys/{key_id}/revoke")
async def revoke_any_key(request: Request, viewer: Administrator, key_id: ArchiveId) -> Response:
    await revoke_key(web_state(request), viewer, key_id)
    return RedirectResponse("/api-keys?revoked=1", status_code=303)


__all__ = ["router"]
