"""Seals: tamper evidence for archived conversations and the audit log.

A conversation is sealed when it is archived, in the same transaction: its canonical document
(the section-5 metadata with UTC ISO times and its recordings' id, codec, size and sha256, as
JSON with sorted keys) is hashed (`seal`), chained within its UTC day of import
(`link = sha256(previous link || seal)`, the first link of a day `sha256(seal)`) and the link is
signed with the installation's Ed25519 key (`SealKey`). A conversation that later gains
recordings gets a new seal appended to the chain of that day; verification uses the latest.

The audit log is one more chain (`audit`): each entry's `link = sha256(previous link ||
sha256(canonical entry))`, signed, written by `write_entry`'s transaction.

Chains never fork: appending takes a row lock on the chain's head in `seal_chains`
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite serialises writers, and the sealing transaction
has already written), so two workers sealing the same day queue for the rest of their short
transactions. The head also holds the chain's length, so a removed last seal shows.

`Seals.verify` recomputes everything from the database (and, with `media`, from the stored
objects) and lists each problem; it never changes anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Iterable
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from callarchive.archive._context import Context, upsert_insert
from callarchive.archive._obstore import ObjectNotFoundError
from callarchive.archive.database import translate_errors
from callarchive.archive.objects import ObjectStore
from callarchive.archive.schema import (
    AuditRow,
    ConversationRow,
    RecordingRow,
    SealChainRow,
    SealRow,
)
from callarchive.secrets import SealKey, SealVerifier
from callarchive.signing import SealKeyring

AUDIT_CHAIN = "audit"

# The columns of a conversation that are sealed (DESIGN.md section 5 and the ids).
_SEALED_COLUMNS = (
    "id",
    "import_source_id",
    "genesys_conversation_id",
    "start_at",
    "end_at",
    "duration_s",
    "user_name",
    "agent_id",
    "from_number",
    "from_info",
    "to_number",
    "to_info",
    "direction",
    "direction_user",
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


class SealOrigin(StrEnum):
    """How a conversation came to be sealed."""

    IMPORT = "import"  # as it was archived, in the same transaction
    LATE = "late"  # after the fact: archived before seals existed (`callarchive seal --unsealed`)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Signed:
    """What a `v2` signature covers beyond the chain: how and when it was sealed, by which key."""

    origin: str
    sealed_at: dt.datetime
    key_id: str


class ProblemKind(StrEnum):
    """What verification found wrong."""

    METADATA_CHANGED = "metadata changed"  # the conversation differs from its latest seal
    SEAL_CHANGED = "seal changed"  # a seal is not the sha256 of its document
    MEDIA_CHANGED = "media changed"  # a stored object's sha256 differs from the sealed one
    MEDIA_MISSING = "media missing"  # a sealed recording's object is gone
    CHAIN_BROKEN = "chain broken"  # a link does not follow from the previous one
    SIGNATURE_INVALID = "signature invalid"  # a link is not signed by the installation's key
    UNKNOWN_KEY = "unknown key"  # signed by a key the installation does not know
    NOT_SEALED = "not sealed"  # a conversation archived since sealing began has no seal
    CONVERSATION_MISSING = "conversation missing"  # deleted, but not by retention


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    """One thing verification found wrong."""

    kind: ProblemKind
    subject: str  # "conversation:42", "chain:2026-11-25", "audit:17"
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.kind}: {self.message}"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Verification:
    """The outcome of a verification: what was checked, notes, and problems (none: OK)."""

    conversations: int = 0
    seals: int = 0
    late_seals: int = 0  # of `seals`: sealed after the fact (`SealOrigin.LATE`)
    chains: tuple[str, ...] = ()
    recordings_read: int = 0
    audit_entries: int = 0
    notes: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.problems

    def report(self) -> str:
        """The human-readable report (`callarchive verify`, the export's report)."""
        late = f" ({self.late_seals} sealed after the fact)" if self.late_seals else ""
        checked = (
            f"checked: {self.conversations} conversations, {self.seals} seals{late} in "
            f"{len(self.chains)} chains, {self.recordings_read} media objects read, "
            f"{self.audit_entries} audit entries"
        )
        lines = [
            checked,
            *(f"note: {note}" for note in self.notes),
            *(f"PROBLEM {problem}" for problem in self.problems),
            "result: OK" if self.ok else f"result: {len(self.problems)} problem(s)",
        ]
        return "\n".join(lines) + "\n"

    def merged(self, other: Verification) -> Verification:
        """Both verifications' counts, notes and problems."""
        return Verification(
            conversations=self.conversations + other.conversations,
            seals=self.seals + other.seals,
            late_seals=self.late_seals + other.late_seals,
            chains=self.chains + other.chains,
            recordings_read=self.recordings_read + other.recordings_read,
            audit_entries=self.audit_entries + other.audit_entries,
            notes=self.notes + other.notes,
            problems=self.problems + other.problems,
        )


def canonical_json(document: dict[str, Any]) -> str:
    """Sorted keys, no whitespace, UTF-8 text: the same bytes for the same document."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def next_link(previous: str, seal: str) -> str:
    """`sha256(previous link || seal)` over the raw 32-byte values (no previous: `sha256(seal)`)."""
    return sha256_hex(bytes.fromhex(previous) + bytes.fromhex(seal))


def seal_message(  # noqa: PLR0917 (the fields a signature covers)
    chain: str,
    position: int,
    subject: str,
    seal: str,
    link: str,
    signed: Signed | None = None,
) -> bytes:
    """What a signature covers: the chain, the position in it, what was sealed and the link
    (`v1`: the audit chain and seals made before revision v0008); with `signed`, also how and
    when it was sealed and by which key (`v2`)."""
    if signed is None:
        return f"callarchive-seal-v1|{chain}|{position}|{subject}|{seal}|{link}".encode()
    return (
        f"callarchive-seal-v2|{chain}|{position}|{subject}|{seal}|{link}|{signed.origin}|"
        f"{signed.sealed_at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}|{signed.key_id}"
    ).encode()


def signed_fields(row: SealRow) -> Signed | None:
    """The `v2` fields of a stored seal (None: a seal made before revision v0008)."""
    if row.key_id is None:
        return None
    return Signed(
        origin=row.origin or SealOrigin.IMPORT, sealed_at=row.sealed_at, key_id=row.key_id
    )


def conversation_document(
    row: ConversationRow, recordings: Iterable[RecordingRow]
) -> dict[str, Any]:
    """The canonical document of a conversation: its sealed columns (times as UTC ISO 8601)
    and its recordings' id, codec, size and sha256, sorted."""
    document: dict[str, Any] = {}
    for name in _SEALED_COLUMNS:
        value = getattr(row, name)
        document[name] = (
            value.astimezone(dt.UTC).isoformat() if isinstance(value, dt.datetime) else value
        )
    document["recordings"] = sorted(
        (
            {
                "recording_id": r.genesys_recording_id,
                "codec": r.codec,
                "size": r.size,
                "sha256": r.sha256,
            }
            for r in recordings
        ),
        key=lambda r: (r["recording_id"], r["codec"]),
    )
    return document


def audit_document(row: AuditRow) -> dict[str, Any]:
    """The canonical document of an audit entry."""
    return {
        "at": row.at.astimezone(dt.UTC).isoformat(),
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "details": row.details,
    }


async def stored_document(session: AsyncSession, conversation_id: int) -> dict[str, Any] | None:
    """The canonical document of the conversation as the database holds it now."""
    await session.flush()
    row = await session.get(ConversationRow, conversation_id, populate_existing=True)
    if row is None:
        return None
    recordings = await session.scalars(
        select(RecordingRow).where(RecordingRow.conversation_id == conversation_id)
    )
    return conversation_document(row, recordings)


async def latest_seal(session: AsyncSession, conversation_id: int) -> SealRow | None:
    """The newest seal of a conversation."""
    found: SealRow | None = await session.scalar(
        select(SealRow)
        .where(SealRow.conversation_id == conversation_id)
        .order_by(SealRow.sealed_at.desc(), SealRow.id.desc())
        .limit(1)
    )
    return found


def seal_day(now: dt.datetime) -> str:
    """The chain a seal made at `now` is appended to: its UTC day."""
    return now.astimezone(dt.UTC).date().isoformat()


async def seal_conversation(
    session: AsyncSession,
    context: Context,
    conversation_id: int,
    document: dict[str, Any],
    *,
    origin: SealOrigin = SealOrigin.IMPORT,
) -> SealRow:
    """Append the seal of `document` to today's chain, in `session`'s transaction."""
    now = context.now()
    day = seal_day(now)
    text = canonical_json(document)
    seal = sha256_hex(text.encode())
    head = await locked_head(session, day)
    link = next_link(head.head, seal)
    position = head.length + 1
    key = context.seal_key
    signed = Signed(origin=origin, sealed_at=now, key_id=key.key_id)
    row = SealRow(
        conversation_id=conversation_id,
        day=day,
        position=position,
        sealed_at=now,
        document=text,
        seal=seal,
        link=link,
        signature=key.sign(
            seal_message(day, position, f"conversation:{conversation_id}", seal, link, signed)
        ),
        origin=origin,
        key_id=key.key_id,
    )
    session.add(row)
    head.length, head.head = position, link
    await session.flush()
    return row


async def locked_head(session: AsyncSession, chain: str) -> SealChainRow:
    """The head of `chain` (created empty when new), locked until the transaction ends."""
    await session.execute(
        upsert_insert(session)(SealChainRow)
        .values(chain=chain, length=0, head="")
        .on_conflict_do_nothing()
    )
    head: SealChainRow = (
        await session.scalars(
            select(SealChainRow)
            .where(SealChainRow.chain == chain)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    return head


def link_audit_entries(session: Session, rows: list[AuditRow], key: SealKey) -> None:
    """Chain and sign new audit entries (in flush order) under the locked head of the audit
    chain; called from the session's `before_flush` (see `audit.py`)."""
    bind = session.get_bind()
    insert_ = upsert_insert_for(bind.dialect.name)
    session.execute(
        insert_(SealChainRow).values(chain=AUDIT_CHAIN, length=0, head="").on_conflict_do_nothing()
    )
    head = session.scalars(
        select(SealChainRow)
        .where(SealChainRow.chain == AUDIT_CHAIN)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    for row in rows:
        seal = sha256_hex(canonical_json(audit_document(row)).encode())
        link = next_link(head.head, seal)
        position = head.length + 1
        row.link = link
        row.signature = key.sign(seal_message(AUDIT_CHAIN, position, "audit", seal, link))
        row.key_id = key.key_id
        head.length, head.head = position, link


async def sealing_began(session: AsyncSession) -> dt.datetime | None:
    """When the first import-time seal was made: conversations archived before it were
    archived before seals existed (None: no conversation was ever sealed as it was archived)."""
    began: dt.datetime | None = await session.scalar(
        select(func.min(SealRow.sealed_at)).where(
            or_(SealRow.origin.is_(None), SealRow.origin == SealOrigin.IMPORT)
        )
    )
    return began


def upsert_insert_for(dialect: str) -> Any:
    """The dialect's INSERT with ON CONFLICT, by dialect name."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@dataclasses.dataclass(kw_only=True, slots=True)
class _Findings:
    seals: int = 0
    late_seals: int = 0
    conversations: int = 0
    recordings_read: int = 0
    audit_entries: int = 0
    chains: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)

    notes_left_out: int = 0

    def note(self, text: str) -> None:
        """Keep the first `_NOTES` notes; count the others (an archive of millions would
        otherwise list millions of late seals or retention deletions)."""
        if len(self.notes) < _NOTES:
            self.notes.append(text)
        else:
            self.notes_left_out += 1

    def result(self) -> Verification:
        left_out = [f"{self.notes_left_out} more notes left out"] if self.notes_left_out else []
        return Verification(
            conversations=self.conversations,
            seals=self.seals,
            late_seals=self.late_seals,
            chains=tuple(self.chains),
            recordings_read=self.recordings_read,
            audit_entries=self.audit_entries,
            notes=(*self.notes, *left_out),
            problems=tuple(self.problems),
        )


DEFAULT_BATCH = 500  # seals or conversations per session when verifying everything
_NOTES = 100  # notes a verification lists; the rest are counted


class VerifyStep(StrEnum):
    """What a batch of `Seals.verify(everything=True)` checked."""

    SEALS = "seals"  # seals of the chains, in order
    CONVERSATIONS = "conversations"  # conversations against their latest seals


class VerifyProgress(Protocol):
    """Told after each batch how many seals or conversations it checked."""

    def __call__(self, step: VerifyStep, count: int, /) -> None:
        """`count` more of `step` checked."""
        ...


def _no_progress(step: VerifyStep, count: int, /) -> None:
    del step, count


def _not_archived() -> ColumnElement[bool]:
    return ~exists().where(ConversationRow.id == SealRow.conversation_id)


def _archived_ids(after: int) -> Select[int]:
    return select(ConversationRow.id).where(ConversationRow.id > after).order_by(ConversationRow.id)


def _sealed_but_not_archived_ids(after: int) -> Select[int]:
    """Conversations deleted since they were sealed (by retention, or not)."""
    return (
        select(SealRow.conversation_id)
        .distinct()
        .where(SealRow.conversation_id > after, _not_archived())
        .order_by(SealRow.conversation_id)
    )


class MediaReader(Protocol):
    """Hashes stored objects again, for `verify(media=...)` (`ObjectStoreMedia`)."""

    async def sha256(self, key: str) -> str | None:
        """The sha256 of the object, None when it is gone."""
        ...


class ObjectStoreMedia:
    """A `MediaReader` over the media store: streams each object through sha256."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def sha256(self, key: str) -> str | None:
        """The sha256 of the object's bytes, None when there is no such object."""
        digest = hashlib.sha256()
        try:
            async for chunk in await self._store.read(key):
                digest.update(chunk)
        except ObjectNotFoundError:
            return None
        return digest.hexdigest()


class Seals:
    """Verify seals, chains and the audit log; give the seals of conversations for exports."""

    def __init__(self, context: Context) -> None:
        self._context = context

    @property
    def verifier(self) -> SealVerifier:
        """The installation's public key (of its signing key)."""
        return self._context.seal_key

    @property
    def keyring(self) -> SealKeyring:
        """The signing key and the retired keys whose seals still verify."""
        return self._context.seal_keys

    async def days(self) -> list[str]:
        """Every day that has a chain of seals, oldest first."""
        async with translate_errors(), self._context.sessions() as session:
            found = await session.scalars(select(SealRow.day).distinct().order_by(SealRow.day))
            return list(found)

    async def of_conversations(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """Every seal of these conversations (for an export), oldest first, each with the link
        before it in its chain (`previous`), so that it can be checked on its own."""
        wanted = list(ids)
        found: list[dict[str, Any]] = []
        async with translate_errors(), self._context.sessions() as session:
            for offset in range(0, len(wanted), 500):
                rows = await session.scalars(
                    select(SealRow)
                    .where(SealRow.conversation_id.in_(wanted[offset : offset + 500]))
                    .order_by(SealRow.id)
                )
                for row in rows:
                    previous = await session.scalar(
                        select(SealRow.link).where(
                            SealRow.day == row.day, SealRow.position == row.position - 1
                        )
                    )
                    found.append(_seal_json(row) | {"previous": previous or ""})
        return found

    async def verify(
        self,
        *,
        conversation_id: int | None = None,
        conversation_ids: Iterable[int] = (),
        day: str | None = None,
        everything: bool = False,
        audit: bool = False,
        media: MediaReader | None = None,
        batch_size: int = DEFAULT_BATCH,
        progress: VerifyProgress | None = None,
    ) -> Verification:
        """Check one conversation (or `conversation_ids`), one day, or everything (and the
        audit log when `audit`); each day's chain is checked once.

        Everything is checked in batches of `batch_size` seals or conversations, each batch in
        its own session, so memory does not grow with the archive; `progress` is told after
        each batch (see `totals` for the sizes). With `media`, every sealed recording's object
        is read again and its sha256 compared.
        """
        findings = _Findings()
        report = progress or _no_progress
        if everything:
            await self._verify_everything(findings, media, batch_size, report)
        else:
            await self._verify_some(findings, conversation_id, conversation_ids, day, media)
        if audit:
            async with translate_errors(), self._context.sessions() as session:
                await self._check_audit(session, findings)
        return findings.result()

    async def totals(self) -> dict[VerifyStep, int]:
        """How many seals and conversations `verify(everything=True)` checks (for progress)."""
        async with translate_errors(), self._context.sessions() as session:
            seals = await session.scalar(select(func.count()).select_from(SealRow))
            archived = await session.scalar(select(func.count()).select_from(ConversationRow))
            deleted = await session.scalar(
                select(func.count(func.distinct(SealRow.conversation_id))).where(_not_archived())
            )
        return {
            VerifyStep.SEALS: int(seals or 0),
            VerifyStep.CONVERSATIONS: int(archived or 0) + int(deleted or 0),
        }

    async def _verify_some(
        self,
        findings: _Findings,
        conversation_id: int | None,
        conversation_ids: Iterable[int],
        day: str | None,
        media: MediaReader | None,
    ) -> None:
        async with translate_errors(), self._context.sessions() as session:
            days: set[str] = set()
            conversations: set[int] = set()
            wanted = [*conversation_ids, *([] if conversation_id is None else [conversation_id])]
            conversations.update(wanted)
            for offset in range(0, len(wanted), 500):
                days.update(
                    await session.scalars(
                        select(SealRow.day)
                        .distinct()
                        .where(SealRow.conversation_id.in_(wanted[offset : offset + 500]))
                    )
                )
            if day is not None:
                days.add(day)
                conversations.update(
                    await session.scalars(select(SealRow.conversation_id).where(SealRow.day == day))
                )
                start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
                conversations.update(
                    await session.scalars(
                        select(ConversationRow.id).where(
                            ConversationRow.imported_at >= start,
                            ConversationRow.imported_at < start + dt.timedelta(days=1),
                        )
                    )
                )
            began = await sealing_began(session)
        for chain in sorted(days):
            await self._check_chain(chain, findings)
        async with translate_errors(), self._context.sessions() as session:
            for conversation in sorted(conversations):
                await self._check_conversation(session, conversation, began, media, findings)

    async def _verify_everything(
        self,
        findings: _Findings,
        media: MediaReader | None,
        size: int,
        progress: VerifyProgress,
    ) -> None:
        """Every chain, then every archived conversation, then every sealed conversation that
        is no longer archived: page by page (keyset), one session per page."""
        async with translate_errors(), self._context.sessions() as session:
            chains = await session.scalars(
                select(SealChainRow.chain)
                .where(SealChainRow.chain != AUDIT_CHAIN)
                .order_by(SealChainRow.chain)
            )
            days = sorted({*chains, *await session.scalars(select(SealRow.day).distinct())})
            began = await sealing_began(session)
        for chain in days:
            await self._check_chain(chain, findings, size=size, progress=progress)
        for ids_after in (_archived_ids, _sealed_but_not_archived_ids):
            after = 0
            while True:
                async with translate_errors(), self._context.sessions() as session:
                    ids = list(await session.scalars(ids_after(after).limit(size)))
                    for conversation in ids:
                        await self._check_conversation(
                            session, conversation, began, media, findings
                        )
                if not ids:
                    break
                after = ids[-1]
                progress(VerifyStep.CONVERSATIONS, len(ids))

    async def _check_chain(
        self,
        day: str,
        findings: _Findings,
        *,
        size: int = DEFAULT_BATCH,
        progress: VerifyProgress = _no_progress,
    ) -> None:
        """Follow the chain of `day` from its first seal, `size` seals per session."""
        findings.chains.append(day)
        previous, position = "", 0
        while True:
            async with translate_errors(), self._context.sessions() as session:
                rows = list(
                    await session.scalars(
                        select(SealRow)
                        .where(SealRow.day == day, SealRow.position > position)
                        .order_by(SealRow.position)
                        .limit(size)
                    )
                )
            if not rows:
                break
            for row in rows:
                previous, position = self._check_seal(row, previous, position, findings)
            progress(VerifyStep.SEALS, len(rows))
        async with translate_errors(), self._context.sessions() as session:
            head = await session.get(SealChainRow, day)
        if head is not None and (head.length != position or head.head != previous):
            findings.problems.append(
                Problem(
                    kind=ProblemKind.CHAIN_BROKEN,
                    subject=f"chain:{day}",
                    message=f"the chain's head says {head.length} seals, {position} found: "
                    "seals were removed from its end",
                )
            )

    def _check_seal(
        self, row: SealRow, previous: str, position: int, findings: _Findings
    ) -> tuple[str, int]:
        """Check one seal of a chain after the link `previous` at `position`; the link and
        position the next one follows."""
        findings.seals += 1
        position += 1
        subject = f"chain:{row.day}"
        if row.position != position:
            findings.problems.append(
                Problem(
                    kind=ProblemKind.CHAIN_BROKEN,
                    subject=subject,
                    message=f"seal {position} is missing (the next one is {row.position})",
                )
            )
            position = row.position
        if sha256_hex(row.document.encode()) != row.seal:
            findings.problems.append(
                Problem(
                    kind=ProblemKind.SEAL_CHANGED,
                    subject=f"conversation:{row.conversation_id}",
                    message=f"seal {row.position} of {row.day} is not the sha256 of its document",
                )
            )
        if next_link(previous, row.seal) != row.link:
            findings.problems.append(
                Problem(
                    kind=ProblemKind.CHAIN_BROKEN,
                    subject=subject,
                    message=f"the link of seal {row.position} (conversation "
                    f"{row.conversation_id}) does not follow from the previous one",
                )
            )
        findings.late_seals += row.origin == SealOrigin.LATE
        problem = self._check_signature(row, subject)
        if problem is not None:
            findings.problems.append(problem)
        return row.link, position

    def _check_signature(self, row: SealRow, subject: str) -> Problem | None:
        signed = signed_fields(row)
        what = f"seal {row.position} (conversation {row.conversation_id})"
        message = seal_message(
            row.day, row.position, f"conversation:{row.conversation_id}", row.seal, row.link, signed
        )
        keys = self._keys_for(row.key_id)
        if not keys:
            return Problem(
                kind=ProblemKind.UNKNOWN_KEY,
                subject=subject,
                message=f"{what} is signed by key {row.key_id}, which this installation does "
                "not know (not its signing key, nor a retired one)",
            )
        if not any(key.verify(row.signature, message) for key in keys):
            return Problem(
                kind=ProblemKind.SIGNATURE_INVALID,
                subject=subject,
                message=f"{what} is not signed by the key it names ({keys[0].fingerprint})"
                if row.key_id is not None
                else f"{what} is not signed by any key of this installation",
            )
        return None

    def _keys_for(self, key_id: str | None) -> list[SealVerifier]:
        """The key that `key_id` names (none when unknown); every key for a signature made
        before revision v0008 (no key id)."""
        keyring = self._context.seal_keys
        if key_id is None:
            return list(keyring.verifiers)
        found = keyring.find(key_id)
        return [] if found is None else [found]

    async def _check_conversation(
        self,
        session: AsyncSession,
        conversation_id: int,
        began: dt.datetime | None,
        media: MediaReader | None,
        findings: _Findings,
    ) -> None:
        findings.conversations += 1
        subject = f"conversation:{conversation_id}"
        seal = await latest_seal(session, conversation_id)
        document = await stored_document(session, conversation_id)
        if document is None:
            if seal is None:
                return
            if seal.deleted_at is not None:
                findings.note(
                    f"{subject}: deleted by retention on {seal.deleted_at:%Y-%m-%d %H:%M:%S} UTC"
                )
            else:
                findings.problems.append(
                    Problem(
                        kind=ProblemKind.CONVERSATION_MISSING,
                        subject=subject,
                        message="sealed on "
                        f"{seal.sealed_at:%Y-%m-%d} but deleted without a retention deletion",
                    )
                )
            return
        if seal is None:
            row = await session.get(ConversationRow, conversation_id)
            if began is None or (row is not None and row.imported_at < began):
                findings.note(f"{subject}: archived before sealing began, not sealed")
            else:
                findings.problems.append(
                    Problem(kind=ProblemKind.NOT_SEALED, subject=subject, message="has no seal")
                )
            return
        if seal.origin == SealOrigin.LATE:
            findings.note(
                f"{subject}: sealed after the fact on {seal.sealed_at:%Y-%m-%d %H:%M:%S} UTC "
                "(archived before seals existed)"
            )
        sealed: dict[str, Any] = json.loads(seal.document)
        if canonical_json(document) != seal.document:
            changed = sorted(
                name
                for name in set(sealed) | set(document)
                if sealed.get(name) != document.get(name)
            )
            findings.problems.append(
                Problem(
                    kind=ProblemKind.METADATA_CHANGED,
                    subject=subject,
                    message=f"{', '.join(changed)} differ from the seal of "
                    f"{seal.sealed_at:%Y-%m-%d %H:%M:%S} UTC",
                )
            )
        if media is not None:
            await self._check_media(session, conversation_id, sealed, media, findings)

    async def _check_media(
        self,
        session: AsyncSession,
        conversation_id: int,
        sealed: dict[str, Any],
        media: MediaReader,
        findings: _Findings,
    ) -> None:
        subject = f"conversation:{conversation_id}"
        keys = dict(
            (
                await session.execute(
                    select(RecordingRow.genesys_recording_id, RecordingRow.object_key).where(
                        RecordingRow.conversation_id == conversation_id
                    )
                )
            ).all()
        )
        for recording in sealed.get("recordings", []):
            key = keys.get(recording["recording_id"])
            if key is None:
                continue  # reported as changed metadata
            findings.recordings_read += 1
            actual = await media.sha256(key)
            if actual is None:
                findings.problems.append(
                    Problem(
                        kind=ProblemKind.MEDIA_MISSING,
                        subject=subject,
                        message=f"recording {recording['recording_id']}: no object {key!r}",
                    )
                )
            elif actual != recording["sha256"]:
                findings.problems.append(
                    Problem(
                        kind=ProblemKind.MEDIA_CHANGED,
                        subject=subject,
                        message=f"recording {recording['recording_id']}: sha256 {actual}, "
                        f"sealed {recording['sha256']}",
                    )
                )

    async def _check_audit(self, session: AsyncSession, findings: _Findings) -> None:
        findings.chains.append(AUDIT_CHAIN)
        previous, position = "", 0
        rows: AsyncIterator[AuditRow] = await session.stream_scalars(
            select(AuditRow).where(AuditRow.link.is_not(None)).order_by(AuditRow.id)
        )
        async for row in rows:
            findings.audit_entries += 1
            position += 1
            seal = sha256_hex(canonical_json(audit_document(row)).encode())
            link = next_link(previous, seal)
            subject = f"audit:{row.id}"
            if link != row.link:
                findings.problems.append(
                    Problem(
                        kind=ProblemKind.CHAIN_BROKEN,
                        subject=subject,
                        message=f"the entry of {row.at:%Y-%m-%d %H:%M:%S} ({row.action}) was "
                        "changed, or an entry before it was removed",
                    )
                )
            elif not (keys := self._keys_for(row.key_id)):
                findings.problems.append(
                    Problem(
                        kind=ProblemKind.UNKNOWN_KEY,
                        subject=subject,
                        message=f"signed by key {row.key_id}, which this installation does not "
                        "know (not its signing key, nor a retired one)",
                    )
                )
            elif not any(
                key.verify(
                    row.signature or "", seal_message(AUDIT_CHAIN, position, "audit", seal, link)
                )
                for key in keys
            ):
                findings.problems.append(
                    Problem(
                        kind=ProblemKind.SIGNATURE_INVALID,
                        subject=subject,
                        message="not signed by a key of this installation",
                    )
                )
            previous = row.link or ""
        head = await session.get(SealChainRow, AUDIT_CHAIN)
        if head is not None and (head.length != position or head.head != previous):
            findings.problems.append(
                Problem(
                    kind=ProblemKind.CHAIN_BROKEN,
                    subject=f"chain:{AUDIT_CHAIN}",
                    message=f"the chain's head says {head.length} entries, {position} found: "
                    "entries were removed from its end",
                )
            )


def _seal_json(row: SealRow) -> dict[str, Any]:
    return {
        "conversation_id": row.conversation_id,
        "day": row.day,
        "position": row.position,
        "sealed_at": row.sealed_at.isoformat(),
        "document": row.document,
        "seal": row.seal,
        "link": row.link,
        "signature": row.signature,
        "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None,
        "origin": row.origin or SealOrigin.IMPORT,
        "key_id": row.key_id,
    }


__all__ = [
    "AUDIT_CHAIN",
    "DEFAULT_BATCH",
    "MediaReader",
    "ObjectStoreMedia",
    "Problem",
    "ProblemKind",
    "SealOrigin",
    "Seals",
    "Signed",
    "Verification",
    "VerifyProgress",
    "VerifyStep",
    "canonical_json",
    "conversation_document",
    "latest_seal",
    "link_audit_entries",
    "locked_head",
    "next_link",
    "seal_conversation",
    "seal_day",
    "seal_message",
    "sealing_began",
    "signed_fields",
    "stored_document",
]
