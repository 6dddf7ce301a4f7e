"""When runs are due: pure functions of a policy's schedule and `now`.

A schedule names its *slots*, the moments a run is due: every N minutes counted from midnight
in the schedule's time zone (a grid that starts again each midnight), or the times of a cron
expression read in that zone. The run due at `now` is the latest slot at or before `now`; it is
due only when that slot lies inside the active hours. A node claims each slot of each policy
and import source once (see `Scheduler`), so a slot is never run twice, and a node that was
down catches up with one run for the current slot instead of one per missed slot.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from croniter import croniter

from callarchive.configuration import Policy, Schedule


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DueRun:
    """A run of one policy and import source that is due at `due_at`."""

    policy_id: int
    policy: str
    import_source_id: int
    source: str
    due_at: dt.datetime
    servers: tuple[str, ...] = ()  # Execute Only on Selected Servers: the policy's servers

    @property
    def pair(self) -> tuple[int, int]:
        return (self.policy_id, self.import_source_id)


def latest_slot(schedule: Schedule, now: dt.datetime) -> dt.datetime:
    """The latest slot of `schedule` at or before `now` (UTC), whatever the active hours."""
    zone = ZoneInfo(schedule.timezone)
    local = now.astimezone(zone)
    if schedule.cron:
        # croniter's get_prev is strictly before its base: start from the next whole minute.
        base = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        previous: dt.datetime = croniter(schedule.cron, base).get_prev(dt.datetime)
        return previous.astimezone(dt.UTC)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
    step = schedule.interval
    return midnight + step * ((now.astimezone(dt.UTC) - midnight) // step)


def in_active_hours(schedule: Schedule, moment: dt.datetime) -> bool:
    """True when `moment` lies inside the schedule's active hours (always, without any)."""
    if schedule.active_hours is None:
        return True
    local = moment.astimezone(ZoneInfo(schedule.timezone)).time().replace(tzinfo=None)
    return schedule.active_hours.contains(local)


def due_slot(schedule: Schedule, now: dt.datetime) -> dt.datetime | None:
    """The slot due at `now`, or None when the latest slot lies outside the active hours."""
    slot = latest_slot(schedule, now)
    return slot if in_active_hours(schedule, slot) else None


def runs_here(policy: Policy, server: str) -> bool:
    """True when `server` may run `policy` (Execute Only on Selected Servers)."""
    return not policy.execute_only_on_selected_servers or server in policy.servers


def due_runs(
    policies: Iterable[Policy], source_ids: Mapping[str, int], *, server: str, now: dt.datetime
) -> list[DueRun]:
    """The runs due at `now` that `server` may start: enabled policies allowed on it, one run
    per import source of each, at the policy's current slot."""
    found: list[DueRun] = []
    for policy in policies:
        if not policy.enabled or policy.id is None or not runs_here(policy, server):
            continue
        slot = due_slot(policy.schedule, now)
        if slot is None:
            continue
        found.extend(
            DueRun(
                policy_id=policy.id,
                policy=policy.name,
                import_source_id=source_ids[name],
                source=name,
                due_at=slot,
                servers=policy.servers,
            )
            for name in policy.import_sources
            if name in source_ids
        )
    return found


__all__ = ["DueRun", "due_runs", "due_slot", "in_active_hours", "latest_slot", "runs_here"]
