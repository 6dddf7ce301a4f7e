"""What the browser tests and the screenshots add to the test site: an analysed recording (its
waveform stored), alerts, and a policy importing the site's source with its cursor part way
through the history and, optionally, a day of hourly runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

from callarchive.analysis import analyse
from callarchive.archive import (
    AlertRecord,
    BatchReport,
    ObjectStore,
    Recording,
    media_key,
    pair_folders,
)
from callarchive.configuration import Codec, Policy
from callarchive.imports import Cursor
from tests.archive.builders import conversation
from tests.web.site import Site, tone_wav


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def analysed_conversation(site: Site, folder: Path) -> int:
    """A conversation of jane whose recording has been analysed (its waveform is stored)."""
    media = folder / "tone.wav"
    media.write_bytes(tone_wav())
    analysed = analyse(media)
    assert site.source is not None
    source_id = site.source.id or 0
    start = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
    key = media_key(source_id, start, "c-wave", "c-wave-r1", Codec.WAV)
    stored = await ObjectStore.from_url(str(site.media_folder)).put(key, _once(media.read_bytes()))
    recording = Recording(
        recording_id="c-wave-r1",
        codec=Codec.WAV,
        object_key=key,
        size=stored.size,
        sha256=stored.sha256,
        duration_ms=3000,
        channels=2,
        analysis=analysed.figures,
        waveform=analysed.waveform.to_bytes(),
    )
    archive = site.archive()
    try:
        saved = await archive.conversations.save(
            conversation(
                source_id,
                "c-wave",
                start=start,
                end=start + dt.timedelta(seconds=3),
                duration=3,
                user_login="jane",
                recordings=(recording,),
                media_complete=True,
            )
        )
    finally:
        await archive.close()
    return saved.id or 0


async def alerts(site: Site, rows: tuple[tuple[str, str, str, str, str], ...]) -> list[int]:
    """Alerts of (kind, title, severity, state, message); their ids."""
    ids = []
    archive = site.archive()
    try:
        for kind, title, severity, state, message in rows:
            alert = AlertRecord(
                kind=kind, title=title, severity=severity, state=state, message=message
            )
            ids.append((await archive.alerts.add(alert)).id or 0)
    finally:
        await archive.close()
    return ids


async def import_policy(site: Site, *, imported: float, runs: int = 0) -> None:
    """A policy "US" importing the site's source, its cursor the share `imported` of the way
    from the source's Recording Start Timestamp to now; `runs` hourly batch reports before now,
    whose windows end closer and closer to the cursor."""
    assert site.source is not None
    now = site.clock.now()
    start = site.source.recording_start
    cursor = start + (now - start) * imported
    archive = site.archive()
    try:
        policy = await archive.policies.add(
            Policy(name="US", import_sources=(site.source.name,)), actor="admin"
        )
        pair = (policy.id or 0, site.source.id or 0)
        for hours_ago in range(runs, 0, -1):
            finished = now - dt.timedelta(hours=hours_ago)
            window_end = cursor - (now - cursor) * hours_ago / runs / 4
            await archive.batch_reports.add(
                BatchReport(
                    policy_id=pair[0],
                    import_source_id=pair[1],
                    started_at=finished - dt.timedelta(minutes=7),
                    finished_at=finished,
                    window_start=window_end - dt.timedelta(hours=2),
                    window_end=window_end,
                    server="node-1",
                    imported=40 + (hours_ago * 37) % 60,
                )
            )
    finally:
        await archive.close()
    position = Cursor(position=cursor, conversation_id="c-last")
    await site.work().put(pair_folders(*pair).cursor, position.render().encode())


__all__ = ["alerts", "analysed_conversation", "import_policy"]
