"""`/api/v1/api-keys`: API keys for automation. Every user creates, lists and revokes their own;
administrators see and revoke everyone's and may create one for another user (an integration's
account). A key is shown once, when created; the archive keeps only its sha256 and its prefix.
Every creation and revocation is written to the audit log.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from callarchive.archive import ApiKey
from callarchive.errors import ConfigurationError
from callarchive.web import security
from callarchive.web.api.ids import ArchiveId
from callarchive.web.api.problems import NOT_FOUND
from callarchive.web.auth import CurrentViewer, ForbiddenError, NotFoundError, Viewer
from callarchive.web.state import WebState, web_state

router = APIRouter(tags=["api keys"])

MAX_NAME = 200


class ApiKeyOut(BaseModel):
    """An API key, without its secret."""

    id: int
    name: str
    prefix: str = Field(description="the key's first characters, to recognise it")
    login: str = Field(description="the user it acts as")
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewApiKey(ApiKeyOut):
    """A key just created: `key` is shown this once and cannot be read again."""

    key: str


class ApiKeyIn(BaseModel):
    """A key to create."""

    name: str = Field(min_length=1, max_length=MAX_NAME, description="what it is for")
    login: str | None = Field(
        None, max_length=200, description="administrators only: the user it acts as"
    )


def api_key_out(key: ApiKey) -> ApiKeyOut:
    """The API form of a stored key."""
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        login=key.login,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


async def visible_keys(state: WebState, viewer: Viewer, *, everyone: bool = False) -> list[ApiKey]:
    """The viewer's keys, or, for an administrator asking for `everyone`, all keys."""
    if everyone and viewer.is_administrator:
        return await state.archive.accounts.api_keys()
    return await state.archive.accounts.api_keys(viewer.login)


async def create_key(
    state: WebState, viewer: Viewer, name: str, login: str | None = None
) -> tuple[ApiKey, str]:
    """A new key acting as `login` (the viewer when None) and its secret.

    `ForbiddenError` when someone other than an administrator names another user;
    `ConfigurationError` for a blank name or an unknown login.
    """
    owner = (login or "").strip() or viewer.login
    if any(ord(c) < 32 for c in owner):
        raise ConfigurationError("expected a login on one line", field="login")
    if owner != viewer.login and not viewer.is_administrator:
        raise ForbiddenError("only administrators may create keys for other users")
    if not name.strip() or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise ConfigurationError(
            f"expected a name of 1 to {MAX_NAME} characters on one line, saying what the key "
            "is for",
            field="name",
        )
    secret, prefix = security.new_api_key()
    stored = await state.archive.accounts.add_api_key(
        owner,
        name=name.strip(),
        key_sha256=security.digest(secret),
        prefix=prefix,
        actor=viewer.login,
    )
    return stored, secret


async def revoke_key(state: WebState, viewer: Viewer, key_id: int) -> None:
    """Revoke a key the viewer may manage (their own; any, for an administrator).

    `NotFoundError` for a key that does not exist, is revoked already or is not theirs.
    """
    keys = await visible_keys(state, viewer, everyone=True)
    if not any(k.id == key_id and k.revoked_at is None for k in keys):
        raise NotFoundError("no such API key")
    if not await state.archive.accounts.revoke_api_key(key_id, actor=viewer.login):
        raise NotFoundError("no such API key")


@router.get("/api-keys")
async def list_keys(request: Request, viewer: CurrentViewer) -> list[ApiKeyOut]:
    """Your API keys, newest first (an administrator's answer holds every user's)."""
    keys = await visible_keys(web_state(request), viewer, everyone=True)
    return [api_key_out(k) for k in keys]


@router.post("/api-keys", status_code=201)
async def add_key(request: Request, viewer: CurrentViewer, body: ApiKeyIn) -> NewApiKey:
    """Create an API key; its secret `key` is in this answer only."""
    stored, secret = await create_key(web_state(request), viewer, body.name, body.login)
    return NewApiKey(**api_key_out(stored).model_dump(), key=secret)


@router.delete("/api-keys/{key_id}", status_code=204, responses=NOT_FOUND)
async def delete_key(request: Request, viewer: CurrentViewer, key_id: ArchiveId) -> Response:
    """Revoke an API key: it is refused from now on."""
    await revoke_key(web_state(request), viewer, key_id)
    return Response(status_code=204)


__all__ = [
    "ApiKeyOut",
    "NewApiKey",
    "api_key_out",
    "create_key",
    "revoke_key",
    "router",
    "visible_keys",
]
