"""`/api/v1/audit`: the audit log, newest first, by actor, action and time range (administrators
only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from callarchive.archive import AuditEntry, AuditFilter
from callarchive.errors import ConfigurationError
from callarchive.web.auth import Administrator
from callarchive.web.search import parse_time
from callarchive.web.state import web_state
from callarchive.web.templating import zone_of

router = APIRouter(tags=["audit"])

PAGE_SIZES = (50, 100, 200)
MAX_PAGE = 100_000


class AuditForm(BaseModel):
    """The filters of the Audit log page and the API (query parameters); empty: any."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: str = Field("", max_length=200, description="who: a login")
    action: str = Field("", max_length=64, description="e.g. signed_in, alert_cleared")
    since: str = Field("", max_length=40, description="from (ISO 8601; no offset: your zone)")
    until: str = Field("", max_length=40, description="to, exclusive (ISO 8601)")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, description="50, 100 or 200")


class AuditOut(BaseModel):
    """One line of the audit log."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    """One page of the audit log, newest first."""

    total: int
    page: int
    page_size: int
    items: list[AuditOut]


def to_filter(form: AuditForm, zone: ZoneInfo) -> AuditFilter:
    """The archive's filter of `form`; `ConfigurationError` naming a field that is not valid."""
    if form.page_size not in PAGE_SIZES:
        raise ConfigurationError("expected 50, 100 or 200", field="page_size")
    for field in ("actor", "action"):
        if any(ord(c) < 32 for c in getattr(form, field)):
            raise ConfigurationError("expected text on one line", field=field)
    since = parse_time(form.since, zone, "since")
    until = parse_time(form.until, zone, "until")
    if since is not None and until is not None and until <= since:
        raise ConfigurationError("must be after the start of the range", field="until")
    return AuditFilter(
        actor=form.actor.strip() or None,
        action=form.action.strip() or None,
        since=since,
        until=until,
    )


def audit_out(entry: AuditEntry) -> AuditOut:
    """The API form of an audit log line."""
    return AuditOut(
        id=entry.id or 0,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        details=entry.details,
    )


@router.get("/audit")
async def list_audit(
    request: Request, viewer: Administrator, form: Annotated[AuditForm, Query()]
) -> AuditPage:
    """Audit log lines matching every filter given, newest first."""
    audit = web_state(request).archive.audit
    where = to_filter(form, zone_of(viewer))
    found = await audit.list(where, limit=form.page_size, offset=(form.page - 1) * form.page_size)
    return AuditPage(
        total=await audit.count(where),
        page=form.page,
        page_size=form.page_size,
        items=[audit_out(e) for e in found],
    )


__all__ = ["PAGE_SIZES", "AuditForm", "audit_out", "router", "to_filter"]
