"""Encryption at rest of media: an `ObjectStore` that seals every object with AES-256-GCM.

`EncryptedObjectStore(store, keyring)` has the interface of the store it wraps, so the import,
the analysis, playback and retention do not know about it: sizes, ranges, sha256 and
verification are those of the plaintext. Each object has its own random data key, wrapped by a
master key of the `MediaKeyring` (`CALLARCHIVE_MEDIA_KEY` or the media key file).

An object is a header then the media in chunks of `CHUNK` bytes, each sealed on its own:

    magic (8) version (1) chunk size (4) nonce prefix (8)     <- "fixed": every seal's AAD
    master key id (8) wrap nonce (12) wrapped data key (48)   <- data key, AES-GCM under the
                                                                 master key, AAD fixed + key id
                                                                 + the object's key
    chunk 0 .. n-1: ciphertext (up to CHUNK) + tag (16)       <- nonce prefix + index (4);
                                                                 AAD fixed + index + last flag

A chunk cannot be moved, dropped or cut off undetected (its index and whether it is the last
are authenticated), nor an object renamed (its key is bound to its data key). The plaintext
size follows from the stored size: every object has at least one chunk, only the last may be
short. A range read decrypts only the chunks holding the range. Key rotation never rewrites
media: it writes the data key wrapped by the new master key to a sidecar object `<key>.key`,
which readers prefer to the header's copy (see `rewrap`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import os
import struct
from collections.abc import AsyncIterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callarchive.archive._obstore import ObjectChangedError, ObjectNotFoundError, S3Options
from callarchive.archive.media_keys import WRAP as _WRAP
from callarchive.archive.media_keys import (
    CorruptObjectError,
    MediaKeyring,
    finish_media_key_rotation,
    key_id,
    load_media_keyring,
    rotate_media_key_file,
)
from callarchive.archive.objects import (
    ChecksumMismatchError,
    MediaStream,
    MediaUpload,
    ObjectStore,
    ObjectVersion,
    StoredObject,
)
from callarchive.errors import ConfigurationError

MAGIC = b"\x89CAMEDIA"
SIDECAR_MAGIC = b"\x89CAMDKEY"
VERSION = 1
CHUNK = 64 * 1024
TAG = 16
SIDECAR_SUFFIX = ".key"
STAGING_SUFFIX = ".encrypting"  # encrypt_in_place's copy, checked before it replaces the object
_REOPENINGS = 3  # a read restarted more often than this is not racing one encryption
_FIXED = struct.Struct(">8sBI8s")  # magic, version, chunk size, nonce prefix
_SIDECAR = struct.Struct(">8sB8s12s48s")  # magic, version, then a _WRAP
HEADER = _FIXED.size + _WRAP.size
_VERSION_AND_CHUNK = struct.pack(">BI", VERSION, CHUNK)
_SETTING = "CALLARCHIVE_MEDIA_KEY"


def plaintext_size(stored: int, chunk: int = CHUNK) -> int | None:
    """The plaintext size of an object of `stored` bytes; None when no object has that size."""
    body = stored - HEADER
    if body < TAG:
        return None
    count = -(-body // (chunk + TAG))
    return body - TAG * count


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class _Sealer:
    """One object's data key and header: seals and opens its chunks."""

    key: str
    fixed: bytes
    nonce_prefix: bytes
    chunk: int
    data_key: bytes = dataclasses.field(repr=False)
    master_id: bytes  # of the master key that unwrapped the data key
    cipher: AESGCM = dataclasses.field(repr=False)

    @classmethod
    def new(cls, key: str, keyring: MediaKeyring) -> tuple[_Sealer, bytes]:
        """A fresh data key for `key`, and the header to write first."""
        prefix, data_key = os.urandom(8), AESGCM.generate_key(bit_length=256)
        fixed = _FIXED.pack(MAGIC, VERSION, CHUNK, prefix)
        sealer = cls._make(key, fixed, data_key, keyring.primary_id)
        return sealer, fixed + keyring.wrap(data_key, _context(fixed, key))

    @classmethod
    def _make(cls, key: str, fixed: bytes, data_key: bytes, master_id: bytes) -> _Sealer:
        _, _, chunk, prefix = _FIXED.unpack(fixed)
        return cls(
            key=key,
            fixed=fixed,
            nonce_prefix=prefix,
            chunk=chunk,
            data_key=data_key,
            master_id=master_id,
            cipher=AESGCM(data_key),
        )

    @classmethod
    def open(cls, key: str, header: bytes, keyring: MediaKeyring, sidecar: bytes | None) -> _Sealer:
        """The sealer of a stored object from its header (and its sidecar, after rotation)."""
        fixed = header[: _FIXED.size]
        if len(header) != HEADER:
            raise CorruptObjectError(f"{key!r} is too short to be encrypted media")
        magic, version, chunk, _ = _FIXED.unpack(fixed)
        if magic != MAGIC:
            raise CorruptObjectError(f"{key!r} is not an encrypted media object")
        if version != VERSION or chunk != CHUNK:  # version 1 has one chunk size
            raise CorruptObjectError(f"{key!r} has an unknown format (version {version})")
        context = _context(fixed, key)
        if sidecar is not None:
            # A sidecar that does not open (a rotation cut short) leaves the header's copy.
            with contextlib.suppress(CorruptObjectError):
                record = _sidecar_record(sidecar)
                data_key = keyring.unwrap(record, context, key=key)
                return cls._make(key, fixed, data_key, record[:8])
        record = header[_FIXED.size : HEADER]
        return cls._make(key, fixed, keyring.unwrap(record, context, key=key), record[:8])

    def seal(self, index: int, plaintext: bytes, *, last: bool) -> bytes:
        return self.cipher.encrypt(self._nonce(index), plaintext, self._aad(index, last))

    def unseal(self, index: int, sealed: bytes, *, last: bool) -> bytes:
        try:
            return self.cipher.decrypt(self._nonce(index), sealed, self._aad(index, last))
        except InvalidTag:
            raise CorruptObjectError(
                f"chunk {index} of {self.key!r} does not authenticate: the object was altered, "
                "reordered or truncated"
            ) from None

    def _nonce(self, index: int) -> bytes:
        return self.nonce_prefix + struct.pack(">I", index)

    def _aad(self, index: int, last: bool) -> bytes:
        return self.fixed + struct.pack(">I?", index, last)


def _is_ours(header: bytes) -> bool:
    """Whether a stored object is encrypted media (else: stored before encryption was on). The
    version and chunk size count too, so an object with an altered magic is still refused."""
    return header.startswith(MAGIC) or header[8:13] == _VERSION_AND_CHUNK


def _context(fixed: bytes, key: str) -> bytes:
    return fixed + key.encode()


def _sidecar_record(sidecar: bytes) -> bytes:
    if len(sidecar) != _SIDECAR.size:
        raise CorruptObjectError("a media key sidecar has the wrong size")
    magic, version, *record = _SIDECAR.unpack(sidecar)
    if magic != SIDECAR_MAGIC or version != VERSION:
        raise CorruptObjectError("a media key sidecar has an unknown format")
    return _WRAP.pack(*record)


class _SealingUpload(MediaUpload):
    """A `MediaUpload` that seals chunks into the upload of the wrapped store."""

    def __init__(
        self,
        key: str,
        inner: MediaUpload | None,
        keyring: MediaKeyring,
        stored: StoredObject | None,
    ) -> None:
        # The inner upload does the writing (None: the object exists); this one only keeps
        # MediaUpload's public face, so MediaUpload's own state is left unset.
        self.key = key
        self.stored = stored
        self._inner = inner
        self._keyring = keyring
        self._restart()

    def _restart(self) -> None:
        self._sealer: _Sealer | None = None
        self._buffer = bytearray()
        self._index = 0
        self._digest = hashlib.sha256()
        self._size = 0

    async def write(self, chunk: bytes) -> None:
        if self.stored is not None or self._inner is None:
            return
        sealer = await self._begin(self._inner)
        self._digest.update(chunk)
        self._size += len(chunk)
        self._buffer += chunk
        # Seal a chunk only once a byte beyond it has arrived: the last one is flagged.
        while len(self._buffer) > sealer.chunk:
            piece = bytes(self._buffer[: sealer.chunk])
            del self._buffer[: sealer.chunk]
            await self._inner.write(sealer.seal(self._index, piece, last=False))
            self._index += 1

    def from_file(self, path: Path) -> bool:  # noqa: ARG002 - the plain upload's signature
        """False: the store holds the sealed bytes, not the file's."""
        return False

    async def reset(self) -> None:
        if self._inner is not None:
            await self._inner.reset()
        self._restart()

    async def abort(self) -> None:
        if self._inner is not None:
            await self._inner.abort()

    async def complete(self) -> None:
        if self.stored is not None or self._inner is None:
            return
        sealer = await self._begin(self._inner)
        await self._inner.write(sealer.seal(self._index, bytes(self._buffer), last=True))
        await self._inner.complete()
        self.stored = StoredObject(
            key=self.key, size=self._size, sha256=self._digest.hexdigest(), created=True
        )

    async def _begin(self, inner: MediaUpload) -> _Sealer:
        if self._sealer is None:
            self._sealer, header = _Sealer.new(self.key, self._keyring)
            await inner.write(header)
        return self._sealer


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class _Opened:
    """One version of a stored object and what its first bytes say: encrypted, or media stored
    before encryption was turned on (read as it is)."""

    version: ObjectVersion
    header: bytes  # the first HEADER bytes (fewer when the object is shorter)
    size: int  # of the plaintext

    @property
    def encrypted(self) -> bool:
        return _is_ours(self.header)


class EncryptedObjectStore(ObjectStore):
    """The media store `store`, every object sealed (see the module's docstring).

    Objects stored before encryption was turned on (no magic) are read as they are, so an
    archive can be encrypted while in use (`encrypt_in_place`). Each read is pinned to one
    version of its object (its entity tag); when `encrypt_in_place` replaces the object
    meanwhile, the read goes on from where it was in the new version, whose plaintext is the
    same.
    """

    def __init__(self, store: ObjectStore, keyring: MediaKeyring) -> None:
        # Every method that touches the obstore store is overridden to go through `store`.
        self._raw = store
        self._keyring = keyring

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        s3: S3Options | None = None,
        object_lock: bool = False,
        keyring: MediaKeyring | None = None,
    ) -> EncryptedObjectStore:
        """The store at `url` (see `ObjectStore.from_url`), encrypted with `keyring`."""
        if keyring is None:
            raise ConfigurationError("no media key configured", field=_SETTING)
        return cls(ObjectStore.from_url(url, s3=s3, object_lock=object_lock), keyring)

    @property
    def keyring(self) -> MediaKeyring:
        """The master keys (rotation swaps in a ring with a new primary key)."""
        return self._keyring

    @property
    def raw(self) -> ObjectStore:
        """The wrapped store, which holds the objects as stored."""
        return self._raw

    def _local_path(self, key: str) -> Path | None:  # noqa: ARG002 - the plain store's signature
        """None: the file holds ciphertext, so sizes and sha256 are of the decrypted stream."""
        return None

    @contextlib.asynccontextmanager
    async def upload(self, key: str) -> AsyncIterator[MediaUpload]:
        if await self.size(key) is not None:
            yield _SealingUpload(key, None, self._keyring, await self._describe(key, created=False))
            return
        async with self._raw.upload(key) as inner:
            upload = _SealingUpload(key, inner, self._keyring, None)
            yield upload
            await upload.complete()

    async def size(self, key: str) -> int | None:
        opened = await self._open(key)
        return None if opened is None else opened.size

    async def version(self, key: str) -> ObjectVersion | None:
        return await self._raw.version(key)

    def read_stored(
        self, version: ObjectVersion, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        return self._raw.read_stored(version, start=start, end=end)

    async def move(self, source: str, key: str) -> None:
        await self._raw.move(source, key)

    @property
    def object_lock(self) -> bool:
        return self._raw.object_lock

    async def check_lock(self) -> None:
        await self._raw.check_lock()

    async def retain(self, key: str, until: dt.datetime | None, *, now: dt.datetime) -> bool:
        # Only the media object: an import writes no sidecar (`rewrap` locks the ones it writes).
        return await self._raw.retain(key, until, now=now)

    async def retain_like(self, key: str, reference: str) -> bool:
        return await self._raw.retain_like(key, reference)

    async def hold(self, key: str, *, on: bool) -> bool:
        changed = await self._raw.hold(key, on=on)
        sidecar = key + SIDECAR_SUFFIX  # holds the data key after a rotation: held the same
        if await self._raw.size(sidecar) is not None:
            changed = await self._raw.hold(sidecar, on=on) or changed
        return changed

    async def overwrite(self, key: str, body: bytes) -> None:
        # Stored bytes as given, like `move`: only for objects the store itself writes.
        await self._raw.overwrite(key, body)

    async def delete(self, key: str) -> bool:
        deleted = await self._raw.delete(key)
        await self._raw.delete(key + SIDECAR_SUFFIX)
        await self._raw.delete(key + STAGING_SUFFIX)  # left by an interrupted encrypt_in_place
        return deleted

    async def read(self, key: str, *, start: int = 0, end: int | None = None) -> MediaStream:
        opened = await self._open(key)
        if opened is None:
            raise ObjectNotFoundError(f"no stored object {key!r}")
        size = opened.size
        end = size if end is None else end
        if not 0 <= start <= end <= size:
            raise ValueError(f"range {start}-{end} is outside the {size} bytes of {key!r}")
        chunks = self._pinned(opened, start, end)
        return MediaStream(key=key, size=size, start=start, end=end, chunks=chunks)

    async def verify(self, key: str, sha256: str) -> StoredObject:
        try:
            return await super().verify(key, sha256)
        except CorruptObjectError as error:
            raise ChecksumMismatchError(
                f"{error}; the cloud copy is kept and the recording retried"
            ) from error

    async def rewrap(self, key: str) -> bool:
        """Wrap the data key of `key` by the primary master key, in its sidecar object.

        The media bytes are not rewritten (object stores cannot rewrite a prefix in place, and
        media may be under a retention lock). False when the data key already was wrapped so,
        or the object is not encrypted (`encrypt_in_place` encrypts it under the primary key).
        """
        opened = await self._open(key)
        if opened is None:
            raise ObjectNotFoundError(f"no stored object {key!r}")
        if not opened.encrypted:
            return False
        sealer = await self._sealer(opened)
        if sealer.master_id == self._keyring.primary_id:
            return False
        record = self._keyring.wrap(sealer.data_key, _context(sealer.fixed, key))
        _, nonce, sealed = _WRAP.unpack(record)
        body = _SIDECAR.pack(SIDECAR_MAGIC, VERSION, self._keyring.primary_id, nonce, sealed)
        sidecar_key = key + SIDECAR_SUFFIX
        if self._raw.object_lock:
            # A locked sidecar cannot be deleted: the new one is a new version on top, locked
            # as long as the media (whose data key it holds), so it cannot be deleted either.
            await self._raw.overwrite(sidecar_key, body)
            await self._raw.retain_like(sidecar_key, key)
            return True
        await self._raw.delete(sidecar_key)
        await self._raw.put(sidecar_key, _once(body))
        return True

    async def inspect(self, key: str) -> tuple[ObjectVersion, bool] | None:
        """The version of the object under `key` and whether it is encrypted (its data key
        opening with the configured keys: `CorruptObjectError` or `ConfigurationError` if not);
        None when there is no object."""
        opened = await self._open(key)
        if opened is None:
            return None
        if opened.encrypted:
            await self._sealer(opened)
        return opened.version, opened.encrypted

    def sealing(self, key: str, inner: MediaUpload) -> MediaUpload:
        """An upload that seals what is written for `key` into `inner`, which may write
        elsewhere (a staging copy); completed by its `complete`."""
        return _SealingUpload(key, inner, self._keyring, None)

    async def describe_copy(self, copy: str, *, sealed_for: str) -> StoredObject:
        """The plaintext size and sha256 of `copy`, an object sealed for the key `sealed_for`
        (read whole: `CorruptObjectError` when it does not open)."""
        opened = await self._open(copy)
        if opened is None:
            raise ObjectNotFoundError(f"no stored object {copy!r}")
        if not opened.encrypted:
            raise CorruptObjectError(f"{copy!r} is not an encrypted media object")
        sealer = _Sealer.open(sealed_for, opened.header, self._keyring, None)
        digest, size = hashlib.sha256(), 0
        async for piece in _plaintext(self._raw, sealer, opened.version, 0, opened.size):
            digest.update(piece)
            size += len(piece)
        return StoredObject(key=copy, size=size, sha256=digest.hexdigest(), created=False)

    async def media_keys(self) -> AsyncIterator[str]:
        """The keys of every media object (not sidecars or staging copies), for rotation and
        `encrypt_in_place`."""
        async for key in self._raw.keys("media/"):
            staging = "#" in key.rsplit("/", 1)[-1]  # a local folder's unfinished upload
            ours = key.endswith((SIDECAR_SUFFIX, STAGING_SUFFIX))
            if not ours and not staging:
                yield key

    async def _open(self, key: str) -> _Opened | None:
        version = await self._raw.version(key)
        if version is None:
            return None
        end = min(HEADER, version.size)
        header = b"".join([c async for c in self._raw.read_stored(version, start=0, end=end)])
        if not _is_ours(header):
            return _Opened(version=version, header=header, size=version.size)
        size = plaintext_size(version.size)
        if size is None:
            raise CorruptObjectError(
                f"{key!r} is too short ({version.size} bytes) to be encrypted media"
            )
        return _Opened(version=version, header=header, size=size)

    async def _sidecar(self, key: str) -> bytes | None:
        try:
            stream = await self._raw.read(key + SIDECAR_SUFFIX)
        except ObjectNotFoundError:
            return None
        return b"".join([c async for c in stream])

    async def _sealer(self, opened: _Opened) -> _Sealer:
        key = opened.version.key
        return _Sealer.open(key, opened.header, self._keyring, await self._sidecar(key))

    async def _pinned(self, opened: _Opened, start: int, end: int) -> AsyncIterator[bytes]:
        """The plaintext `start` to `end` of `opened`, going on in the object's new version
        when it was replaced (encrypted) meanwhile."""
        for _ in range(_REOPENINGS):
            try:
                async for piece in self._decrypted(opened, start, end):
                    start += len(piece)
                    yield piece
            except ObjectChangedError:
                opened = await self._reopen(opened)
            else:
                return
        raise ObjectChangedError(f"the stored object {opened.version.key!r} keeps changing")

    async def _reopen(self, opened: _Opened) -> _Opened:
        key = opened.version.key
        again = await self._open(key)
        if again is None:
            raise ObjectNotFoundError(f"no stored object {key!r}")
        if again.size != opened.size:
            raise ObjectChangedError(f"the stored object {key!r} changed size while it was read")
        return again

    async def _decrypted(self, opened: _Opened, start: int, end: int) -> AsyncIterator[bytes]:
        if not opened.encrypted:
            async for piece in self._raw.read_stored(opened.version, start=start, end=end):
                yield piece
            return
        sealer = await self._sealer(opened)
        async for piece in _plaintext(self._raw, sealer, opened.version, start, end):
            yield piece


async def _plaintext(
    raw: ObjectStore, sealer: _Sealer, stored: ObjectVersion, start: int, end: int
) -> AsyncIterator[bytes]:
    """The plaintext `start` to `end` of `stored`, sealed by `sealer` (bound to its key, which
    may differ from the key `stored` is under: `encrypt_in_place` checks its staging copy)."""
    if start == end:
        return
    step = sealer.chunk + TAG
    size = plaintext_size(stored.size) or 0
    last = max(0, -(-size // sealer.chunk) - 1)  # index of the object's last chunk
    first_index, last_index = start // sealer.chunk, (end - 1) // sealer.chunk
    raw_end = min(HEADER + (last_index + 1) * step, stored.size)
    index, buffer = first_index, bytearray()
    async for piece in raw.read_stored(stored, start=HEADER + first_index * step, end=raw_end):
        buffer += piece
        while index <= last_index:
            length = step if index < last else stored.size - HEADER - last * step
            if len(buffer) < length:
                break
            sealed = bytes(buffer[:length])
            del buffer[:length]
            plain = sealer.unseal(index, sealed, last=index == last)
            offset = index * sealer.chunk
            yield plain[max(0, start - offset) : end - offset]
            index += 1
    if index <= last_index:
        raise CorruptObjectError(f"{sealer.key!r} ended early: the object was truncated")


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


__all__ = [
    "CHUNK",
    "STAGING_SUFFIX",
    "CorruptObjectError",
    "EncryptedObjectStore",
    "MediaKeyring",
    "finish_media_key_rotation",
    "key_id",
    "load_media_keyring",
    "plaintext_size",
    "rotate_media_key_file",
]
