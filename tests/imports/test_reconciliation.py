"""Reconciliation against the emulator: every recorded conversation of a past day accounted for
as archived, skipped by rules, in the retry buffer, not reached yet, or missing; missing ones
raise an alert and come back with `--reimport` and a run."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3

from callarchive.alerts import AlertKind
from callarchive.archive import DayReconciliation
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import POLICY, SOURCE, Installation
from tests.imports.observe import alerts, archived, document_for, import_document, truth

RECONCILE = ("reconcile", "--source", SOURCE, "--policy", POLICY)


def day_of(installation: Installation) -> str:
    """The org's day of traffic, once the import may reconcile it (a quarter past midnight
    plus the Maximum Recording Length and the Availability Delay)."""
    first = installation.emulator.config.start
    assert first is not None
    day_end = dt.datetime.combine(first + dt.timedelta(days=1), dt.time(), dt.UTC)
    installation.clock.advance(
        (day_end + dt.timedelta(minutes=15) - installation.clock.now()).total_seconds()
    )
    return first.isoformat()


def stored(installation: Installation) -> list[DayReconciliation]:
    async def read() -> list[DayReconciliation]:
        async with installation.wiring().archive() as archive:
            return await archive.reconciliations.list()

    return asyncio.run(read())


def forget(installation: Installation, conversation_id: str) -> None:
    """Delete an archived conversation behind callarchive's back (its recordings go with it)."""
    with contextlib.closing(sqlite3.connect(installation.home / "callarchive.db")) as database:
        database.execute("PRAGMA foreign_keys = ON")
        database.execute(
            "DELETE FROM conversations WHERE genesys_conversation_id = ?", (conversation_id,)
        )
        database.commit()


def missing_alerts(installation: Installation) -> list[str]:
    return [a.message for a in alerts(installation) if a.kind == AlertKind.CONVERSATIONS_MISSING]


def test_a_clean_day_reconciles_to_archived_and_skipped_by_rules(
    installation: Installation,
) -> None:
    document = document_for(installation)
    users = sorted(document["users"], key=lambda u: u["login"])
    for user in users:
        user["recorded"] = user in users[::2]
    import_document(installation, document)
    day = day_of(installation)
    before = installation.must(*RECONCILE, "--day", day)
    assert "missing 0" in before.output
    [first] = stored(installation)
    assert first.not_reached == first.genesys_total == len(truth(installation))
    assert first.completeness == 0.0

    installation.catch_up()
    result = installation.must(*RECONCILE, "--day", day)
    assert "completeness 100.0 %" in result.output
    [done] = stored(installation)
    kept = archived(installation)
    assert done.genesys_total == len(truth(installation))
    assert done.archived == len(kept) > 0
    assert done.skipped_by_rules == done.genesys_total - len(kept) > 0
    assert (done.missing, done.retry_buffered, done.not_reached) == (0, 0, 0)
    assert done.complete
    assert missing_alerts(installation) == []


def test_a_conversation_deleted_from_the_archive_is_missing_alerted_and_reimported(
    installation: Installation,
) -> None:
    installation.configure()
    day = day_of(installation)
    installation.catch_up()
    lost = sorted(archived(installation))[3]
    forget(installation, lost)
    assert lost not in archived(installation)

    found = installation.cli(*RECONCILE, "--day", day)
    assert found.exit_code == 1, found.output
    assert f"missing: {lost}" in found.output
    [result] = stored(installation)
    assert result.missing == 1
    assert [m.conversation_id for m in result.missing_conversations] == [lost]
    [message] = missing_alerts(installation)
    assert lost in message
    assert "--reimport" in message

    queued = installation.must(*RECONCILE, "--day", day, "--reimport")
    assert "1 missing conversation(s) put into the retry buffer" in queued.output
    [result] = stored(installation)
    assert (result.missing, result.retry_buffered) == (0, 1)
    installation.must("import", "run", "--policy", POLICY)
    assert lost in archived(installation)
    again = installation.must(*RECONCILE, "--day", day)
    assert "missing 0" in again.output
    [result] = stored(installation)
    assert result.complete
    assert result.archived == len(truth(installation))


def test_a_conversation_the_cursor_skipped_is_missing_until_reimported(
    installation: Installation,
) -> None:
    installation.configure()
    day = day_of(installation)
    want = truth(installation)
    first = min(want.values(), key=lambda c: c["start"])
    start = dt.datetime.fromisoformat(first["start"])
    past_it = start + dt.timedelta(milliseconds=1)
    installation.must("cursor", "set", "--policy", POLICY, "--source", SOURCE, past_it.isoformat())
    installation.catch_up()
    assert first["conversation_id"] not in archived(installation)

    # The policy is the only one importing from the source: --policy may be left out.
    found = installation.cli("reconcile", "--source", SOURCE, "--day", day, "--reimport")
    assert found.exit_code == 0, found.output
    assert f"missing: {first['conversation_id']}" in found.output
    assert len(missing_alerts(installation)) == 1
    installation.must("import", "run", "--policy", POLICY)
    assert set(archived(installation)) == set(want)
    installation.must(*RECONCILE, "--day", day)
    [result] = stored(installation)
    assert result.complete


def test_a_day_not_over_yet_or_before_the_recording_start_is_refused(
    installation: Installation,
) -> None:
    installation.configure()
    today = installation.clock.now().date().isoformat()
    early = installation.cli(*RECONCILE, "--day", today)
    assert early.exit_code == 2
    assert "cannot be reconciled before" in early.stderr
    long_ago = installation.cli(*RECONCILE, "--day", "2001-01-01")
    assert long_ago.exit_code == 2
    assert "Recording Start Timestamp" in long_ago.stderr
    assert stored(installation) == []


def test_a_day_beyond_the_query_reach_is_reconciled_and_reimported_through_details_jobs(
    make_installation: InstallationFactory,
) -> None:
    first = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=40)
    installation = make_installation(start=first, days=1, data_lag_s=600)
    installation.configure(batch_duration_min=24 * 60)
    installation.catch_up()
    lost = min(archived(installation))
    forget(installation, lost)
    jobs = "POST /api/v2/analytics/conversations/details/jobs"
    before = installation.emulator.stats()["by_endpoint"][jobs]

    found = installation.cli(*RECONCILE, "--day", first.isoformat(), "--reimport")
    assert found.exit_code == 0, found.output
    assert f"missing: {lost}" in found.output
    assert installation.emulator.stats()["by_endpoint"][jobs] == before + 1
    installation.must("import", "run", "--policy", POLICY)
    assert set(archived(installation)) == set(truth(installation))
    installation.must(*RECONCILE, "--day", first.isoformat())
    [result] = stored(installation)
    assert result.complete
    assert result.genesys_total == len(truth(installation))


def test_conversations_retention_deleted_are_accounted_for_not_missing(
    installation: Installation,
) -> None:
    installation.configure()
    day = day_of(installation)
    installation.catch_up()
    kept = sorted(archived(installation))
    lost = kept[2]
    forget(installation, lost)  # gone without retention: still a loss
    installation.must("retention", "set", "--policy", POLICY, "1")
    installation.clock.advance(dt.timedelta(days=1).total_seconds())
    deleted = installation.must("retention", "run").output
    assert archived(installation) == {}, deleted

    found = installation.cli(*RECONCILE, "--day", day)
    assert found.exit_code == 1, found.output
    assert f"deleted by retention {len(kept) - 1}," in found.output
    assert f"missing: {lost}" in found.output
    [result] = stored(installation)
    assert (result.deleted_by_retention, result.missing) == (len(kept) - 1, 1)
    assert result.archived == 0
    assert result.genesys_total == len(truth(installation))
    [message] = missing_alerts(installation)
    assert lost in message
    assert not [c for c in kept if c != lost and c in message]

    queued = installation.must(*RECONCILE, "--day", day, "--reimport")
    assert "1 missing conversation(s) put into the retry buffer" in queued.output
    installation.must("import", "run", "--policy", POLICY)
    assert set(archived(installation)) == {lost}  # what retention deleted stays deleted
    installation.must(*RECONCILE, "--day", day)
    [result] = stored(installation)
    assert result.complete
    assert (result.archived, result.deleted_by_retention) == (1, len(kept) - 1)
    assert "completeness 100.0 %" in installation.must(*RECONCILE, "--day", day).output
