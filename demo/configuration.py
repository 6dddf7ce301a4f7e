"""The callarchive configuration for an emulated org (demo and tests): every agent recorded."""

from __future__ import annotations

from typing import Any


def configuration_for(
    truth: dict[str, Any],
    *,
    base_url: str,
    client_id: str,
    client_secret: str,
    recording_start: str,
    codec: str = "WAV",
    timezone: str = "UTC",
    fetch_strategy: str = "transcode",
    delete_on_completion: bool = False,
    max_recording_length_min: int = 10,
    availability_delay_min: int = 2,
    batch_duration_min: int = 60,
    recorded: bool = True,
) -> dict[str, Any]:
    """The `config import` document for the emulator's org (ground truth `truth`)."""
    users = truth["users"]
    by_id = {u["id"]: u for u in users}
    return {
        "import_sources": [
            {
                "name": "Emulated org",
                "client_id": client_id,
                "client_secret": client_secret,
                "auth_url": base_url,
                "api_url": base_url,
                "codec": codec,
                "recording_timezone": timezone,
                "recording_start": recording_start,
                "max_recording_length_min": max_recording_length_min,
                "availability_delay_min": availability_delay_min,
                "cache_lifetime_min": 60,
                "delete_on_completion": delete_on_completion,
                "fetch_strategy": fetch_strategy,
                "internal_number_patterns": truth["org"]["internal_number_patterns"],
                "batch_duration_min": batch_duration_min,
            }
        ],
        "policies": [
            {
                "name": "Genesys import",
                "import_sources": ["Emulated org"],
                "schedule": {"every_minutes": 5},
                "enabled": True,
            }
        ],
        "users": [
            {
                "login": u["username"],
                "name": u["name"],
                "role": "supervisor" if u["title"] != "Agent" else "agent",
                "supervisor": by_id[u["manager_id"]]["username"] if u["manager_id"] else None,
                "partitions": [],
                "recorded": recorded,
            }
            for u in users
        ],
        "extensions": [
            {"type": "number", "value": value, "user": u["username"]}
            for u in users
            for value in (u["number"], u["extension"])
        ],
    }
