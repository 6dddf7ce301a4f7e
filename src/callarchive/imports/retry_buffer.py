"""The retry buffer: CDRs of conversations that failed to import and must be retried.

One conversation per XML file (our own format, root `<cdr version="1">`) in
`cdrimport/GenesysCloud/retryBuffer/<policyId>_<importSourceId>/`, named
`<YYYYmmddTHHMMSS>_<conversation id>.xml` after the conversation's start in UTC, so names sort
oldest first. Each run takes up to 25 files (the seed, section 7); a taken file waits in
`work/<pair>/inflight/` until its conversation has a durable outcome, so a crash loses nothing.
Operators add and remove files by hand, so parsing is strict and safe (defusedxml: no DTDs,
entities or external references), and a file that cannot be used is moved to `rejected/` beside
a `<name>.reason.txt` saying why, never dropped.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, ParseError

import structlog

# No stubs for defusedxml are pinned; its ElementTree mirrors xml.etree's fromstring.
from defusedxml import (  # type: ignore[import-untyped]
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml import ElementTree as SafeElementTree

from callarchive.errors import CallarchiveError

if TYPE_CHECKING:
    from callarchive.archive import PairFolders, WorkStore

MAX_CDR_BYTES = 64 * 1024
TAKE_LIMIT = 25  # the seed: "a batch of up to 25 of these files" each run
VERSION = "1"
EXAMPLE_TIME = "2023-02-02T07:00:00Z"

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")
_INTEGER = re.compile(r"-?[0-9]{1,19}")
MAX_INTEGER = 2**63 - 1  # ids are 64-bit in the archive
_OUR_NAME = re.compile(r"[0-9]{8}T[0-9]{6}_(?P<id>.+)\.xml")
# Characters XML 1.0 cannot carry, not even as character references: such values go in base64.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LEAVES = (
    "conversation_id",
    "conversation_start",
    "policy_id",
    "import_source_id",
    "reason",
    "message",
    "attempts",
    "first_failed_at",
    "last_failed_at",
)
_LISTS = {"recording_ids": "recording_id", "metadata": "field"}

log = structlog.get_logger("callarchive.imports")


class CdrError(CallarchiveError):
    """A retry buffer file cannot be used; it is set aside (`rejected/`) and the run carries on."""

    exit_code = 2


class RetryReason(StrEnum):
    """Why a conversation is in the retry buffer."""

    MEDIA_NOT_READY = "media_not_ready"  # media not uploaded or transcoded yet
    IN_PROGRESS = "in_progress"  # the conversation had not ended
    FAILED = "failed"  # metadata or media failed to import
    DELETE_PENDING = "delete_pending"  # archived, but setting deleteDate in Genesys failed
    MANUAL = "manual"  # added by an operator


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Cdr:
    """A conversation to import again: its Genesys ids, why it failed, and what is known so far.

    Datetimes are timezone-aware and kept in UTC; `metadata` holds the section-5 export keys as
    last known (None: no value). `attempts` counts the failed imports.
    """

    conversation_id: str
    conversation_start: dt.datetime
    policy_id: int
    import_source_id: int
    reason: RetryReason
    message: str = ""
    attempts: int = 0
    first_failed_at: dt.datetime | None = None
    last_failed_at: dt.datetime | None = None
    recording_ids: tuple[str, ...] = ()
    metadata: Mapping[str, str | None] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_id("conversation_id", self.conversation_id)
        for name in ("conversation_start", "first_failed_at", "last_failed_at"):
            object.__setattr__(self, name, _utc(name, getattr(self, name)))
        for name in ("policy_id", "import_source_id", "attempts"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, not {getattr(self, name)}")
            if getattr(self, name) > MAX_INTEGER:
                raise ValueError(f"{name} must be at most {MAX_INTEGER}, not {getattr(self, name)}")
        object.__setattr__(self, "reason", RetryReason(self.reason))
        object.__setattr__(self, "recording_ids", tuple(self.recording_ids))
        for recording_id in self.recording_ids:
            _check_id("recording_id", recording_id)
        for name in self.metadata:
            if not _FIELD_NAME.fullmatch(name):
                raise ValueError(f"metadata field name {_shown(name)} is not a key like start_date")
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    def failed_again(self, *, reason: RetryReason, message: str, at: dt.datetime) -> Cdr:
        """This CDR after one more failed import at `at`."""
        return dataclasses.replace(
            self,
            reason=reason,
            message=message,
            attempts=self.attempts + 1,
            first_failed_at=self.first_failed_at or at,
            last_failed_at=at,
        )


def _check_id(name: str, value: str) -> None:
    if not _ID.fullmatch(value):
        raise ValueError(
            f"{name} {_shown(value)} is not a Genesys id (letters, digits, '.', '_', '-')"
        )


def _utc(name: str, value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, e.g. {EXAMPLE_TIME}")
    return value.astimezone(dt.UTC)


def _shown(text: str) -> str:
    return repr(text[:80] + "…" if len(text) > 80 else text)


# --- the file format --------------------------------------------------------------------------


def render(cdr: Cdr) -> bytes:
    """The CDR as our XML file, UTF-8, with every field: `parse(render(cdr)) == cdr`."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<cdr version="{VERSION}">',
        _leaf("conversation_id", cdr.conversation_id),
        _leaf("conversation_start", _timestamp(cdr.conversation_start)),
        _leaf("policy_id", str(cdr.policy_id)),
        _leaf("import_source_id", str(cdr.import_source_id)),
        _leaf("reason", cdr.reason.value),
        _leaf("message", cdr.message),
        _leaf("attempts", str(cdr.attempts)),
        _leaf("first_failed_at", _timestamp(cdr.first_failed_at)),
        _leaf("last_failed_at", _timestamp(cdr.last_failed_at)),
        "  <recording_ids>",
        *(_leaf("recording_id", value, indent=4) for value in cdr.recording_ids),
        "  </recording_ids>",
        "  <metadata>",
        *(_leaf("field", value, indent=4, name=key) for key, value in cdr.metadata.items()),
        "  </metadata>",
        "</cdr>\n",
    ]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def _leaf(tag: str, value: str | None, *, indent: int = 2, name: str | None = None) -> str:
    start = " " * indent + f"<{tag}" + (f' name="{_escape(name)}"' if name is not None else "")
    if value is None:
        return f'{start} nil="true"/>'
    if _NOT_XML.search(value):
        encoded = base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii")
        return f'{start} encoding="base64">{encoded}</{tag}>'
    return f"{start}>{_escape(value)}</{tag}>"


def _escape(text: str) -> str:
    # A raw carriage return would come back as a line feed (XML end-of-line handling).
    for raw, reference in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = text.replace(raw, reference)
    return text.replace("\r", "&#13;")


def _timestamp(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def parse(data: bytes, *, source: str = "CDR") -> Cdr:
    """Read a retry buffer file; raises CdrError naming `source` and what is wrong with it."""
    if len(data) > MAX_CDR_BYTES:
        raise CdrError(
            f"{source}: {len(data)} bytes is too big for a CDR file (at most {MAX_CDR_BYTES})"
        )
    root = _xml(data, source)
    try:
        return _cdr(root)
    except ValueError as error:
        raise CdrError(f"{source}: {error}") from None


def _xml(data: bytes, source: str) -> Element:
    refused = "which retry buffer files may not have: write plain elements only"
    try:
        root: Element = SafeElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DTDForbidden:
        raise CdrError(f"{source}: has a DTD (<!DOCTYPE ...>), {refused}") from None
    except EntitiesForbidden:
        raise CdrError(f"{source}: declares entities, {refused}") from None
    except ExternalReferenceForbidden:
        raise CdrError(f"{source}: refers to an external resource, {refused}") from None
    except ParseError as error:
        raise CdrError(f"{source}: is not well-formed XML ({error})") from None
    except LookupError as error:
        raise CdrError(f"{source}: declares an {error}; write UTF-8") from None
    return root


def _cdr(root: Element) -> Cdr:
    if root.tag != "cdr":
        raise ValueError(f'the root element is <{root.tag}>; expected <cdr version="{VERSION}">')
    if root.get("version") != VERSION:
        raise ValueError(f'<cdr> has version {root.get("version")!r}; expected "{VERSION}"')
    found = _unique_children(root, (*_LEAVES, *_LISTS))
    return Cdr(
        conversation_id=_required(found, "conversation_id"),
        conversation_start=_datetime("conversation_start", _required(found, "conversation_start")),
        policy_id=_integer("policy_id", _required(found, "policy_id")),
        import_source_id=_integer("import_source_id", _required(found, "import_source_id")),
        reason=_reason(_required(found, "reason")),
        message=_optional(found, "message") or "",
        attempts=_integer("attempts", (_optional(found, "attempts") or "").strip() or "0"),
        first_failed_at=_optional_datetime(found, "first_failed_at"),
        last_failed_at=_optional_datetime(found, "last_failed_at"),
        recording_ids=tuple(_recording_ids(found.get("recording_ids"))),
        metadata=_metadata(found.get("metadata")),
    )


def _unique_children(parent: Element, allowed: Iterable[str]) -> dict[str, Element]:
    expected = tuple(allowed)
    found: dict[str, Element] = {}
    for child in parent:
        if child.tag not in expected:
            raise ValueError(f"<{child.tag}> is not a CDR element; expected {', '.join(expected)}")
        if child.tag in found:
            raise ValueError(f"<{child.tag}> appears twice")
        found[child.tag] = child
    return found


def _text(element: Element) -> str | None:
    """The value of a leaf element: None when nil, exactly its text otherwise."""
    if len(element):
        raise ValueError(f"<{element.tag}> holds elements; expected a value")
    if element.get("nil") == "true":
        if element.text:
            raise ValueError(f'<{element.tag}> has nil="true" and a value; keep one')
        return None
    text = element.text or ""
    encoding = element.get("encoding")
    if encoding is None:
        return text
    if encoding != "base64":
        raise ValueError(f'<{element.tag}> has encoding {encoding!r}; expected "base64" or none')
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "surrogatepass")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(f"<{element.tag}> is not base64 of UTF-8 text") from None


def _optional(found: Mapping[str, Element], tag: str) -> str | None:
    element = found.get(tag)
    return None if element is None else _text(element)


def _required(found: Mapping[str, Element], tag: str) -> str:
    value = _optional(found, tag)
    if value is None or not value.strip():
        raise ValueError(f"<{tag}> is missing or empty")
    return value.strip()


def _integer(tag: str, text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"<{tag}> {_shown(text)} is not a whole number")
    return int(text)


def _optional_datetime(found: Mapping[str, Element], tag: str) -> dt.datetime | None:
    text = _optional(found, tag)
    return _datetime(tag, text) if text and text.strip() else None


def _datetime(tag: str, text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"<{tag}> {_shown(text)} is not an ISO 8601 date and time, e.g. {EXAMPLE_TIME}"
        ) from None
    if value.tzinfo is None:
        raise ValueError(f"<{tag}> {_shown(text)} has no time zone; write UTC: {EXAMPLE_TIME}")
    return value


def _reason(text: str) -> RetryReason:
    try:
        return RetryReason(text)
    except ValueError:
        choices = ", ".join(reason.value for reason in RetryReason)
        raise ValueError(f"<reason> {_shown(text)} is not one of {choices}") from None


def _recording_ids(container: Element | None) -> Iterable[str]:
    for child in () if container is None else container:
        if child.tag != "recording_id":
            raise ValueError(f"<recording_ids> holds <{child.tag}>; expected <recording_id>")
        yield _required({"recording_id": child}, "recording_id")


def _metadata(container: Element | None) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for child in () if container is None else container:
        name = child.get("name")
        if child.tag != "field" or name is None:
            raise ValueError(f'<metadata> holds <{child.tag}>; expected <field name="...">')
        if name in fields:
            raise ValueError(f"metadata field {_shown(name)} appears twice")
        fields[name] = _text(child)
    return fields


# --- the buffer -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    """One file of the retry buffer: its CDR, or why it cannot be used (then `cdr` is None)."""

    key: str
    cdr: Cdr | None
    error: str | None


class RetryBuffer:
    """The retry buffer of one policy and import source, in the work store.

    A run calls `recover()` first, then `take()`; each taken CDR ends with `settle(cdr)` once it
    was imported, or once it was put back with `add(cdr.failed_again(...))`. Runs of one pair
    never overlap (the run lock), so a pair's buffer has one user at a time.
    """

    def __init__(self, store: WorkStore, folders: PairFolders) -> None:
        self._store = store
        self._folders = folders
        self._inflight = f"{folders.work}/inflight"
        self._taken: dict[str, list[str]] = {}  # conversation id → its in-flight keys
        self.rejected: list[Entry] = []  # files the last take() set aside, for an alert
        self._log = log.bind(policy_id=folders.policy_id, import_source_id=folders.import_source_id)

    async def add(self, cdr: Cdr) -> str:
        """Write `cdr` to the buffer, replacing our file of the same conversation; its key."""
        if not self._holds(cdr):
            raise ValueError(
                f"the CDR of {cdr.conversation_id} belongs to {_pair_name(cdr)}, "
                f"not to the retry buffer of {self._folders.name}"
            )
        key = f"{self._folders.retry_buffer}/{_file_name(cdr)}"
        await self._store.put(key, render(cdr))
        for other in await self._files():
            if other != key and _conversation_of(other) == cdr.conversation_id:
                await self._store.delete(other)
        self._log.info("retry_buffer_cdr_added", conversation_id=cdr.conversation_id, key=key)
        return key

    async def take(self, limit: int = TAKE_LIMIT) -> list[Cdr]:
        """Up to `limit` CDRs of distinct conversations, oldest file name first.

        Each file moves to `work/<pair>/inflight/` until `settle`. Copies of a conversation met
        on the way are taken with it (our own file's CDR wins). Files that cannot be used go to
        `rejected/` and to `self.rejected`; they do not count against `limit`.
        """
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit}")
        self.rejected = []
        taken: dict[str, Cdr] = {}
        for key in await self._files():
            if len(taken) >= limit:
                break
            loaded = await self._load(key)
            if loaded is None:
                continue
            data, entry = loaded
            if entry.cdr is None:
                self.rejected.append(await self._reject(entry, data))
                continue
            inflight = f"{self._inflight}/{_name(key)}"
            await self._move(key, inflight, data)
            conversation_id = entry.cdr.conversation_id
            self._taken.setdefault(conversation_id, []).append(inflight)
            if conversation_id not in taken or _conversation_of(key) == conversation_id:
                taken[conversation_id] = entry.cdr
        return [*taken.values()]

    async def settle(self, cdr: Cdr) -> None:
        """Drop the in-flight files of `cdr`'s conversation: it was imported or added again."""
        keys = self._taken.pop(cdr.conversation_id, None)
        for key in keys or [f"{self._inflight}/{_file_name(cdr)}"]:
            await self._store.delete(key)

    async def recover(self) -> int:
        """Move the files a crashed run left in flight back into the buffer; how many moved.

        A file whose conversation was added to the buffer again since is dropped: the buffer's
        file is the newer one.
        """
        waiting = {_name(key) for key in await self._files()}
        waiting_ids = {_conversation_of(name) for name in waiting} - {None}
        moved = 0
        for key in await self._store.list(self._inflight):
            name = _name(key)
            if not _is_cdr_file(name):
                continue
            if name in waiting or _conversation_of(name) in waiting_ids:
                await self._store.delete(key)
            elif (data := await self._store.get(key)) is not None:
                await self._move(key, f"{self._folders.retry_buffer}/{name}", data)
                moved += 1
        self._taken.clear()
        if moved:
            self._log.info("retry_buffer_recovered", files=moved)
        return moved

    async def remove(self, conversation_id: str) -> int:
        """Delete the buffer files of a conversation (by our file name or content); how many."""
        removed = 0
        for key in await self._files():
            owner = _conversation_of(key)
            if owner is None and (loaded := await self._load(key)) and loaded[1].cdr:
                owner = loaded[1].cdr.conversation_id
            if owner == conversation_id:
                await self._store.delete(key)
                removed += 1
        self._log.info("retry_buffer_cdr_removed", conversation_id=conversation_id, files=removed)
        return removed

    async def waiting(self) -> dict[str, Cdr]:
        """Every readable CDR of the buffer and of the in-flight folder, by conversation id.

        The buffer is read before the in-flight folder: a file a run moves meanwhile (written
        there first, then deleted here) is seen in one of them.
        """
        found: dict[str, Cdr] = {}
        inflight = f"{self._inflight}/"

        async def in_flight() -> list[str]:
            keys = await self._store.list(self._inflight)
            return [k for k in keys if "/" not in k[len(inflight) :] and _is_cdr_file(_name(k))]

        for listing in (self._files, in_flight):
            for key in await listing():
                loaded = await self._load(key)
                if loaded is not None and loaded[1].cdr is not None:
                    found.setdefault(loaded[1].cdr.conversation_id, loaded[1].cdr)
        return found

    async def size(self) -> int:
        """How many CDR files wait in the buffer (rejected ones not counted)."""
        return len(await self._files())

    def _holds(self, cdr: Cdr) -> bool:
        """Whether `cdr` belongs to this buffer's policy and import source."""
        folders = self._folders
        return (cdr.policy_id, cdr.import_source_id) == (
            folders.policy_id,
            folders.import_source_id,
        )

    async def _files(self) -> list[str]:
        """Keys of the *.xml files directly in the buffer folder, sorted."""
        prefix = self._folders.retry_buffer + "/"
        keys = await self._store.list(self._folders.retry_buffer)
        return [key for key in keys if "/" not in key[len(prefix) :] and _is_cdr_file(_name(key))]

    async def _load(self, key: str) -> tuple[bytes, Entry] | None:
        """The content of `key` and what it holds; None when an operator removed it meanwhile."""
        data = await self._store.get(key)
        if data is None:
            return None
        try:
            cdr = parse(data, source=key)
        except CdrError as error:
            return data, Entry(key=key, cdr=None, error=str(error))
        if not self._holds(cdr):
            elsewhere = (
                f"{key}: belongs to policy {cdr.policy_id} and import source "
                f"{cdr.import_source_id}; move it to retryBuffer/{_pair_name(cdr)}/"
            )
            return data, Entry(key=key, cdr=None, error=elsewhere)
        return data, Entry(key=key, cdr=cdr, error=None)

    async def _reject(self, entry: Entry, data: bytes) -> Entry:
        """Move a file that cannot be used to `rejected/`, with a `.reason.txt` beside it."""
        names = {_name(key) for key in await self._store.list(self._folders.rejected)}
        name = _free_name(_name(entry.key), names)
        target = f"{self._folders.rejected}/{name}"
        reason = (
            f"{entry.error}\n\nMoved here from {entry.key}. Fix the file and move it back into "
            f"{self._folders.retry_buffer}/ to retry its conversation, or delete it.\n"
        )
        await self._store.put(target, data)
        await self._store.put(f"{target}.reason.txt", reason.encode("utf-8"))
        await self._store.delete(entry.key)
        self._log.warning("retry_buffer_file_rejected", key=target, error=entry.error)
        return Entry(key=target, cdr=None, error=entry.error)

    async def _move(self, source: str, target: str, data: bytes) -> None:
        # Write first, delete second: a crash in between leaves two copies, never none.
        await self._store.put(target, data)
        await self._store.delete(source)

    # Defined last: annotations after it in the class body would take `list` for this method.
    async def list(self) -> list[Entry]:
        """Every *.xml file of the buffer (not `rejected/`), oldest name first, read or not."""
        entries = []
        for key in await self._files():
            loaded = await self._load(key)
            if loaded is not None:
                entries.append(loaded[1])
        return entries


def _file_name(cdr: Cdr) -> str:
    return f"{cdr.conversation_start:%Y%m%dT%H%M%S}_{cdr.conversation_id}.xml"


def _pair_name(cdr: Cdr) -> str:
    return f"{cdr.policy_id}_{cdr.import_source_id}"


def _name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def _is_cdr_file(name: str) -> bool:
    # Editor backups (x.xml~, x.xml.bak) and hidden files (.x.xml, editor locks) are not CDRs.
    return name.lower().endswith(".xml") and not name.startswith(".")


def _conversation_of(key: str) -> str | None:
    """The conversation id in one of our file names, else None."""
    match = _OUR_NAME.fullmatch(_name(key))
    return match["id"] if match else None


def _free_name(name: str, used: set[str]) -> str:
    """`name`, or `stem.N.xml` when an earlier rejected file has it: never overwrite one."""
    stem, _, suffix = name.rpartition(".")
    candidate, number = name, 0
    while candidate in used:
        number += 1
        candidate = f"{stem}.{number}.{suffix}"
    return candidate


__all__ = [
    "MAX_CDR_BYTES",
    "TAKE_LIMIT",
    "Cdr",
    "CdrError",
    "Entry",
    "RetryBuffer",
    "RetryReason",
    "parse",
    "render",
]
