"""`callarchive verify` and `conversations export --format zip`: a clean archive verifies,
tampering is reported with exit code 1, retention deletions are not tampering, and an export
verifies on another installation against the exporter's key fingerprint."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import stat
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from callarchive.archive import Archive, media_key
from callarchive.archive.schema import SealChainRow, SealRow
from callarchive.configuration import Codec
from tests.archive.builders import conversation, recording
from tests.cli.harness import NOW, SOURCE_ARGS, Installation

AUDIO = b"ID3" + bytes(range(256)) * 40


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
def installation(tmp_path: Path, database_url: str) -> Installation:
    setup = Installation(home=tmp_path / "home", database_url=database_url)
    assert setup.run("source", "add", *SOURCE_ARGS).exit_code == 0
    assert setup.run("policy", "add", "--name", "US", "--source", "Chicago").exit_code == 0

    assert setup.run("user", "add", "--login", "jane", "--name", "Jane Doe").exit_code == 0
    archive_conversations(setup, {"old": 40, "new": 5})
    return setup


def archive_conversations(installation: Installation, ages: dict[str, int]) -> None:
    """Archive conversations (Genesys id → age in days) with their media, as an import does."""

    async def store() -> None:
        wiring = installation.wiring()
        media = wiring.media_store()
        archive = Archive.open(installation.database_url, wiring.box(), seal_key=wiring.seal_keys())
        try:
            for genesys_id, age_days in ages.items():
                start = NOW - dt.timedelta(days=age_days)
                key = media_key(1, start, genesys_id, f"{genesys_id}-r1", Codec.MP3)
                stored = await media.put(key, _chunks(AUDIO + genesys_id.encode()))
                taken = recording(
                    1, genesys_id, object_key=key, size=stored.size, sha256=stored.sha256
                )
                await archive.conversations.save(
                    conversation(
                        1, genesys_id, start=start, end=start, policy_id=1, recordings=(taken,)
                    )
                )
        finally:
            await archive.close()

    asyncio.run(store())


def _media_files(installation: Installation) -> list[Path]:
    return sorted(path for path in (installation.home / "media").rglob("*.mp3"))


def test_a_clean_archive_verifies_with_its_media_and_audit_log(
    installation: Installation,
) -> None:
    result = installation.run("verify", "--all", "--audit", "--media")
    assert result.exit_code == 0, result.output
    assert "result: OK" in result.stdout
    assert "2 media objects read" in result.stdout


def test_a_tampered_media_byte_is_reported_with_exit_code_1(installation: Installation) -> None:
    path = _media_files(installation)[0]
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert installation.run("verify", "--all").exit_code == 0  # metadata only: unchanged
    result = installation.run("verify", "--all", "--media")
    assert result.exit_code == 1
    assert "media changed" in result.stdout


def test_a_conversation_deleted_by_retention_is_not_tampering(
    installation: Installation,
) -> None:
    assert installation.run("retention", "set", "--policy", "US", "30").exit_code == 0
    assert installation.run("retention", "run").exit_code == 0
    result = installation.run("verify", "--all", "--audit")
    assert result.exit_code == 0, result.output
    assert "deleted by retention on" in result.stdout


def test_the_signing_key_is_private_and_its_public_key_printable(
    installation: Installation,
) -> None:
    key_file = installation.home / "signing.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    result = installation.run("verify", "--public-key")
    assert result.exit_code == 0
    assert result.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in result.stdout
    assert result.stderr.startswith("fingerprint SHA256:")


def test_nothing_to_verify_is_a_usage_error(installation: Installation) -> None:
    assert installation.run("verify").exit_code == 2


def test_an_export_verifies_on_another_installation(
    installation: Installation, tmp_path: Path, database_url: str
) -> None:
    out = tmp_path / "evidence.zip"
    assert (
        installation.run("hold", "create", "SEC-1", "--reason", "r", "--user", "jane").exit_code
        == 0
    )
    result = installation.run(
        "conversations", "export", "--format", "zip", "--out", str(out), "--hold", "SEC-1"
    )
    assert result.exit_code == 0, result.output
    fingerprint = installation.run("verify", "--public-key").stderr.split()[-1]
    with zipfile.ZipFile(out) as zipped:
        names = set(zipped.namelist())
        assert {
            "metadata.json",
            "metadata.csv",
            "seals.json",
            "public-key.pem",
            "verification-report.txt",
        } <= names
        assert len([name for name in names if name.startswith("media/")]) == 2
        assert "result: OK" in zipped.read("verification-report.txt").decode()
        records = json.loads(zipped.read("metadata.json"))
        assert {record["platform_call_id"] for record in records} == {"old", "new"}

    regulator = Installation(home=tmp_path / "regulator", database_url=database_url)
    checked = regulator.run("verify", "--export", str(out), "--fingerprint", fingerprint)
    assert checked.exit_code == 0, checked.output
    assert "result: OK" in checked.stdout
    assert "2 media objects read" in checked.stdout

    wrong = regulator.run("verify", "--export", str(out), "--fingerprint", "SHA256:" + "0" * 64)
    assert wrong.exit_code == 1
    assert "signature invalid" in wrong.stdout


def test_a_changed_export_is_reported(installation: Installation, tmp_path: Path) -> None:
    out = tmp_path / "evidence.zip"
    assert (
        installation.run("conversations", "export", "--format", "zip", "--out", str(out)).exit_code
        == 0
    )
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(changed, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("media/") and "old-r1." in item.filename:
                data = data[:-1] + b"X"
            if item.filename == "metadata.json":
                records = json.loads(data)
                records[0]["to"] = "+10000000000"
                data = json.dumps(records).encode()
            target.writestr(item, data)
    result = installation.run("verify", "--export", str(changed))
    assert result.exit_code == 1
    assert "media changed" in result.stdout
    assert "metadata changed" in result.stdout


def _remove_seals(installation: Installation) -> None:
    """The archive as an installation before revision v0007 left it: no seals."""

    async def remove() -> None:
        archive = Archive.open(installation.database_url, installation.wiring().box())
        try:
            async with archive.engine.begin() as connection:
                await connection.execute(delete(SealRow))
                await connection.execute(delete(SealChainRow).where(SealChainRow.chain != "audit"))
        finally:
            await archive.close()

    asyncio.run(remove())


def test_conversations_archived_before_seals_are_sealed_late_then_verify(
    installation: Installation,
) -> None:
    _remove_seals(installation)
    noted = installation.run("verify", "--all")
    assert noted.exit_code == 0, noted.output
    assert noted.stdout.count("archived before sealing began") == 2
    result = installation.run("seal", "--unsealed", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert "sealed 2 conversations after the fact in 2 batches" in result.stdout
    again = installation.run("seal", "--unsealed")
    assert "sealed 0 conversations after the fact" in again.stdout
    verified = installation.run("verify", "--all", "--audit", "--media")
    assert verified.exit_code == 0, verified.output
    assert "2 seals (2 sealed after the fact)" in verified.stdout
    assert "result: OK" in verified.stdout


def test_seal_needs_to_be_told_what_to_seal(installation: Installation) -> None:
    assert installation.run("seal").exit_code == 2


def test_after_a_signing_key_rotation_old_and_new_seals_verify(
    installation: Installation, tmp_path: Path, database_url: str
) -> None:
    old_fingerprint = installation.run("verify", "--public-key").stderr.split()[1]
    rotated = installation.run("secrets", "rotate-signing-key")
    assert rotated.exit_code == 0, rotated.output
    assert "whose seals keep verifying" in rotated.stdout
    printed = installation.run("verify", "--public-key")
    new_fingerprint = printed.stderr.split()[1]
    assert new_fingerprint != old_fingerprint
    assert f"({old_fingerprint}), retired" in printed.stderr
    archive_conversations(installation, {"later": 1})
    assert "PRIVATE KEY" not in (installation.home / "signing.key").read_text()
    result = installation.run("verify", "--all", "--audit", "--media")
    assert result.exit_code == 0, result.output
    assert "3 seals" in result.stdout

    out = tmp_path / "evidence.zip"
    exported = installation.run("conversations", "export", "--format", "zip", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    regulator = Installation(home=tmp_path / "regulator", database_url=database_url)
    checked = regulator.run("verify", "--export", str(out), "--fingerprint", new_fingerprint)
    assert checked.exit_code == 0, checked.output
    assert "3 media objects read" in checked.stdout


def test_rotating_the_secret_key_keeps_the_signing_key(installation: Installation) -> None:
    before = installation.run("verify", "--public-key").stderr
    assert installation.run("secrets", "rotate").exit_code == 0
    assert installation.run("verify", "--public-key").stderr == before
    assert installation.run("verify", "--all", "--audit").exit_code == 0


def test_a_retired_key_an_export_does_not_endorse_is_reported(
    installation: Installation, tmp_path: Path
) -> None:
    assert installation.run("secrets", "rotate-signing-key").exit_code == 0
    out = tmp_path / "evidence.zip"
    assert (
        installation.run("conversations", "export", "--format", "zip", "--out", str(out)).exit_code
        == 0
    )
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(forged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "seals.json":
                sealed = json.loads(data)
                sealed["retired_keys"][0]["endorsement"] = "00" * 64
                data = json.dumps(sealed).encode()
            target.writestr(item, data)
    result = installation.run("verify", "--export", str(forged))
    assert result.exit_code == 1
    assert "not endorsed" in result.stdout
    assert "unknown key" in result.stdout


def test_verify_all_goes_through_hundreds_in_batches_and_fails_on_one_tampered(
    installation: Installation,
) -> None:
    archive_conversations(installation, {f"bulk{number:03d}": 3 for number in range(200)})
    [tampered] = (installation.home / "media").rglob("bulk100-r1.mp3")  # in the middle
    tampered.write_bytes(tampered.read_bytes()[:-1] + b"X")
    result = installation.run("verify", "--all", "--media", "--batch-size", "16")
    assert result.exit_code == 1
    problems = [line for line in result.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1
    assert "media changed" in problems[0]
    assert "bulk100-r1" in problems[0]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("checked: 202 conversations, 202 seals")
    assert "202 media objects read" in lines[0]
    assert lines[-1] == "result: 1 problem(s)"
