"""The media store: recordings as objects under deterministic keys, on obstore.

A local folder by default, an S3-compatible bucket when several servers share the archive.
`put` streams from an async iterator (memory does not grow with the file), computes sha256 and
size on the way, and never replaces an existing object: the key of a recording is deterministic
(`media_key`), so an object already there is that recording, kept as first stored. Writes are
atomic (a local folder writes a staging file and renames it; S3 completes a multipart upload);
a failed write leaves nothing behind. `read` streams an object or a byte range of it (playback);
`verify` reads an object back and compares its sha256; `delete` removes one (retention).
With an `ObjectLock` (S3 only), `retain` locks an object until a date and `delete` removes every
version of it, which the server refuses while the lock is in force (see `object_lock`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread
import obstore
import obstore.exceptions as obstore_errors
from obstore.store import LocalStore

from callarchive.archive._obstore import (
    STORE_ERRORS,
    ObjectNotFoundError,
    S3Options,
    open_store,
    translate,
)
from callarchive.archive.object_lock import ObjectLock
from callarchive.configuration import Codec
from callarchive.errors import SkipError

if TYPE_CHECKING:
    from obstore import AsyncWritableFile, GetOptions
    from obstore.store import ObjectStore as ObstoreStore

_SETTING = "CALLARCHIVE_MEDIA_URL"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
PART_SIZE = 8 * 1024 * 1024  # multipart part size; S3 needs at least 5 MiB per part
# A local folder has no smallest part: a recording longer than this is written to its staging
# file part by part instead of being held whole in memory until it is complete.
LOCAL_PART_SIZE = 1024 * 1024
READ_CHUNK = 256 * 1024


class ChecksumMismatchError(SkipError):
    """A stored object does not have the expected sha256: keep the cloud copy, retry later."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class StoredObject:
    """What is stored under a key. `created` is False when the object was already there."""

    key: str
    size: int
    sha256: str
    created: bool


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ObjectVersion:
    """One version of the object under `key` as stored: its size and entity tag. A read pinned
    to it (`read_stored`) fails with `ObjectChangedError` once the object was replaced."""

    key: str
    size: int
    e_tag: str | None


class MediaStream:
    """An object's bytes from `start` to `end` (exclusive) of `size`, as an async iterator."""

    def __init__(
        self, *, key: str, size: int, start: int, end: int, chunks: AsyncIterator[bytes]
    ) -> None:
        self.key = key
        self.size = size
        self.start = start
        self.end = end
        self._chunks = chunks

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks


class MediaUpload:
    """One object being written: `write` chunks, `reset` to start over (a failed download).

    A caller that writes the same bytes to a local file of its own may say so (`from_file`):
    a local folder then keeps only their size and sha256 as they come and, once complete,
    links that file under the key instead of writing every byte a second time.
    """

    def __init__(
        self, store: ObstoreStore, key: str, *, part_size: int, stored: StoredObject | None
    ) -> None:
        self.key = key
        self.stored = stored
        self._store = store
        self._part_size = part_size
        self._writer: AsyncWritableFile | None = None
        self._digest = hashlib.sha256()
        self._size = 0
        self._link: tuple[Path, Path] | None = None  # (the caller's file, the key's file)

    def from_file(self, path: Path) -> bool:
        """Whether the store takes the object from the local file `path` when it completes.

        The caller writes to `path` every byte it writes here, from the start or from the last
        `reset`, closes the file before the upload block ends and keeps it until then. A plain
        local folder then only counts and hashes the chunks it is given, and stores `path` by a
        hard link (a copy when the two are on different file systems), so the file must not be
        written again after the block. False, and nothing changes, for any other store: every
        chunk is written to it as before.
        """
        target = None if self.stored is not None else _local_file(self._store, self.key)
        if target is None:
            return False
        if self._writer is not None or self._size:
            raise RuntimeError("from_file is said before the first write or after a reset")
        self._link = (path, target)
        return True

    async def write(self, chunk: bytes) -> None:
        """Append `chunk` (discarded when the object already existed)."""
        if self.stored is not None:
            return
        if self._link is not None:
            self._digest.update(chunk)
            self._size += len(chunk)
            return
        if self._writer is None:
            self._writer = obstore.open_writer_async(
                self._store, self.key, buffer_size=self._part_size
            )
        self._digest.update(chunk)
        self._size += len(chunk)
        await self._guard(self._writer.write(chunk))

    async def reset(self) -> None:
        """Forget everything written so far; the next `write` starts the object again (to be
        taken from a file only when `from_file` says so again)."""
        await self.abort()
        self._digest = hashlib.sha256()
        self._size = 0
        self._link = None

    async def abort(self) -> None:
        """Drop the partial object (a multipart upload is aborted, a staging file removed)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            reason = RuntimeError("upload abandoned")
            await self._guard(writer.__aexit__(RuntimeError, reason, None))

    async def complete(self) -> None:
        """Make the object visible under its key, atomically."""
        if self.stored is not None:
            return
        writer, self._writer = self._writer, None
        if self._link is not None:
            await self._guard(anyio.to_thread.run_sync(_link_into, *self._link))
        elif writer is None:
            await self._guard(obstore.put_async(self._store, self.key, b"", mode="create"))
        else:
            await self._guard(writer.close())
        self.stored = StoredObject(
            key=self.key, size=self._size, sha256=self._digest.hexdigest(), created=True
        )

    def result(self) -> StoredObject:
        """What is stored under the key once the upload block has ended."""
        if self.stored is None:
            raise RuntimeError("the upload has not completed")
        return self.stored

    async def _guard(self, operation: Awaitable[object]) -> None:
        try:
            await operation
        except STORE_ERRORS as error:
            raise translate(error, key=self.key, setting=_SETTING) from error


def _link_into(source: Path, target: Path) -> None:
    """Put the file `source` at `target` of a local folder, atomically and never replacing a
    file there (`FileExistsError`), as obstore's put mode "create" does: a hard link, or when
    the two lie on different file systems a copy to a staging file beside `target` (named as
    obstore names its own, so `_remove_staging_files` finds one a killed process left) that is
    linked in its turn. A writer of the store never touches the file again, and the caller's
    name for it is removed when it is done with it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
    else:
        return
    staging = target.with_name(f"{target.name}#{secrets.token_hex(8)}")
    try:
        shutil.copyfile(source, staging)
        os.link(staging, target)
    finally:
        staging.unlink(missing_ok=True)


def media_key(
    import_source_id: int,
    conversation_start: dt.datetime,
    conversation_id: str,
    recording_id: str,
    codec: Codec,
) -> str:
    """`media/<source>/<yyyy>/<mm>/<dd>/<conversation>/<recording>.<ext>`, date in UTC."""
    for name, value in (("conversation_id", conversation_id), ("recording_id", recording_id)):
        if not _SAFE_ID.match(value):
            raise ValueError(f"{name} {value!r} cannot be part of a media key")
    day = conversation_start.astimezone(dt.UTC).strftime("%Y/%m/%d")
    return f"media/{import_source_id}/{day}/{conversation_id}/{recording_id}.{codec.file_extension}"


def _remove_staging_files(store: ObstoreStore, key: str) -> None:
    """Delete what a killed process left of an earlier upload of `key` to a local folder.

    A local store writes `<key>#<n>` and renames it once complete; a process killed before the
    rename leaves that file, which no later upload reuses or removes. (An S3 bucket keeps such
    parts as an incomplete multipart upload, which a lifecycle rule aborts.)
    """
    path = _local_file(store, key)
    if path is None:
        return
    try:
        # Names only: pathlib's glob took 4 % of a `batch` import's event loop.
        names = os.listdir(path.parent)  # noqa: PTH208
    except OSError:  # no folder yet (a new conversation): nothing was left in it
        return
    staging = f"{path.name}#"
    for name in names:
        if name.startswith(staging):
            with contextlib.suppress(OSError):  # debris we cannot remove must not stop an import
                (path.parent / name).unlink(missing_ok=True)


def _local_file(store: ObstoreStore, key: str) -> Path | None:
    """The file of `key` in a local folder (None for other stores, or a key that is not a plain
    relative path)."""
    if not isinstance(store, LocalStore) or store.prefix is None:
        return None
    if any(part in ("", ".", "..") for part in key.split("/")):
        return None
    return Path(store.prefix) / key


class ObjectStore:
    """Media objects: put-if-absent streaming writes, ranged reads, read-back verification."""

    def __init__(
        self, store: ObstoreStore, *, part_size: int = PART_SIZE, lock: ObjectLock | None = None
    ) -> None:
        self._store = store
        self._part_size = part_size
        self._lock = lock

    @classmethod
    def from_url(
        cls, url: str, *, s3: S3Options | None = None, object_lock: bool = False
    ) -> ObjectStore:
        """The store at `url` (folder path, file://, s3://BUCKET/PREFIX or memory://); with
        `object_lock`, its objects can be locked (`url` must be s3://)."""
        lock = ObjectLock.from_url(url, s3=s3) if object_lock else None
        store = open_store(url, s3=s3, setting=_SETTING)
        part_size = LOCAL_PART_SIZE if isinstance(store, LocalStore) else PART_SIZE
        return cls(store, part_size=part_size, lock=lock)

    @property
    def object_lock(self) -> bool:
        """Whether objects are locked (`retain`) and deleted with all their versions."""
        return self._lock is not None

    async def check_lock(self) -> None:
        """`ConfigurationError` when object lock is on but the bucket does not support it."""
        if self._lock is not None:
            await self._lock.check()

    async def retain(self, key: str, until: dt.datetime | None, *, now: dt.datetime) -> bool:
        """Lock the object under `key` until `until` (compliance mode) when object lock is on;
        never shortens a lock. False when nothing was done (off, no date, locked as long)."""
        if self._lock is None or until is None:
            return False
        return await self._lock.retain(key, until, now=now)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> StoredObject:
        """Store the bytes of `chunks` under `key` unless an object is already there.

        When one is, `chunks` is not consumed and the stored object is described (read back
        for its sha256). If `chunks` raises, nothing is stored and the error propagates.
        """
        async with self.upload(key) as upload:
            if upload.stored is None:
                async for chunk in chunks:
                    await upload.write(chunk)
        return upload.result()

    @contextlib.asynccontextmanager
    async def upload(self, key: str) -> AsyncIterator[MediaUpload]:
        """A sink (`write`, `reset`) for the object under `key`, completed when the block ends.

        It fits the Genesys client's `MediaSink`. If an object is already there, `stored`
        describes it and writes are discarded. If the block raises, nothing is stored.
        """
        found = await self.size(key) is not None
        existing = await self._describe(key, created=False) if found else None
        if existing is None:
            _remove_staging_files(self._store, key)
        upload = MediaUpload(self._store, key, part_size=self._part_size, stored=existing)
        try:
            yield upload
        except BaseException:
            await upload.abort()
            raise
        await upload.complete()

    async def size(self, key: str) -> int | None:
        """The size of the object under `key`; None when there is none."""
        version = await self.version(key)
        return None if version is None else version.size

    async def version(self, key: str) -> ObjectVersion | None:
        """The version of the object under `key` as stored; None when there is none."""
        try:
            meta = await obstore.head_async(self._store, key)
        except FileNotFoundError:
            return None
        except STORE_ERRORS as error:
            raise translate(error, key=key, setting=_SETTING) from error
        return ObjectVersion(key=key, size=int(meta["size"]), e_tag=meta["e_tag"])

    async def read_stored(
        self, version: ObjectVersion, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The stored bytes `start` to `end` of `version`; `ObjectChangedError` (when the read
        starts, or for a local folder at the range where it noticed) if the object under its
        key is no longer that version."""
        end = version.size if end is None else end
        if start == end:
            return
        async for chunk in self._ranged(version.key, start, end, e_tag=version.e_tag):
            yield chunk

    async def move(self, source: str, key: str) -> None:
        """Put the object `source` under `key`, replacing what is there, as one change seen by
        readers (a local folder renames; S3 copies, then deletes `source`)."""
        try:
            await obstore.rename_async(self._store, source, key, overwrite=True)
        except STORE_ERRORS as error:
            raise translate(error, key=source, setting=_SETTING) from error

    async def hold(self, key: str, *, on: bool) -> bool:
        """With object lock on, put an S3 legal hold on the object under `key` (`on`) or take
        it off; False when nothing was done (off, or already so)."""
        if self._lock is None:
            return False
        return await self._lock.hold(key, on=on)

    async def retain_like(self, key: str, reference: str) -> bool:
        """With object lock on, lock `key` as long as the longest lock of any version of
        `reference` (see `ObjectLock.retain_like`); False when nothing was done."""
        if self._lock is None:
            return False
        return await self._lock.retain_like(key, reference)

    async def overwrite(self, key: str, body: bytes) -> None:
        """Store `body` under `key`, replacing what is there (with object lock: a new version,
        the earlier ones kept as their locks say)."""
        try:
            await obstore.put_async(self._store, key, body, mode="overwrite")
        except STORE_ERRORS as error:
            raise translate(error, key=key, setting=_SETTING) from error

    async def delete(self, key: str) -> bool:
        """Remove the object under `key` (retention); False when there was none, which is not
        an error: a deletion interrupted after its object went is finished by running again.

        With object lock, every version goes (`ObjectLockedError` while its lock is in force)."""
        if self._lock is not None:
            return await self._lock.delete(key)
        if await self.size(key) is None:
            return False
        try:
            await obstore.delete_async(self._store, key)
        except (FileNotFoundError, obstore_errors.NotFoundError):
            return False
        except STORE_ERRORS as error:
            raise translate(error, key=key, setting=_SETTING) from error
        return True

    async def keys(self, prefix: str) -> AsyncIterator[str]:
        """The keys of the objects under `prefix` (media key rotation walks them)."""
        try:
            async for batch in obstore.list(self._store, prefix=prefix, chunk_size=1000):
                for meta in batch:
                    yield str(meta["path"])
        except STORE_ERRORS as error:
            raise translate(error, key=prefix, setting=_SETTING) from error

    async def read(self, key: str, *, start: int = 0, end: int | None = None) -> MediaStream:
        """Stream the object's bytes `start` to `end` (exclusive; None: to the end).

        `ObjectNotFoundError` when there is no such object; `ValueError` for a range outside it;
        `ObjectChangedError` when an object in a local folder is replaced while it is read.
        """
        size = await self.size(key)
        if size is None:
            raise ObjectNotFoundError(f"no stored object {key!r}")
        end = size if end is None else end
        if not 0 <= start <= end <= size:
            raise ValueError(f"range {start}-{end} is outside the {size} bytes of {key!r}")
        return MediaStream(
            key=key, size=size, start=start, end=end, chunks=self._chunks(key, start, end)
        )

    async def _chunks(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        if start == end:
            return
        async for chunk in self._ranged(key, start, end, e_tag=None):
            yield chunk

    async def _ranged(
        self, key: str, start: int, end: int, *, e_tag: str | None
    ) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` of the object under `key`, in chunks of about `READ_CHUNK`;
        with `e_tag`, only of that version (`ObjectChangedError` otherwise).

        A local folder is read one `READ_CHUNK` range at a time, every range pinned to the
        version the first one read: obstore streams a local file in 8 KiB pieces, each a task
        of its own on its runtime's threads, which cost about three times the CPU of the
        read itself (a recording read back for verification: 12 ms instead of 4).
        """
        try:
            if not isinstance(self._store, LocalStore):
                options: GetOptions = {"range": (start, end)}
                if e_tag is not None:
                    options["if_match"] = e_tag
                result = await obstore.get_async(self._store, key, options=options)
                async for chunk in result.stream(min_chunk_size=READ_CHUNK):
                    yield bytes(chunk)
                return
            for first in range(start, end, READ_CHUNK):
                options = {"range": (first, min(end, first + READ_CHUNK))}
                if e_tag is not None:
                    options["if_match"] = e_tag
                result = await obstore.get_async(self._store, key, options=options)
                e_tag = result.meta["e_tag"] if e_tag is None else e_tag
                yield bytes(await result.bytes_async())
        except STORE_ERRORS as error:
            raise translate(error, key=key, setting=_SETTING) from error

    def _local_path(self, key: str) -> Path | None:
        """The file holding the bytes of `key` as `read` returns them, when on a local folder."""
        return _local_file(self._store, key)

    async def verify(self, key: str, sha256: str) -> StoredObject:
        """Read the object back; `ChecksumMismatchError` unless its sha256 is `sha256`."""
        stored = await self._describe(key, created=False)
        if stored.sha256 != sha256.lower():
            raise ChecksumMismatchError(
                f"the stored object {key!r} has sha256 {stored.sha256}, expected {sha256}; the "
                "cloud copy is kept and the recording retried"
            )
        return stored

    async def _describe(self, key: str, *, created: bool) -> StoredObject:
        local = self._local_path(key)
        if local is not None:
            try:
                size, sha256 = await anyio.to_thread.run_sync(_hash_file, local)
            except OSError as error:
                raise translate(error, key=key, setting=_SETTING) from error
            return StoredObject(key=key, size=size, sha256=sha256, created=created)
        digest = hashlib.sha256()
        size = 0
        async for chunk in await self.read(key):
            digest.update(chunk)
            size += len(chunk)
        return StoredObject(key=key, size=size, sha256=digest.hexdigest(), created=created)


def _hash_file(path: Path) -> tuple[int, str]:
    """The size and sha256 of a local file, read in a worker thread through one open file (a
    file replaced meanwhile is read as it was when opened): reading it back range by range on
    the event loop took 11 % of a `batch` import's loop."""
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256")
        return file.tell(), digest.hexdigest()


__all__ = [
    "ChecksumMismatchError",
    "MediaStream",
    "MediaUpload",
    "ObjectStore",
    "ObjectVersion",
    "StoredObject",
    "media_key",
]
