"""The end-of-batch report: what became of each conversation of a run (the seed, section 5)."""

from __future__ import annotations

import enum

from callarchive.archive import BatchReport

HEADER = (
    "Genesys Cloud conversation id | extension | participant number | "
    "callarchive conversation id | newly imported | media downloaded | already imported"
)

# On Completion Delete skipped these: Genesys protects their recordings from deletion.
PROTECTED = "Kept in Genesys Cloud (deletion protected)"


class Outcome(enum.StrEnum):
    """What became of one conversation in a run."""

    IMPORTED = "imported"  # newly archived, media downloaded
    ALREADY_IMPORTED = "already_imported"  # it was archived before (e.g. the cursor was set back)
    SKIPPED_BY_RULES = "skipped_by_rules"  # no participant is a recorded user
    RETRY_BUFFERED = "retry_buffered"  # waiting in the retry buffer (media, in progress)
    FAILED = "failed"  # failed to import; its CDR is in the retry buffer


def notification_text(report: BatchReport) -> str:
    """The end-of-batch notification: one line per conversation, or "No conversations imported"."""
    rows = [
        e
        for e in report.entries
        if e.outcome in (Outcome.IMPORTED.value, Outcome.ALREADY_IMPORTED.value)
    ]
    if not rows:
        return "No conversations imported"
    lines = [HEADER]
    lines += [
        f"{e.genesys_conversation_id} | {e.extension or '-'} | {e.participant_number or '-'} | "
        f"{e.conversation_id or '-'} | {_flag(e.newly_imported)} | {_flag(e.media_downloaded)} | "
        f"{_flag(e.already_imported)}"
        for e in rows
    ]
    protected = [e.genesys_conversation_id for e in report.entries if e.deletion_protected]
    if protected:
        lines.append(f"{PROTECTED}: {', '.join(protected)}")
    return "\n".join(lines)


def _flag(value: bool) -> str:
    return "yes" if value else "no"
