"""Users and their extensions: who is recorded, who may see what (DESIGN.md section 6).

A `User` is recorded or not, has a role, a supervisor (the agent hierarchy) and partitions. An
`Extension` is a number or an address owned by a user for a period: a conversation is imported
when one of its participants matches an extension of a recorded user valid at its start.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from callarchive.configuration import _fields as f
from callarchive.configuration.policy import parse_retention_days
from callarchive.errors import ConfigurationError

USER_FIELDS = ("login", "name", "role", "supervisor", "partitions", "recorded", "retention_days")
EXTENSION_FIELDS = ("type", "value", "user")
_NUMBER = re.compile(r"^\+?\d{1,32}$")
_NUMBER_NOISE = re.compile(r"[\s().\-/]")
_ADDRESS = re.compile(r"^(?:sips?:)?[^@\s:]+@[^@\s]+$", re.IGNORECASE)


class Role(StrEnum):
    """What a user may do and see."""

    AGENT = "agent"  # sees own recordings
    SUPERVISOR = "supervisor"  # also those of everyone below in the hierarchy
    COMPLIANCE_OFFICER = "compliance_officer"  # sees every recording
    ADMINISTRATOR = "administrator"  # sees every recording and changes the configuration


class ExtensionType(StrEnum):
    """The seed's extension types."""

    NUMBER = "number"  # a phone number or internal extension: digits, optional leading +
    ADDRESS = "address"  # an address such as a SIP URI: user@domain


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class User:
    """A callarchive user. Validated on construction."""

    login: str
    name: str
    role: Role = Role.AGENT
    supervisor: str | None = None
    partitions: tuple[str, ...] = ()
    recorded: bool = True
    retention_days: int | None = None  # overrides the policy's retention; None: the policy's
    id: int | None = None

    def __post_init__(self) -> None:
        parse_retention_days(self.retention_days)
        login = f.token(
            self.login, "login", what="a login without spaces, e.g. jane.doe@example.com"
        )
        f.text(self.name, "name", what="the user's display name", max_length=200)
        object.__setattr__(self, "role", f.choice(self.role, Role, "role", what="a role"))
        if self.supervisor is not None:
            supervisor = f.token(self.supervisor, "supervisor", what="the supervisor's login")
            if supervisor == login:
                raise ConfigurationError(
                    "a user cannot supervise themselves; expected another user's login",
                    field="supervisor",
                )
        f.names(list(self.partitions), "partitions", what="partition names")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Extension:
    """A number or address owned by `user` (a login) from `valid_from` to `valid_to` (UTC).

    Numbers are stored without spaces, dashes, dots, slashes or parentheses, and without `tel:`.
    An open end means "always" on that side.
    """

    type: ExtensionType
    value: str
    user: str
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        kind = f.choice(self.type, ExtensionType, "type", what="an extension type")
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "value", normalize_extension(kind, self.value))
        f.token(self.user, "user", what="the owner's login")
        for name in ("valid_from", "valid_to"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, dt.datetime) or value.tzinfo is None):
                raise ConfigurationError("expected a time stamp with a time zone", field=name)
        if self.valid_from and self.valid_to and self.valid_from >= self.valid_to:
            raise ConfigurationError(
                "ends before it starts; expected valid_to later than valid_from", field="valid_to"
            )

    def is_valid_at(self, moment: dt.datetime) -> bool:
        """True when the extension belongs to its user at `moment`."""
        return (self.valid_from is None or self.valid_from <= moment) and (
            self.valid_to is None or moment < self.valid_to
        )


def normalize_extension(kind: ExtensionType, raw: object) -> str:
    """The stored form of an extension value; `ConfigurationError` when it is not one."""
    if kind is ExtensionType.NUMBER:
        what = "a phone number or extension: digits with an optional leading +, e.g. +13125550123"
        value = f.text(raw, "value", what=what, max_length=64)
        number = _NUMBER_NOISE.sub("", value.removeprefix("tel:"))
        if not _NUMBER.match(number):
            raise ConfigurationError(f"{value!r} is not a number; expected {what}", field="value")
        return number
    what = "an address such as sip:jane@example.com or jane@example.com"
    value = f.text(raw, "value", what=what, max_length=320)
    if not _ADDRESS.match(value):
        raise ConfigurationError(f"{value!r} is not an address; expected {what}", field="value")
    return value


def parse_user(raw: Mapping[str, Any], *, id: int | None = None) -> User:  # noqa: A002
    """A `User` from raw items (the keys of `config export`); unknown items are refused."""
    _refuse_unknown(raw, USER_FIELDS, "user")
    supervisor = raw.get("supervisor")
    return User(
        login=f.token(raw.get("login"), "login", what="a login without spaces"),
        name=f.text(raw.get("name"), "name", what="the user's display name", max_length=200),
        role=f.choice(raw.get("role", Role.AGENT.value), Role, "role", what="a role"),
        supervisor=None
        if f.is_blank(supervisor)
        else f.token(supervisor, "supervisor", what="a login"),
        partitions=f.names(raw.get("partitions"), "partitions", what="partition names"),
        recorded=f.boolean(raw.get("recorded", True), "recorded"),
        retention_days=parse_retention_days(raw.get("retention_days")),
        id=id,
    )


def parse_extension(
    raw: Mapping[str, Any],
    *,
    zone: str = "UTC",
    id: int | None = None,  # noqa: A002
) -> Extension:
    """An `Extension` from raw items; validity stamps without offset are read in `zone`."""
    _refuse_unknown(raw, (*EXTENSION_FIELDS, "valid_from", "valid_to"), "extension")
    kind = f.choice(raw.get("type"), ExtensionType, "type", what="an extension type")
    stamps = {
        name: None if f.is_blank(raw.get(name)) else f.timestamp(raw.get(name), name, zone=zone)
        for name in ("valid_from", "valid_to")
    }
    return Extension(
        type=kind,
        value=normalize_extension(kind, raw.get("value")),
        user=f.token(raw.get("user"), "user", what="the owner's login"),
        id=id,
        **stamps,
    )


def _refuse_unknown(raw: Mapping[str, Any], known: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigurationError(
            f"unknown {what} item; expected one of {', '.join(known)}", field=unknown[0]
        )


__all__ = [
    "EXTENSION_FIELDS",
    "USER_FIELDS",
    "Extension",
    "ExtensionType",
    "Role",
    "User",
    "normalize_extension",
    "parse_extension",
    "parse_user",
]
