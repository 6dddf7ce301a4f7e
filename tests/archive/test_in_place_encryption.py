"""Encrypting in place the media stored before encryption was turned on: every object ends
encrypted, readers get the plaintext throughout, and a crash at any point loses nothing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from obstore.store import LocalStore

from callarchive.archive import (
    EncryptedObjectStore,
    InPlaceOutcome,
    MediaKeyring,
    MediaUpload,
    ObjectStore,
    S3Options,
    StoredObject,
    encrypt_in_place,
)
from callarchive.archive.encryption import CHUNK, MAGIC, STAGING_SUFFIX
from callarchive.configuration import Codec

# What each codec's files start with, so detection sees real-looking media.
CODEC_STARTS = {
    Codec.WAV: b"RIFF\x24\x08\x00\x00WAVEfmt ",
    Codec.WAV_ULAW: b"RIFF\x24\x08\x00\x00WAVEfmt ",
    Codec.WEBM: b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81",
    Codec.OGG_VORBIS: b"OggS\x00\x02\x00\x00",
    Codec.OGG_OPUS: b"OggS\x00\x02\x00\x00",
    Codec.MP3: b"ID3\x04\x00\x00\x00\x00",
}


def media(codec: Codec, size: int, n: int = 0) -> tuple[str, bytes]:
    key = f"media/1/2024/03/01/c-{n}/r-{n}.{codec.file_extension}"
    start = CODEC_STARTS[codec]
    return key, (start + os.urandom(max(0, size - len(start))))[:size]


async def chunks(body: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def read_all(store: ObjectStore, key: str, **window: int) -> bytes:
    return b"".join([chunk async for chunk in await store.read(key, **window)])


async def stored(store: ObjectStore, key: str) -> bytes:
    return await read_all(store, key)


@pytest.fixture
def ring() -> MediaKeyring:
    return MediaKeyring([os.urandom(32)])


async def unencrypted(store: ObjectStore, bodies: dict[str, bytes]) -> None:
    for key, body in bodies.items():
        await store.put(key, chunks(body))


@pytest.mark.parametrize("codec", list(Codec))
@pytest.mark.parametrize("size", [0, 7, CHUNK, 2 * CHUNK + 5])
async def test_an_unencrypted_object_ends_encrypted_with_the_same_plaintext(
    object_store: ObjectStore, ring: MediaKeyring, codec: Codec, size: int
) -> None:
    key, body = media(codec, size)
    await object_store.put(key, chunks(body))
    store = EncryptedObjectStore(object_store, ring)
    sha256 = hashlib.sha256(body).hexdigest()

    assert await encrypt_in_place(store, key, sha256=sha256) is InPlaceOutcome.ENCRYPTED
    assert (await stored(object_store, key)).startswith(MAGIC)
    assert await read_all(store, key) == body
    assert (await store.verify(key, sha256)).size == size
    assert [k async for k in object_store.keys("media/")] == [key]  # no staging copy left


async def test_running_again_changes_nothing(object_store: ObjectStore, ring: MediaKeyring) -> None:
    bodies = dict(media(codec, 3 * CHUNK, n) for n, codec in enumerate(Codec))
    await unencrypted(object_store, bodies)
    store = EncryptedObjectStore(object_store, ring)
    for key in bodies:
        assert await encrypt_in_place(store, key) is InPlaceOutcome.ENCRYPTED
    first = {key: await stored(object_store, key) for key in bodies}
    for key in bodies:
        assert await encrypt_in_place(store, key) is InPlaceOutcome.ALREADY_ENCRYPTED
    assert {key: await stored(object_store, key) for key in bodies} == first


async def test_media_encrypted_by_the_import_is_left_as_it_is(
    object_store: ObjectStore, ring: MediaKeyring
) -> None:
    key, body = media(Codec.OGG_OPUS, CHUNK + 1)
    store = EncryptedObjectStore(object_store, ring)
    await store.put(key, chunks(body))
    before = await stored(object_store, key)
    assert await encrypt_in_place(store, key) is InPlaceOutcome.ALREADY_ENCRYPTED
    assert await stored(object_store, key) == before


async def test_an_object_without_the_archives_sha256_is_left_as_it_is(
    object_store: ObjectStore, ring: MediaKeyring
) -> None:
    key, body = media(Codec.MP3, 5000)
    await object_store.put(key, chunks(body))
    store = EncryptedObjectStore(object_store, ring)
    outcome = await encrypt_in_place(store, key, sha256=hashlib.sha256(b"other").hexdigest())
    assert outcome is InPlaceOutcome.MISMATCHED
    assert await stored(object_store, key) == body
    assert [k async for k in object_store.keys("media/")] == [key]


async def test_a_deleted_object_is_gone_not_an_error(
    object_store: ObjectStore, ring: MediaKeyring
) -> None:
    store = EncryptedObjectStore(object_store, ring)
    assert await encrypt_in_place(store, "media/1/x.mp3") is InPlaceOutcome.GONE


# -- readers during the encryption -------------------------------------------------------------


async def test_a_read_opened_before_the_encryption_gives_the_plaintext(
    object_store: ObjectStore, ring: MediaKeyring
) -> None:
    key, body = media(Codec.WAV, 3 * CHUNK + 99)
    await object_store.put(key, chunks(body))
    store = EncryptedObjectStore(object_store, ring)
    whole = await store.read(key)
    ranged = await store.read(key, start=CHUNK - 10, end=2 * CHUNK + 10)
    assert await encrypt_in_place(store, key) is InPlaceOutcome.ENCRYPTED
    assert b"".join([c async for c in whole]) == body
    assert b"".join([c async for c in ranged]) == body[CHUNK - 10 : 2 * CHUNK + 10]


async def test_a_read_half_way_when_the_encryption_lands_gives_the_plaintext(
    object_store: ObjectStore, ring: MediaKeyring
) -> None:
    key, body = media(Codec.WAV, 4 * 1024 * 1024)
    await object_store.put(key, chunks(body))
    store = EncryptedObjectStore(object_store, ring)
    reading = aiter(await store.read(key))
    first = await anext(reading)
    assert await encrypt_in_place(store, key) is InPlaceOutcome.ENCRYPTED
    assert first + b"".join([c async for c in reading]) == body


# -- crashes -----------------------------------------------------------------------------------


class KilledError(Exception):
    """The process dies here: nothing after it runs (the upload under way never completes)."""


class CrashingStore(ObjectStore):
    """A real store that dies at its `crash_at`-th change: a write of an upload, the end of an
    upload, a deletion, or either side of a move (S3's copy done, its source not deleted)."""

    crash_at: int | None = None
    changes: int = 0

    def _change(self) -> None:
        self.changes += 1
        if self.changes == self.crash_at:
            raise KilledError(f"killed at change {self.changes}")

    @contextlib.asynccontextmanager
    async def upload(self, key: str) -> AsyncIterator[MediaUpload]:
        async with super().upload(key) as upload:
            yield _CrashingUpload(upload, self._change)
            self._change()

    async def delete(self, key: str) -> bool:
        self._change()
        return await super().delete(key)

    async def move(self, source: str, key: str) -> None:
        self._change()
        await super().move(source, key)
        self._change()


class _CrashingUpload(MediaUpload):
    def __init__(self, inner: MediaUpload, change: Callable[[], None]) -> None:
        self.key, self.stored = inner.key, inner.stored
        self._inner, self._change = inner, change

    async def write(self, chunk: bytes) -> None:
        self._change()
        await self._inner.write(chunk)

    async def reset(self) -> None:
        await self._inner.reset()

    async def abort(self) -> None:
        await self._inner.abort()

    async def complete(self) -> None:
        await self._inner.complete()
        self.stored = self._inner.stored

    def result(self) -> StoredObject:
        return self._inner.result()


BODIES = dict(
    [
        media(Codec.WAV, 2 * CHUNK + 3, 0),
        media(Codec.MP3, 10, 1),
        media(Codec.OGG_OPUS, 0, 2),
    ]
)


def crashing(url: str, s3: S3Options | None, crash_at: int | None) -> CrashingStore:
    store = CrashingStore.from_url(url, s3=s3)
    assert isinstance(store, CrashingStore)
    store.crash_at = crash_at
    return store


async def encrypt_all(store: EncryptedObjectStore) -> list[InPlaceOutcome]:
    return [
        await encrypt_in_place(store, key, sha256=hashlib.sha256(BODIES[key]).hexdigest())
        async for key in store.media_keys()
    ]


async def test_a_crash_at_any_change_loses_nothing_and_a_second_run_finishes(
    store_url: tuple[str, S3Options | None], ring: MediaKeyring
) -> None:
    url, s3 = store_url
    counting = crashing(url + "/count", s3, None)
    await unencrypted(counting, BODIES)
    counting.changes = 0
    await encrypt_all(EncryptedObjectStore(counting, ring))
    assert counting.changes > 3 * len(BODIES), counting.changes
    for crash_at in range(1, counting.changes + 1):
        folder = f"{url}/crash-{crash_at}"
        await unencrypted(ObjectStore.from_url(folder, s3=s3), BODIES)
        store = EncryptedObjectStore(crashing(folder, s3, crash_at), ring)
        with pytest.raises(KilledError):
            await encrypt_all(store)
        for key, body in BODIES.items():  # every object whole and readable, once encrypted
            assert await read_all(store, key) == body, (crash_at, key)
        rerun = EncryptedObjectStore(ObjectStore.from_url(folder, s3=s3), ring)
        await encrypt_all(rerun)
        assert set(await encrypt_all(rerun)) == {InPlaceOutcome.ALREADY_ENCRYPTED}
        raw = rerun.raw
        for key, body in BODIES.items():
            assert await read_all(rerun, key) == body
            assert (await stored(raw, key)).startswith(MAGIC)
        keys = [key async for key in raw.keys("media/")]
        assert not [key for key in keys if key.endswith(STAGING_SUFFIX)], crash_at


# -- memory ------------------------------------------------------------------------------------


async def test_memory_does_not_grow_with_the_object(tmp_path: Path, ring: MediaKeyring) -> None:
    part = 1024 * 1024
    raw = ObjectStore(LocalStore(tmp_path), part_size=part)
    size = 32 * part
    key = "media/1/2024/03/01/c/r.wav"
    piece = os.urandom(256 * 1024)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(size // len(piece)):
            yield piece

    await raw.put(key, body())
    tracemalloc.start()
    try:
        outcome = await encrypt_in_place(EncryptedObjectStore(raw, ring), key)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome is InPlaceOutcome.ENCRYPTED
    assert await EncryptedObjectStore(raw, ring).size(key) == size
    # An upload part or two and a few read chunks, whatever the object's size.
    assert peak < 2 * part + 3 * 1024 * 1024, peak
