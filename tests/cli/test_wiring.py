"""The one wiring point: real dependencies built from settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

from callarchive.archive import pair_folders
from callarchive.cli import Wiring
from callarchive.settings import Settings


async def _one_byte() -> object:
    yield b"x"


def test_the_embedded_default_keeps_everything_under_home(tmp_path: Path) -> None:
    wiring = Wiring(settings=Settings(home=tmp_path))

    async def use() -> None:
        await wiring.work_store().put(pair_folders(1, 2).cursor, b"c;2024.01.01 00:00:00.000")
        await wiring.media_store().put("media/1/x.mp3", _one_byte())  # type: ignore[arg-type]

    asyncio.run(use())
    assert (tmp_path / "work/cdrimport/GenesysCloud/laststate/1_2/1_2.cursor").is_file()
    assert (tmp_path / "media/media/1/x.mp3").read_bytes() == b"x"
    assert wiring.box().key_count == 1
    assert (tmp_path / "secret.key").is_file()
