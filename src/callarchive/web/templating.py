"""Server-rendered pages: the Jinja2 templates, their filters and the navigation by role.

Every page extends `base.html`, which shows the menus the viewer's role allows (the seed's
menus: Conversations, Data, Users, Alerts, Status, Audit) and puts the session's CSRF token in
every form. Times are shown in the viewer's time zone (UTC when none is set).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from callarchive import __version__
from callarchive.web.auth import Viewer

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# (label, path, who sees it: "all", "operations" or "administrator")
MENU: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "Conversations",
        (
            ("Conversations", "/conversations", "all"),
            ("Legal holds", "/holds", "operations"),
        ),
    ),
    (
        "Data",
        (
            ("Import Sources", "/data/import-sources", "administrator"),
            ("Data Management Policies", "/data/policies", "administrator"),
        ),
    ),
    (
        "Users",
        (
            ("Users", "/users", "administrator"),
            ("Extensions", "/users/extensions", "administrator"),
            ("API keys", "/api-keys", "administrator"),
        ),
    ),
    ("Alerts", (("Alerts", "/alerts", "operations"),)),
    ("Status", (("Status", "/status", "operations"),)),
    ("Audit", (("Audit log", "/audit", "administrator"),)),
)


def zone_of(viewer: Viewer | None) -> ZoneInfo:
    """The viewer's time zone (UTC when unset or unknown)."""
    name = viewer.account.time_zone if viewer else None
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def menu_for(viewer: Viewer | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The menus and their entries the viewer may open."""
    if viewer is None:
        return []
    allowed = {"all"}
    if viewer.sees_operations:
        allowed.add("operations")
    if viewer.is_administrator:
        allowed |= {"operations", "administrator"}
    menus = []
    for title, entries in MENU:
        visible = [(label, path) for label, path, who in entries if who in allowed]
        if visible:
            menus.append((title, visible))
    return menus


def duration(seconds: float | None) -> str:
    """`h:mm:ss` or `m:ss`."""
    if seconds is None:
        return ""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def render(
    request: Request,
    name: str,
    viewer: Viewer | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render template `name` for `viewer`."""
    zone = zone_of(viewer)

    def local(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        return moment.astimezone(zone).strftime(fmt) if moment else ""

    return templates.TemplateResponse(
        request,
        name,
        {
            "viewer": viewer,
            "csrf_token": viewer.csrf_token if viewer else None,
            "menu": menu_for(viewer),
            "zone": zone.key,
            "local": local,
            "duration": duration,
            "version": __version__,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )


__all__ = ["MENU", "duration", "menu_for", "render", "templates", "zone_of"]
