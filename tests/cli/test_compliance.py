"""`callarchive retention` and `callarchive hold`: periods, dry run, deletion, legal holds and
the four-eyes rule for their release."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from callarchive.archive import Archive, AuditFilter
from callarchive.configuration import User
from tests.archive.builders import conversation
from tests.cli.harness import NOW, SOURCE_ARGS, Installation


@pytest.fixture
def installation(tmp_path: Path, database_url: str) -> Installation:
    setup = Installation(home=tmp_path / "home", database_url=database_url)
    assert setup.run("source", "add", *SOURCE_ARGS).exit_code == 0
    assert setup.run("policy", "add", "--name", "US", "--source", "Chicago").exit_code == 0
    _archive(setup)
    return setup


def _archive(installation: Installation) -> None:
    async def store() -> None:
        archive = Archive.open(installation.database_url, installation.wiring().box())
        try:
            await archive.users.add(User(login="jane", name="Jane Doe"), actor="t")
            for genesys_id, age_days in (("old", 40), ("older", 45), ("new", 5)):
                start = NOW - dt.timedelta(days=age_days)
                await archive.conversations.save(
                    conversation(1, genesys_id, start=start, end=start, policy_id=1)
                )
        finally:
            await archive.close()

    asyncio.run(store())


def _audited(installation: Installation, action: str) -> int:
    async def count() -> int:
        archive = Archive.open(installation.database_url, installation.wiring().box())
        try:
            return await archive.audit.count(AuditFilter(action=action))
        finally:
            await archive.close()

    return asyncio.run(count())


def test_without_a_retention_period_nothing_goes(installation: Installation) -> None:
    result = installation.run("retention", "run", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would delete 0 conversations" in result.stderr


def test_a_dry_run_lists_what_would_go_and_the_run_deletes_it(
    installation: Installation,
) -> None:
    assert installation.run("retention", "set", "--policy", "US", "30").exit_code == 0
    shown = installation.run("retention", "show")
    assert "30 days" in shown.stdout
    reset = installation.run("retention", "set", "--user", "jane", "none")
    assert "retention of jane: the policy's" in reset.stdout
    assert installation.run("retention", "set", "30").exit_code == 2  # whose?

    dry = installation.run("retention", "run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "older" in dry.stdout
    assert "old " in dry.stdout
    assert "new" not in dry.stdout
    assert "would delete 2 conversations" in dry.stderr
    assert _audited(installation, "retention_deleted") == 0

    done = installation.run("retention", "run")
    assert done.exit_code == 0, done.output
    assert "deleted 2 conversations" in done.stderr
    assert _audited(installation, "retention_deleted") == 2
    again = installation.run("retention", "run", "--dry-run")
    assert "would delete 0 conversations" in again.stderr


def test_held_conversations_survive_retention(installation: Installation) -> None:
    installation.run("retention", "set", "--policy", "US", "30")
    created = installation.run(
        "hold", "create", "Case 7", "--reason", "FINRA 2024-7", "--to", "2024-01-19T00:00"
    )
    assert created.exit_code == 0, created.output
    assert "holds 1 conversations" in created.stdout  # "older" started 2024-01-16

    done = installation.run("retention", "run")
    assert "deleted 1 conversations" in done.stderr
    listed = installation.run("hold", "list")
    assert "Case 7" in listed.stdout
    assert "active" in listed.stdout
    shown = installation.run("hold", "show", "Case 7")
    assert "FINRA 2024-7" in shown.stdout


def test_the_requester_of_a_release_cannot_approve_it(installation: Installation) -> None:
    installation.run("hold", "create", "Case 8", "--reason", "litigation")
    assert installation.run("hold", "add", "Case 8", "1", "2").exit_code == 0
    requested = installation.run("hold", "release-request", "Case 8")
    assert requested.exit_code == 0, requested.output

    approved = installation.run("hold", "release-approve", "Case 8")

    assert approved.exit_code == 2
    assert "four eyes" in approved.stderr
    assert "active" in installation.run("hold", "list").stdout


def test_hold_commands_refuse_unknown_holds_and_conversations(
    installation: Installation,
) -> None:
    assert installation.run("hold", "add", "nope", "1").exit_code == 2
    installation.run("hold", "create", "Case 9", "--reason", "audit")
    unknown = installation.run("hold", "add", "Case 9", "999")
    assert unknown.exit_code == 2
    assert "999" in unknown.stderr
