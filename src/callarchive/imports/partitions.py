"""Partition backfill: partitions for the conversations imported near real time.

A conversation's partitions (DESIGN.md section 6) come from the `partition` participant
attribute, which only the async details jobs return; the near-real-time details query does not
(`AnalyticsConversationWithoutAttributes`). So a conversation imported through the query is
archived without partitions, and the backfill adds them once the analytics data lake that the
jobs read (`dataAvailabilityDate`) has caught up: one job over a long span costs a handful of
requests however many conversations it holds, where a request per conversation would not fit
the API budget.

Its progress is `laststate/<pair>/<pair>.partitions`, JSON `{"position", "lake_lag_s"}`, with
this invariant: every conversation archived from the import source with a start before
`position` has its partitions. The backfill keeps it by going no further than the import cursor
(later conversations are not archived yet) and by moving `position` only after the partitions
of its span are stored (adding is idempotent: a step cut short is done again); the import keeps
it by reading windows and retried conversations behind `position` through jobs, which carry the
attribute. When no user holds a partition, partitions grant nothing and the backfill makes no
request; its position waits, so the conversations archived meanwhile are done once one does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import structlog

from callarchive.archive import Archive, PairFolders, WorkStore
from callarchive.clock import Clock
from callarchive.configuration import ImportSource
from callarchive.genesys import GenesysClient
from callarchive.imports.jobs import fulfilled_job
from callarchive.imports.metadata import partitions
from callarchive.imports.window import Window

log = structlog.get_logger("callarchive.imports")

# The shortest span worth a job (about five requests) once the import is caught up, and the
# longest span of one job (also how far a backlog's import gets ahead before a step is due).
STEP = dt.timedelta(hours=1)
MAX_STEP = dt.timedelta(days=7)
CHUNK = 500  # conversations whose partitions are stored in one transaction


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class BackfillState:
    """Conversations archived with a start before `position` have their partitions;
    `lake_lag` is how far the data lake trailed the clock when last asked."""

    position: dt.datetime
    lake_lag: dt.timedelta = dt.timedelta()

    def render(self) -> bytes:
        utc = self.position.astimezone(dt.UTC)
        stamp = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
        body = {"position": stamp, "lake_lag_s": round(self.lake_lag.total_seconds())}
        return (json.dumps(body) + "\n").encode()


def parse_state(data: bytes) -> BackfillState:
    """The backfill state in a file's content; ValueError or TypeError when it is not one."""
    body: Any = json.loads(data)
    if not isinstance(body, dict) or not isinstance(body.get("position"), str):
        raise TypeError('expected {"position": "<ISO 8601 UTC>", "lake_lag_s": <seconds>}')
    position = dt.datetime.fromisoformat(body["position"])
    if position.tzinfo is None:
        raise ValueError("the position must carry its time zone (UTC)")
    lag = body.get("lake_lag_s", 0)
    if not isinstance(lag, int | float) or lag < 0:
        raise TypeError("lake_lag_s must be a number of seconds, 0 or more")
    return BackfillState(position=position.astimezone(dt.UTC), lake_lag=dt.timedelta(seconds=lag))


def due(
    state: BackfillState,
    *,
    cursor: dt.datetime,
    now: dt.datetime,
    max_recording_length: dt.timedelta,
    caught_up: bool,
) -> Window | None:
    """The span one job should backfill now, or None when no step is due.

    The span ends at the import cursor, at the data lake less the maximum recording length (a
    conversation that started before then has ended and is in the lake; the jobs leave out the
    ones that are not) and MAX_STEP after its start. A step is due when the span is STEP long
    and the import is caught up, or MAX_STEP long (a backlog). The lake is estimated from the
    last lag seen, so Genesys is asked only when a step is likely to be due.
    """
    lake = now - state.lake_lag
    end = min(cursor, lake - max_recording_length, state.position + MAX_STEP)
    span = end - state.position
    if span >= MAX_STEP or (caught_up and span >= STEP):
        return Window(start=state.position, end=end)
    return None


class PartitionBackfill:
    """The partition backfill of one policy and import source; the import run drives it."""

    def __init__(
        self,
        *,
        archive: Archive,
        client: GenesysClient,
        work: WorkStore,
        clock: Clock,
        folders: PairFolders,
        source: ImportSource,
    ) -> None:
        if source.id is None:
            raise ValueError("the import source must be a stored one")
        self.archive = archive
        self.client = client
        self.work = work
        self.clock = clock
        self.folders = folders
        self.source = source
        self.source_id: int = source.id

    async def position(self) -> dt.datetime | None:
        """Where the backfill stands; None before its first step (or when its file is bad)."""
        state = await self._stored()
        return state.position if state else None

    async def step(self, *, cursor: dt.datetime, caught_up: bool) -> int | None:
        """Backfill one span when one is due; the partition links added (None: no step)."""
        if not await self.archive.partitions.in_use():
            return None
        stored = await self._stored()
        state = stored or BackfillState(position=self.source.recording_start.astimezone(dt.UTC))
        if self._due(state, cursor, caught_up) is None:
            return None
        available = await self.client.data_availability()
        lag = max(dt.timedelta(), self.clock.now() - available)
        state = dataclasses.replace(state, lake_lag=lag)
        span = self._due(state, cursor, caught_up)
        if span is None:
            await self.work.put(self.folders.partitions, state.render())
            return None
        added = await self._fill(span)
        await self.work.put(
            self.folders.partitions, dataclasses.replace(state, position=span.end).render()
        )
        log.info(
            "partitions_backfilled",
            policy_id=self.folders.policy_id,
            import_source_id=self.source_id,
            span_start=span.start.isoformat(),
            span_end=span.end.isoformat(),
            added=added,
        )
        return added

    def _due(self, state: BackfillState, cursor: dt.datetime, caught_up: bool) -> Window | None:
        return due(
            state,
            cursor=cursor,
            now=self.clock.now(),
            max_recording_length=dt.timedelta(minutes=self.source.max_recording_length_min),
            caught_up=caught_up,
        )

    async def _fill(self, span: Window) -> int:
        """Store the partitions of the span's conversations that are archived."""
        job_id = await fulfilled_job(self.client, self.clock, span.start, span.end)
        added = 0
        found: dict[str, tuple[str, ...]] = {}
        async for conversation in self.client.details_job_results(job_id):
            names = partitions(conversation)
            if names:
                found[conversation.conversation_id] = names
            if len(found) >= CHUNK:
                added += await self.archive.partitions.add(self.source_id, found)
                found = {}
        added += await self.archive.partitions.add(self.source_id, found)
        await self.client.delete_details_job(job_id)
        return added

    async def _stored(self) -> BackfillState | None:
        data = await self.work.get(self.folders.partitions)
        if data is None:
            return None
        try:
            return parse_state(data)
        except (ValueError, TypeError) as error:
            # Starting over is safe: it only adds partitions that are missing.
            log.warning("partition_state_unreadable", key=self.folders.partitions, error=str(error))
            return None


__all__ = ["STEP", "BackfillState", "PartitionBackfill", "due", "parse_state"]
