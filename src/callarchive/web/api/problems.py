"""The API's error answers: one JSON shape, documented on every operation.

An error answers `{"detail": …, "field": …}`: `detail` says what went wrong (for parameters
that do not parse, a list of the parameters and why), `field` names the field a 422 about a
value concerns. `ERRORS` documents the answers any operation may give; operations that look
something up add `NOT_FOUND`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FieldProblem(BaseModel):
    """Why one request parameter could not be read."""

    loc: list[str] = Field(description="where: e.g. query, page_size")
    msg: str


class Problem(BaseModel):
    """An error answer."""

    detail: str | list[FieldProblem]
    field: str | None = Field(None, description="the field a 422 about a value concerns")


def _answer(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _answer("The request body could not be read (not UTF-8 or not JSON)"),
    401: _answer("No session and no API key, or the API key is unknown or revoked"),
    403: _answer("The role does not allow this, or a browser request lacks its CSRF token"),
    422: _answer("A parameter or field has a value that cannot be used"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: _answer("Nothing there, or nothing the viewer may see"),
}

__all__ = ["ERRORS", "NOT_FOUND", "FieldProblem", "Problem"]
