"""`/api/v1/reconciliation`: the daily reconciliations of every policy and import source.

For each pair, its newest days first: how many recorded conversations Genesys lists for the day,
how many are archived, skipped by rules, in the retry buffer, not reached by the import yet or
missing, the completeness figure, and the missing conversations. Administrators and compliance
officers only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from callarchive.archive import DayReconciliation, Unaccounted
from callarchive.configuration import ImportSource, Policy
from callarchive.errors import ConfigurationError
from callarchive.web.api.problems import NOT_FOUND
from callarchive.web.auth import NotFoundError, OperationsViewer
from callarchive.web.state import WebState, web_state

router = APIRouter(tags=["reconciliation"])
STATUS_DAYS = 7  # days the Status page shows


class ConversationOut(BaseModel):
    """A conversation of the day that is not (yet) archived."""

    conversation_id: str = Field(description="the Genesys Cloud conversation id")
    start: dt.datetime


class DayOut(BaseModel):
    """One reconciled day (in the import source's Recording Timezone)."""

    day: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime | None = Field(description="None while it is being reconciled")
    server: str | None
    genesys_total: int = Field(description="recorded voice conversations Genesys lists")
    archived: int
    deleted_by_retention: int = Field(
        description="archived, then deleted by retention past their retention period"
    )
    skipped_by_rules: int
    retry_buffered: int
    not_reached: int = Field(description="after the import cursor: not imported yet")
    missing: int
    archive_only: int = Field(description="archived, no longer listed by Genesys")
    completeness: float | None = Field(
        description=(
            "(archived + deleted by retention + skipped by rules) / Genesys's total; None while "
            "running or failed"
        )
    )
    complete: bool
    error: str | None
    missing_conversations: list[ConversationOut]
    retry_buffered_conversations: list[ConversationOut]


class PairOut(BaseModel):
    """A policy and one of its import sources, with its newest reconciled days."""

    policy: str
    import_source: str
    days: list[DayOut]


def _conversations(items: tuple[Unaccounted, ...]) -> list[ConversationOut]:
    return [ConversationOut(conversation_id=i.conversation_id, start=i.start) for i in items]


def day_out(result: DayReconciliation) -> DayOut:
    """The API form of one day's result."""
    return DayOut(
        day=result.day,
        started_at=result.started_at,
        finished_at=result.finished_at,
        server=result.server,
        genesys_total=result.genesys_total,
        archived=result.archived,
        deleted_by_retention=result.deleted_by_retention,
        skipped_by_rules=result.skipped_by_rules,
        retry_buffered=result.retry_buffered,
        not_reached=result.not_reached,
        missing=result.missing,
        archive_only=result.archive_only,
        completeness=result.completeness,
        complete=result.complete,
        error=result.error,
        missing_conversations=_conversations(result.missing_conversations),
        retry_buffered_conversations=_conversations(result.retry_buffered_conversations),
    )


async def pairs(
    state: WebState, *, source: str | None = None, policy: str | None = None
) -> list[tuple[Policy, ImportSource]]:
    """The policies and import sources named (all when None), policy by policy.
    `NotFoundError` for a name that does not exist."""
    sources = {s.name: s for s in await state.archive.import_sources.list()}
    policies = await state.archive.policies.list()
    if source is not None and source not in sources:
        raise NotFoundError(f"no import source named {source!r}")
    if policy is not None:
        try:
            policies = [await state.archive.policies.get(policy)]
        except ConfigurationError:
            raise NotFoundError(f"no policy named {policy!r}") from None
    return [
        (p, sources[name])
        for p in policies
        for name in p.import_sources
        if name in sources and source in (None, name)
    ]


async def recent_days(
    state: WebState, policy: Policy, source: ImportSource, *, limit: int = STATUS_DAYS
) -> list[DayReconciliation]:
    """The newest reconciled days of one pair (the Status page's Completeness section)."""
    return await state.archive.reconciliations.list(
        policy_id=policy.id, import_source_id=source.id, limit=limit
    )


@router.get("/reconciliation", responses=NOT_FOUND)
async def list_reconciliations(
    request: Request,
    viewer: OperationsViewer,
    source: Annotated[str | None, Query(description="only this import source")] = None,
    policy: Annotated[str | None, Query(description="only this policy")] = None,
    days: Annotated[int, Query(ge=1, le=366, description="newest days per pair")] = 31,
) -> list[PairOut]:
    """Every policy and import source's reconciled days, newest first."""
    del viewer
    state = web_state(request)
    found = []
    for p, s in await pairs(state, source=source, policy=policy):
        results = await state.archive.reconciliations.list(
            policy_id=p.id, import_source_id=s.id, limit=days
        )
        found.append(
            PairOut(policy=p.name, import_source=s.name, days=[day_out(r) for r in results])
        )
    return found


__all__ = [
    "STATUS_DAYS",
    "ConversationOut",
    "DayOut",
    "PairOut",
    "day_out",
    "pairs",
    "recent_days",
    "router",
]
