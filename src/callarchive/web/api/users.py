"""`/api/v1/users` and `/api/v1/extensions`: who is recorded, who sees what, who signs in.

Administrators only. A password is write-only: it is checked (`password_problem`), stored as
its argon2 hash, and no answer holds it or its hash, only whether the user can sign in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from callarchive.archive import Account
from callarchive.configuration import (
    Extension,
    ExtensionType,
    Role,
    User,
    parse_extension,
    parse_user,
)
from callarchive.errors import ConfigurationError
from callarchive.web.api.ids import ArchiveId
from callarchive.web.api.problems import NOT_FOUND, Problem
from callarchive.web.auth import Administrator, NotFoundError
from callarchive.web.forms import EXTENSION_HELP, USER_HELP
from callarchive.web.security import hash_password, password_problem
from callarchive.web.state import WebState, web_state

router = APIRouter(tags=["users"])
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "Refused: yourself, or a user with recordings"}
}


def _help(text: str) -> Any:
    return Field(description=text)


class UserChange(BaseModel):
    """A user's items as written (the login is the path's)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, _help(USER_HELP["name"])]
    role: Annotated[Role, _help(USER_HELP["role"])] = Role.AGENT
    supervisor: Annotated[str | None, _help(USER_HELP["supervisor"])] = None
    partitions: Annotated[list[str], _help(USER_HELP["partitions"])] = []
    recorded: Annotated[bool, _help(USER_HELP["recorded"])] = True
    time_zone: Annotated[str | None, _help(USER_HELP["time_zone"] + " null: UTC.")] = None
    password: Annotated[
        str | None, _help("Write-only: a new password (at least 12 characters); null keeps it.")
    ] = None


class UserIn(UserChange):
    """A new user."""

    login: Annotated[str, _help(USER_HELP["login"])]


class UserOut(BaseModel):
    """A stored user (never a password or its hash)."""

    login: str
    name: str
    role: Role
    supervisor: str | None
    partitions: list[str]
    recorded: bool
    time_zone: str | None
    can_sign_in: bool = Field(description="whether a password is set")


class ExtensionIn(BaseModel):
    """A number or address owned by a user for a period."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[ExtensionType, _help(EXTENSION_HELP["type"])]
    value: Annotated[str, _help(EXTENSION_HELP["value"])]
    user: Annotated[str, _help("The owner's login.")]
    valid_from: Annotated[dt.datetime | None, _help("From when; without offset, UTC.")] = None
    valid_to: Annotated[dt.datetime | None, _help("Until when (exclusive).")] = None


class ExtensionOut(BaseModel):
    """A stored extension."""

    id: int
    type: ExtensionType
    value: str
    user: str
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None


def user_out(user: User, account: Account | None) -> UserOut:
    """The API form of a user and their account."""
    return UserOut(
        login=user.login,
        name=user.name,
        role=user.role,
        supervisor=user.supervisor,
        partitions=list(user.partitions),
        recorded=user.recorded,
        time_zone=account.time_zone if account else None,
        can_sign_in=bool(account and account.password_hash),
    )


def extension_out(extension: Extension) -> ExtensionOut:
    """The API form of an extension."""
    return ExtensionOut(
        id=extension.id or 0,
        type=extension.type,
        value=extension.value,
        user=extension.user,
        valid_from=extension.valid_from,
        valid_to=extension.valid_to,
    )


def checked_zone(raw: str | None) -> str | None:
    """A time zone name, None for none (UTC); `ConfigurationError` (time_zone) otherwise."""
    zone = (raw or "").strip()
    if zone and zone != "UTC" and zone not in available_timezones():
        raise ConfigurationError(
            f"{zone!r} is not a time zone; expected a name such as Europe/London",
            field="time_zone",
        )
    return zone or None


async def store_user(
    state: WebState,
    raw: dict[str, Any],
    *,
    time_zone: str | None,
    password: str | None,
    actor: str,
    new: bool,
) -> User:
    """Validate everything, then add or change the user, their time zone and password.

    `ConfigurationError` naming the wrong item; nothing is stored then.
    """
    user = parse_user(raw)
    zone = checked_zone(time_zone)
    problem = password_problem(password) if password else None
    if problem:
        raise ConfigurationError(problem, field="password")
    if not new and user.login == actor and user.role is not Role.ADMINISTRATOR:
        raise ConfigurationError(
            "you cannot take away your own administrator role; expected another "
            "administrator to do it",
            field="role",
        )
    archive = state.archive
    if not new:  # the retention override is set apart (`callarchive retention set`): kept
        known = {u.login: u.retention_days for u in await archive.users.list()}
        user = dataclasses.replace(user, retention_days=known.get(user.login))
    stored = await (archive.users.add if new else archive.users.save)(user, actor=actor)
    account = await archive.accounts.get(user.login)
    if account is not None and account.time_zone != zone:
        await archive.accounts.set_time_zone(user.login, zone, actor=actor)
    if password:
        await archive.accounts.set_password(user.login, hash_password(password), actor=actor)
    return stored


def _raw(body: UserChange, login: str) -> dict[str, Any]:
    raw = body.model_dump(exclude={"time_zone", "password", "login"})
    return {**raw, "login": login, "role": body.role.value}


async def stored_user(state: WebState, login: str) -> User:
    """The user `login`; `NotFoundError` when there is none."""
    try:
        return await state.archive.users.get(login)
    except ConfigurationError:
        raise NotFoundError(f"no user with login {login!r}") from None


async def _out(state: WebState, user: User) -> UserOut:
    return user_out(user, await state.archive.accounts.get(user.login))


@router.get("/users")
async def list_users(request: Request, viewer: Administrator) -> list[UserOut]:
    """Every user, by login."""
    del viewer
    state = web_state(request)
    return [await _out(state, user) for user in await state.archive.users.list()]


@router.post("/users", status_code=201)
async def add_user(request: Request, viewer: Administrator, body: UserIn) -> UserOut:
    """Add a user (with a password, they can sign in)."""
    state = web_state(request)
    user = await store_user(
        state,
        _raw(body, body.login),
        time_zone=body.time_zone,
        password=body.password,
        actor=viewer.login,
        new=True,
    )
    return await _out(state, user)


@router.get("/users/{login}", responses=NOT_FOUND)
async def get_user(request: Request, viewer: Administrator, login: str) -> UserOut:
    """One user."""
    del viewer
    state = web_state(request)
    return await _out(state, await stored_user(state, login))


@router.put("/users/{login}", responses={**NOT_FOUND, **CONFLICT})
async def change_user(
    request: Request, viewer: Administrator, login: str, body: UserChange
) -> UserOut:
    """Replace a user's items; a password given replaces theirs (and ends their sessions)."""
    state = web_state(request)
    await stored_user(state, login)
    user = await store_user(
        state,
        _raw(body, login),
        time_zone=body.time_zone,
        password=body.password,
        actor=viewer.login,
        new=False,
    )
    return await _out(state, user)


@router.delete("/users/{login}", status_code=204, responses={**NOT_FOUND, **CONFLICT})
async def delete_user(request: Request, viewer: Administrator, login: str) -> Response:
    """Delete a user with their extensions (not yourself, not a user with recordings)."""
    state = web_state(request)
    await stored_user(state, login)
    try:
        await state.archive.users.delete(login, actor=viewer.login)
    except ConfigurationError as error:
        raise HTTPException(409, error.reason) from None
    return Response(status_code=204)


@router.get("/extensions")
async def list_extensions(
    request: Request, viewer: Administrator, user: str | None = None
) -> list[ExtensionOut]:
    """Every extension (of one user when given), by type and value."""
    del viewer
    found = await web_state(request).archive.extensions.list(user=user)
    return [extension_out(e) for e in found]


@router.post("/extensions", status_code=201)
async def add_extension(request: Request, viewer: Administrator, body: ExtensionIn) -> ExtensionOut:
    """Add an extension; refused when the value belongs to someone else in the period."""
    extension = parse_extension(body.model_dump(mode="python"))
    stored = await web_state(request).archive.extensions.add(extension, actor=viewer.login)
    return extension_out(stored)


@router.delete("/extensions/{extension_id}", status_code=204, responses=NOT_FOUND)
async def delete_extension(
    request: Request, viewer: Administrator, extension_id: ArchiveId
) -> Response:
    """Delete an extension."""
    try:
        await web_state(request).archive.extensions.delete(extension_id, actor=viewer.login)
    except ConfigurationError:
        raise NotFoundError("no such extension") from None
    return Response(status_code=204)


__all__ = [
    "ExtensionIn",
    "ExtensionOut",
    "UserChange",
    "UserIn",
    "UserOut",
    "checked_zone",
    "extension_out",
    "router",
    "store_user",
    "user_out",
]
