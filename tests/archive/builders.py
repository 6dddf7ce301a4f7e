"""Archived conversations for tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from callarchive.archive import Conversation, Direction, Recording, UserDirection, media_key
from callarchive.configuration import Codec

T0 = dt.datetime(2024, 3, 1, 15, 0, tzinfo=dt.UTC)


def recording(source_id: int, genesys_id: str, number: int = 1, **overrides: Any) -> Recording:
    recording_id = f"{genesys_id}-r{number}"
    values: dict[str, Any] = {
        "recording_id": recording_id,
        "codec": Codec.MP3,
        "object_key": media_key(source_id, T0, genesys_id, recording_id, Codec.MP3),
        "size": 1234,
        "sha256": "ab" * 32,
        "duration_ms": 61_000,
        "channels": 2,
    }
    values.update(overrides)
    return Recording(**values)


def conversation(source_id: int, genesys_id: str, **overrides: Any) -> Conversation:
    values: dict[str, Any] = {
        "import_source_id": source_id,
        "genesys_id": genesys_id,
        "start": T0,
        "end": T0 + dt.timedelta(seconds=61),
        "duration": 61,
        "user": "Jane Doe",
        "user_login": "jane",
        "user_id": "agent-jane",
        "from_number": "+13125550101",
        "from_info": "Jane Doe",
        "to_number": "+14155550199",
        "to_info": "Customer",
        "direction": Direction.OUTBOUND,
        "direction_user": UserDirection.OUTGOING,
        "from_user": "jane",
        "location": "rec01",
        "dialed_number": "+14155550199",
        "end_cause": "peer",
        "voice_quality": 4.2,
        "partitions": ("sales",),
        "recordings": (recording(source_id, genesys_id),),
    }
    values.update(overrides)
    return Conversation(**values)
