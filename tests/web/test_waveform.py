"""The conversation page draws each recording's two-channel waveform from its stored peaks."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

from callarchive.analysis import Waveform, analyse
from callarchive.archive import ObjectStore, Recording, media_key
from callarchive.configuration import Codec
from callarchive.web.waveform import waveform_svg
from tests.archive.builders import conversation
from tests.web.site import Site, tone_wav


def test_the_svg_has_one_stroke_per_peak_in_each_channels_band() -> None:
    peaks = Waveform(
        seconds_per_peak=0.5,
        channels=(((-0.5, 0.5), (0.0, 0.0)), ((-1.0, 1.0), (-0.25, 0.25))),
    )
    svg = waveform_svg(peaks)
    customer, agent = svg.split("<path")[1:]
    assert customer.count("M") == agent.count("M") == 2
    assert 'viewBox="0 0 2 100"' in svg
    assert "M1.5 24.75V25.25" in customer  # silence stays a hairline on its centre line
    assert "M0.5 52.50V97.50" in agent  # the loudest peak fills 90 % of its band


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_the_page_shows_the_waveform_of_an_analysed_recording(
    site: Site, tmp_path: Path
) -> None:
    media = tmp_path / "tone.wav"
    media.write_bytes(tone_wav())
    analysed = analyse(media)
    assert site.source is not None
    source_id = site.source.id or 0
    start = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
    key = media_key(source_id, start, "c-wave", "c-wave-r1", Codec.WAV)
    stored = await ObjectStore.from_url(str(site.media_folder)).put(key, _once(media.read_bytes()))
    archive = site.archive()
    try:
        saved = await archive.conversations.save(
            conversation(
                source_id,
                "c-wave",
                start=start,
                user_login="jane",
                recordings=(
                    Recording(
                        recording_id="c-wave-r1",
                        codec=Codec.WAV,
                        object_key=key,
                        size=stored.size,
                        sha256=stored.sha256,
                        analysis=analysed.figures,
                        waveform=analysed.waveform.to_bytes(),
                    ),
                ),
            )
        )
    finally:
        await archive.close()
    async with site.signed_in("jane") as client:
        page = await client.get(f"/conversations/{saved.id}")
        plain = await client.get(f"/conversations/{site.ids['c-jane']}")
    assert page.status_code == 200
    assert page.text.count('<svg viewBox="0 0') == 1
    assert 'class="playhead"' in page.text
    assert "<svg" not in plain.text  # no peaks stored: no waveform drawn
