"""Text no database column can hold: a NUL character (U+0000) anywhere in a request.

PostgreSQL's text columns refuse NUL, and no field of callarchive means one. `refuse_nul` runs
before every page and API call and answers 422, naming the field, when a path parameter, a query
parameter, a form field or a string of a JSON body carries one; so the request never reaches the
archive, and SQLite and PostgreSQL answer alike.
"""

from __future__ import annotations

import contextlib
import json

from fastapi import Request

from callarchive.errors import ConfigurationError

NUL = "\x00"


def _json_strings(value: object, name: str = "body") -> list[tuple[str, str]]:
    """Every string of a decoded JSON document (keys too), with where it is."""
    if isinstance(value, str):
        return [(name, value)]
    if isinstance(value, dict):
        return [(name, key) for key in value] + [
            found for key, item in value.items() for found in _json_strings(item, str(key))
        ]
    if isinstance(value, list):
        return [found for item in value for found in _json_strings(item, name)]
    return []


async def _fields(request: Request) -> list[tuple[str, str]]:
    fields = [(key, str(value)) for key, value in request.path_params.items()]
    fields += request.query_params.multi_items()
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        fields += [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    elif kind.startswith("application/json"):
        body = await request.body()
        with contextlib.suppress(ValueError):  # not JSON: the route's own validation answers
            fields += _json_strings(json.loads(body))
    return fields


async def refuse_nul(request: Request) -> None:
    """`ConfigurationError` (422) when the request carries a NUL character."""
    for name, value in await _fields(request):
        if NUL in name or NUL in value:
            raise ConfigurationError("contains a NUL character (U+0000)", field=name[:100])


__all__ = ["refuse_nul"]
