"""Data > Data Management Policies: list, add, edit, enable or disable, delete, run now, history.

A policy's page is its form (import sources, schedule, Execute Only on Selected Servers,
enabled), its actions and its run history: the batch reports of its runs, each with the lines of
the seed's batch notification.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from callarchive.configuration import Policy, parse_policy
from callarchive.errors import ConfigurationError
from callarchive.web.api.ids import ArchiveId
from callarchive.web.api.policies import history, run_now
from callarchive.web.auth import Administrator, NotFoundError, Viewer
from callarchive.web.forms import POLICY_HELP
from callarchive.web.state import WebState, web_state
from callarchive.web.templating import render

router = APIRouter(include_in_schema=False)
BASE = "/data/policies"
NOTICES = {
    "added": "The policy was added.",
    "saved": "The policy was saved.",
    "deleted": "The policy was deleted.",
    "enabled": "The policy was enabled.",
    "disabled": "The policy was disabled.",
    "run": "Runs of the policy's import sources were started; they appear below when done.",
}
_NEW = {
    "name": "",
    "import_sources": [],
    "schedule_kind": "every",
    "every_minutes": "5",
    "cron": "",
    "active_from": "",
    "active_to": "",
    "schedule_timezone": "UTC",
    "selected_servers": "",
    "servers": "",
    "enabled": "on",
}


def form_values(policy: Policy) -> dict[str, Any]:
    """The inputs of `policy`'s form."""
    hours = policy.schedule.active_hours
    return {
        "name": policy.name,
        "import_sources": list(policy.import_sources),
        "schedule_kind": "cron" if policy.schedule.cron else "every",
        "every_minutes": str(policy.schedule.every_minutes),
        "cron": policy.schedule.cron or "",
        "active_from": f"{hours.start:%H:%M}" if hours else "",
        "active_to": f"{hours.end:%H:%M}" if hours else "",
        "schedule_timezone": policy.schedule.timezone,
        "selected_servers": "on" if policy.servers else "",
        "servers": ", ".join(policy.servers),
        "enabled": "on" if policy.enabled else "",
    }


def typed_values(form: FormData) -> dict[str, Any]:
    """What was typed, to show again."""
    values: dict[str, Any] = {key: str(form.get(key) or "") for key in _NEW}
    values["import_sources"] = [str(v) for v in form.getlist("import_sources")]
    return values


def raw_items(values: dict[str, Any]) -> dict[str, Any]:
    """The policy items of a submitted form; `ConfigurationError` for an empty chosen input."""
    schedule: dict[str, Any] = {"timezone": values["schedule_timezone"]}
    if values["schedule_kind"] == "cron":
        if not values["cron"].strip():
            raise ConfigurationError("mandatory; expected a cron expression", field="schedule.cron")
        schedule["cron"] = values["cron"]
    else:
        if not values["every_minutes"].strip():
            raise ConfigurationError("mandatory; expected minutes between runs", field="schedule")
        schedule["every_minutes"] = values["every_minutes"]
    if values["active_from"] or values["active_to"]:
        schedule["active_hours"] = {"from": values["active_from"], "to": values["active_to"]}
    servers = values["servers"] if values["selected_servers"] else ""
    if values["selected_servers"] and not servers.strip():
        raise ConfigurationError(
            "Execute Only on Selected Servers is on; expected one server name or more",
            field="servers",
        )
    return {
        "name": values["name"],
        "import_sources": values["import_sources"],
        "schedule": schedule,
        "enabled": bool(values["enabled"]),
        "servers": servers,
    }


async def _page(
    request: Request,
    viewer: Viewer,
    *,
    policy: Policy | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    state = web_state(request)
    return render(
        request,
        "policy.html",
        viewer,
        status_code=status_code,
        policy=policy,
        values=values,
        errors=errors or {},
        notice=notice,
        help=POLICY_HELP,
        sources=[s.name for s in await state.archive.import_sources.list()],
        servers=[s.name for s in await state.archive.servers.list()],
        zones=sorted(available_timezones()),
        reports=await history(state, policy) if policy is not None else [],
        action=f"{BASE}/{policy.id}" if policy is not None else f"{BASE}/new",
    )


async def _stored(state: WebState, policy_id: ArchiveId) -> Policy:
    try:
        return await state.archive.policies.get_by_id(policy_id)
    except ConfigurationError:
        raise NotFoundError("no such policy") from None


def _back(policy: Policy, form: FormData, done: str) -> Response:
    target = BASE if form.get("back") == "list" else f"{BASE}/{policy.id}"
    return RedirectResponse(f"{target}?done={done}", status_code=303)


@router.get(BASE)
async def policies_page(request: Request, viewer: Administrator, done: str = "") -> Response:
    state = web_state(request)
    return render(
        request,
        "policies.html",
        viewer,
        policies=await state.archive.policies.list(),
        notice=NOTICES.get(done),
        no_scheduler=state.run_now is None,
    )


@router.get(f"{BASE}/new")
async def new_policy_page(request: Request, viewer: Administrator) -> Response:
    return await _page(request, viewer, policy=None, values=dict(_NEW))


@router.post(f"{BASE}/new")
async def add_policy(request: Request, viewer: Administrator) -> Response:
    values = typed_values(await request.form())
    try:
        policy = parse_policy(raw_items(values))
        await web_state(request).archive.policies.add(policy, actor=viewer.login)
    except ConfigurationError as error:
        errors = {error.field or "form": error.reason}
        return await _page(
            request, viewer, policy=None, values=values, errors=errors, status_code=422
        )
    return RedirectResponse(f"{BASE}?done=added", status_code=303)


@router.get(f"{BASE}/{{policy_id}}")
async def policy_page(
    request: Request, viewer: Administrator, policy_id: ArchiveId, done: str = ""
) -> Response:
    policy = await _stored(web_state(request), policy_id)
    return await _page(
        request, viewer, policy=policy, values=form_values(policy), notice=NOTICES.get(done)
    )


@router.post(f"{BASE}/{{policy_id}}")
async def change_policy(request: Request, viewer: Administrator, policy_id: ArchiveId) -> Response:
    state = web_state(request)
    stored = await _stored(state, policy_id)
    values = typed_values(await request.form())
    try:
        policy = parse_policy(raw_items(values), id=stored.id)
        # The retention period is set apart (`callarchive retention set`): an edit keeps it.
        policy = dataclasses.replace(policy, retention_days=stored.retention_days)
        await state.archive.policies.save(policy, actor=viewer.login)
    except ConfigurationError as error:
        errors = {error.field or "form": error.reason}
        return await _page(
            request, viewer, policy=stored, values=values, errors=errors, status_code=422
        )
    return RedirectResponse(f"{BASE}/{policy_id}?done=saved", status_code=303)


@router.post(f"{BASE}/{{policy_id}}/enable")
async def enable_policy(request: Request, viewer: Administrator, policy_id: ArchiveId) -> Response:
    return await _set_enabled(request, viewer, policy_id, enabled=True)


@router.post(f"{BASE}/{{policy_id}}/disable")
async def disable_policy(request: Request, viewer: Administrator, policy_id: ArchiveId) -> Response:
    return await _set_enabled(request, viewer, policy_id, enabled=False)


async def _set_enabled(
    request: Request, viewer: Viewer, policy_id: int, *, enabled: bool
) -> Response:
    state = web_state(request)
    policy = await _stored(state, policy_id)
    await state.archive.policies.set_enabled(policy.name, enabled, actor=viewer.login)
    return _back(policy, await request.form(), "enabled" if enabled else "disabled")


@router.post(f"{BASE}/{{policy_id}}/run")
async def run_policy(request: Request, viewer: Administrator, policy_id: ArchiveId) -> Response:
    state = web_state(request)
    policy = await _stored(state, policy_id)
    try:
        await run_now(state, policy, actor=viewer.login)
    except HTTPException as refused:
        return await _page(
            request,
            viewer,
            policy=policy,
            values=form_values(policy),
            errors={"form": f"Run now is not possible: {refused.detail}."},
            status_code=503,
        )
    return _back(policy, await request.form(), "run")


@router.post(f"{BASE}/{{policy_id}}/delete")
async def delete_policy(request: Request, viewer: Administrator, policy_id: ArchiveId) -> Response:
    state = web_state(request)
    policy = await _stored(state, policy_id)
    await state.archive.policies.delete(policy.name, actor=viewer.login)
    return RedirectResponse(f"{BASE}?done=deleted", status_code=303)


__all__ = ["form_values", "raw_items", "router"]
