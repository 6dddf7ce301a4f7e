"""`/api/v1/alerts`: alerts by kind, severity and state (administrators and compliance
officers), acknowledged and cleared by administrators, each change written to the audit log."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from callarchive.alerts import AlertKind, AlertState, Severity
from callarchive.archive import AlertFilter, AlertRecord
from callarchive.errors import ConfigurationError
from callarchive.web.api.ids import MAX_ID, ArchiveId
from callarchive.web.api.problems import NOT_FOUND
from callarchive.web.auth import Administrator, NotFoundError, OperationsViewer, Viewer
from callarchive.web.state import WebState, web_state

router = APIRouter(tags=["alerts"])

E = TypeVar("E", bound=StrEnum)
PAGE_SIZES = (25, 50, 100)
MAX_PAGE = 10_000


class AlertForm(BaseModel):
    """The alert filters of the Alerts page and the API (query parameters); empty: any."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field("", max_length=64, description="e.g. import_failed, retry_buffered")
    severity: str = Field("", max_length=16, description="Notification … Fatal")
    state: str = Field("", max_length=16, description="Active, Acknowledged or Cleared")
    policy_id: int | None = Field(None, ge=1, le=MAX_ID, description="of this policy")
    import_source_id: int | None = Field(None, ge=1, le=MAX_ID, description="of this source")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, description="25, 50 or 100")


class AlertOut(BaseModel):
    """A stored alert."""

    id: int
    kind: str
    title: str
    severity: str
    state: str
    message: str
    details: dict[str, Any]
    policy_id: int | None
    import_source_id: int | None
    conversation_id: int | None
    raised_at: dt.datetime | None
    updated_at: dt.datetime | None


class AlertPage(BaseModel):
    """One page of alerts, newest first."""

    total: int
    page: int
    page_size: int
    items: list[AlertOut]


def _choice(text: str, kind: type[E], field: str) -> E | None:
    text = text.strip()
    if not text:
        return None
    for member in kind:
        if text.lower() == member.value.lower():
            return member
    choices = ", ".join(member.value for member in kind)
    raise ConfigurationError(f"{text!r} is not one of {choices}", field=field)


def to_filter(form: AlertForm) -> AlertFilter:
    """The archive's filter of `form`; `ConfigurationError` naming a field that is not valid."""
    if form.page_size not in PAGE_SIZES:
        raise ConfigurationError("expected 25, 50 or 100", field="page_size")
    kind = _choice(form.kind, AlertKind, "kind")
    severity = _choice(form.severity, Severity, "severity")
    state = _choice(form.state, AlertState, "state")
    return AlertFilter(
        kind=kind.value if kind else None,
        severities=(severity.value,) if severity else (),
        state=state.value if state else None,
        policy_id=form.policy_id,
        import_source_id=form.import_source_id,
    )


def alert_out(alert: AlertRecord) -> AlertOut:
    """The API form of a stored alert."""
    return AlertOut(
        id=alert.id or 0,
        kind=alert.kind,
        title=alert.title,
        severity=alert.severity,
        state=alert.state,
        message=alert.message,
        details=alert.details,
        policy_id=alert.policy_id,
        import_source_id=alert.import_source_id,
        conversation_id=alert.conversation_id,
        raised_at=alert.raised_at,
        updated_at=alert.updated_at,
    )


async def change_state(
    state: WebState, viewer: Viewer, alert_id: int, new_state: AlertState
) -> AlertRecord:
    """Set an alert's state as `viewer` (audited); `NotFoundError` when there is no such alert."""
    if not await state.archive.alerts.set_state(alert_id, new_state.value, actor=viewer.login):
        raise NotFoundError("no such alert")
    changed = await state.archive.alerts.get(alert_id)
    if changed is None:  # deleted in between: as good as never there
        raise NotFoundError("no such alert")
    return changed


@router.get("/alerts")
async def list_alerts(
    request: Request, viewer: OperationsViewer, form: Annotated[AlertForm, Query()]
) -> AlertPage:
    """Alerts matching every filter given, newest first."""
    del viewer
    alerts = web_state(request).archive.alerts
    where = to_filter(form)
    found = await alerts.list(where, limit=form.page_size, offset=(form.page - 1) * form.page_size)
    return AlertPage(
        total=await alerts.count(where),
        page=form.page,
        page_size=form.page_size,
        items=[alert_out(a) for a in found],
    )


@router.get("/alerts/{alert_id}", responses=NOT_FOUND)
async def get_alert(request: Request, viewer: OperationsViewer, alert_id: ArchiveId) -> AlertOut:
    """One alert."""
    del viewer
    alert = await web_state(request).archive.alerts.get(alert_id)
    if alert is None:
        raise NotFoundError("no such alert")
    return alert_out(alert)


@router.post("/alerts/{alert_id}/acknowledge", responses=NOT_FOUND)
async def acknowledge(request: Request, viewer: Administrator, alert_id: ArchiveId) -> AlertOut:
    """Acknowledge an alert: someone is on it."""
    changed = await change_state(web_state(request), viewer, alert_id, AlertState.ACKNOWLEDGED)
    return alert_out(changed)


@router.post("/alerts/{alert_id}/clear", responses=NOT_FOUND)
async def clear(request: Request, viewer: Administrator, alert_id: ArchiveId) -> AlertOut:
    """Clear an alert: resolved."""
    changed = await change_state(web_state(request), viewer, alert_id, AlertState.CLEARED)
    return alert_out(changed)


__all__ = [
    "PAGE_SIZES",
    "AlertForm",
    "AlertOut",
    "alert_out",
    "change_state",
    "router",
    "to_filter",
]
