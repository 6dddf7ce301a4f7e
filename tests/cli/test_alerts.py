"""`callarchive alert list|ack|clear`: alerts change state from the command line, audited."""

from __future__ import annotations

import asyncio
from pathlib import Path

from callarchive.archive import AlertRecord, Archive
from tests.cli.harness import Installation


def _add_alert(installation: Installation) -> int:
    async def add() -> int:
        archive = Archive.open(installation.database_url, installation.wiring().box())
        try:
            await archive.upgrade()
            alert = await archive.alerts.add(
                AlertRecord(
                    kind="import_failed",
                    title="Conversation failed to import",
                    severity="Error",
                    state="Active",
                    message="media 404",
                )
            )
            return alert.id or 0
        finally:
            await archive.close()

    return asyncio.run(add())


def _audit(installation: Installation) -> list[tuple[str, str, str]]:
    async def read() -> list[tuple[str, str, str]]:
        archive = Archive.open(installation.database_url, installation.wiring().box())
        try:
            return [(e.actor, e.action, e.target) for e in await archive.audit.list()]
        finally:
            await archive.close()

    return asyncio.run(read())


def test_acknowledge_and_clear_are_audited(tmp_path: Path, database_url: str) -> None:
    installation = Installation(home=tmp_path / "home", database_url=database_url)
    alert_id = _add_alert(installation)
    assert installation.run("alert", "ack", str(alert_id)).exit_code == 0
    listed = installation.run("alert", "list", "--state", "acknowledged")
    assert "media 404" in listed.output
    assert installation.run("alert", "clear", str(alert_id)).exit_code == 0
    actions = [(action, target) for actor, action, target in _audit(installation)]
    assert actions[:2] == [
        ("alert_cleared", f"alert:{alert_id}"),
        ("alert_acknowledged", f"alert:{alert_id}"),
    ]
    assert all(actor.startswith("cli") for actor, _, _ in _audit(installation)[:2])
    unknown = installation.run("alert", "ack", "999999")
    assert unknown.exit_code != 0
    assert "no alert has id 999999" in unknown.output
