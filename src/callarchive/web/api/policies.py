"""`/api/v1/policies`: the Data Management Policies (action Data Import), their runs and history.

Administrators only. "Run now" starts a run of each of the policy's import sources at once in
the background, when this process runs a scheduler.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from callarchive.archive import BatchReport
from callarchive.configuration import Policy, export_schedule, parse_policy
from callarchive.errors import ConfigurationError
from callarchive.web.api.problems import NOT_FOUND, Problem
from callarchive.web.auth import Administrator, NotFoundError
from callarchive.web.forms import POLICY_HELP
from callarchive.web.state import WebState, web_state

router = APIRouter(tags=["policies"])
NO_SCHEDULER = "no scheduler runs in this process; start `callarchive worker` or use the CLI"
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "No scheduler runs in this process"}
}


class ActiveHoursModel(BaseModel):
    """Start runs only between these times of day (HH:MM; `to` before `from` spans midnight)."""

    model_config = ConfigDict(populate_by_name=True)

    start: Annotated[str, Field(alias="from", examples=["08:00"])]
    end: Annotated[str, Field(alias="to", examples=["18:00"])]


class ScheduleModel(BaseModel):
    """Every N minutes, or a cron expression; optional active hours; the time zone of both."""

    model_config = ConfigDict(extra="forbid")

    every_minutes: Annotated[int | None, Field(description=POLICY_HELP["every_minutes"])] = None
    cron: Annotated[str | None, Field(description=POLICY_HELP["cron"])] = None
    active_hours: Annotated[
        ActiveHoursModel | None, Field(description=POLICY_HELP["active_hours"])
    ] = None
    timezone: Annotated[str, Field(description=POLICY_HELP["schedule_timezone"])] = "UTC"


class PolicyIn(BaseModel):
    """A Data Import policy as written."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(description=POLICY_HELP["name"])]
    import_sources: Annotated[list[str], Field(description=POLICY_HELP["import_sources"])]
    schedule: ScheduleModel = ScheduleModel(every_minutes=5)
    enabled: Annotated[bool, Field(description=POLICY_HELP["enabled"])] = True
    servers: Annotated[
        list[str],
        Field(description="Execute Only on Selected Servers: " + POLICY_HELP["servers"]),
    ] = []
    enable_recording_rules: Annotated[
        bool, Field(description=POLICY_HELP["enable_recording_rules"])
    ] = True


class PolicyOut(BaseModel):
    """A stored policy."""

    id: int
    name: str
    action: str
    import_sources: list[str]
    enable_recording_rules: bool
    schedule: ScheduleModel
    schedule_text: str
    enabled: bool
    execute_only_on_selected_servers: bool
    servers: list[str]
    retention_days: int | None = Field(
        None, description="days its conversations are kept (null: for ever); see docs/compliance.md"
    )


class ReportLineOut(BaseModel):
    """One conversation of a run, as the seed's batch notification lists it."""

    model_config = ConfigDict(from_attributes=True)

    genesys_conversation_id: str
    outcome: str
    conversation_id: int | None
    extension: str | None
    participant_number: str | None
    newly_imported: bool
    media_downloaded: bool
    already_imported: bool


class ReportOut(BaseModel):
    """One run of the policy over one import source: window, counters, lines."""

    model_config = ConfigDict(from_attributes=True)

    id: int | None
    import_source: str | None
    started_at: dt.datetime
    finished_at: dt.datetime
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    server: str | None
    discovered: int
    imported: int
    already_imported: int
    skipped_by_rules: int
    retry_buffered: int
    failed: int
    media_downloaded: int
    entries: list[ReportLineOut]


class RunOut(BaseModel):
    """The runs Run now started."""

    started: list[str]


def policy_out(policy: Policy) -> PolicyOut:
    """The API form of a stored policy."""
    return PolicyOut(
        id=policy.id or 0,
        name=policy.name,
        action=policy.action.value,
        import_sources=list(policy.import_sources),
        enable_recording_rules=policy.enable_recording_rules,
        schedule=ScheduleModel.model_validate(export_schedule(policy.schedule)),
        schedule_text=policy.schedule.describe(),
        enabled=policy.enabled,
        execute_only_on_selected_servers=policy.execute_only_on_selected_servers,
        servers=list(policy.servers),
        retention_days=policy.retention_days,
    )


def _raw(body: PolicyIn) -> dict[str, Any]:
    raw = body.model_dump(by_alias=True)
    raw["schedule"] = {k: v for k, v in raw["schedule"].items() if v is not None}
    return raw


async def stored_policy(state: WebState, name: str) -> Policy:
    """The policy `name`; `NotFoundError` when there is none."""
    try:
        return await state.archive.policies.get(name)
    except ConfigurationError:
        raise NotFoundError(f"no policy named {name!r}") from None


async def run_now(state: WebState, policy: Policy, *, actor: str) -> list[str]:
    """Start a run of each import source of `policy` (audited); the sources started.

    `HTTPException` 503 when no scheduler runs in this process.
    """
    if state.run_now is None:
        raise HTTPException(503, NO_SCHEDULER)
    started = []
    for name in policy.import_sources:
        source = await state.archive.import_sources.get(name)
        await state.run_now(policy.id or 0, source.id or 0)
        started.append(name)
    await state.archive.audit.record(
        actor=actor,
        action="policy_run_requested",
        target=f"policy:{policy.name}",
        details={"import_sources": started},
    )
    return started


async def history(state: WebState, policy: Policy, *, limit: int = 20) -> list[ReportOut]:
    """The policy's newest batch reports, with their lines."""
    names = {s.id: s.name for s in await state.archive.import_sources.list()}
    reports: list[BatchReport] = await state.archive.batch_reports.list(
        policy_id=policy.id, limit=limit
    )
    return [
        ReportOut.model_validate(
            {
                **{name: getattr(r, name) for name in ReportOut.model_fields if hasattr(r, name)},
                "import_source": names.get(r.import_source_id),
                "entries": [ReportLineOut.model_validate(e) for e in r.entries],
            }
        )
        for r in reports
    ]


@router.get("/policies")
async def list_policies(request: Request, viewer: Administrator) -> list[PolicyOut]:
    """Every policy, by name."""
    del viewer
    return [policy_out(p) for p in await web_state(request).archive.policies.list()]


@router.post("/policies", status_code=201)
async def add_policy(request: Request, viewer: Administrator, body: PolicyIn) -> PolicyOut:
    """Add a policy over existing import sources."""
    policy = parse_policy(_raw(body))
    return policy_out(await web_state(request).archive.policies.add(policy, actor=viewer.login))


@router.get("/policies/{name}", responses=NOT_FOUND)
async def get_policy(request: Request, viewer: Administrator, name: str) -> PolicyOut:
    """One policy."""
    del viewer
    return policy_out(await stored_policy(web_state(request), name))


@router.put("/policies/{name}", responses=NOT_FOUND)
async def change_policy(
    request: Request, viewer: Administrator, name: str, body: PolicyIn
) -> PolicyOut:
    """Replace a policy's items (it may be renamed)."""
    state = web_state(request)
    stored = await stored_policy(state, name)
    policy = parse_policy(_raw(body), id=stored.id)
    # The retention period is set apart (`callarchive retention set`): an edit keeps it.
    policy = dataclasses.replace(policy, retention_days=stored.retention_days)
    return policy_out(await state.archive.policies.save(policy, actor=viewer.login))


@router.delete("/policies/{name}", status_code=204, responses=NOT_FOUND)
async def delete_policy(request: Request, viewer: Administrator, name: str) -> Response:
    """Delete a policy; its conversations and batch reports stay."""
    state = web_state(request)
    await stored_policy(state, name)
    await state.archive.policies.delete(name, actor=viewer.login)
    return Response(status_code=204)


@router.post("/policies/{name}/enable", responses=NOT_FOUND)
async def enable_policy(request: Request, viewer: Administrator, name: str) -> PolicyOut:
    """Enable the policy: its schedule starts runs again."""
    state = web_state(request)
    await stored_policy(state, name)
    return policy_out(await state.archive.policies.set_enabled(name, True, actor=viewer.login))


@router.post("/policies/{name}/disable", responses=NOT_FOUND)
async def disable_policy(request: Request, viewer: Administrator, name: str) -> PolicyOut:
    """Disable the policy: no new runs start (a running one finishes its window)."""
    state = web_state(request)
    await stored_policy(state, name)
    return policy_out(await state.archive.policies.set_enabled(name, False, actor=viewer.login))


@router.post(
    "/policies/{name}/run",
    status_code=202,
    responses={**NOT_FOUND, **UNAVAILABLE},
)
async def run_policy(request: Request, viewer: Administrator, name: str) -> RunOut:
    """Run now: start a run of each of the policy's import sources in the background."""
    state = web_state(request)
    policy = await stored_policy(state, name)
    return RunOut(started=await run_now(state, policy, actor=viewer.login))


@router.get("/policies/{name}/reports", responses=NOT_FOUND)
async def policy_reports(
    request: Request, viewer: Administrator, name: str, limit: int = 20
) -> list[ReportOut]:
    """The run history: the policy's newest batch reports with their lines."""
    del viewer
    state = web_state(request)
    return await history(state, await stored_policy(state, name), limit=min(max(limit, 1), 200))


__all__ = [
    "NO_SCHEDULER",
    "PolicyIn",
    "PolicyOut",
    "ReportOut",
    "history",
    "policy_out",
    "router",
    "run_now",
    "stored_policy",
]
