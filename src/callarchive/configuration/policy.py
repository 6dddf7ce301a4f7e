"""Data Management Policies with the Data Import action, and the servers that run them.

A `Policy` runs its import sources on a `Schedule`. Enable Recording Rules is always on (the
seed: "currently this setting is mandatory switched on"). Execute Only on Selected Servers is on
exactly when `servers` names at least one `Server`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from callarchive.configuration import _fields as f
from callarchive.errors import ConfigurationError

POLICY_FIELDS = (
    "name",
    "import_sources",
    "enable_recording_rules",
    "schedule",
    "enabled",
    "servers",
)
MAX_EVERY_MINUTES = 7 * 24 * 60


class PolicyAction(StrEnum):
    """What a Data Management Policy does; callarchive has one action."""

    DATA_IMPORT = "data_import"  # the seed's "Data Import"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Schedule:
    """How often the policy runs."""

    every_minutes: int = 5

    def __post_init__(self) -> None:
        f.integer(
            self.every_minutes,
            "schedule",
            minimum=1,
            maximum=MAX_EVERY_MINUTES,
            what="minutes between runs (schedule.every_minutes)",
        )

    @property
    def interval(self) -> dt.timedelta:
        """Time between two runs."""
        return dt.timedelta(minutes=self.every_minutes)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Policy:
    """A Data Import policy over one or more import sources (by name). Validated on construction."""

    name: str
    import_sources: tuple[str, ...]
    schedule: Schedule = Schedule()
    enabled: bool = True
    servers: tuple[str, ...] = ()
    enable_recording_rules: bool = True
    action: PolicyAction = PolicyAction.DATA_IMPORT
    id: int | None = None

    def __post_init__(self) -> None:
        f.text(self.name, "name", what="a name for the policy", max_length=200)
        if not self.import_sources:
            raise ConfigurationError(
                "mandatory; expected the names of one or more import sources",
                field="import_sources",
            )
        f.names(list(self.import_sources), "import_sources", what="import source names")
        for server in f.names(list(self.servers), "servers", what="server names"):
            f.token(server, "servers", what="server names without spaces")
        if self.enable_recording_rules is not True:
            raise ConfigurationError(
                "must be on: only the recorded users' conversations are imported "
                "(the seed: this setting is mandatory switched on); expected true",
                field="enable_recording_rules",
            )

    @property
    def execute_only_on_selected_servers(self) -> bool:
        """True when only the listed servers may run this policy."""
        return bool(self.servers)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Server:
    """A running callarchive node; `host` is the Location of what it imports."""

    name: str
    host: str | None = None
    last_heartbeat: dt.datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        f.token(self.name, "servers", what="a server name without spaces")


def parse_schedule(raw: object) -> Schedule:
    """A schedule from `{"every_minutes": N}`, or a bare number of minutes."""
    what = 'an object such as {"every_minutes": 5}'
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"every_minutes"}
        if unknown:
            raise ConfigurationError(
                f"unknown key {min(unknown)!r}; expected {what}", field="schedule"
            )
        raw = raw.get("every_minutes")
    minutes = f.integer(
        raw, "schedule", minimum=1, maximum=MAX_EVERY_MINUTES, what="minutes between runs"
    )
    return Schedule(every_minutes=minutes)


def parse_policy(raw: Mapping[str, Any], *, id: int | None = None) -> Policy:  # noqa: A002
    """A `Policy` from raw items (the keys of `config export`); unknown items are refused."""
    unknown = sorted(set(raw) - set(POLICY_FIELDS))
    if unknown:
        raise ConfigurationError(
            f"unknown policy item; expected one of {', '.join(POLICY_FIELDS)}", field=unknown[0]
        )
    schedule = raw.get("schedule")
    return Policy(
        name=f.text(raw.get("name"), "name", what="a name for the policy", max_length=200),
        import_sources=f.names(
            raw.get("import_sources"), "import_sources", what="import source names"
        ),
        enable_recording_rules=f.boolean(
            raw.get("enable_recording_rules", True), "enable_recording_rules"
        ),
        schedule=Schedule() if schedule is None else parse_schedule(schedule),
        enabled=f.boolean(raw.get("enabled", True), "enabled"),
        servers=f.names(raw.get("servers"), "servers", what="server names"),
        id=id,
    )


__all__ = [
    "POLICY_FIELDS",
    "Policy",
    "PolicyAction",
    "Schedule",
    "Server",
    "parse_policy",
    "parse_schedule",
]
