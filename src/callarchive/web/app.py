"""The web application: pages, the REST API under `/api/v1`, static files, error answers.

`create_app(state)` is the one place the app is put together. Errors become answers here: a
page without a session redirects to the sign-in page, the API answers 401; what the viewer may
not see answers 404 exactly like what does not exist; configuration errors answer 422 with the
field they concern.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from callarchive import __version__
from callarchive.errors import ConfigurationError
from callarchive.web import api, pages
from callarchive.web.api.problems import ERRORS
from callarchive.web.auth import (
    CsrfError,
    ForbiddenError,
    NotFoundError,
    SignInRequiredError,
    ThrottledError,
)
from callarchive.web.inputs import refuse_nul
from callarchive.web.security import SecurityHeaders
from callarchive.web.state import WebState
from callarchive.web.templating import HERE, render

API_PREFIX = "/api/v1"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _problem(request: Request, status: int, message: str, **extra: object) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": message, **extra}, status_code=status)
    return render(request, "error.html", None, status_code=status, status=status, message=message)


async def _sign_in_required(request: Request, error: Exception) -> Response:
    if _is_api(request):
        return JSONResponse(
            {"detail": str(error)},
            status_code=401,
            headers={"www-authenticate": 'Bearer realm="callarchive"'},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def _forbidden(request: Request, error: Exception) -> Response:
    return _problem(request, 403, str(error))


async def _not_found(request: Request, error: Exception) -> Response:
    del error
    return _problem(request, 404, "not found")


async def _throttled(request: Request, error: Exception) -> Response:
    return _problem(request, 429, str(error))


async def _configuration(request: Request, error: Exception) -> Response:
    field = error.field if isinstance(error, ConfigurationError) else None
    return _problem(request, 422, str(error), field=field)


async def _http(request: Request, error: Exception) -> Response:
    if not isinstance(error, HTTPException):
        raise error
    if error.status_code == 404:
        return _problem(request, 404, "not found")
    return _problem(request, error.status_code, str(error.detail))


async def _invalid_request(request: Request, error: Exception) -> Response:
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    if _is_api(request):
        details = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in errors
        ]
        return JSONResponse({"detail": details}, status_code=422)
    message = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in errors) or "invalid request"
    return _problem(request, 422, message)


def create_app(state: WebState) -> FastAPI:
    """The web UI and REST API over `state`."""
    app = FastAPI(
        title="callarchive",
        version=__version__,
        description="Search and replay archived Genesys Cloud calls; configure the importer.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        dependencies=[Depends(refuse_nul)],
    )
    app.state.web = state
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in pages.routers():
        app.include_router(router)
    for router in api.routers():
        app.include_router(router, prefix=API_PREFIX, responses=ERRORS)
    app.add_exception_handler(SignInRequiredError, _sign_in_required)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(CsrfError, _forbidden)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(ThrottledError, _throttled)
    app.add_exception_handler(ConfigurationError, _configuration)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    return app


__all__ = ["API_PREFIX", "create_app"]
