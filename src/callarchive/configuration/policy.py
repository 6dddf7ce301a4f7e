"""Data Management Policies with the Data Import action, and the servers that run them.

A `Policy` runs its import sources on a `Schedule`. Enable Recording Rules is always on (the
seed: "currently this setting is mandatory switched on"). Execute Only on Selected Servers is on
exactly when `servers` names at least one `Server`. `retention_days` is how long its
conversations are kept in the archive (None: for ever); a user may override it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from croniter import croniter

from callarchive.configuration import _fields as f
from callarchive.errors import ConfigurationError

POLICY_FIELDS = (
    "name",
    "import_sources",
    "enable_recording_rules",
    "schedule",
    "enabled",
    "servers",
    "retention_days",
)
MAX_RETENTION_DAYS = 100 * 366
MAX_EVERY_MINUTES = 7 * 24 * 60
SCHEDULE_KEYS = ("every_minutes", "cron", "active_hours", "timezone")


class PolicyAction(StrEnum):
    """What a Data Management Policy does; callarchive has one action."""

    DATA_IMPORT = "data_import"  # the seed's "Data Import"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ActiveHours:
    """The time of day a policy may start runs, in its schedule's time zone.

    `end` is exclusive; an `end` before `start` spans midnight (22:00-06:00 is the night).
    """

    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ConfigurationError(
                "starts and ends at the same time; expected a period such as 08:00-18:00",
                field="schedule.active_hours",
            )

    def contains(self, moment: dt.time) -> bool:
        """True when `moment` (a local time of day) lies inside the active hours."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def render(self) -> str:
        """`HH:MM-HH:MM`, as the CLI takes it."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Schedule:
    """When the policy runs: every N minutes, or at the times of a cron expression; optionally
    only inside active hours. Cron expressions and active hours are read in `timezone`."""

    every_minutes: int = 5
    cron: str | None = None  # five-field cron expression; replaces every_minutes when set
    active_hours: ActiveHours | None = None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        f.integer(
            self.every_minutes,
            "schedule",
            minimum=1,
            maximum=MAX_EVERY_MINUTES,
            what="minutes between runs (schedule.every_minutes)",
        )
        if self.cron is not None:
            _cron(self.cron)
        f.timezone(self.timezone, "schedule.timezone")

    @property
    def interval(self) -> dt.timedelta:
        """Time between two runs of an every-N-minutes schedule."""
        return dt.timedelta(minutes=self.every_minutes)

    def describe(self) -> str:
        """A short text for listings: `every 5 min`, `cron 0 * * * *`, with active hours."""
        text = f"cron {self.cron}" if self.cron else f"every {self.every_minutes} min"
        if self.active_hours is not None:
            text += f", {self.active_hours.render()}"
        if self.timezone != "UTC" and (self.cron or self.active_hours):
            text += f" {self.timezone}"
        return text


def _cron(raw: object) -> str:
    what = "a five-field cron expression such as '*/5 * * * *' or '0 8-18 * * 1-5'"
    value = f.text(raw, "schedule.cron", what=what, max_length=200)
    fields = len(value.split())
    if not (value.startswith("@") or fields == 5) or not croniter.is_valid(value):
        raise ConfigurationError(f"{value!r} is not valid; expected {what}", field="schedule.cron")
    return value


def _time_of_day(raw: object, field: str) -> dt.time:
    what = "a time of day HH:MM such as 08:00"
    value = f.text(raw, field, what=what, max_length=5)
    try:
        parsed = dt.time.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{value!r} is not a time; expected {what}", field=field) from None
    if parsed.second or parsed.microsecond or len(value) != 5:
        raise ConfigurationError(f"{value!r}: expected {what}", field=field)
    return parsed


def parse_active_hours(raw: object) -> ActiveHours | None:
    """Active hours from `{"from": "08:00", "to": "18:00"}` or `"08:00-18:00"`; None for none."""
    field = "schedule.active_hours"
    if f.is_blank(raw):
        return None
    if isinstance(raw, str):
        start, sep, end = raw.partition("-")
        if not sep:
            raise ConfigurationError(f"{raw!r}: expected a period such as 08:00-18:00", field=field)
        raw = {"from": start.strip(), "to": end.strip()}
    if not isinstance(raw, Mapping) or set(raw) != {"from", "to"}:
        raise ConfigurationError(
            'expected an object such as {"from": "08:00", "to": "18:00"}', field=field
        )
    return ActiveHours(start=_time_of_day(raw["from"], field), end=_time_of_day(raw["to"], field))


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
    retention_days: int | None = None  # None: its conversations are kept for ever
    id: int | None = None

    def __post_init__(self) -> None:
        f.text(self.name, "name", what="a name for the policy", max_length=200)
        parse_retention_days(self.retention_days)
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


def parse_retention_days(raw: object, field: str = "retention_days") -> int | None:
    """Days conversations are kept: a whole number of days, or blank/None for ever."""
    if f.is_blank(raw):
        return None
    return f.integer(
        raw,
        field,
        minimum=1,
        maximum=MAX_RETENTION_DAYS,
        what="days the conversations are kept (empty: for ever)",
    )


def parse_schedule(raw: object) -> Schedule:
    """A schedule from `{"every_minutes": N}` or `{"cron": "EXPR"}`, each with optional
    `active_hours` and `timezone`; or a bare number of minutes."""
    what = 'an object such as {"every_minutes": 5} or {"cron": "*/5 * * * *"}'
    if not isinstance(raw, Mapping):
        raw = {"every_minutes": raw}
    unknown = set(raw) - set(SCHEDULE_KEYS)
    if unknown:
        raise ConfigurationError(f"unknown key {min(unknown)!r}; expected {what}", field="schedule")
    every, cron = raw.get("every_minutes"), raw.get("cron")
    if not f.is_blank(every) and not f.is_blank(cron):
        raise ConfigurationError(
            f"has both every_minutes and cron; expected one of them ({what})", field="schedule"
        )
    timezone = raw.get("timezone")
    return Schedule(
        every_minutes=5
        if f.is_blank(every)
        else f.integer(
            every, "schedule", minimum=1, maximum=MAX_EVERY_MINUTES, what="minutes between runs"
        ),
        cron=None if f.is_blank(cron) else _cron(cron),
        active_hours=parse_active_hours(raw.get("active_hours")),
        timezone="UTC" if f.is_blank(timezone) else f.timezone(timezone, "schedule.timezone"),
    )


def export_schedule(schedule: Schedule) -> dict[str, Any]:
    """The schedule as `config export` writes it (only what differs from the defaults)."""
    exported: dict[str, Any] = (
        {"cron": schedule.cron} if schedule.cron else {"every_minutes": schedule.every_minutes}
    )
    if schedule.active_hours is not None:
        exported["active_hours"] = {
            "from": f"{schedule.active_hours.start:%H:%M}",
            "to": f"{schedule.active_hours.end:%H:%M}",
        }
    if schedule.timezone != "UTC":
        exported["timezone"] = schedule.timezone
    return exported


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
        retention_days=parse_retention_days(raw.get("retention_days")),
        id=id,
    )


__all__ = [
    "MAX_RETENTION_DAYS",
    "POLICY_FIELDS",
    "SCHEDULE_KEYS",
    "ActiveHours",
    "Policy",
    "PolicyAction",
    "Schedule",
    "Server",
    "export_schedule",
    "parse_active_hours",
    "parse_policy",
    "parse_retention_days",
    "parse_schedule",
]
