"""The audio analysis of a conversation's stored recordings, inside the import.

Each recording is read back from the media store into a scratch file (streaming) and analysed in
a worker thread, so the event loop keeps downloading meanwhile. A recording that cannot be
decoded is archived all the same, without figures; the run raises an alert for it.
"""

from __future__ import annotations

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


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Measured:
    """The recordings with their analysis, the conversation's fields, what could not be done."""

    recordings: tuple[Recording, ...]
    fields: dict[str, Any]  # Conversation fields; empty unless every recording was analysed
    undecodable: tuple[str, ...]  # "<recording id>: <reason>"


class MediaAnalyser:
    """Analyses stored recordings (see `callarchive.analysis`)."""

    def __init__(self, objects: ObjectStore, *, scratch: Path | None = None) -> None:
        self._objects = objects
        self._scratch = scratch

    async def measure(self, recordings: Sequence[Recording]) -> Measured:
        analysed: list[Recording] = []
        undecodable: list[str] = []
        for recording in recordings:
            try:
                analysis = await self._analyse(recording)
            except UndecodableMediaError as error:
                log.warning(
                    "recording_not_analysed", recording_id=recording.recording_id, error=str(error)
                )
                undecodable.append(f"{recording.recording_id}: {error}")
                analysed.append(recording)
                continue
            analysed.append(
                dataclasses.replace(
                    recording, analysis=analysis.figures, waveform=analysis.waveform.to_bytes()
                )
            )
        figures = None if undecodable else combine([r.analysis for r in analysed if r.analysis])
        return Measured(
            recordings=tuple(analysed),
            fields={} if figures is None else dataclasses.asdict(figures),
            undecodable=tuple(undecodable),
        )

    async def _analyse(self, recording: Recording) -> Analysis:
        with tempfile.TemporaryDirectory(dir=self._scratch, prefix="analysis-") as folder:
            path = Path(folder) / Path(recording.object_key).name
            with path.open("wb") as file:
                async for chunk in await self._objects.read(recording.object_key):
                    file.write(chunk)
            try:
                return await anyio.to_thread.run_sync(analyse, path)
            except UndecodableMediaError:
                raise
            except Exception as error:  # a fault of the analysis never stops the archiving
                log.exception("recording_analysis_failed", recording_id=recording.recording_id)
                raise UndecodableMediaError(f"the analysis failed: {error!r}") from error
