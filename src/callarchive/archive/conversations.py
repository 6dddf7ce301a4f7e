"""Archived conversations (the CDRs) and their recordings: saving, searching, exporting.

Saving is idempotent by construction: a conversation is unique per import source and Genesys
conversation id, a recording per Genesys recording id and codec, so importing the same window
twice reports "already imported" and stores nothing twice. Search uses the indexes on start
time, recorded user, numbers, direction and platform call id, newest first, with keyset paging.
The export record has the keys of DESIGN.md section 5, times in the Recording Timezone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import AsyncIterator, Sequence
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Select, and_, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callarchive.analysis import RecordingAnalysis, Waveform, WaveformFormatError
from callarchive.archive._context import Context, upsert_insert
from callarchive.archive.accounts import Scope
from callarchive.archive.database import translate_errors
from callarchive.archive.people import partition_ids_for
from callarchive.archive.schema import (
    ConversationRow,
    ImportSourceRow,
    PartitionRow,
    RecordingRow,
    UserRow,
    conversation_partitions,
)
from callarchive.archive.seals import (
    canonical_json,
    latest_seal,
    seal_conversation,
    stored_document,
)
from callarchive.configuration import Codec


class Direction(StrEnum):
    """Direction of a call from the system's point of view (internal number patterns)."""

    INTERNAL = "internal"  # both parties internal
    INBOUND = "inbound"  # from outside to an internal party
    OUTBOUND = "outbound"  # from an internal party to outside
    EXTERNAL = "external"  # neither party internal


class UserDirection(StrEnum):
    """Direction of a call from the recorded user's point of view."""

    INCOMING = "incoming"  # the recorded user was called
    OUTGOING = "outgoing"  # the recorded user called


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Recording:
    """A stored media object of a conversation, in one codec."""

    recording_id: str
    codec: Codec
    object_key: str
    size: int
    sha256: str
    duration_ms: int | None = None
    channels: int | None = None
    media_subtype: str | None = None
    stored_at: dt.datetime | None = None
    deleted_in_genesys_at: dt.datetime | None = None
    analysis: RecordingAnalysis | None = None  # None: not analysed (undecodable, or older)
    waveform: bytes | None = None  # stored on save, not read back: see `Conversations.waveform`


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Conversation:
    """An archived conversation: the standard metadata template, ids and flags.

    Times are UTC. `user_login` links the recorded user for access control; `user` is the name
    shown. `platform_call_id` defaults to the Genesys conversation id.
    """

    import_source_id: int
    genesys_id: str
    start: dt.datetime
    end: dt.datetime | None = None
    duration: int | None = None
    user: str | None = None
    user_login: str | None = None
    user_id: str | None = None
    from_number: str | None = None
    from_info: str | None = None
    to_number: str | None = None
    to_info: str | None = None
    direction: Direction | None = None
    direction_user: UserDirection | None = None
    from_user: str | None = None
    to_user: str | None = None
    location: str | None = None
    platform_call_id: str | None = None
    source_platform: str = "Genesys"
    conversation_type: str = "Voice"
    record_type: str = "Standard"
    dialed_number: str | None = None
    end_cause: str | None = None
    audio_codec: str | None = None
    media_length: str | None = None
    voice_quality: float | None = None
    silence_ratio: float | None = None
    talkover_ratio: float | None = None
    longest_silence: float | None = None
    customer_speech_s: float | None = None
    agent_speech_s: float | None = None
    partitions: tuple[str, ...] = ()
    recordings: tuple[Recording, ...] = ()
    policy_id: int | None = None
    media_complete: bool = False
    deleted_in_genesys: bool = False
    imported_at: dt.datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise ValueError("conversation times must be timezone-aware")
        if self.platform_call_id is None:
            object.__setattr__(self, "platform_call_id", self.genesys_id)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SavedConversation:
    """The outcome of `Conversations.save`."""

    id: int
    newly_imported: bool  # False: it was already archived ("already imported")
    new_recordings: tuple[str, ...]  # Genesys ids of the recordings stored by this call


class ConversationSort(StrEnum):
    """Columns a search can be sorted by."""

    START = "start"  # start time
    DURATION = "duration"  # seconds
    USER = "user"  # recorded user's name
    FROM = "from"  # From number
    TO = "to"  # To number
    DIRECTION = "direction"  # call direction


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ConversationQuery:
    """Search criteria; all optional, combined with AND. `start_to` is exclusive.

    `number` matches From or To. `scope` keeps only what a user may see (DESIGN.md section 6).
    Results are sorted by `sort` (ties by archive id), newest or largest first when
    `descending`; pages are `offset` rows in, or, newest first by start only, continue a
    previous page with `before`: the (start, id) of its last conversation.
    """

    start_from: dt.datetime | None = None
    start_to: dt.datetime | None = None
    user: str | None = None
    number: str | None = None
    direction: Direction | None = None
    platform_call_id: str | None = None
    import_source_id: int | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    min_silence_ratio: float | None = None
    max_silence_ratio: float | None = None
    min_talkover_ratio: float | None = None
    max_talkover_ratio: float | None = None
    min_longest_silence: float | None = None
    max_longest_silence: float | None = None
    scope: Scope | None = None
    sort: ConversationSort = ConversationSort.START
    descending: bool = True
    offset: int = 0
    before: tuple[dt.datetime, int] | None = None
    limit: int = 100


_METADATA = (
    "user_id",
    "from_info",
    "to_info",
    "from_user",
    "to_user",
    "location",
    "platform_call_id",
    "source_platform",
    "conversation_type",
    "record_type",
    "dialed_number",
    "end_cause",
    "audio_codec",
    "media_length",
    "voice_quality",
    "silence_ratio",
    "talkover_ratio",
    "longest_silence",
    "customer_speech_s",
    "agent_speech_s",
)
# The audio analysis's fields: stored when the media is complete (see `Conversations.save`).
_ANALYSIS = (
    "media_length",
    "silence_ratio",
    "talkover_ratio",
    "longest_silence",
    "customer_speech_s",
    "agent_speech_s",
)
_COLUMN = {"user_id": "agent_id"}
_log = structlog.get_logger("callarchive.archive")


class Conversations:
    """Save, find, search and export archived conversations."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def save(self, conversation: Conversation) -> SavedConversation:
        """Archive `conversation` and its recordings unless already there (idempotent).

        An existing conversation keeps its metadata; recordings it lacks are added, and
        `media_complete` is raised when the new value says so.
        """
        async with translate_errors(), self._context.sessions.begin() as session:
            now = self._context.now()
            insert_ = upsert_insert(session)
            new_id = await session.scalar(
                insert_(ConversationRow)
                .values(**await _row_values(session, conversation, now))
                .on_conflict_do_nothing(
                    index_elements=["import_source_id", "genesys_conversation_id"]
                )
                .returning(ConversationRow.id)
            )
            conversation_id = new_id if new_id is not None else await _id_of(session, conversation)
            before = None if new_id is not None else await stored_document(session, conversation_id)
            if new_id is not None:
                await _link_partitions(session, new_id, conversation.partitions)
            elif conversation.media_complete:
                await session.execute(
                    update(ConversationRow)
                    .where(ConversationRow.id == conversation_id)
                    .values(media_complete=True, **_analysis_values(conversation))
                )
            stored = [
                recording.recording_id
                for recording in conversation.recordings
                if await _insert_recording(session, conversation_id, recording, now)
            ]
            await _seal(session, self._context, conversation_id, before)
            return SavedConversation(
                id=conversation_id, newly_imported=new_id is not None, new_recordings=tuple(stored)
            )

    async def get(self, conversation_id: int) -> Conversation | None:
        """The conversation with this archive id, with its recordings."""
        async with translate_errors(), self._context.sessions() as session:
            row = await session.get(ConversationRow, conversation_id)
            return None if row is None else (await _to_conversations(session, [row]))[0]

    async def find(self, import_source_id: int, genesys_id: str) -> Conversation | None:
        """The conversation imported from this source with this Genesys id, if archived."""
        async with translate_errors(), self._context.sessions() as session:
            row = await session.scalar(
                select(ConversationRow).where(
                    ConversationRow.import_source_id == import_source_id,
                    ConversationRow.genesys_conversation_id == genesys_id,
                )
            )
            return None if row is None else (await _to_conversations(session, [row]))[0]

    async def media_sha256(self, object_key: str) -> str | None:
        """The sha256 the archive holds for the media object `object_key`; None when no
        recording has that object (encrypting media in place checks it)."""
        async with translate_errors(), self._context.sessions() as session:
            found = await session.scalar(
                select(RecordingRow.sha256).where(RecordingRow.object_key == object_key)
            )
            return None if found is None else str(found)

    async def search(self, query: ConversationQuery) -> list[Conversation]:
        """Conversations matching `query`, newest first, at most `query.limit`."""
        async with translate_errors(), self._context.sessions() as session:
            statement = _filtered(select(ConversationRow), query)
            column = _SORT_COLUMNS[query.sort]
            order = (
                (column.desc(), ConversationRow.id.desc())
                if query.descending
                else (column.asc(), ConversationRow.id.asc())
            )
            statement = statement.order_by(*order).offset(query.offset).limit(query.limit)
            rows = (await session.scalars(statement)).all()
            return await _to_conversations(session, rows)

    async def count(self, query: ConversationQuery) -> int:
        """How many conversations match `query` (its paging ignored)."""
        async with translate_errors(), self._context.sessions() as session:
            statement = _filtered(
                select(func.count()).select_from(ConversationRow),
                dataclasses.replace(query, before=None),
            )
            found: int = (await session.scalar(statement)) or 0
            return found

    async def waveform(self, conversation_id: int, recording_id: str) -> Waveform | None:
        """The waveform peaks of a recording of the conversation (its newest codec, when there are
        several); None when it has none (not analysed, undecodable, or no such recording)."""
        async with translate_errors(), self._context.sessions() as session:
            data = await session.scalar(
                select(RecordingRow.waveform)
                .where(RecordingRow.conversation_id == conversation_id)
                .where(RecordingRow.genesys_recording_id == recording_id)
                .where(RecordingRow.waveform.is_not(None))
                .order_by(RecordingRow.id.desc())
                .limit(1)
            )
        try:
            return None if data is None else Waveform.from_bytes(data)
        except WaveformFormatError:
            return None

    async def mark_deleted_in_genesys(
        self, recording_id: str, codec: Codec, *, at: dt.datetime
    ) -> None:
        """Record that Genesys's copy of a recording was set for deletion at `at`."""
        async with translate_errors(), self._context.sessions.begin() as session:
            await session.execute(
                update(RecordingRow)
                .where(RecordingRow.genesys_recording_id == recording_id)
                .where(RecordingRow.codec == codec.value)
                .values(deleted_in_genesys_at=at)
            )

    async def export(
        self, query: ConversationQuery | None = None, *, page_size: int = 500
    ) -> AsyncIterator[dict[str, Any]]:
        """Export records (DESIGN.md section 5 keys), oldest first, read page by page."""
        query = query or ConversationQuery()
        zones: dict[int, ZoneInfo] = {}
        after: tuple[dt.datetime, int] | None = None
        while True:
            async with translate_errors(), self._context.sessions() as session:
                statement = _filtered(
                    select(ConversationRow), dataclasses.replace(query, before=None)
                )
                if after is not None:
                    statement = statement.where(
                        or_(
                            ConversationRow.start_at > after[0],
                            and_(
                                ConversationRow.start_at == after[0], ConversationRow.id > after[1]
                            ),
                        )
                    )
                statement = statement.order_by(ConversationRow.start_at, ConversationRow.id)
                rows = (await session.scalars(statement.limit(page_size))).all()
                conversations = await _to_conversations(session, rows)
                await _load_zones(session, zones, {c.import_source_id for c in conversations})
            for conversation in conversations:
                yield export_record(conversation, zones[conversation.import_source_id])
            if len(rows) < page_size:
                return
            after = (rows[-1].start_at, rows[-1].id)


def export_record(conversation: Conversation, zone: ZoneInfo) -> dict[str, Any]:
    """The export keys of DESIGN.md section 5, dates and times in `zone`."""
    c = conversation
    start = c.start.astimezone(zone)
    end = c.end.astimezone(zone) if c.end else None
    return {
        "start_date": start.strftime("%Y-%m-%d"),
        "start_time": start.strftime("%H:%M:%S"),
        "end_date": end.strftime("%Y-%m-%d") if end else None,
        "end_time": end.strftime("%H:%M:%S") if end else None,
        "duration": c.duration,
        "user": c.user,
        "from": c.from_number,
        "from_info": c.from_info,
        "to": c.to_number,
        "to_info": c.to_info,
        "direction": c.direction.value if c.direction else None,
        "direction_user": c.direction_user.value if c.direction_user else None,
        "from_user": c.from_user,
        "to_user": c.to_user,
        "location": c.location,
        "platform_call_id": c.platform_call_id,
        "source_platform": c.source_platform,
        "conversation_type": c.conversation_type,
        "record_type": c.record_type,
        "user_id": c.user_id,
        "dialed_number": c.dialed_number,
        "end_cause": c.end_cause,
        "audio_codec": c.audio_codec,
        "media_length": c.media_length,
        "voice_quality": c.voice_quality,
        "silence_ratio": c.silence_ratio,
        "talkover_ratio": c.talkover_ratio,
        "longest_silence": c.longest_silence,
        "customer_speech_s": c.customer_speech_s,
        "agent_speech_s": c.agent_speech_s,
        "recordings": [
            {
                "recording_id": r.recording_id,
                "codec": r.codec.value,
                "size": r.size,
                "sha256": r.sha256,
                "duration_ms": r.duration_ms,
                "channels": r.channels,
            }
            for r in c.recordings
        ],
    }


async def _seal(
    session: AsyncSession,
    context: Context,
    conversation_id: int,
    before: dict[str, Any] | None,
) -> None:
    """Seal a new conversation, or reseal one this save changed (recordings that arrived late,
    the analysis of complete media). A conversation whose stored state no longer matches its
    latest seal is not resealed: that would hide the change from `callarchive verify`."""
    after = await stored_document(session, conversation_id)
    if after is None or after == before:
        return
    if before is not None:
        latest = await latest_seal(session, conversation_id)
        if latest is not None and latest.document != canonical_json(before):
            _log.warning("seal_refused_tampered", conversation_id=conversation_id)
            return
    await seal_conversation(session, context, conversation_id, after)


def duration_seconds(start: dt.datetime, end: dt.datetime) -> int:
    """Whole seconds between two times, rounded half up (as the emulator's ground truth)."""
    return math.floor((end - start).total_seconds() + 0.5)


def _filtered(statement: Select[Any], query: ConversationQuery) -> Select[Any]:
    c = ConversationRow
    conditions: list[Any] = []
    if query.start_from is not None:
        conditions.append(c.start_at >= query.start_from)
    if query.start_to is not None:
        conditions.append(c.start_at < query.start_to)
    if query.user is not None:
        user_id = select(UserRow.id).where(UserRow.login == query.user).scalar_subquery()
        conditions.append(c.recorded_user_id == user_id)
    if query.number is not None:
        conditions.append(or_(c.from_number == query.number, c.to_number == query.number))
    if query.direction is not None:
        conditions.append(c.direction == query.direction.value)
    if query.platform_call_id is not None:
        conditions.append(c.platform_call_id == query.platform_call_id)
    if query.import_source_id is not None:
        conditions.append(c.import_source_id == query.import_source_id)
    if query.min_duration is not None:
        conditions.append(c.duration_s >= query.min_duration)
    if query.max_duration is not None:
        conditions.append(c.duration_s <= query.max_duration)
    conditions += _analysis_ranges(query)
    if query.scope is not None and not query.scope.everything:
        conditions.append(_in_scope(query.scope))
    if query.before is not None:
        moment, last_id = query.before
        conditions.append(or_(c.start_at < moment, and_(c.start_at == moment, c.id < last_id)))
    return statement.where(*conditions)


def _analysis_ranges(query: ConversationQuery) -> list[Any]:
    """Inclusive ranges on the audio analysis's figures (unanalysed conversations never match)."""
    c = ConversationRow
    conditions: list[Any] = []
    for column, low, high in (
        (c.silence_ratio, query.min_silence_ratio, query.max_silence_ratio),
        (c.talkover_ratio, query.min_talkover_ratio, query.max_talkover_ratio),
        (c.longest_silence, query.min_longest_silence, query.max_longest_silence),
    ):
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
    return conditions


def _in_scope(scope: Scope) -> Any:
    c = ConversationRow
    visible: list[Any] = []
    if scope.logins:
        users = select(UserRow.id).where(UserRow.login.in_(scope.logins))
        visible.append(c.recorded_user_id.in_(users))
    if scope.partitions:
        tagged = (
            select(conversation_partitions.c.conversation_id)
            .join(PartitionRow, PartitionRow.id == conversation_partitions.c.partition_id)
            .where(PartitionRow.name.in_(scope.partitions))
        )
        visible.append(c.id.in_(tagged))
    return or_(*visible) if visible else false()


_SORT_COLUMNS = {
    ConversationSort.START: ConversationRow.start_at,
    ConversationSort.DURATION: ConversationRow.duration_s,
    ConversationSort.USER: ConversationRow.user_name,
    ConversationSort.FROM: ConversationRow.from_number,
    ConversationSort.TO: ConversationRow.to_number,
    ConversationSort.DIRECTION: ConversationRow.direction,
}


async def _row_values(
    session: AsyncSession, conversation: Conversation, now: dt.datetime
) -> dict[str, Any]:
    c = conversation
    user_id = None
    if c.user_login is not None:
        user_id = await session.scalar(select(UserRow.id).where(UserRow.login == c.user_login))
    values = {_COLUMN.get(name, name): getattr(c, name) for name in _METADATA}
    return values | {
        "import_source_id": c.import_source_id,
        "policy_id": c.policy_id,
        "genesys_conversation_id": c.genesys_id,
        "start_at": c.start,
        "end_at": c.end,
        "duration_s": c.duration,
        "recorded_user_id": user_id,
        "user_name": c.user,
        "from_number": c.from_number,
        "to_number": c.to_number,
        "direction": c.direction.value if c.direction else None,
        "direction_user": c.direction_user.value if c.direction_user else None,
        "media_complete": c.media_complete,
        "deleted_in_genesys": c.deleted_in_genesys,
        "imported_at": now,
    }


def _analysis_values(conversation: Conversation) -> dict[str, Any]:
    """The analysis fields to store on a conversation archived earlier, when measured now."""
    if conversation.media_length is None:
        return {}
    return {name: getattr(conversation, name) for name in _ANALYSIS}


async def _id_of(session: AsyncSession, conversation: Conversation) -> int:
    found: int = (
        await session.scalars(
            select(ConversationRow.id).where(
                ConversationRow.import_source_id == conversation.import_source_id,
                ConversationRow.genesys_conversation_id == conversation.genesys_id,
            )
        )
    ).one()
    return found


async def _link_partitions(
    session: AsyncSession, conversation_id: int, names: Sequence[str]
) -> None:
    ids = await partition_ids_for(session, names)
    if ids:
        await session.execute(
            conversation_partitions.insert(),
            [{"conversation_id": conversation_id, "partition_id": p} for p in ids],
        )


async def _insert_recording(
    session: AsyncSession, conversation_id: int, recording: Recording, now: dt.datetime
) -> bool:
    insert_ = upsert_insert(session)
    inserted = await session.scalar(
        insert_(RecordingRow)
        .values(
            conversation_id=conversation_id,
            genesys_recording_id=recording.recording_id,
            codec=recording.codec.value,
            object_key=recording.object_key,
            size=recording.size,
            sha256=recording.sha256,
            duration_ms=recording.duration_ms,
            channels=recording.channels,
            media_subtype=recording.media_subtype,
            stored_at=now,
            deleted_in_genesys_at=recording.deleted_in_genesys_at,
            analysis=recording.analysis.to_json() if recording.analysis else None,
            waveform=recording.waveform,
        )
        .on_conflict_do_nothing()
        .returning(RecordingRow.id)
    )
    return inserted is not None


async def _to_conversations(
    session: AsyncSession, rows: Sequence[ConversationRow]
) -> list[Conversation]:
    ids = [row.id for row in rows]
    if not ids:
        return []
    recordings: dict[int, list[Recording]] = {}
    for r in await session.scalars(
        select(RecordingRow).where(RecordingRow.conversation_id.in_(ids)).order_by(RecordingRow.id)
    ):
        recordings.setdefault(r.conversation_id, []).append(_to_recording(r))
    partitions: dict[int, list[str]] = {}
    links = await session.execute(
        select(conversation_partitions.c.conversation_id, PartitionRow.name)
        .join(PartitionRow, PartitionRow.id == conversation_partitions.c.partition_id)
        .where(conversation_partitions.c.conversation_id.in_(ids))
        .order_by(PartitionRow.name)
    )
    for conversation_id, name in links:
        partitions.setdefault(conversation_id, []).append(name)
    user_ids = {row.recorded_user_id for row in rows if row.recorded_user_id is not None}
    logins = dict(
        (
            await session.execute(select(UserRow.id, UserRow.login).where(UserRow.id.in_(user_ids)))
        ).all()
    )
    return [
        Conversation(
            **{name: getattr(row, _COLUMN.get(name, name)) for name in _METADATA},
            import_source_id=row.import_source_id,
            genesys_id=row.genesys_conversation_id,
            start=row.start_at,
            end=row.end_at,
            duration=row.duration_s,
            user=row.user_name,
            user_login=logins.get(row.recorded_user_id) if row.recorded_user_id else None,
            from_number=row.from_number,
            to_number=row.to_number,
            direction=Direction(row.direction) if row.direction else None,
            direction_user=UserDirection(row.direction_user) if row.direction_user else None,
            partitions=tuple(partitions.get(row.id, [])),
            recordings=tuple(recordings.get(row.id, [])),
            policy_id=row.policy_id,
            media_complete=row.media_complete,
            deleted_in_genesys=row.deleted_in_genesys,
            imported_at=row.imported_at,
            id=row.id,
        )
        for row in rows
    ]


def _to_recording(row: RecordingRow) -> Recording:
    return Recording(
        recording_id=row.genesys_recording_id,
        codec=Codec(row.codec),
        object_key=row.object_key,
        size=row.size,
        sha256=row.sha256,
        duration_ms=row.duration_ms,
        channels=row.channels,
        media_subtype=row.media_subtype,
        stored_at=row.stored_at,
        deleted_in_genesys_at=row.deleted_in_genesys_at,
        analysis=RecordingAnalysis.from_json(row.analysis) if row.analysis else None,
    )


async def _load_zones(session: AsyncSession, zones: dict[int, ZoneInfo], ids: set[int]) -> None:
    missing = ids - set(zones)
    if missing:
        rows = await session.execute(
            select(ImportSourceRow.id, ImportSourceRow.recording_timezone).where(
                ImportSourceRow.id.in_(missing)
            )
        )
        zones.update({source_id: ZoneInfo(name) for source_id, name in rows})


__all__ = [
    "Conversation",
    "ConversationQuery",
    "ConversationSort",
    "Conversations",
    "Direction",
    "Recording",
    "SavedConversation",
    "UserDirection",
    "duration_seconds",
    "export_record",
]
