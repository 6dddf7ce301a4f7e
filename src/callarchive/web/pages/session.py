"""Signing in and out, and the viewer's own account (time zone, password).

The sign-in form is protected against cross-site posting by a double-submit token (a cookie
and the same value in the form), since there is no session yet to hold one. After signing in,
the browser goes back to the page it asked for, but only to a path on this site.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from callarchive.web import security
from callarchive.web.api.api_keys import visible_keys
from callarchive.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentViewer,
    SignInRequiredError,
    ThrottledError,
    client_address,
    sign_in,
)
from callarchive.web.state import web_state
from callarchive.web.templating import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a local path, never another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/conversations"
    return target


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/conversations", status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str = "/conversations") -> Response:  # noqa: A002
    token = security.new_token()
    response = render(request, "login.html", None, next=safe_next(next), login_csrf=token)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=web_state(request).secure_cookies,
        path="/login",
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    login: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/conversations",  # noqa: A002
) -> Response:
    state = web_state(request)
    target = safe_next(next)

    def again(message: str, status: int) -> Response:
        token = security.new_token()
        response = render(
            request,
            "login.html",
            None,
            status_code=status,
            next=target,
            login_csrf=token,
            error=message,
            login=login,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=state.secure_cookies,
            path="/login",
        )
        return response

    if not security.same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return again("The sign-in form expired; please sign in again.", 403)
    try:
        token = await sign_in(state, login.strip(), password, address=client_address(request))
    except ThrottledError as error:
        return again(f"Too many failed sign-ins: {error}.", 429)
    except SignInRequiredError:
        return again("Wrong login or password.", 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=state.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, viewer: CurrentViewer) -> Response:
    if viewer.session_sha256 is not None:
        await web_state(request).archive.accounts.close_session(viewer.session_sha256)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account")
async def account_page(request: Request, viewer: CurrentViewer) -> Response:
    return render(
        request,
        "account.html",
        viewer,
        zones=sorted(available_timezones()),
        api_keys=await visible_keys(web_state(request), viewer),
    )


@router.post("/account")
async def account_update(
    request: Request,
    viewer: CurrentViewer,
    time_zone: Annotated[str, Form(max_length=100)] = "",
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    state = web_state(request)
    errors: dict[str, str] = {}
    if time_zone:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = f"{time_zone!r} is not a time zone, e.g. Europe/London"
    if new_password:
        problem = security.password_problem(new_password)
        if not security.verify_password(viewer.account.password_hash, current_password):
            errors["current_password"] = "the current password is wrong"  # noqa: S105 - a message
        elif problem:
            errors["new_password"] = problem
    if errors:
        return render(
            request,
            "account.html",
            viewer,
            status_code=422,
            zones=sorted(available_timezones()),
            errors=errors,
            api_keys=await visible_keys(state, viewer),
        )
    if time_zone and time_zone != viewer.account.time_zone:
        await state.archive.accounts.set_time_zone(viewer.login, time_zone, actor=viewer.login)
    if new_password:
        await state.archive.accounts.set_password(
            viewer.login, security.hash_password(new_password), actor=viewer.login
        )
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/account?saved=1", status_code=303)


__all__ = ["router", "safe_next"]
