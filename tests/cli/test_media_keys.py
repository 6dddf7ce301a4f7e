"""`callarchive secrets rotate-media-key` and the wiring of media encryption."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

from click.testing import CliRunner
from pydantic import SecretStr

from callarchive.archive import EncryptedObjectStore, ObjectStore
from callarchive.cli import Wiring, cli
from callarchive.settings import Settings

KEY = "media/1/2024/03/01/c-1/r-1.mp3"


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def wiring(home: Path, **settings: object) -> Wiring:
    return Wiring(settings=Settings(home=home, **settings))  # type: ignore[arg-type]


async def body() -> AsyncIterator[bytes]:
    yield b"a recorded call"


async def read(store: ObjectStore) -> bytes:
    return b"".join([chunk async for chunk in await store.read(KEY)])


def test_media_is_stored_as_it_comes_unless_a_media_key_is_set(tmp_path: Path) -> None:
    plain = wiring(tmp_path).media_store()
    assert not isinstance(plain, EncryptedObjectStore)
    sealed = wiring(tmp_path, media_key=SecretStr(new_key())).media_store()
    assert isinstance(sealed, EncryptedObjectStore)
    asyncio.run(sealed.put(KEY, body()))
    assert b"recorded call" not in (tmp_path / "media" / KEY).read_bytes()


def test_rotation_with_keys_in_the_environment(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    wired = wiring(tmp_path, media_key=SecretStr(old))
    assert CliRunner().invoke(cli, ["db", "upgrade"], obj=wired).exit_code == 0
    asyncio.run(wired.media_store().put(KEY, body()))

    both = wiring(tmp_path, media_key=SecretStr(f"{new},{old}"))
    result = CliRunner().invoke(cli, ["secrets", "rotate-media-key"], obj=both)
    assert result.exit_code == 0, result.output
    assert "re-wrapped the data keys of 1 of 1 media objects" in result.output
    again = CliRunner().invoke(cli, ["secrets", "rotate-media-key"], obj=both)
    assert "re-wrapped the data keys of 0 of 1 media objects" in again.output
    assert asyncio.run(read(wiring(tmp_path, media_key=SecretStr(new)).media_store())) == (
        b"a recorded call"
    )


def test_rotation_is_refused_when_media_encryption_is_off(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["secrets", "rotate-media-key"], obj=wiring(tmp_path))
    assert result.exit_code == 2
    assert "media encryption is off" in result.output
