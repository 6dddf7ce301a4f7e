"""Audit log: who did what and when, by actor, action and time range (administrators only)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from callarchive.archive import AuditFilter
from callarchive.errors import ConfigurationError
from callarchive.web.api.audit import PAGE_SIZES, AuditForm, to_filter
from callarchive.web.auth import Administrator
from callarchive.web.state import web_state
from callarchive.web.templating import render, zone_of

router = APIRouter(include_in_schema=False)


@router.get("/audit")
async def audit_page(
    request: Request, viewer: Administrator, form: Annotated[AuditForm, Query()]
) -> Response:
    audit = web_state(request).archive.audit
    fields = form.model_dump(exclude_defaults=True)
    errors: dict[str, str] = {}
    try:
        where = to_filter(form, zone_of(viewer))
    except ConfigurationError as error:
        errors[error.field or "filter"] = str(error)
        where = AuditFilter(action="-")  # nothing matches: show the form and the error
    found = await audit.list(where, limit=form.page_size, offset=(form.page - 1) * form.page_size)
    total = await audit.count(where)

    def link(**changes: object) -> str:
        return "/audit?" + urlencode({**fields, **changes})

    return render(
        request,
        "audit.html",
        viewer,
        status_code=422 if errors else 200,
        form=form,
        errors=errors,
        entries=found,
        total=total,
        pages=max(1, -(-total // form.page_size)),
        actions=await audit.actions(),
        page_sizes=PAGE_SIZES,
        link=link,
    )


__all__ = ["router"]
