"""Fetching media into the archive's object store: the `transcode` and `batch` strategies.

`transcode` (the seed's behaviour) asks Genesys for each conversation's recordings in the import
source's codec and downloads every media URI. `batch` submits batch downloads of up to 100
conversations, downloads each result in the trunk's codec and transcodes locally when the codec
differs; a conversation the batch leaves out (sensitive data without the permission, an error
message, an archived recording) falls back to `transcode`. Both verify what they stored by
reading it back. `batch` downloads into the store and a local file at once (a local folder
store takes that file by a hard link instead of a second write), and analyses the local file
(given a `MediaAnalyser`): the stored bytes are read back once, to verify them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio
import structlog

from callarchive.archive import ObjectStore, Recording, StoredObject, media_key
from callarchive.archive.objects import MediaUpload
from callarchive.clock import Clock
from callarchive.configuration import Codec
from callarchive.genesys import (
    GenesysClient,
    MediaNotReadyError,
    MediaSink,
    MediaUrlExpiredError,
)
from callarchive.genesys import (
    Recording as GenesysRecording,
)
from callarchive.imports import transcoding
from callarchive.imports.analysing import ANALYSES, MediaAnalyser
from callarchive.imports.analysing import SCRATCH_PREFIX as ANALYSIS_PREFIX

log = structlog.get_logger("callarchive.imports")

MAX_WAIT_MS = 5000
TRANSCODE_PATIENCE_S = 60.0  # how long one run waits for Genesys to transcode
BATCH_PATIENCE_S = 300.0
BATCH_POLL_S = 2.0
BATCH_SIZE = 100
# Media transfers under way at once, whatever the strategy and the number of conversations in
# flight: each holds an upload buffer of up to the store's part size (8 MiB), so this bounds
# the importer's memory, while conversations waiting for Genesys hold none.
TRANSFERS = 8
# The most bytes a second of recording takes in any codec, with room to spare: twice 16-bit
# stereo PCM at 8 kHz (Genesys's WAV, its largest format); plus headers and container overhead.
MAX_BYTES_PER_SECOND = 64_000
MEDIA_SLACK_BYTES = 1024 * 1024
# Local copies of downloaded media (`batch`) on the scratch disk at once: those being
# transferred and those waiting for or under analysis.
LOCAL_COPIES = TRANSFERS + ANALYSES
PLAYABLE = frozenset({"AVAILABLE", "RESTORED", None})
CHUNK = 256 * 1024
# Scratch files no import has touched for this long were left by one that was killed.
SCRATCH_STALE_S = 6 * 3600.0
DOWNLOAD_PREFIX = "download-"  # a download's scratch files: `download-<random>.<name>`


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """Where one conversation's media goes."""

    import_source_id: int
    conversation_id: str
    start: dt.datetime
    codec: Codec
    have: frozenset[str] = frozenset()  # recording ids already archived in this codec
    max_bytes: int | None = None  # a media body longer than this is refused (media_limit)
    # With object lock on: each object is locked until then (the end of its retention).
    retain_until: dt.datetime | None = None


def media_limit(longest: dt.timedelta) -> int:
    """The most bytes a recording of at most `longest` may take in any codec; more is refused
    (a media host streaming without end must not fill the disk)."""
    return int(longest.total_seconds() * MAX_BYTES_PER_SECOND) + MEDIA_SLACK_BYTES


class MediaUnavailableError(MediaNotReadyError):
    """Some recording cannot be fetched now (uploading, transcoding, archived, restoring)."""


class MediaFetcher:
    """Fetches the media of conversations with one strategy."""

    def __init__(
        self,
        client: GenesysClient,
        objects: ObjectStore,
        clock: Clock,
        *,
        scratch: Path | None = None,
        analyser: MediaAnalyser | None = None,
    ) -> None:
        self._client = client
        self._objects = objects
        self._clock = clock
        self._scratch = scratch
        self._analyser = analyser
        self.batch_submissions = 0
        self._transfers = asyncio.Semaphore(TRANSFERS)
        self._local_copies = asyncio.Semaphore(LOCAL_COPIES)

    # -- transcode strategy ----------------------------------------------------------------

    async def by_conversation(self, target: Target) -> list[Recording]:
        """Every recording of the conversation in the target codec, stored and verified."""
        recordings = await self._ready_recordings(target)
        stored = []
        for recording in recordings:
            if recording.file_state == "DELETED":
                log.info("recording_deleted_in_genesys", recording_id=recording.id)
                continue
            stored.append(await self._store_one(target, recording))
        return stored

    async def _ready_recordings(self, target: Target) -> list[GenesysRecording]:
        # Patience counts the clock, not only our sleeps: Genesys holds each request up to
        # maxWaitMs, so summing sleeps alone waited about six times TRANSCODE_PATIENCE_S.
        started = self._clock.monotonic()
        while True:
            reply = await self._client.recordings(
                target.conversation_id, format_id=target.codec.value, max_wait_ms=MAX_WAIT_MS
            )
            waited = self._clock.monotonic() - started
            archived = [r for r in reply.recordings if r.file_state == "ARCHIVED"]
            if archived:
                await self._restore(target.conversation_id, archived)
            waiting = [r for r in reply.recordings if r.file_state not in PLAYABLE | {"DELETED"}]
            if reply.ready and not waiting:
                return reply.recordings
            if waiting or waited + reply.retry_after_s > TRANSCODE_PATIENCE_S:
                states = sorted({str(r.file_state) for r in waiting}) or ["transcoding"]
                raise MediaUnavailableError(
                    f"media of conversation {target.conversation_id} is not available yet "
                    f"({', '.join(states)})",
                    retry_after_s=reply.retry_after_s,
                )
            await self._clock.sleep(reply.retry_after_s)

    async def _restore(self, conversation_id: str, archived: Sequence[GenesysRecording]) -> None:
        """Ask Genesys to restore archived recordings (they are imported once restored)."""
        until = self._clock.now() + dt.timedelta(days=7)
        for recording in archived:
            await self._client.set_archive_date(conversation_id, recording.id, until)
            log.info("recording_restore_requested", recording_id=recording.id)

    async def _store_one(self, target: Target, recording: GenesysRecording) -> Recording:
        key = media_key(
            target.import_source_id,
            target.start,
            target.conversation_id,
            recording.id,
            target.codec,
        )
        async with self._transfers, self._objects.upload(key) as upload:
            if upload.stored is None:
                await self._download(target, recording, upload)
        stored = await self._verified(upload)
        await self._locked(target, key)
        return Recording(
            recording_id=recording.id,
            codec=target.codec,
            object_key=key,
            size=stored.size,
            sha256=stored.sha256,
            duration_ms=recording.output_duration_ms,
            channels=2,
            media_subtype=recording.media_subtype,
        )

    async def _download(self, target: Target, recording: GenesysRecording, sink: MediaSink) -> None:
        uri = recording.media_uri()
        if uri is not None:
            try:
                await self._client.download(uri, sink, max_bytes=target.max_bytes)
            except MediaUrlExpiredError:
                await sink.reset()
            else:
                return
        await self._client.download_recording(
            target.conversation_id,
            recording.id,
            format_id=target.codec.value,
            sink=sink,
            max_bytes=target.max_bytes,
        )

    async def _verified(self, upload: MediaUpload) -> StoredObject:
        """The stored object, read back and checked against what was written."""
        stored = upload.result()
        if not stored.created:  # there from an earlier run: already read back when opened
            return stored
        return await self._objects.verify(stored.key, stored.sha256)

    async def _locked(self, target: Target, key: str) -> None:
        """Lock the stored object until the end of its retention (object lock on), also when
        an earlier run stored it: one that stopped before the lock is finished here."""
        if not self._objects.object_lock:
            return
        if target.retain_until is None:
            log.warning("object_lock_skipped", object_key=key, reason="kept for ever")
            return
        if await self._objects.retain(key, target.retain_until, now=self._clock.now()):
            log.info("object_locked", object_key=key, until=target.retain_until.isoformat())

    # -- batch strategy --------------------------------------------------------------------

    async def by_batch(self, targets: Sequence[Target]) -> dict[str, list[Recording] | Exception]:
        """Media of many conversations through batch downloads; per-conversation fallback."""
        outcomes: dict[str, list[Recording] | Exception] = {}
        for first in range(0, len(targets), BATCH_SIZE):
            chunk = list(targets[first : first + BATCH_SIZE])
            outcomes.update(await self._one_batch(chunk))
        return outcomes

    async def _one_batch(self, targets: list[Target]) -> dict[str, list[Recording] | Exception]:
        job_id = await self._client.submit_batch([(t.conversation_id, None) for t in targets])
        self.batch_submissions += 1
        # A job is never done the instant it is submitted: wait before the first look, so a
        # job that completes within one poll interval costs one status call, not two.
        waited = 0.0
        while True:
            await self._clock.sleep(BATCH_POLL_S)
            waited += BATCH_POLL_S
            status = await self._client.batch_status(job_id)
            if status.completed or waited >= BATCH_PATIENCE_S:
                break
        results: dict[str, list[tuple[str, str]]] = {}
        failed: set[str] = set()
        for result in status.results if status.completed else []:
            cid = result.conversation_id or ""
            if result.error_msg or not result.result_url or not result.recording_id:
                failed.add(cid)
            else:
                results.setdefault(cid, []).append((result.recording_id, result.result_url))
        outcomes: dict[str, list[Recording] | Exception] = {}

        async def fetch(target: Target) -> None:
            cid = target.conversation_id
            try:
                if cid in failed or cid not in results:
                    # Left out (sensitive data), an error, or the job did not finish in time.
                    outcomes[cid] = await self.by_conversation(target)
                else:
                    outcomes[cid] = [
                        await self._store_result(target, recording_id, url)
                        for recording_id, url in results[cid]
                    ]
            except Exception as error:  # noqa: BLE001 - each conversation has its outcome
                outcomes[cid] = error

        await asyncio.gather(*(fetch(target) for target in targets))
        return outcomes

    async def _store_result(self, target: Target, recording_id: str, url: str) -> Recording:
        key = media_key(
            target.import_source_id,
            target.start,
            target.conversation_id,
            recording_id,
            target.codec,
        )
        local: Path | None = None  # the stored bytes' local copy (None: stored by an earlier run)
        duration_ms: int | None = None  # unknown when an earlier run stored the object
        async with self._local_copies, self._scratch_files() as files:
            async with self._transfers, self._objects.upload(key) as upload:
                if upload.stored is None:
                    local, duration_ms = await self._download_result(url, files, target, upload)
            stored = await self._verified(upload)
            await self._locked(target, key)
            recording = Recording(
                recording_id=recording_id,
                codec=target.codec,
                object_key=key,
                size=stored.size,
                sha256=stored.sha256,
                duration_ms=duration_ms,
                channels=2,
            )
            if local is None or self._analyser is None:
                return recording
            return await self._analyser.of_file(recording, local)

    async def _download_result(
        self, url: str, files: _ScratchFiles, target: Target, upload: MediaUpload
    ) -> tuple[Path, int | None]:
        """Download into the upload and a local file at once; when the media is not in the
        target codec, transcode the file and store that instead. The local file holding the
        stored bytes, and the media's duration."""
        original = files.path("original")
        upload.from_file(original)  # a local folder links the file instead of a second write
        await self._download_to_file(url, original, target.max_bytes, also=upload)
        info = await anyio.to_thread.run_sync(transcoding.probe, original)
        if transcoding.matches(info, target.codec):
            return original, info.duration_ms
        await upload.reset()
        converted = files.path(f"converted.{target.codec.file_extension}")
        await anyio.to_thread.run_sync(transcoding.transcode, original, converted, target.codec)
        upload.from_file(converted)
        await _copy_into(converted, upload)
        return converted, info.duration_ms

    async def _download_to_file(
        self, url: str, path: Path, max_bytes: int | None, *, also: MediaSink
    ) -> None:
        sink = _FileSink(path, also=also)
        try:
            await self._client.download(url, sink, max_bytes=max_bytes)
        finally:
            sink.close()

    @contextlib.asynccontextmanager
    async def _scratch_files(self) -> AsyncIterator[_ScratchFiles]:
        files = _ScratchFiles(self._scratch)
        try:
            yield files
        finally:
            files.remove()


def sweep_scratch(folder: Path, *, now: float) -> int:
    """Remove what killed imports left in the scratch folder: a download's files and an
    analysis's folder (`download-*`, `analysis-*`) untouched for `SCRATCH_STALE_S` before `now`
    (the epoch's seconds, as the file system keeps them). A download under way writes to its
    file as the bytes come and an analysis takes seconds, so neither is that old. How many
    were removed."""
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith((DOWNLOAD_PREFIX, ANALYSIS_PREFIX)):
                continue
            with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove
                if now - entry.stat(follow_symlinks=False).st_mtime < SCRATCH_STALE_S:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    Path(entry.path).unlink()
                removed += 1
    return removed


class _ScratchFiles:
    """The local files of one download in the scratch folder (`download-<random>.<name>`),
    removed by `remove` (or, when the import was killed, by `sweep_scratch`). File by file: a
    folder per download, made and removed, took 8 % of a `batch` import's event loop."""

    def __init__(self, folder: Path | None) -> None:
        self._folder = Path(folder or tempfile.gettempdir())
        self._stem = f"{DOWNLOAD_PREFIX}{secrets.token_hex(8)}"
        self._made: list[Path] = []

    def path(self, name: str) -> Path:
        path = self._folder / f"{self._stem}.{name}"
        self._made.append(path)
        return path

    def remove(self) -> None:
        for path in self._made:
            with contextlib.suppress(OSError):  # a scratch file left behind stops nothing
                path.unlink(missing_ok=True)


class _FileSink:
    """A media sink writing to a local file and to another sink (the upload) at once."""

    def __init__(self, path: Path, *, also: MediaSink) -> None:
        self._file = path.open("wb")
        self._also = also

    async def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        await self._also.write(chunk)

    async def reset(self) -> None:
        self._file.seek(0)
        self._file.truncate()
        await self._also.reset()

    def close(self) -> None:
        self._file.close()


async def _copy_into(path: Path, sink: MediaSink) -> None:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            await sink.write(chunk)
