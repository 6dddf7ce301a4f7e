"""What an installation did, read the way an operator would: alerts, batch reports, the seed's
folders, the exported archive, and the emulator's ground truth to compare them with."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from callarchive.archive import AlertRecord, BatchReport
from tests.imports.harness import POLICY, SOURCE, Installation
from tests.imports.setup import configuration_for

PAIR = "1_1"  # the first policy and import source a fresh installation stores
COMPARED_KEYS = (
    "start_date", "start_time", "end_date", "end_time", "duration", "user", "from", "from_info",
    "to", "to_info", "direction", "direction_user", "from_user", "to_user", "platform_call_id",
    "source_platform", "conversation_type", "record_type", "user_id", "dialed_number",
    "end_cause", "voice_quality",
)  # fmt: skip
PAIR_OPTIONS = ("--policy", POLICY, "--source", SOURCE)


def alerts(installation: Installation) -> list[AlertRecord]:
    """Every alert raised so far, oldest first."""

    async def read() -> list[AlertRecord]:
        async with installation.wiring().archive() as archive:
            return await archive.alerts.list(limit=100_000)

    return asyncio.run(read())[::-1]


def reports(installation: Installation) -> list[BatchReport]:
    """Every batch report so far, oldest first."""

    async def read() -> list[BatchReport]:
        async with installation.wiring().archive() as archive:
            return await archive.batch_reports.list(limit=100_000)

    return asyncio.run(read())[::-1]


def retry_buffer(installation: Installation) -> Path:
    return installation.work_folder() / "retryBuffer" / PAIR


def buffered(installation: Installation) -> list[str]:
    """Names of the CDR files waiting in the retry buffer."""
    folder = retry_buffer(installation)
    return sorted(p.name for p in folder.glob("*.xml")) if folder.is_dir() else []


def waiting(installation: Installation) -> list[str]:
    """Conversation ids of the CDR files in the retry buffer (`<start>_<id>.xml`)."""
    return [name.removesuffix(".xml").split("_", 1)[1] for name in buffered(installation)]


def cursor_file(installation: Installation) -> Path:
    return installation.work_folder() / "laststate" / PAIR / f"{PAIR}.cursor"


def archived(installation: Installation) -> dict[str, dict[str, Any]]:
    """The exported archive by Genesys conversation id; fails on a duplicate."""
    rows = installation.exported()
    by_id = {row["platform_call_id"]: row for row in rows}
    assert len(by_id) == len(rows), "a conversation was archived twice"
    return by_id


def truth(
    installation: Installation, *, formats: str = "none", timezone: str = "UTC"
) -> dict[str, dict[str, Any]]:
    """Ground truth: the recorded voice conversations that ended, by id."""
    document = installation.emulator.ground_truth(formats=formats, timezone=timezone)
    return {
        c["conversation_id"]: c
        for c in document["conversations"]
        if c["voice"] and c["recorded"] and c["ended"]
    }


def assert_metadata_matches(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key in COMPARED_KEYS:
        assert got[key] == want["export"][key], (want["conversation_id"], key)


def import_document(installation: Installation, document: dict[str, Any]) -> None:
    """`db upgrade` and `config import` of a hand-edited configuration document."""
    path = installation.home / "config.json"
    installation.home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    installation.must("db", "upgrade")
    installation.must("config", "import", str(path))


def document_for(installation: Installation, **options: Any) -> dict[str, Any]:
    """The configuration `Installation.configure` would import, to edit before importing."""
    config = installation.emulator.config
    options.setdefault("recording_start", f"{config.start}T00:00:00Z")
    options.setdefault("client_id", config.client_id)
    options.setdefault("client_secret", config.client_secret)
    return configuration_for(
        installation.emulator.ground_truth(), base_url=installation.emulator.base_url, **options
    )


def traffic_start(installation: Installation) -> dt.datetime:
    """Midnight (UTC) of the org's first day of traffic."""
    first = installation.emulator.config.start
    assert first is not None, "the tests' orgs start on a set day"
    return dt.datetime.combine(first, dt.time(), dt.UTC)


def configure_after_traffic(installation: Installation, **options: Any) -> None:
    """Configure an import whose Recording Start is the end of the org's traffic: its windows
    are quiet, and every conversation of the org is history a CDR can bring in."""
    traffic_end = traffic_start(installation) + dt.timedelta(days=1)
    installation.configure(recording_start=traffic_end.isoformat(), **options)


def inject(installation: Installation, start: dt.datetime, duration_s: float, **call: Any) -> Any:
    """Inject a call into the emulated org; the control API's answer (ids, start, end)."""
    body = {"start": start.isoformat(), "duration_s": duration_s, **call}
    return installation.emulator.control("POST", "calls", json=body)


def add_client(installation: Installation, client_id: str, permissions: Iterable[str]) -> None:
    """Register (or re-register, replacing) an OAuth client of the emulated org."""
    installation.emulator.control(
        "POST",
        "clients",
        json={
            "client_id": client_id,
            "client_secret": f"{client_id}-secret",
            "permissions": sorted(permissions),
        },
    )
