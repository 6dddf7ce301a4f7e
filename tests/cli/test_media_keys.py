"""`callarchive secrets rotate-media-key` and the wiring of media encryption."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
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


@pytest.mark.parametrize("command", ["rotate-media-key", "encrypt-media"])
def test_media_key_commands_are_refused_when_media_encryption_is_off(
    tmp_path: Path, command: str
) -> None:
    result = CliRunner().invoke(cli, ["secrets", command], obj=wiring(tmp_path))
    assert result.exit_code == 2
    assert "media encryption is off" in result.output


def test_encrypting_in_place_names_what_it_leaves_and_fails(tmp_path: Path) -> None:
    wired = wiring(tmp_path, media_key=SecretStr(new_key()))
    assert CliRunner().invoke(cli, ["db", "upgrade"], obj=wired).exit_code == 0
    asyncio.run(wiring(tmp_path).media_store().put(KEY, body()))  # before encryption was on
    (tmp_path / "media" / (KEY + ".encrypting")).write_bytes(b"debris of a killed run")
    result = CliRunner().invoke(cli, ["secrets", "encrypt-media"], obj=wired)
    assert result.exit_code == 0, result.output
    assert "encrypted 1 media objects in place; 0 were encrypted already" in result.output
    assert "1 of 1 media objects: 1 encrypted" in result.stderr
    assert not (tmp_path / "media" / (KEY + ".encrypting")).exists()
    assert asyncio.run(read(wired.media_store())) == b"a recorded call"

    other = "media/1/2024/03/01/c-1/r-2.mp3"
    stranger = wiring(tmp_path, media_key=SecretStr(new_key())).media_store()
    asyncio.run(stranger.put(other, body()))  # encrypted under a key this installation lacks
    failed = CliRunner().invoke(cli, ["secrets", "encrypt-media"], obj=wired)
    assert failed.exit_code != 0
    assert "not configured" in failed.output
