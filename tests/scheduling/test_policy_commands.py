"""`policy add` with cron and active hours, `policy enable|disable|history`, `server list`,
`alert list|ack|clear`, and `worker`'s refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path

from callarchive.alerts import Alert, Alerter, AlertKind, ArchiveAlertSink
from tests.cli.harness import SOURCE_ARGS, Installation


def _installation(tmp_path: Path) -> Installation:
    installation = Installation(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert installation.run("db", "upgrade").exit_code == 0
    assert installation.run("source", "add", *SOURCE_ARGS).exit_code == 0
    return installation


def test_a_policy_runs_by_cron_inside_active_hours_and_can_be_disabled(tmp_path: Path) -> None:
    installation = _installation(tmp_path)
    added = installation.run(
        "policy", "add", "--name", "US", "--source", "Chicago", "--cron", "*/15 * * * 1-5",
        "--active-hours", "08:00-18:00", "--timezone", "America/Chicago",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = installation.run("policy", "list").output.splitlines()[1]
    assert "cron */15 * * * 1-5, 08:00-18:00 America/Chicago" in listed
    assert listed.split()[-2:] == ["yes", "any"]
    assert installation.run("policy", "disable", "US").output == "policy 'US' disabled\n"
    assert installation.run("policy", "list").output.splitlines()[1].split()[-2:] == ["no", "any"]
    assert installation.run("policy", "enable", "US").output == "policy 'US' enabled\n"
    missing = installation.run("policy", "disable", "EU")
    assert missing.exit_code == 2
    assert "there is no policy named 'EU'" in missing.stderr


def test_a_policy_with_both_a_period_and_cron_is_refused(tmp_path: Path) -> None:
    installation = _installation(tmp_path)
    refused = installation.run(
        "policy", "add", "--name", "US", "--source", "Chicago", "--every-minutes", "5",
        "--cron", "0 * * * *",
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "schedule: has both every_minutes and cron" in refused.stderr


def test_history_of_a_policy_without_runs_says_none(tmp_path: Path) -> None:
    installation = _installation(tmp_path)
    assert installation.run("policy", "add", "--name", "US", "--source", "Chicago").exit_code == 0
    assert installation.run("policy", "history", "US").output == "(none)\n"
    assert installation.run("server", "list").output == "(none)\n"


def test_a_worker_needs_postgresql_and_a_valid_server_name(tmp_path: Path) -> None:
    installation = _installation(tmp_path)
    on_sqlite = installation.run("worker", "--server", "node-a", "--port", "0")
    assert on_sqlite.exit_code == 2
    assert "CALLARCHIVE_DATABASE_URL: workers share a PostgreSQL database" in on_sqlite.stderr
    spaced = installation.run("worker", "--server", "node a", "--port", "0")
    assert spaced.exit_code == 2
    assert "without spaces" in spaced.stderr


def test_alerts_are_listed_acknowledged_and_cleared(tmp_path: Path) -> None:
    installation = _installation(tmp_path)

    async def raise_two() -> None:
        async with installation.wiring().archive() as archive:
            alerter = Alerter(ArchiveAlertSink(archive))
            await alerter.raise_(Alert(kind=AlertKind.IMPORT_FAILED, message="c1: bad media"))
            await alerter.raise_(Alert(kind=AlertKind.RETRY_BUFFERED, message="c2: not ready"))

    asyncio.run(raise_two())
    listed = installation.run("alert", "list").output.splitlines()
    assert [line.split()[0] for line in listed[1:]] == ["2", "1"]
    assert "Conversation failed to import" in listed[2]
    assert installation.run("alert", "ack", "1").output == "1 alert(s) acknowledged\n"
    assert installation.run("alert", "clear", "2").output == "1 alert(s) cleared\n"
    acknowledged = installation.run("alert", "list", "--state", "acknowledged").output
    assert [line.split()[0] for line in acknowledged.splitlines()[1:]] == ["1"]
    missing = installation.run("alert", "ack", "99")
    assert missing.exit_code == 2
    assert "no alert has id 99" in missing.stderr
