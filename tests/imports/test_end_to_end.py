"""After catching up, the archive equals the emulator's ground truth."""

from __future__ import annotations

from typing import Any

import pytest

from tests.archive.fixtures import empty_postgres as postgres_archive
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import Installation

COMPARED_KEYS = (
    "start_date", "start_time", "end_date", "end_time", "duration", "user", "from", "from_info",
    "to", "to_info", "direction", "direction_user", "from_user", "to_user", "platform_call_id",
    "source_platform", "conversation_type", "record_type", "user_id", "dialed_number",
    "end_cause", "voice_quality",
)  # fmt: skip


def expected(installation: Installation, codec: str, timezone: str = "UTC") -> dict[str, Any]:
    truth = installation.emulator.ground_truth(formats=codec, timezone=timezone)
    return {
        c["conversation_id"]: c
        for c in truth["conversations"]
        if c["voice"] and c["recorded"] and c["ended"]
    }


@pytest.mark.parametrize("codec", ["WAV", "MP3", "OGG_OPUS"])
def test_transcode_strategy_archives_exactly_the_ground_truth(
    installation: Installation, codec: str
) -> None:
    installation.configure(codec=codec, timezone="America/New_York")
    installation.catch_up()
    truth = expected(installation, codec, "America/New_York")
    archived = {c["platform_call_id"]: c for c in installation.exported()}
    assert set(archived) == set(truth)
    for conversation_id, conversation in truth.items():
        got = archived[conversation_id]
        for key in COMPARED_KEYS:
            assert got[key] == conversation["export"][key], (conversation_id, key)
        want = {
            r["recording_id"]: r["formats"][codec]["sha256"] for r in conversation["recordings"]
        }
        assert {r["recording_id"]: r["sha256"] for r in got["recordings"]} == want


def test_the_same_archive_on_postgresql(
    make_installation: InstallationFactory, postgres_database: str
) -> None:
    """The same import on PostgreSQL (the session's database, emptied first)."""
    url = postgres_archive(postgres_database)
    installation = make_installation(database_url=url)
    installation.configure(codec="WAV")
    installation.catch_up()
    truth = expected(installation, "WAV")
    archived = {c["platform_call_id"]: c for c in installation.exported()}
    assert set(archived) == set(truth)
    for conversation_id, conversation in truth.items():
        for key in COMPARED_KEYS:
            assert archived[conversation_id][key] == conversation["export"][key], key
