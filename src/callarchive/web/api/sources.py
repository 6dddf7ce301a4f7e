"""`/api/v1/import-sources`: list, add, read, change, delete and test import sources.

Administrators only. Secrets (client secret, TLS key password, proxy password) are write-only:
no answer ever holds one, only whether it is set. On PUT, a secret left out (or null) keeps
the stored one; an empty string removes an optional one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from callarchive.configuration import (
    SECRET_FIELDS,
    Codec,
    FetchStrategy,
    ImportSource,
    check_files,
    parse_import_source,
)
from callarchive.errors import CallarchiveError, ConfigurationError
from callarchive.web.api.problems import NOT_FOUND, Problem
from callarchive.web.auth import Administrator, NotFoundError
from callarchive.web.forms import SOURCE_HELP
from callarchive.web.state import WebState, web_state

router = APIRouter(tags=["import sources"])

# A stored secret is kept only while what it belongs to is still configured.
_COMPANIONS = {
    "client_secret": "client_id",
    "tls_key_password": "tls_key_file",
    "proxy_password": "proxy_username",
}
_KEEP = " Write-only: never returned. On PUT, null keeps the stored one; '' removes it."
PROBE_RANGE = dt.timedelta(hours=1)
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "Refused: still in use"}
}


def _help(name: str, extra: str = "") -> Any:
    return Field(description=SOURCE_HELP[name] + extra)


class ImportSourceIn(BaseModel):
    """An import source as written: every item of the seed's table."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, _help("name")]
    client_id: Annotated[str, _help("client_id")]
    client_secret: Annotated[str | None, _help("client_secret", _KEEP)] = None
    auth_url: Annotated[str, _help("auth_url")]
    api_url: Annotated[str, _help("api_url")]
    tls_certificate: Annotated[str | None, _help("tls_certificate")] = None
    tls_key_file: Annotated[str | None, _help("tls_key_file")] = None
    tls_key_password: Annotated[str | None, _help("tls_key_password", _KEEP)] = None
    tls_trust_list: Annotated[str | None, _help("tls_trust_list")] = None
    proxy_address: Annotated[str | None, _help("proxy_address")] = None
    proxy_port: Annotated[int | None, _help("proxy_port")] = None
    proxy_username: Annotated[str | None, _help("proxy_username")] = None
    proxy_password: Annotated[str | None, _help("proxy_password", _KEEP)] = None
    codec: Annotated[Codec, _help("codec")]
    recording_timezone: Annotated[str, _help("recording_timezone")]
    recording_start: Annotated[
        str, _help("recording_start", " ISO 8601; without an offset, in the Recording Timezone.")
    ]
    max_recording_length_min: Annotated[int, _help("max_recording_length_min")]
    availability_delay_min: Annotated[int, _help("availability_delay_min")]
    cache_lifetime_min: Annotated[int, _help("cache_lifetime_min")]
    delete_on_completion: Annotated[bool, _help("delete_on_completion")] = False
    fetch_strategy: Annotated[FetchStrategy, _help("fetch_strategy")] = FetchStrategy.TRANSCODE
    internal_number_patterns: Annotated[list[str], _help("internal_number_patterns")] = []
    batch_duration_min: Annotated[int, _help("batch_duration_min")] = 60
    request_budget_per_minute: Annotated[int, _help("request_budget_per_minute")] = 300


class ImportSourceOut(BaseModel):
    """A stored import source; secrets only say whether they are set."""

    id: int
    name: str
    client_id: str
    client_secret_set: bool
    auth_url: str
    api_url: str
    tls_certificate: str | None
    tls_key_file: str | None
    tls_key_password_set: bool
    tls_trust_list: str | None
    proxy_address: str | None
    proxy_port: int | None
    proxy_username: str | None
    proxy_password_set: bool
    codec: Codec
    recording_timezone: str
    recording_start: dt.datetime = Field(description="In the Recording Timezone.")
    max_recording_length_min: int
    availability_delay_min: int
    cache_lifetime_min: int
    delete_on_completion: bool
    fetch_strategy: FetchStrategy
    internal_number_patterns: list[str]
    batch_duration_min: int
    request_budget_per_minute: int


class ProbeOut(BaseModel):
    """What Test connection found over the last hour, or why it failed."""

    ok: bool
    since: dt.datetime
    until: dt.datetime
    token_expires_in_s: int | None = None
    conversations: int | None = None
    warnings: list[str] = []
    error: str | None = None


def source_out(source: ImportSource) -> ImportSourceOut:
    """The API form of a stored import source, without its secrets."""
    values: dict[str, Any] = {
        name: getattr(source, name)
        for name in ImportSourceOut.model_fields
        if not name.endswith("_set") and name != "id"
    }
    values["recording_start"] = source.recording_start.astimezone(source.zone)
    values["internal_number_patterns"] = list(source.internal_number_patterns)
    secrets = {f"{name}_set": getattr(source, name) is not None for name in SECRET_FIELDS}
    return ImportSourceOut(id=source.id or 0, **values, **secrets)


def with_stored_secrets(raw: Mapping[str, Any], stored: ImportSource | None) -> dict[str, Any]:
    """`raw` with each secret given as None replaced by the stored one (while the item it
    belongs to is still set); an empty secret stays empty, which removes it."""
    filled = dict(raw)
    for secret, companion in _COMPANIONS.items():
        kept = getattr(stored, secret) if stored is not None else None
        if filled.get(secret) is None and kept is not None and filled.get(companion):
            filled[secret] = kept.reveal()
    return filled


def build_source(raw: Mapping[str, Any], stored: ImportSource | None) -> ImportSource:
    """The validated import source of `raw` (ids and secrets kept from `stored`);
    `ConfigurationError` naming the first wrong item."""
    source = parse_import_source(
        with_stored_secrets(raw, stored), id=stored.id if stored is not None else None
    )
    check_files(source)
    return source


async def probe(state: WebState, source: ImportSource) -> ProbeOut:
    """Test connection: a token and the conversations of the last hour, or the error."""
    until = state.now()
    since = until - PROBE_RANGE
    if state.probe is None:
        return ProbeOut(
            ok=False, since=since, until=until, error="no connection test in this process"
        )
    try:
        found = await state.probe(source, since=since, until=until)
    except CallarchiveError as error:
        return ProbeOut(ok=False, since=since, until=until, error=str(error))
    return ProbeOut(
        ok=True,
        since=since,
        until=until,
        token_expires_in_s=found.token_expires_in_s,
        conversations=found.conversations,
        warnings=list(found.warnings),
    )


def _raw(body: ImportSourceIn) -> dict[str, Any]:
    return body.model_dump()


@router.get("/import-sources")
async def list_sources(request: Request, viewer: Administrator) -> list[ImportSourceOut]:
    """Every import source, by name."""
    del viewer
    return [source_out(s) for s in await web_state(request).archive.import_sources.list()]


@router.post("/import-sources", status_code=201)
async def add_source(
    request: Request, viewer: Administrator, body: ImportSourceIn
) -> ImportSourceOut:
    """Add an import source (its client secret is mandatory)."""
    source = build_source(_raw(body), None)
    stored = await web_state(request).archive.import_sources.add(source, actor=viewer.login)
    return source_out(stored)


@router.get("/import-sources/{name}", responses=NOT_FOUND)
async def get_source(request: Request, viewer: Administrator, name: str) -> ImportSourceOut:
    """One import source."""
    del viewer
    return source_out(await stored_source(web_state(request), name))


@router.put("/import-sources/{name}", responses=NOT_FOUND)
async def change_source(
    request: Request, viewer: Administrator, name: str, body: ImportSourceIn
) -> ImportSourceOut:
    """Replace an import source's items (it may be renamed); secrets left out are kept."""
    state = web_state(request)
    source = build_source(_raw(body), await stored_source(state, name))
    return source_out(await state.archive.import_sources.save(source, actor=viewer.login))


@router.delete(
    "/import-sources/{name}",
    status_code=204,
    responses={**NOT_FOUND, **CONFLICT},
)
async def delete_source(request: Request, viewer: Administrator, name: str) -> Response:
    """Delete an import source no policy uses and no conversation came from."""
    state = web_state(request)
    await stored_source(state, name)
    try:
        await state.archive.import_sources.delete(name, actor=viewer.login)
    except ConfigurationError as error:
        raise HTTPException(409, error.reason) from None
    return Response(status_code=204)


@router.post("/import-sources/{name}/test", responses=NOT_FOUND)
async def test_source(request: Request, viewer: Administrator, name: str) -> ProbeOut:
    """Test connection: get a token and count the conversations of the last hour."""
    del viewer
    state = web_state(request)
    source = await stored_source(state, name)
    try:
        check_files(source)
    except CallarchiveError as error:
        now = state.now()
        return ProbeOut(ok=False, since=now - PROBE_RANGE, until=now, error=str(error))
    return await probe(state, source)


async def stored_source(state: WebState, name: str) -> ImportSource:
    """The import source `name`; `NotFoundError` when there is none."""
    try:
        return await state.archive.import_sources.get(name)
    except ConfigurationError:
        raise NotFoundError(f"no import source named {name!r}") from None


__all__ = [
    "ImportSourceIn",
    "ImportSourceOut",
    "ProbeOut",
    "build_source",
    "probe",
    "router",
    "source_out",
    "stored_source",
    "with_stored_secrets",
]
