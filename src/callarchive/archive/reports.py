"""Batch reports: per import run, its window, its counters and one line per conversation.

The line holds what the seed's batch notification lists: the Genesys conversation id, the
extension and participant number, the callarchive conversation id and the flags newly imported,
media downloaded and already imported, and whether Genesys protected its recordings from On
Completion Delete.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from callarchive.archive._context import Context
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import BatchReportEntryRow, BatchReportRow

_COUNTERS = (
    "discovered",
    "imported",
    "already_imported",
    "skipped_by_rules",
    "retry_buffered",
    "failed",
    "media_downloaded",
)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class BatchReportEntry:
    """One conversation of a run."""

    genesys_conversation_id: str
    outcome: str
    conversation_id: int | None = None
    extension: str | None = None
    participant_number: str | None = None
    newly_imported: bool = False
    media_downloaded: bool = False
    already_imported: bool = False
    # On Completion Delete left the recordings in Genesys: Genesys protects them from deletion.
    deletion_protected: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class BatchReport:
    """One import run of a policy and import source. An empty window has no start and end."""

    policy_id: int | None
    import_source_id: int | None
    started_at: dt.datetime
    finished_at: dt.datetime
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    server: str | None = None
    discovered: int = 0
    imported: int = 0
    already_imported: int = 0
    skipped_by_rules: int = 0
    retry_buffered: int = 0
    failed: int = 0
    media_downloaded: int = 0
    entries: tuple[BatchReportEntry, ...] = ()
    id: int | None = None


class BatchReports:
    """Store and read batch reports."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def add(self, report: BatchReport) -> int:
        """Store a report with its lines; its id."""
        async with translate_errors(), self._context.sessions.begin() as session:
            row = BatchReportRow(
                policy_id=report.policy_id,
                import_source_id=report.import_source_id,
                server=report.server,
                started_at=report.started_at,
                finished_at=report.finished_at,
                window_start=report.window_start,
                window_end=report.window_end,
                **{name: getattr(report, name) for name in _COUNTERS},
            )
            session.add(row)
            await session.flush()
            session.add_all(
                BatchReportEntryRow(report_id=row.id, **dataclasses.asdict(entry))
                for entry in report.entries
            )
            return row.id

    async def list(
        self,
        *,
        policy_id: int | None = None,
        import_source_id: int | None = None,
        conversation_id: int | None = None,
        report_id: int | None = None,
        since: dt.datetime | None = None,
        with_entries: bool = True,
        limit: int = 20,
    ) -> list[BatchReport]:
        """The newest reports first, with their lines (those naming a conversation, or one
        report, or started at `since` or later, when given; without lines when not
        `with_entries`)."""
        async with translate_errors(), self._context.sessions() as session:
            query = select(BatchReportRow).order_by(
                BatchReportRow.started_at.desc(), BatchReportRow.id.desc()
            )
            if policy_id is not None:
                query = query.where(BatchReportRow.policy_id == policy_id)
            if import_source_id is not None:
                query = query.where(BatchReportRow.import_source_id == import_source_id)
            if report_id is not None:
                query = query.where(BatchReportRow.id == report_id)
            if since is not None:
                query = query.where(BatchReportRow.started_at >= since)
            if conversation_id is not None:
                naming = select(BatchReportEntryRow.report_id).where(
                    BatchReportEntryRow.conversation_id == conversation_id
                )
                query = query.where(BatchReportRow.id.in_(naming))
            reports = (await session.scalars(query.limit(limit))).all()
            entries: dict[int, list[BatchReportEntry]] = {}
            wanted = [r.id for r in reports] if with_entries else []
            for entry in await session.scalars(
                select(BatchReportEntryRow)
                .where(BatchReportEntryRow.report_id.in_(wanted))
                .order_by(BatchReportEntryRow.id)
            ):
                entries.setdefault(entry.report_id, []).append(
                    BatchReportEntry(
                        genesys_conversation_id=entry.genesys_conversation_id,
                        outcome=entry.outcome,
                        conversation_id=entry.conversation_id,
                        extension=entry.extension,
                        participant_number=entry.participant_number,
                        newly_imported=entry.newly_imported,
                        media_downloaded=entry.media_downloaded,
                        already_imported=entry.already_imported,
                        deletion_protected=entry.deletion_protected,
                    )
                )
            return [
                BatchReport(
                    policy_id=r.policy_id,
                    import_source_id=r.import_source_id,
                    started_at=r.started_at,
                    finished_at=r.finished_at,
                    window_start=r.window_start,
                    window_end=r.window_end,
                    server=r.server,
                    entries=tuple(entries.get(r.id, [])),
                    id=r.id,
                    **{name: getattr(r, name) for name in _COUNTERS},
                )
                for r in reports
            ]


__all__ = ["BatchReport", "BatchReportEntry", "BatchReports"]
