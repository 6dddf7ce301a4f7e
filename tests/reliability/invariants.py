"""The reliability invariant, checked on what an installation holds after any fault or crash.

`Holdings.read` takes a snapshot of everything that shows an import's outcome: the archive's
conversation and recording rows (the database), every object of the media store, the CDR files of
the retry buffer and of its in-flight folder, and the cursor (the work store). Two checks:

- `lost_or_doubled` holds at every moment, even right after a SIGKILL: no conversation is
  archived twice, and the cursor never passed a selected conversation that has no durable
  outcome (archived, skipped by rules, or a CDR in the retry buffer or its in-flight folder).
- `violations` holds once the import has recovered and caught up: every conversation the rules
  select is archived exactly once with the ground truth's metadata and media sha256, nothing else
  is archived, every recording row has its object (of its size) and every object its row (no
  staging debris), the retry buffer is empty, and the cursor is past the traffic.

Both return what is wrong, as readable lines (empty when the invariant holds).

A snapshot taken while workers run must not see a conversation nowhere because it moved while
being read. Outcomes only move forward (retry buffer → in flight → archived, the cursor only
ahead), so `Holdings.read` reads in that order's reverse: the cursor first, then the CDR files
(read again if one moved between the listing and its reading), then the archive's rows last.
Whatever the cursor had passed when it was read had its outcome by then, and an outcome seen in
no earlier place is found in a later one.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import create_engine, text

from callarchive.archive import ObjectStore, S3Options, WorkStore
from callarchive.imports.cursor import parse as parse_cursor
from callarchive.imports.retry_buffer import parse as parse_cdr
from tests.imports.test_end_to_end import COMPARED_KEYS

ROOT = "cdrimport/GenesysCloud"


def selected(truth: Mapping[str, Any]) -> dict[str, Any]:
    """The conversations the rules select when every agent is a recorded user (the tests'
    configuration): the recorded, ended voice calls."""
    return {
        c["conversation_id"]: c
        for c in truth["conversations"]
        if c["voice"] and c["recorded"] and c["ended"]
    }


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(v for v, n in collections.Counter(values).items() if n > 1)


@dataclasses.dataclass(frozen=True)
class Recording:
    conversation_id: str  # Genesys conversation id
    recording_id: str
    codec: str
    object_key: str
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class Holdings:
    """What an installation holds: archive rows, media objects, retry buffer, cursor."""

    conversations: list[dict[str, Any]]  # genesys id, media_complete
    recordings: list[Recording]
    objects: dict[str, int]  # media store key -> size
    buffered: list[str]  # conversation ids of CDR files in the retry buffer
    inflight: list[str]  # conversation ids of CDR files taken by a run not settled yet
    rejected: list[str]  # files moved aside as unreadable
    cursor: dt.datetime | None

    @classmethod
    def read(
        cls, database_url: str, *, media_url: str, work_url: str, s3: S3Options | None = None
    ) -> Holdings:
        work = WorkStore.from_url(work_url, s3=s3)
        files = asyncio.run(_work_files(work))
        conversations, recordings = _rows(database_url)
        listing = WorkStore.from_url(media_url, s3=s3)
        media = ObjectStore.from_url(media_url, s3=s3)
        objects = asyncio.run(_objects(listing, media))
        return cls(conversations=conversations, recordings=recordings, objects=objects, **files)

    def held(self) -> set[str]:
        """Conversations with a durable outcome other than skipped by rules."""
        archived = {c["genesys_conversation_id"] for c in self.conversations}
        return archived | set(self.buffered) | set(self.inflight)


def _rows(database_url: str) -> tuple[list[dict[str, Any]], list[Recording]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            conversations = [
                dict(row._mapping)
                for row in connection.execute(
                    text("SELECT genesys_conversation_id, media_complete FROM conversations")
                )
            ]
            recordings = [
                Recording(**row._mapping)
                for row in connection.execute(
                    text(
                        "SELECT c.genesys_conversation_id AS conversation_id, "
                        "r.genesys_recording_id AS recording_id, r.codec, r.object_key, "
                        "r.size, r.sha256 FROM recordings r "
                        "JOIN conversations c ON c.id = r.conversation_id"
                    )
                )
            ]
    finally:
        engine.dispose()
    return conversations, recordings


async def _objects(listing: WorkStore, media: ObjectStore) -> dict[str, int]:
    return {key: await media.size(key) or 0 for key in await listing.list("")}


async def _work_files(work: WorkStore, attempts: int = 50) -> dict[str, Any]:
    """The cursor, then the CDR files of the retry buffer and in flight: read again whenever a
    listed file was gone when read (it moved on; its next place may not have been listed)."""
    cursor = None
    for key in await work.list(ROOT):
        data = await work.get(key) if key.endswith(".cursor") else None
        if data is not None:
            cursor = parse_cursor(data, source=key).position
    for _ in range(attempts):
        files = await _cdr_files(work)
        if files is not None:
            return {**files, "cursor": cursor}
    raise AssertionError(f"the retry buffer kept changing during {attempts} readings")


async def _cdr_files(work: WorkStore) -> dict[str, list[str]] | None:
    """The CDR files by place, or None if one was gone between the listing and its reading."""
    files: dict[str, list[str]] = {"buffered": [], "inflight": [], "rejected": []}
    for key in await work.list(ROOT):
        if "/rejected/" in key:
            files["rejected"].append(key)
            continue
        place = "buffered" if "/retryBuffer/" in key else "inflight" if "/inflight/" in key else ""
        if not key.endswith(".xml") or not place:
            continue
        data = await work.get(key)
        if data is None:
            return None
        files[place].append(parse_cdr(data, source=key).conversation_id)
    return files


def lost_or_doubled(holdings: Holdings, truth: Mapping[str, Any]) -> list[str]:
    """What breaks the invariant of every moment: a conversation archived twice, or one the
    cursor passed with no durable outcome."""
    wrong = [
        f"archived twice: {c}"
        for c in _duplicates(c["genesys_conversation_id"] for c in holdings.conversations)
    ]
    wrong += [
        f"recording row twice: {r}"
        for r in _duplicates(f"{r.recording_id}/{r.codec}" for r in holdings.recordings)
    ]
    if holdings.cursor is None:
        return wrong
    held = holdings.held()
    wrong += [
        f"the cursor ({holdings.cursor}) passed {cid} (start {c['start']}) and it is neither "
        "archived nor in the retry buffer"
        for cid, c in selected(truth).items()
        if dt.datetime.fromisoformat(c["start"]) < holdings.cursor and cid not in held
    ]
    return wrong


def violations(
    holdings: Holdings,
    truth: Mapping[str, Any],
    records: list[dict[str, Any]],
    codec: str,
    *,
    cursor_past: dt.datetime,
) -> list[str]:
    """What breaks the invariant after recovery. `truth` is the ground truth with `codec`'s
    formats; `records` the `conversations export` lines; `cursor_past` a time the cursor must
    have reached (after the traffic's last conversation)."""
    wrong = lost_or_doubled(holdings, truth)
    expected = selected(truth)
    archived = {r["platform_call_id"]: r for r in records}
    wrong += [f"not archived: {c}" for c in sorted(expected.keys() - archived.keys())]
    wrong += [f"archived but not selected: {c}" for c in sorted(archived.keys() - expected.keys())]
    for cid in sorted(expected.keys() & archived.keys()):
        got, want = archived[cid], expected[cid]
        wrong += [
            f"{cid}: {key} is {got[key]!r}, the ground truth says {want['export'][key]!r}"
            for key in COMPARED_KEYS
            if got[key] != want["export"][key]
        ]
        media = {r["recording_id"]: r["sha256"] for r in got["recordings"]}
        truth_media = {r["recording_id"]: r["formats"][codec]["sha256"] for r in want["recordings"]}
        if media != truth_media:
            wrong.append(f"{cid}: media {media} differs from the ground truth's {truth_media}")
    wrong += [
        f"conversation row without complete media: {c['genesys_conversation_id']}"
        for c in holdings.conversations
        if not c["media_complete"]
    ]
    keys = {r.object_key for r in holdings.recordings}
    wrong += [
        f"recording row without its object ({r.size} bytes): {r.object_key}"
        for r in holdings.recordings
        if holdings.objects.get(r.object_key) != r.size
    ]
    orphans = sorted(holdings.objects.keys() - keys)
    wrong += [f"object without a recording row (or staging debris): {k}" for k in orphans]
    wrong += [f"CDR left in the retry buffer: {c}" for c in holdings.buffered]
    wrong += [f"CDR left in flight: {c}" for c in holdings.inflight]
    wrong += [f"CDR file rejected: {k}" for k in holdings.rejected]
    if holdings.cursor is None or holdings.cursor < cursor_past:
        wrong.append(f"the cursor ({holdings.cursor}) has not reached {cursor_past}")
    return wrong


__all__ = ["Holdings", "Recording", "lost_or_doubled", "selected", "violations"]
