"""Users > Users and Users > Extensions: the recorded users, the hierarchy, who signs in, and the
numbers and addresses the recording rules match.

An administrator may set a user's password here (it is never shown, only whether one is set).
The extension routes come first, so `/users/extensions` is not read as a login.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from zoneinfo import available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from callarchive.archive import Account
from callarchive.configuration import ExtensionType, Role, User, parse_extension
from callarchive.errors import ConfigurationError
from callarchive.web.api.ids import ArchiveId
from callarchive.web.api.users import store_user
from callarchive.web.auth import Administrator, NotFoundError, Viewer
from callarchive.web.forms import EXTENSION_HELP, USER_HELP
from callarchive.web.state import web_state
from callarchive.web.templating import render, zone_of

router = APIRouter(include_in_schema=False)
NOTICES = {
    "added": "The user was added.",
    "saved": "The user was saved.",
    "deleted": "The user was deleted.",
    "extension_added": "The extension was added.",
    "extension_deleted": "The extension was deleted.",
}
_USER_INPUTS = ("login", "name", "role", "supervisor", "partitions", "recorded", "time_zone")
_EXTENSION_INPUTS = ("type", "value", "user", "valid_from", "valid_to")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# -- extensions ----------------------------------------------------------------------------


async def _extensions_page(
    request: Request,
    viewer: Viewer,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    state = web_state(request)
    only = request.query_params.get("user") or None
    return render(
        request,
        "extensions.html",
        viewer,
        status_code=status_code,
        extensions=await state.archive.extensions.list(user=only),
        users=await state.archive.users.list(),
        types=list(ExtensionType),
        values=values or {"type": "number", "user": only or ""},
        errors=errors or {},
        notice=notice,
        help=EXTENSION_HELP,
        only=only,
    )


@router.get("/users/extensions")
async def extensions_page(request: Request, viewer: Administrator, done: str = "") -> Response:
    return await _extensions_page(request, viewer, notice=NOTICES.get(done))


@router.post("/users/extensions")
async def add_extension(request: Request, viewer: Administrator) -> Response:
    form = await request.form()
    values = {name: _text(form, name) for name in _EXTENSION_INPUTS}
    try:
        extension = parse_extension(values, zone=zone_of(viewer).key)
        await web_state(request).archive.extensions.add(extension, actor=viewer.login)
    except ConfigurationError as error:
        return await _extensions_page(
            request,
            viewer,
            values=values,
            errors={error.field or "form": error.reason},
            status_code=422,
        )
    return RedirectResponse("/users/extensions?done=extension_added", status_code=303)


@router.post("/users/extensions/{extension_id}/delete")
async def delete_extension(
    request: Request, viewer: Administrator, extension_id: ArchiveId
) -> Response:
    try:
        await web_state(request).archive.extensions.delete(extension_id, actor=viewer.login)
    except ConfigurationError:
        raise NotFoundError("no such extension") from None
    return RedirectResponse("/users/extensions?done=extension_deleted", status_code=303)


# -- users ---------------------------------------------------------------------------------


def user_values(user: User, account: Account | None) -> dict[str, str]:
    """The inputs of `user`'s form (never the password)."""
    return {
        "login": user.login,
        "name": user.name,
        "role": user.role.value,
        "supervisor": user.supervisor or "",
        "partitions": ", ".join(user.partitions),
        "recorded": "on" if user.recorded else "",
        "time_zone": (account.time_zone if account else None) or "",
    }


async def _user_page(
    request: Request,
    viewer: Viewer,
    *,
    user: User | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    state = web_state(request)
    account = await state.archive.accounts.get(user.login) if user else None
    everyone = await state.archive.users.list()
    return render(
        request,
        "user.html",
        viewer,
        status_code=status_code,
        user=user,
        values=values,
        errors=errors or {},
        roles=list(Role),
        supervisors=[u for u in everyone if user is None or u.login != user.login],
        zones=sorted(available_timezones()),
        help=USER_HELP,
        can_sign_in=bool(account and account.password_hash),
        extensions=await state.archive.extensions.list(user=user.login) if user else [],
        action=user_url(user.login) if user else "/users/new",
    )


async def _save(request: Request, viewer: Viewer, stored: User | None) -> Response:
    form = await request.form()
    values = {name: _text(form, name) for name in _USER_INPUTS}
    if stored is not None:
        values["login"] = stored.login
    raw = {
        "login": values["login"],
        "name": values["name"],
        "role": values["role"],
        "supervisor": values["supervisor"],
        "partitions": values["partitions"],
        "recorded": bool(values["recorded"]),
    }
    try:
        await store_user(
            web_state(request),
            raw,
            time_zone=values["time_zone"],
            password=_text(form, "password") or None,
            actor=viewer.login,
            new=stored is None,
        )
    except ConfigurationError as error:
        return await _user_page(
            request,
            viewer,
            user=stored,
            values=values,
            errors={error.field or "form": error.reason},
            status_code=422,
        )
    return RedirectResponse(f"/users?done={'added' if stored is None else 'saved'}", 303)


def user_url(login: str, action: str = "edit") -> str:
    """The page of the user `login` (any login: `new`, `extensions`, or one with `/` or `?`)."""
    return f"/users/{action}/{quote(login, safe='')}"


async def _stored(request: Request, login: str) -> User:
    try:
        return await web_state(request).archive.users.get(login)
    except ConfigurationError:
        raise NotFoundError("no such user") from None


@router.get("/users")
async def users_page(request: Request, viewer: Administrator, done: str = "") -> Response:
    state = web_state(request)
    users = await state.archive.users.list()
    accounts = {u.login: await state.archive.accounts.get(u.login) for u in users}
    extensions: dict[str, int] = {}
    for extension in await state.archive.extensions.list():
        extensions[extension.user] = extensions.get(extension.user, 0) + 1
    return render(
        request,
        "users.html",
        viewer,
        users=users,
        accounts=accounts,
        extensions=extensions,
        notice=NOTICES.get(done),
    )


@router.get("/users/new")
async def new_user_page(request: Request, viewer: Administrator) -> Response:
    values: dict[str, Any] = dict.fromkeys(_USER_INPUTS, "")
    values |= {"role": Role.AGENT.value, "recorded": "on"}
    return await _user_page(request, viewer, user=None, values=values)


@router.post("/users/new")
async def add_user(request: Request, viewer: Administrator) -> Response:
    return await _save(request, viewer, None)


@router.get("/users/edit/{login:path}")
async def user_page(request: Request, viewer: Administrator, login: str) -> Response:
    user = await _stored(request, login)
    account = await web_state(request).archive.accounts.get(login)
    return await _user_page(request, viewer, user=user, values=user_values(user, account))


@router.post("/users/edit/{login:path}")
async def change_user(request: Request, viewer: Administrator, login: str) -> Response:
    return await _save(request, viewer, await _stored(request, login))


@router.post("/users/delete/{login:path}")
async def delete_user(request: Request, viewer: Administrator, login: str) -> Response:
    user = await _stored(request, login)
    try:
        await web_state(request).archive.users.delete(login, actor=viewer.login)
    except ConfigurationError as error:
        account = await web_state(request).archive.accounts.get(login)
        return await _user_page(
            request,
            viewer,
            user=user,
            values=user_values(user, account),
            errors={"delete": error.reason},
            status_code=409,
        )
    return RedirectResponse("/users?done=deleted", status_code=303)


__all__ = ["router", "user_url", "user_values"]
