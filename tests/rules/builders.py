"""Users, extensions and participants for rule tests, overridden per test."""

from __future__ import annotations

import datetime as dt
from typing import Any

from callarchive.configuration import Extension, ExtensionType, User
from callarchive.rules import Party

T0 = dt.datetime(2024, 3, 1, 15, 0, tzinfo=dt.UTC)
JANE = User(login="jane@example.com", name="Jane Doe")
JOHN = User(login="john@example.com", name="John Roe")
MUTE = User(login="mute@example.com", name="Not Recorded", recorded=False)


def number(value: str, user: User = JANE, **overrides: Any) -> Extension:
    return Extension(type=ExtensionType.NUMBER, value=value, user=user.login, **overrides)


def address(value: str, user: User = JANE, **overrides: Any) -> Extension:
    return Extension(type=ExtensionType.ADDRESS, value=value, user=user.login, **overrides)


def party(*numbers: str, **overrides: Any) -> Party:
    """An answered participant that did not dial, with `numbers`."""
    values: dict[str, Any] = {
        "genesys_user_id": "agent-1",
        "name": "Agent",
        "numbers": numbers,
        "addresses": (),
        "answered": True,
        "dialed": False,
    }
    values.update(overrides)
    return Party(**values)
