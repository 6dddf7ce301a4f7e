"""Alerts: filtered by kind, severity and state; administrators acknowledge and clear them,
compliance officers see them."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from callarchive.alerts import AlertKind, AlertState, Severity
from callarchive.archive import AlertFilter
from callarchive.errors import ConfigurationError
from callarchive.web.api.alerts import PAGE_SIZES, AlertForm, change_state, to_filter
from callarchive.web.api.ids import ArchiveId
from callarchive.web.auth import Administrator, OperationsViewer
from callarchive.web.pages.session import safe_next
from callarchive.web.state import web_state
from callarchive.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/alerts")
async def alerts_page(
    request: Request, viewer: OperationsViewer, form: Annotated[AlertForm, Query()]
) -> Response:
    state = web_state(request)
    fields = form.model_dump(exclude_defaults=True)
    errors: dict[str, str] = {}
    try:
        where = to_filter(form)
    except ConfigurationError as error:
        errors[error.field or "filter"] = str(error)
        where = AlertFilter(kind="-")  # nothing matches: show the form and the error
    offset = (form.page - 1) * form.page_size
    found = await state.archive.alerts.list(where, limit=form.page_size, offset=offset)
    total = await state.archive.alerts.count(where)

    def link(**changes: object) -> str:
        query = {k: v for k, v in {**fields, **changes}.items() if v not in {"", None}}
        return "/alerts?" + urlencode(query)

    return render(
        request,
        "alerts.html",
        viewer,
        status_code=422 if errors else 200,
        form=form,
        errors=errors,
        alerts=found,
        total=total,
        pages=max(1, -(-total // form.page_size)),
        kinds=sorted({(k.value, k.heading) for k in AlertKind}),
        severities=list(Severity),
        states=list(AlertState),
        page_sizes=PAGE_SIZES,
        link=link,
        back=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    )


async def _change(
    request: Request, viewer: Administrator, alert_id: ArchiveId, new_state: AlertState, back: str
) -> Response:
    await change_state(web_state(request), viewer, alert_id, new_state)
    target = safe_next(back) if back.startswith("/alerts") else "/alerts"
    return RedirectResponse(target, status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(
    request: Request,
    viewer: Administrator,
    alert_id: ArchiveId,
    back: Annotated[str, Form(max_length=2000)] = "/alerts",
) -> Response:
    return await _change(request, viewer, alert_id, AlertState.ACKNOWLEDGED, back)


@router.post("/alerts/{alert_id}/clear")
async def clear(
    request: Request,
    viewer: Administrator,
    alert_id: ArchiveId,
    back: Annotated[str, Form(max_length=2000)] = "/alerts",
) -> Response:
    return await _change(request, viewer, alert_id, AlertState.CLEARED, back)


__all__ = ["router"]
