"""Valid raw configuration items, overridden per test."""

from __future__ import annotations

from typing import Any

from callarchive.configuration import ImportSource, parse_import_source


def source_items(**overrides: Any) -> dict[str, Any]:
    """The mandatory items of an import source, valid, as the CLI passes them (text)."""
    items: dict[str, Any] = {
        "name": "Chicago",
        "client_id": "4b2c0a4e-0f7e-4c5f-9d64-7a6b1e0c9a11",
        "client_secret": "s3cr3t-value",
        "auth_url": "https://login.usw2.pure.cloud",
        "api_url": "https://api.usw2.pure.cloud",
        "codec": "MP3",
        "recording_timezone": "America/Chicago",
        "recording_start": "2023-02-02 07:00",
        "max_recording_length_min": "240",
        "availability_delay_min": "30",
        "cache_lifetime_min": "60",
    }
    items.update(overrides)
    return {name: value for name, value in items.items() if value is not None}


def make_source(**overrides: Any) -> ImportSource:
    """A valid import source with `overrides` applied to its raw items."""
    return parse_import_source(source_items(**overrides))
