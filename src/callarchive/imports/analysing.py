"""The audio analysis of a conversation's stored recordings, inside the import.

A recording downloaded through a local file (the `batch` strategy) is analysed from that file
(`of_file`), whose bytes are those stored; any other is read back from the media store into a
scratch file (streaming). The analysis runs in a worker thread, at most `concurrency` at once,
so the event loop keeps downloading meanwhile. A recording that cannot be decoded is archived
all the same, without figures; the run raises an alert for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import structlog

from callarchive.analysis import Analysis, UndecodableMediaError, analyse, combine
from callarchive.archive import ObjectStore, Recording

log = structlog.get_logger("callarchive.imports")

# Recordings analysed at once: the analysis is CPU-bound, and each holds decoding buffers, so
# more than a few only add memory (a batch of 500 once ran 40 at a time).
ANALYSES = 4
# The scratch folder a read-back is analysed from is named so (`sweep_scratch` removes one a
# killed import left).
SCRATCH_PREFIX = "analysis-"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Measured:
    """The recordings with their analysis, the conversation's fields, what could not be done."""

    recordings: tuple[Recording, ...]
    fields: dict[str, Any]  # Conversation fields; empty unless every recording was analysed
    undecodable: tuple[str, ...]  # "<recording id>: <reason>"


class MediaAnalyser:
    """Analyses stored recordings (see `callarchive.analysis`)."""

    def __init__(
        self, objects: ObjectStore, *, scratch: Path | None = None, concurrency: int = ANALYSES
    ) -> None:
        self._objects = objects
        self._scratch = scratch
        self._limit = asyncio.Semaphore(concurrency)

    async def of_file(self, recording: Recording, path: Path) -> Recording:
        """`recording` with the analysis of its media at `path`, a local copy of the stored
        bytes; unchanged when it cannot be analysed (`measure` then tries the stored object and
        reports it)."""
        try:
            async with self._limit:
                analysis = await self._run(path, recording.recording_id)
        except UndecodableMediaError:
            return recording
        return _with(recording, analysis)

    async def measure(self, recordings: Sequence[Recording]) -> Measured:
        """Analyse the recordings not analysed yet; the conversation's fields from all."""
        analysed: list[Recording] = []
        undecodable: list[str] = []
        for recording in recordings:
            if recording.analysis is not None:
                analysed.append(recording)
                continue
            try:
                analysis = await self._analyse(recording)
            except UndecodableMediaError as error:
                log.warning(
                    "recording_not_analysed", recording_id=recording.recording_id, error=str(error)
                )
                undecodable.append(f"{recording.recording_id}: {error}")
                analysed.append(recording)
                continue
            analysed.append(_with(recording, analysis))
        figures = None if undecodable else combine([r.analysis for r in analysed if r.analysis])
        return Measured(
            recordings=tuple(analysed),
            fields={} if figures is None else dataclasses.asdict(figures),
            undecodable=tuple(undecodable),
        )

    async def _analyse(self, recording: Recording) -> tuple[Analysis, bytes]:
        async with self._limit:
            return await self._read_back_and_run(recording)

    async def _read_back_and_run(self, recording: Recording) -> tuple[Analysis, bytes]:
        with tempfile.TemporaryDirectory(dir=self._scratch, prefix=SCRATCH_PREFIX) as folder:
            path = Path(folder) / Path(recording.object_key).name
            with path.open("wb") as file:
                async for chunk in await self._objects.read(recording.object_key):
                    file.write(chunk)
            return await self._run(path, recording.recording_id)

    async def _run(self, path: Path, recording_id: str) -> tuple[Analysis, bytes]:
        try:
            return await anyio.to_thread.run_sync(_analysed, path)
        except UndecodableMediaError:
            raise
        except Exception as error:  # a fault of the analysis never stops the archiving
            log.exception("recording_analysis_failed", recording_id=recording_id)
            raise UndecodableMediaError(f"the analysis failed: {error!r}") from error


def _analysed(path: Path) -> tuple[Analysis, bytes]:
    """The analysis of the media at `path` and its waveform as stored, both made in the worker
    thread (the waveform's packing took 7 % of the event loop's time in a `batch` import)."""
    analysis = analyse(path)
    return analysis, analysis.waveform.to_bytes()


def _with(recording: Recording, analysed: tuple[Analysis, bytes]) -> Recording:
    analysis, waveform = analysed
    return dataclasses.replace(recording, analysis=analysis.figures, waveform=waveform)
