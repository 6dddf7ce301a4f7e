"""An import with media encryption on: the archive equals the ground truth, the media folder
holds only ciphertext, playback (with Range) returns the plaintext, and rotating the media key
keeps it so without rewriting media."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import httpx

from callarchive.archive.encryption import MAGIC
from callarchive.cli import Wiring
from callarchive.configuration import Role, User
from callarchive.settings import Settings
from callarchive.web import WebState, create_app
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import Installation
from tests.web.site import PASSWORD_HASH, sign_in


@dataclasses.dataclass
class EncryptingInstallation(Installation):
    """The installation with `CALLARCHIVE_MEDIA_KEY_FILE` set."""

    def wiring(self) -> Wiring:
        settings = Settings(
            home=self.home, database_url=self.database_url, media_key_file=self.key_file
        )
        return Wiring(settings=settings, clock=self.clock)

    @property
    def key_file(self) -> Path:
        return self.home / "media.key"


def media_files(installation: Installation) -> dict[Path, bytes]:
    folder = installation.home / "media"
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


async def played(installation: Installation) -> list[tuple[dict[str, Any], bytes, bytes]]:
    """Each recording of the first page, played whole and as a range, through the web API."""
    wiring = installation.wiring()
    async with wiring.archive() as archive:
        await archive.users.add(
            User(login="auditor", name="Auditor", role=Role.ADMINISTRATOR), actor="test"
        )
        await archive.accounts.set_password("auditor", PASSWORD_HASH, actor="test")
        state = WebState(archive=archive, media=wiring.media_store(), clock=installation.clock)
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await sign_in(client, "auditor")).status_code == 303
            page = (await client.get("/api/v1/conversations")).json()
            out = []
            for item in page["items"]:
                for recording in item["recordings"]:
                    whole = await client.get(recording["media_url"])
                    assert whole.status_code == 200
                    ranged = await client.get(
                        recording["media_url"], headers={"range": "bytes=100-4099"}
                    )
                    assert ranged.status_code == 206
                    assert ranged.headers["content-range"] == f"bytes 100-4099/{len(whole.content)}"
                    out.append((recording, whole.content, ranged.content))
    return out


def test_an_encrypted_archive_equals_the_ground_truth_and_plays(
    installation: Installation,
) -> None:
    encrypting = EncryptingInstallation(
        **{
            field.name: getattr(installation, field.name)
            for field in dataclasses.fields(installation)
        }
    )
    encrypting.configure(codec="MP3")
    encrypting.catch_up()
    truth = encrypting.emulator.ground_truth(formats="MP3")
    want = {
        r["recording_id"]: r["formats"]["MP3"]["sha256"]
        for c in truth["conversations"]
        if c["voice"] and c["recorded"] and c["ended"]
        for r in c["recordings"]
    }
    archived = encrypting.exported()
    assert {r["recording_id"]: r["sha256"] for c in archived for r in c["recordings"]} == want

    stored = media_files(encrypting)
    assert len(stored) == len(want)
    for data in stored.values():
        assert data.startswith(MAGIC)
        assert hashlib.sha256(data).hexdigest() not in want.values()

    recordings = asyncio.run(played(encrypting))
    assert recordings
    for recording, whole, ranged in recordings:
        assert hashlib.sha256(whole).hexdigest() == want[recording["recording_id"]]
        assert len(whole) == recording["size"]
        assert ranged == whole[100:4100]

    rotated = encrypting.must("secrets", "rotate-media-key").output
    assert f"re-wrapped the data keys of {len(want)} of {len(want)} media objects" in rotated
    finished = encrypting.must("secrets", "rotate-media-key", "--finish").output
    assert f"re-wrapped the data keys of 0 of {len(want)} media objects" in finished
    assert len(encrypting.key_file.read_text().split()) == 1
    after = media_files(encrypting)
    assert {path: data for path, data in after.items() if path.suffix != ".key"} == stored
    for recording, whole, _ in asyncio.run(played_again(encrypting)):
        assert hashlib.sha256(whole).hexdigest() == want[recording["recording_id"]]


async def played_again(installation: Installation) -> list[tuple[dict[str, Any], bytes, bytes]]:
    """Playback after rotation (a second auditor: the first exists already)."""
    wiring = installation.wiring()
    async with wiring.archive() as archive:
        state = WebState(archive=archive, media=wiring.media_store(), clock=installation.clock)
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await sign_in(client, "auditor")).status_code == 303
            page = (await client.get("/api/v1/conversations")).json()
            return [
                (recording, (await client.get(recording["media_url"])).content, b"")
                for item in page["items"]
                for recording in item["recordings"]
            ]


def test_batch_downloads_with_deletion_in_genesys_read_back_through_the_encryption(
    make_installation: InstallationFactory,
) -> None:
    """Batch strategy, Genesys bytes kept exactly, each read back (decrypted) and verified
    before its deletion in Genesys is requested."""
    plain = make_installation(trunk_codec="WAV")
    encrypting = EncryptingInstallation(
        **{field.name: getattr(plain, field.name) for field in dataclasses.fields(plain)}
    )
    encrypting.configure(fetch_strategy="batch", codec="WAV", delete_on_completion=True)
    encrypting.catch_up()
    truth = encrypting.emulator.ground_truth(formats="WAV")
    recordings = [
        r
        for c in truth["conversations"]
        if c["voice"] and c["recorded"] and c["ended"]
        for r in c["recordings"]
    ]
    want = {r["recording_id"]: r["formats"]["WAV"]["sha256"] for r in recordings}
    archived = encrypting.exported()
    assert {r["recording_id"]: r["sha256"] for c in archived for r in c["recordings"]} == want
    assert {r["file_state"] for r in recordings} == {"DELETED"}
    assert not list((encrypting.work_folder() / "retryBuffer").rglob("*.xml"))
    assert all(data.startswith(MAGIC) for data in media_files(encrypting).values())


def test_an_archive_built_unencrypted_is_encrypted_in_place_and_still_verifies(
    make_installation: InstallationFactory,
) -> None:
    """Encryption turned on later: `secrets encrypt-media` encrypts every recording the import
    stored unencrypted, playback gives the same audio, and the seals still verify."""
    plain = make_installation(trunk_codec="WAV")
    plain.configure(codec="WAV")
    plain.catch_up()
    before = media_files(plain)
    assert before
    assert not any(data.startswith(MAGIC) for data in before.values())
    want = {hashlib.sha256(data).hexdigest() for data in before.values()}

    encrypting = EncryptingInstallation(
        **{field.name: getattr(plain, field.name) for field in dataclasses.fields(plain)}
    )
    result = encrypting.must("secrets", "encrypt-media", "--progress-every", "2")
    assert f"encrypted {len(before)} media objects in place; 0 were" in result.output
    assert f"{len(before)} of {len(before)} media objects: {len(before)} encrypted" in (
        result.stderr
    )
    after = media_files(encrypting)
    assert set(after) == set(before)  # the same keys, nothing beside them
    assert all(data.startswith(MAGIC) for data in after.values())
    again = encrypting.must("secrets", "encrypt-media").output
    assert f"encrypted 0 media objects in place; {len(before)} were encrypted already" in again
    assert media_files(encrypting) == after

    encrypting.must("verify", "--all", "--media", "--audit")  # exits 1 on any problem
    played_back = asyncio.run(played(encrypting))
    assert {hashlib.sha256(whole).hexdigest() for _, whole, _ in played_back} <= want
