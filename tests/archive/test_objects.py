"""The media store on a local folder and on an S3-compatible server."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from obstore.store import LocalStore

from callarchive.archive import (
    ChecksumMismatchError,
    ObjectNotFoundError,
    ObjectStore,
    media_key,
)
from callarchive.archive._obstore import ObjectChangedError, StoreUnavailableError
from callarchive.archive.objects import LOCAL_PART_SIZE, READ_CHUNK, MediaUpload
from callarchive.configuration import Codec

KEY = "media/1/2024/03/01/c-1/c-1-r1.mp3"


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read_all(store: ObjectStore, key: str, **window: int) -> bytes:
    return b"".join([chunk async for chunk in await store.read(key, **window)])


def test_media_keys_are_deterministic_and_dated_in_utc() -> None:
    start = dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    assert media_key(7, start, "c-1", "r-1", Codec.WAV_ULAW) == (
        "media/7/2024/03/02/c-1/r-1.ulaw.wav"
    )
    with pytest.raises(ValueError, match="media key"):
        media_key(7, start, "../etc", "r-1", Codec.MP3)


async def test_put_streams_and_reports_size_and_sha256(object_store: ObjectStore) -> None:
    body = os.urandom(300_000)
    stored = await object_store.put(KEY, chunks(body[:1000], body[1000:]))
    assert stored.created
    assert stored.size == len(body)
    assert stored.sha256 == hashlib.sha256(body).hexdigest()
    assert await read_all(object_store, KEY) == body
    assert await object_store.size(KEY) == len(body)


async def test_a_large_object_is_written_in_parts(store_url: tuple[str, object]) -> None:
    url, options = store_url
    store = ObjectStore.from_url(url, s3=options)  # type: ignore[arg-type]
    store._part_size = 5 * 1024 * 1024  # S3's smallest part: three parts below
    body = os.urandom(11 * 1024 * 1024)
    stored = await store.put(
        KEY, chunks(*(body[i : i + 65536] for i in range(0, len(body), 65536)))
    )
    assert stored.sha256 == hashlib.sha256(body).hexdigest()
    assert (await store.verify(KEY, stored.sha256)).size == len(body)


async def test_a_local_folder_takes_a_long_recording_onto_disk_as_it_comes(
    tmp_path: Path,
) -> None:
    """Beyond LOCAL_PART_SIZE, a recording goes to its staging file part by part while it is
    still being written (memory holds a part, not the recording); its key appears only once
    it is complete."""
    store = ObjectStore.from_url(str(tmp_path / "media"))
    body = os.urandom(4 * LOCAL_PART_SIZE)
    async with store.upload(KEY) as upload:
        for i in range(0, len(body), 65536):
            await upload.write(body[i : i + 65536])
        deadline = time.monotonic() + 30
        while staged_bytes(tmp_path) < 2 * LOCAL_PART_SIZE:
            assert time.monotonic() < deadline, "nothing reached the staging file"
            await asyncio.sleep(0.05)
        assert await store.size(KEY) is None
    assert (await store.verify(KEY, hashlib.sha256(body).hexdigest())).size == len(body)
    assert staged_bytes(tmp_path) == 0


def staged_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*#*"))


async def test_an_existing_object_is_never_replaced(object_store: ObjectStore) -> None:
    await object_store.put(KEY, chunks(b"first"))
    consumed = []

    async def other() -> AsyncIterator[bytes]:
        consumed.append(True)
        yield b"second"

    again = await object_store.put(KEY, other())
    assert not again.created
    assert again.sha256 == hashlib.sha256(b"first").hexdigest()
    assert consumed == []
    assert await read_all(object_store, KEY) == b"first"


async def test_a_failed_stream_leaves_nothing(object_store: ObjectStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 1000
        raise ConnectionResetError("download cut")

    with pytest.raises(ConnectionResetError):
        await object_store.put(KEY, broken())
    assert await object_store.size(KEY) is None
    assert (await object_store.put(KEY, chunks(b"whole"))).created


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(0, 10, b"0123456789"), (2, 5, b"234"), (7, None, b"789"), (4, 4, b"")],
)
async def test_byte_ranges_stream_part_of_an_object(
    object_store: ObjectStore, start: int, end: int | None, expected: bytes
) -> None:
    await object_store.put(KEY, chunks(b"0123456789"))
    stream = await object_store.read(KEY, start=start, end=end)
    assert (stream.size, stream.start) == (10, start)
    assert b"".join([c async for c in stream]) == expected


async def test_a_range_outside_the_object_is_refused(object_store: ObjectStore) -> None:
    await object_store.put(KEY, chunks(b"0123456789"))
    with pytest.raises(ValueError, match="outside"):
        await object_store.read(KEY, start=5, end=11)


async def test_verify_reads_back_and_compares_sha256(object_store: ObjectStore) -> None:
    stored = await object_store.put(KEY, chunks(b"audio"))
    assert (await object_store.verify(KEY, stored.sha256.upper())).sha256 == stored.sha256
    with pytest.raises(ChecksumMismatchError):
        await object_store.verify(KEY, "0" * 64)
    with pytest.raises(ObjectNotFoundError):
        await object_store.verify("media/none.mp3", stored.sha256)


# Three read chunks and a bit: reads cross the boundaries of the local store's ranged reads.
LARGE = bytes(range(256)) * ((3 * READ_CHUNK + 1000) // 256)


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, None), (1, READ_CHUNK + 1), (READ_CHUNK - 1, 2 * READ_CHUNK), (READ_CHUNK, None)],
)
async def test_objects_of_several_read_chunks_read_back_exactly(
    object_store: ObjectStore, start: int, end: int | None
) -> None:
    stored = await object_store.put(KEY, chunks(LARGE))
    assert await read_all(object_store, KEY, start=start, end=end or len(LARGE)) == LARGE[start:end]
    version = await object_store.version(KEY)
    assert version is not None
    pinned = [c async for c in object_store.read_stored(version, start=start, end=end)]
    assert b"".join(pinned) == LARGE[start:end]
    assert (await object_store.verify(KEY, stored.sha256)).size == len(LARGE)


async def test_a_local_object_replaced_while_it_is_read_is_not_read_on(tmp_path: Path) -> None:
    """A local folder is read one range at a time; every range is of the version the read
    began with, or the read stops (never the start of one version and the rest of another)."""
    store = ObjectStore.from_url(str(tmp_path / "media"))
    await store.put(KEY, chunks(LARGE))
    stream = aiter(await store.read(KEY))
    assert await anext(stream) == LARGE[:READ_CHUNK]
    await store.overwrite(KEY, bytes(len(LARGE)))
    with pytest.raises(ObjectChangedError):
        await anext(stream)


async def test_a_local_store_is_a_plain_folder(tmp_path: Path) -> None:
    store = ObjectStore.from_url(f"file://{tmp_path}/media")
    await store.put(KEY, chunks(b"audio"))
    assert (tmp_path / "media" / KEY).read_bytes() == b"audio"
    assert sorted(p.name for p in (tmp_path / "media" / KEY).parent.iterdir()) == ["c-1-r1.mp3"]


async def test_an_upload_is_a_sink_that_can_start_over(object_store: ObjectStore) -> None:
    async with object_store.upload(KEY) as upload:
        await upload.write(b"broken-off")
        await upload.reset()
        await upload.write(b"whole ")
        await upload.write(b"file")
    assert upload.result().sha256 == hashlib.sha256(b"whole file").hexdigest()
    assert await read_all(object_store, KEY) == b"whole file"


async def test_an_upload_that_raises_stores_nothing(object_store: ObjectStore) -> None:
    async def broken_download() -> None:
        async with object_store.upload(KEY) as upload:
            await upload.write(b"x" * 100)
            raise RuntimeError("media host gone")

    with pytest.raises(RuntimeError, match="media host gone"):
        await broken_download()
    assert await object_store.size(KEY) is None


async def test_an_upload_to_an_existing_key_keeps_the_stored_object(
    object_store: ObjectStore,
) -> None:
    await object_store.put(KEY, chunks(b"first"))
    async with object_store.upload(KEY) as upload:
        assert upload.stored is not None
        await upload.write(b"second")
    assert not upload.result().created
    assert await read_all(object_store, KEY) == b"first"


async def test_an_empty_object_is_stored_and_recognised(object_store: ObjectStore) -> None:
    assert (await object_store.put(KEY, chunks())).size == 0
    assert not (await object_store.put(KEY, chunks(b"late"))).created


async def write_both(upload: MediaUpload, path: Path, *parts: bytes) -> None:
    """What the `batch` download does: every chunk to a local file and to the upload."""
    with path.open("wb") as file:
        for part in parts:
            file.write(part)
            await upload.write(part)


def staging_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if "#" in path.name]


async def test_a_local_folder_takes_the_callers_file_by_a_hard_link(tmp_path: Path) -> None:
    """The bytes are written once, to the caller's file; the store links that file under the
    key (the same inode), with the size and sha256 of the chunks it was given."""
    store = ObjectStore.from_url(str(tmp_path / "media"))
    scratch = tmp_path / "download.original"
    body = os.urandom(3 * LOCAL_PART_SIZE + 5)
    async with store.upload(KEY) as upload:
        assert upload.from_file(scratch)
        await write_both(upload, scratch, body[:1000], body[1000:])
        assert await store.size(KEY) is None, "nothing under the key before the block ends"
    stored = upload.result()
    assert (stored.size, stored.sha256) == (len(body), hashlib.sha256(body).hexdigest())
    path = tmp_path / "media" / KEY
    assert path.stat().st_ino == scratch.stat().st_ino
    scratch.unlink()  # the caller removes its name for the file: the stored object stays
    assert (await store.verify(KEY, stored.sha256)).size == len(body)
    assert await read_all(store, KEY) == body
    assert staging_files(tmp_path) == []


@pytest.fixture
def other_file_system() -> Iterator[Path]:
    """A folder on another file system than the tests' temporary folders (/dev/shm, a tmpfs)."""
    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        yield Path(folder)


async def test_a_file_on_another_file_system_is_copied_in_atomically(
    tmp_path: Path, other_file_system: Path
) -> None:
    store = ObjectStore.from_url(str(tmp_path / "media"))
    scratch = other_file_system / "download.original"
    body = os.urandom(LOCAL_PART_SIZE + 17)
    async with store.upload(KEY) as upload:
        assert upload.from_file(scratch)
        await write_both(upload, scratch, body)
    assert scratch.stat().st_dev != (tmp_path / "media").stat().st_dev, "not another one"
    assert (await store.verify(KEY, upload.result().sha256)).size == len(body)
    assert (tmp_path / "media" / KEY).stat().st_ino != scratch.stat().st_ino
    assert staging_files(tmp_path) == []


async def test_a_linked_file_never_replaces_an_object_stored_meanwhile(tmp_path: Path) -> None:
    store = ObjectStore.from_url(str(tmp_path / "media"))
    scratch = tmp_path / "download.original"

    async def race() -> None:
        async with store.upload(KEY) as upload:
            assert upload.from_file(scratch)
            await write_both(upload, scratch, b"ours")
            await store.overwrite(KEY, b"another process's")  # stored first, by someone else

    with pytest.raises(StoreUnavailableError, match="File exists"):
        await race()
    assert await read_all(store, KEY) == b"another process's"


async def test_verification_catches_a_file_that_is_not_what_was_written(tmp_path: Path) -> None:
    """The sha256 is of the chunks as they came, not of the file: reading the stored object
    back compares the two."""
    store = ObjectStore.from_url(str(tmp_path / "media"))
    scratch = tmp_path / "download.original"
    async with store.upload(KEY) as upload:
        assert upload.from_file(scratch)
        await upload.write(b"received")
        scratch.write_bytes(b"corrupted")
    with pytest.raises(ChecksumMismatchError):
        await store.verify(KEY, upload.result().sha256)


async def test_a_reset_upload_writes_its_chunks_unless_told_of_a_file_again(
    tmp_path: Path,
) -> None:
    store = ObjectStore.from_url(str(tmp_path / "media"))
    first, second = tmp_path / "original", tmp_path / "converted"
    async with store.upload(KEY) as upload:
        assert upload.from_file(first)
        await write_both(upload, first, b"broken-off")
        await upload.reset()
        second.write_bytes(b"not this")
        await upload.write(b"whole file")
    assert await read_all(store, KEY) == b"whole file"
    assert (tmp_path / "media" / KEY).stat().st_ino != first.stat().st_ino

    other = "media/1/2024/03/01/c-1/c-1-r2.mp3"
    async with store.upload(other) as upload:
        assert upload.from_file(first)
        await write_both(upload, first, b"broken-off")
        await upload.reset()
        assert upload.from_file(second)
        await write_both(upload, second, b"converted")
    assert await read_all(store, other) == b"converted"

    async def too_late() -> None:
        async with store.upload("media/1/2024/03/01/c-1/c-1-r3.mp3") as upload:
            await upload.write(b"some")
            upload.from_file(second)

    with pytest.raises(RuntimeError, match="before the first write"):
        await too_late()


async def test_only_a_local_folder_takes_files(object_store: ObjectStore, tmp_path: Path) -> None:
    """An S3 bucket is written chunk by chunk as before; an object already there takes
    nothing."""
    scratch = tmp_path / "download.original"
    local = isinstance(object_store._store, LocalStore)
    async with object_store.upload(KEY) as upload:
        assert upload.from_file(scratch) is local
        await write_both(upload, scratch, b"audio")
    assert await read_all(object_store, KEY) == b"audio"
    async with object_store.upload(KEY) as again:
        assert not again.from_file(scratch)
    assert not again.result().created
