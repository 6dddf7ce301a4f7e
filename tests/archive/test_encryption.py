"""Media encrypted at rest: the same store interface, plaintext in and out, ciphertext stored."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from obstore.store import LocalStore

from callarchive.archive import (
    ChecksumMismatchError,
    CorruptObjectError,
    EncryptedObjectStore,
    MediaKeyring,
    ObjectNotFoundError,
    ObjectStore,
    load_media_keyring,
)
from callarchive.archive.encryption import CHUNK, HEADER, TAG, plaintext_size
from callarchive.errors import ConfigurationError
from genesys_emulator.audio import FORMATS, encode, plan_speech

KEY = "media/1/2024/03/01/c-1/c-1-r1.mp3"
MARKER = b"PLAINTEXT-MARKER-0123456789"
SIZES = (0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12_345)


async def chunks(body: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def read_all(store: ObjectStore, key: str, **window: int) -> bytes:
    return b"".join([chunk async for chunk in await store.read(key, **window)])


def keyring(*masters: bytes) -> MediaKeyring:
    return MediaKeyring(list(masters) or [os.urandom(32)])


def local(folder: Path, ring: MediaKeyring) -> tuple[ObjectStore, EncryptedObjectStore]:
    raw = ObjectStore.from_url(str(folder))
    return raw, EncryptedObjectStore(raw, ring)


@pytest.fixture
def sealed(object_store: ObjectStore) -> EncryptedObjectStore:
    """The test store (a local folder, a prefix of the S3 server), encrypted."""
    return EncryptedObjectStore(object_store, keyring())


@pytest.mark.parametrize("size", SIZES)
async def test_a_round_trip_gives_back_the_plaintext(
    sealed: EncryptedObjectStore, object_store: ObjectStore, size: int
) -> None:
    body = os.urandom(size)
    stored = await sealed.put(KEY, chunks(body))
    assert (stored.size, stored.sha256, stored.created) == (
        size,
        hashlib.sha256(body).hexdigest(),
        True,
    )
    assert await sealed.size(KEY) == size
    assert await read_all(sealed, KEY) == body
    assert (await sealed.verify(KEY, stored.sha256)).size == size
    assert await object_store.size(KEY) == stored_size(size)
    assert await read_all(object_store, KEY) != body


def stored_size(size: int) -> int:
    return HEADER + size + TAG * max(1, -(-size // CHUNK))


def test_the_plaintext_size_follows_from_the_stored_size() -> None:
    for size in [*range(3 * CHUNK + 2), 10**9]:
        assert plaintext_size(stored_size(size)) == size


def test_an_object_too_short_for_a_header_and_a_tag_has_no_plaintext_size() -> None:
    assert plaintext_size(HEADER + TAG - 1) is None


RANGES_RING = keyring()
BODY = bytes(range(256)) * ((2 * CHUNK + 777) // 256 + 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_range_is_the_slice_of_the_plaintext(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.getbasetemp() / "ranges"
    _, store = local(folder, RANGES_RING)
    size = data.draw(st.sampled_from([0, 1, CHUNK, 2 * CHUNK + 777]))
    body = BODY[:size]
    start = data.draw(st.integers(0, size))
    end = data.draw(st.integers(start, size))

    async def check() -> None:
        key = f"media/r/{size}.wav"
        await store.put(key, chunks(body))
        assert await read_all(store, key, start=start, end=end) == body[start:end]

    asyncio.run(check())


async def test_a_range_outside_the_plaintext_is_refused(sealed: EncryptedObjectStore) -> None:
    await sealed.put(KEY, chunks(b"12345"))
    with pytest.raises(ValueError, match="outside"):
        await sealed.read(KEY, start=2, end=6)
    with pytest.raises(ObjectNotFoundError):
        await sealed.read("media/none.mp3")


async def test_no_plaintext_is_stored(tmp_path: Path) -> None:
    _, store = local(tmp_path / "media", keyring())
    body = MARKER * 20_000  # about 540 KB: several chunks
    await store.put(KEY, chunks(body))
    files = [path for path in (tmp_path / "media").rglob("*") if path.is_file()]
    assert files
    assert not any(MARKER[:16] in path.read_bytes() for path in files)


async def test_an_encrypted_folder_never_takes_the_callers_plaintext_file(
    tmp_path: Path,
) -> None:
    """A plain local folder links a file the caller wrote; an encrypted one seals the chunks."""
    _, store = local(tmp_path / "media", keyring())
    scratch = tmp_path / "download.original"
    body = MARKER * 20_000
    scratch.write_bytes(body)
    async with store.upload(KEY) as upload:
        assert not upload.from_file(scratch)
        await upload.write(body)
    assert await read_all(store, KEY) == body
    files = [path for path in (tmp_path / "media").rglob("*") if path.is_file()]
    assert files
    assert not any(MARKER[:16] in path.read_bytes() for path in files)


async def test_an_existing_object_is_described_by_its_plaintext(
    sealed: EncryptedObjectStore,
) -> None:
    first = await sealed.put(KEY, chunks(b"first"))
    again = await sealed.put(KEY, chunks(b"second"))
    assert not again.created
    assert (again.size, again.sha256) == (first.size, first.sha256)
    assert await read_all(sealed, KEY) == b"first"


async def test_a_reset_upload_stores_only_what_follows(sealed: EncryptedObjectStore) -> None:
    async with sealed.upload(KEY) as upload:
        await upload.write(b"x" * (CHUNK + 5))
        await upload.reset()
        await upload.write(b"fresh")
    assert upload.result().sha256 == hashlib.sha256(b"fresh").hexdigest()
    assert await read_all(sealed, KEY) == b"fresh"


async def test_a_failed_upload_stores_nothing(sealed: EncryptedObjectStore) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"x" * (2 * CHUNK)
        raise OSError("download broke")

    with pytest.raises(OSError, match="download broke"):
        await sealed.put(KEY, failing())
    assert await sealed.size(KEY) is None


# -- tampering ---------------------------------------------------------------------------------

TAMPERED_BODY = os.urandom(3 * CHUNK + 100)


def _flip(data: bytearray, at: int) -> None:
    data[at] ^= 0x01


def _swap_chunks(data: bytearray) -> None:
    step = CHUNK + TAG
    first, second = data[HEADER : HEADER + step], data[HEADER + step : HEADER + 2 * step]
    data[HEADER : HEADER + 2 * step] = second + first


TAMPERINGS = {
    "a byte of a chunk": lambda d: _flip(d, HEADER + CHUNK + 40),
    "a byte of a tag": lambda d: _flip(d, HEADER + CHUNK + TAG - 1),
    "the last byte": lambda d: _flip(d, len(d) - 1),
    "swapped chunks": _swap_chunks,
    "the last chunk cut off": lambda d: d.__delitem__(slice(HEADER + 3 * (CHUNK + TAG), None)),
    "cut in a chunk": lambda d: d.__delitem__(slice(len(d) - 50, None)),
    "the nonce prefix": lambda d: _flip(d, 15),
    "the wrapped data key": lambda d: _flip(d, HEADER - 3),
    "the magic": lambda d: _flip(d, 0),
}


@pytest.mark.parametrize("tampering", TAMPERINGS.values(), ids=TAMPERINGS.keys())
async def test_a_tampered_object_is_refused_not_returned(tmp_path: Path, tampering: object) -> None:
    _, store = local(tmp_path, keyring())
    stored = await store.put(KEY, chunks(TAMPERED_BODY))
    path = tmp_path / KEY
    data = bytearray(path.read_bytes())
    tampering(data)  # type: ignore[operator]
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptObjectError):
        await read_all(store, KEY)
    with pytest.raises(ChecksumMismatchError):
        await store.verify(KEY, stored.sha256)


async def test_a_range_away_from_a_tampered_chunk_still_reads(tmp_path: Path) -> None:
    _, store = local(tmp_path, keyring())
    await store.put(KEY, chunks(TAMPERED_BODY))
    path = tmp_path / KEY
    data = bytearray(path.read_bytes())
    _flip(data, HEADER + 2 * (CHUNK + TAG) + 7)  # in chunk 2
    path.write_bytes(bytes(data))
    assert await read_all(store, KEY, start=10, end=CHUNK + 10) == TAMPERED_BODY[10 : CHUNK + 10]
    with pytest.raises(CorruptObjectError, match="chunk 2"):
        await read_all(store, KEY, start=2 * CHUNK, end=2 * CHUNK + 1)


async def test_an_object_moved_to_another_key_is_refused(tmp_path: Path) -> None:
    _, store = local(tmp_path, keyring())
    await store.put(KEY, chunks(b"agent one's call"))
    other = "media/1/2024/03/01/c-2/c-2-r1.mp3"
    (tmp_path / other).parent.mkdir(parents=True)
    (tmp_path / other).write_bytes((tmp_path / KEY).read_bytes())
    with pytest.raises(CorruptObjectError, match="data key"):
        await read_all(store, other)


@pytest.mark.parametrize("size", [0, 5, HEADER, 3 * CHUNK + 7])
async def test_an_object_stored_before_encryption_was_on_is_read_as_it_is(
    object_store: ObjectStore, size: int
) -> None:
    body = b"ID3" + os.urandom(size)[3:] if size >= 3 else os.urandom(size)
    await object_store.put(KEY, chunks(body))
    store = EncryptedObjectStore(object_store, keyring())
    assert await store.size(KEY) == len(body)
    assert await read_all(store, KEY) == body
    assert await read_all(store, KEY, start=len(body) // 2) == body[len(body) // 2 :]
    assert (await store.verify(KEY, hashlib.sha256(body).hexdigest())).size == len(body)
    assert not await store.rewrap(KEY)  # nothing to re-wrap until it is encrypted


async def test_an_unknown_master_key_names_the_setting(tmp_path: Path) -> None:
    _, store = local(tmp_path, keyring())
    await store.put(KEY, chunks(b"x"))
    _, stranger = local(tmp_path, keyring())
    with pytest.raises(ConfigurationError, match="not configured") as caught:
        await read_all(stranger, KEY)
    assert caught.value.field == "CALLARCHIVE_MEDIA_KEY"


# -- rotation ----------------------------------------------------------------------------------


async def test_rotation_rewraps_data_keys_without_rewriting_media(
    object_store: ObjectStore,
) -> None:
    old, new = os.urandom(32), os.urandom(32)
    before = EncryptedObjectStore(object_store, keyring(old))
    bodies = {f"media/1/2024/03/01/c-{n}/r.mp3": os.urandom(n * 40_000) for n in range(3)}
    for key, body in bodies.items():
        await before.put(key, chunks(body))
    stored = {key: await read_all(object_store, key) for key in bodies}

    rotating = EncryptedObjectStore(object_store, keyring(new, old))
    assert sorted([key async for key in rotating.media_keys()]) == sorted(bodies)
    assert [await rotating.rewrap(key) for key in bodies] == [True, True, True]
    assert [await rotating.rewrap(key) for key in bodies] == [False, False, False]

    after = EncryptedObjectStore(object_store, keyring(new))
    for key, body in bodies.items():
        assert await read_all(after, key) == body
        assert await read_all(object_store, key) == stored[key]  # media bytes untouched
        assert await object_store.size(key + ".key") is not None
    with pytest.raises(ConfigurationError):
        await read_all(EncryptedObjectStore(object_store, keyring(os.urandom(32))), key)


async def test_a_damaged_sidecar_falls_back_to_the_header(tmp_path: Path) -> None:
    old, new = os.urandom(32), os.urandom(32)
    _, store = local(tmp_path, keyring(new, old))
    _, before = local(tmp_path, keyring(old))
    await before.put(KEY, chunks(b"call"))
    await store.rewrap(KEY)
    sidecar = tmp_path / (KEY + ".key")
    data = bytearray(sidecar.read_bytes())
    _flip(data, len(data) - 1)
    sidecar.write_bytes(bytes(data))
    assert await read_all(store, KEY) == b"call"
    assert await store.rewrap(KEY)  # written again under the new key
    assert await read_all(EncryptedObjectStore(store._raw, keyring(new)), KEY) == b"call"


async def test_deleting_an_object_deletes_its_sidecar(tmp_path: Path) -> None:
    old, new = os.urandom(32), os.urandom(32)
    raw, store = local(tmp_path, keyring(new, old))
    await EncryptedObjectStore(raw, keyring(old)).put(KEY, chunks(b"x"))
    assert await store.rewrap(KEY)
    assert await raw.size(KEY + ".key") is not None
    assert await store.delete(KEY)
    assert await raw.size(KEY) is None
    assert await raw.size(KEY + ".key") is None


# -- memory ------------------------------------------------------------------------------------


async def test_memory_does_not_grow_with_the_object(tmp_path: Path) -> None:
    part = 1024 * 1024
    store = EncryptedObjectStore(ObjectStore(LocalStore(tmp_path), part_size=part), keyring())
    size = 32 * part
    piece = os.urandom(256 * 1024)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(size // len(piece)):
            yield piece

    tracemalloc.start()
    try:
        await store.put(KEY, body())
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        total = 0
        async for chunk in await store.read(KEY):
            total += len(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    # Writing holds sealed chunks for an upload part or two (obstore keeps the buffers it is
    # given until their part is written); reading, a few chunks. Neither grows with the object.
    assert write_peak < 2 * part + 2 * 1024 * 1024, write_peak
    assert read_peak < 2 * 1024 * 1024, read_peak


# -- keys --------------------------------------------------------------------------------------


def test_media_keys_come_from_the_setting_first(tmp_path: Path) -> None:
    master = os.urandom(32)
    text = base64.urlsafe_b64encode(master).decode()
    ring = load_media_keyring(env_key=text, key_file=tmp_path / "media.key")
    assert ring is not None
    assert ring.primary_id == MediaKeyring([master]).primary_id
    assert not (tmp_path / "media.key").exists()


def test_no_media_key_means_no_encryption() -> None:
    assert load_media_keyring(env_key=None, key_file=None) is None


def test_the_media_key_file_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "media.key"
    first = load_media_keyring(env_key=None, key_file=path)
    assert first is not None
    assert path.stat().st_mode & 0o777 == 0o600
    again = load_media_keyring(env_key=None, key_file=path)
    assert again is not None
    assert again.primary_id == first.primary_id
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_media_keyring(env_key=None, key_file=path)


def test_a_malformed_media_key_names_the_setting() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_media_keyring(env_key="not a key", key_file=None)
    assert caught.value.field == "CALLARCHIVE_MEDIA_KEY"


def recording(format_id: str, seconds: int = 20) -> bytes:
    """A call in one of Genesys's recording formats, as the emulator encodes it."""
    sink = io.BytesIO()
    encode(plan_speech(7, seconds * 1000), 7, format_id, sink)
    return sink.getvalue()


@pytest.mark.parametrize("format_id", [f for f in FORMATS if f != "NONE"])
async def test_every_codec_round_trips_and_no_stretch_of_it_is_stored(
    tmp_path: Path, format_id: str
) -> None:
    _, store = local(tmp_path / "media", keyring())
    body = recording(format_id)
    key = f"media/1/2024/03/01/c-1/c-1-r1.{FORMATS[format_id].extension}"
    await store.put(key, chunks(body, 4096))
    assert await read_all(store, key) == body
    middle = len(body) // 2
    assert await read_all(store, key, start=middle, end=middle + 9000) == body[middle:][:9000]
    stored = b"".join(p.read_bytes() for p in (tmp_path / "media").rglob("*") if p.is_file())
    # No 24-byte stretch of the recording (silence and padding apart) is found on disk.
    stretches = [body[at : at + 24] for at in range(0, len(body) - 24, 509)]
    varied = [s for s in stretches if len(set(s)) > 8]
    assert len(varied) > len(stretches) // 2
    assert not [s for s in varied if s in stored]
