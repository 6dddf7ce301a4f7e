"""Data > Import Sources: list, add, edit, delete and test the Genesys Cloud import sources.

A form that does not validate comes back with what was typed and the error next to its item.
Secrets are never put back into a page: their inputs are always empty, and an empty one keeps
the stored secret (a "remove" box clears an optional one). Test connection probes what the
form holds, saved or not.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from callarchive.configuration import SECRET_FIELDS, ImportSource
from callarchive.errors import ConfigurationError
from callarchive.web.api.ids import ArchiveId
from callarchive.web.api.sources import ProbeOut, build_source, probe
from callarchive.web.auth import Administrator, NotFoundError, Viewer
from callarchive.web.forms import SOURCE_FORM, SOURCE_TYPE_HELP
from callarchive.web.state import WebState, web_state
from callarchive.web.templating import render

router = APIRouter(include_in_schema=False)
BASE = "/data/import-sources"
NOTICES = {
    "added": "The import source was added.",
    "saved": "The import source was saved.",
    "deleted": "The import source was deleted.",
}
_DEFAULTS = {"fetch_strategy": "transcode", "batch_duration_min": "60"}
_DEFAULTS |= {"request_budget_per_minute": "300", "recording_timezone": "UTC"}


def form_values(source: ImportSource) -> dict[str, str]:
    """The text of every input of `source`'s form; secret inputs stay empty."""
    values: dict[str, str] = {}
    for field in SOURCE_FORM:
        value = getattr(source, field.name)
        if field.kind == "secret" or value is None:
            values[field.name] = ""
        elif field.name == "recording_start":
            values[field.name] = source.recording_start.astimezone(source.zone).isoformat(" ")
        elif field.name == "internal_number_patterns":
            values[field.name] = "\n".join(value)
        elif isinstance(value, bool):
            values[field.name] = "on" if value else ""
        else:
            values[field.name] = str(getattr(value, "value", value))
    return values


def raw_items(form: FormData) -> dict[str, Any]:
    """The configuration items a submitted form holds.

    An empty secret input is None (keep the stored one) unless its "remove" box is ticked.
    """
    raw: dict[str, Any] = {}
    for field in SOURCE_FORM:
        value = form.get(field.name)
        text = value if isinstance(value, str) else ""
        if field.kind == "checkbox":
            raw[field.name] = bool(text)
        elif field.kind == "secret":
            raw[field.name] = text or ("" if form.get(f"remove_{field.name}") else None)
        else:
            raw[field.name] = text
    return raw


def typed_values(form: FormData) -> dict[str, str]:
    """What was typed, to show again (never the secrets)."""
    return {
        field.name: "" if field.kind == "secret" else str(form.get(field.name) or "")
        for field in SOURCE_FORM
    }


async def _page(
    request: Request,
    viewer: Viewer,
    *,
    source: ImportSource | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    result: ProbeOut | None = None,
    status_code: int = 200,
) -> Response:
    state = web_state(request)
    used_by = []
    if source is not None:
        used_by = [
            p.name for p in await state.archive.policies.list() if source.name in p.import_sources
        ]
    return render(
        request,
        "source_form.html",
        viewer,
        status_code=status_code,
        source=source,
        fields=SOURCE_FORM,
        values=values,
        errors=errors or {},
        result=result,
        used_by=used_by,
        type_help=SOURCE_TYPE_HELP,
        zones=sorted(available_timezones()),
        action=f"{BASE}/{source.id}" if source is not None else f"{BASE}/new",
        secrets_set={
            name for name in SECRET_FIELDS if source is not None and getattr(source, name)
        },
    )


def _errors(error: ConfigurationError) -> dict[str, str]:
    return {error.field or "form": error.reason}


async def _stored(state: WebState, source_id: ArchiveId) -> ImportSource:
    try:
        return await state.archive.import_sources.get_by_id(source_id)
    except ConfigurationError:
        raise NotFoundError("no such import source") from None


@router.get(BASE)
async def sources_page(request: Request, viewer: Administrator, done: str = "") -> Response:
    state = web_state(request)
    policies = await state.archive.policies.list()
    sources = await state.archive.import_sources.list()
    used_by = {s.name: [p.name for p in policies if s.name in p.import_sources] for s in sources}
    return render(
        request,
        "sources.html",
        viewer,
        sources=sources,
        used_by=used_by,
        notice=NOTICES.get(done),
    )


@router.get(f"{BASE}/new")
async def new_source_page(request: Request, viewer: Administrator) -> Response:
    values = {field.name: _DEFAULTS.get(field.name, "") for field in SOURCE_FORM}
    return await _page(request, viewer, source=None, values=values)


@router.post(f"{BASE}/new")
async def add_source(request: Request, viewer: Administrator) -> Response:
    form = await request.form()
    try:
        source = build_source(raw_items(form), None)
        await web_state(request).archive.import_sources.add(source, actor=viewer.login)
    except ConfigurationError as error:
        return await _page(
            request,
            viewer,
            source=None,
            values=typed_values(form),
            errors=_errors(error),
            status_code=422,
        )
    return RedirectResponse(f"{BASE}?done=added", status_code=303)


@router.post(f"{BASE}/new/test")
async def test_new_source(request: Request, viewer: Administrator) -> Response:
    return await _test(request, viewer, None)


@router.get(f"{BASE}/{{source_id}}")
async def source_page(request: Request, viewer: Administrator, source_id: ArchiveId) -> Response:
    source = await _stored(web_state(request), source_id)
    return await _page(request, viewer, source=source, values=form_values(source))


@router.post(f"{BASE}/{{source_id}}")
async def change_source(request: Request, viewer: Administrator, source_id: ArchiveId) -> Response:
    state = web_state(request)
    stored = await _stored(state, source_id)
    form = await request.form()
    try:
        source = build_source(raw_items(form), stored)
        await state.archive.import_sources.save(source, actor=viewer.login)
    except ConfigurationError as error:
        return await _page(
            request,
            viewer,
            source=stored,
            values=typed_values(form),
            errors=_errors(error),
            status_code=422,
        )
    return RedirectResponse(f"{BASE}?done=saved", status_code=303)


@router.post(f"{BASE}/{{source_id}}/test")
async def test_source(request: Request, viewer: Administrator, source_id: ArchiveId) -> Response:
    return await _test(request, viewer, await _stored(web_state(request), source_id))


async def _test(request: Request, viewer: Viewer, stored: ImportSource | None) -> Response:
    """Probe what the form holds (secrets left empty: the stored ones), without saving."""
    form = await request.form()
    try:
        source = build_source(raw_items(form), stored)
    except ConfigurationError as error:
        return await _page(
            request,
            viewer,
            source=stored,
            values=typed_values(form),
            errors=_errors(error),
            status_code=422,
        )
    result = await probe(web_state(request), source)
    return await _page(request, viewer, source=stored, values=typed_values(form), result=result)


@router.post(f"{BASE}/{{source_id}}/delete")
async def delete_source(request: Request, viewer: Administrator, source_id: ArchiveId) -> Response:
    state = web_state(request)
    stored = await _stored(state, source_id)
    try:
        await state.archive.import_sources.delete(stored.name, actor=viewer.login)
    except ConfigurationError as error:
        return await _page(
            request,
            viewer,
            source=stored,
            values=form_values(stored),
            errors={"delete": error.reason},
            status_code=409,
        )
    return RedirectResponse(f"{BASE}?done=deleted", status_code=303)


__all__ = ["form_values", "raw_items", "router"]
