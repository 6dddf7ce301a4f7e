"""Whole-archive operations (configuration in one transaction, key rotation) and the stored
alerts, batch reports and audit log."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from callarchive.archive import AlertRecord, Archive, BatchReport, BatchReportEntry
from callarchive.clock import FakeClock
from callarchive.configuration import (
    Configuration,
    Extension,
    ExtensionType,
    Policy,
    Role,
    User,
    export_configuration,
)
from callarchive.errors import ConfigurationError
from callarchive.secrets import SecretBox
from tests.archive.builders import T0, conversation
from tests.configuration.builders import make_source


def setup() -> Configuration:
    return Configuration(
        import_sources=(
            make_source(),
            make_source(name="Dallas", proxy_address="p.example.com", proxy_port="3128",
                        proxy_username="u", proxy_password="proxy-pw"),
        ),
        policies=(Policy(name="US", import_sources=("Chicago", "Dallas"), servers=("n1",)),),
        users=(
            User(login="jane", name="Jane", supervisor="boss", partitions=("sales",)),
            User(login="boss", name="Boss", role=Role.SUPERVISOR),
        ),
        extensions=(Extension(type=ExtensionType.NUMBER, value="4101", user="jane"),),
    )  # fmt: skip


def without_ids(configuration: Configuration) -> dict[str, object]:
    """The exported document, users by login (the archive lists them so)."""
    document = export_configuration(configuration)
    document["users"].sort(key=lambda user: user["login"])
    return document


async def test_a_configuration_applies_and_loads_back(archive: Archive) -> None:
    await archive.apply_configuration(setup(), actor="t")
    loaded = await archive.load_configuration()
    assert without_ids(loaded) == without_ids(setup())
    dallas = next(s for s in loaded.import_sources if s.name == "Dallas")
    assert dallas.proxy_password is not None
    assert dallas.proxy_password.reveal() == "proxy-pw"


async def test_applying_twice_changes_nothing(archive: Archive) -> None:
    await archive.apply_configuration(setup(), actor="t")
    await archive.apply_configuration(setup(), actor="t")
    loaded = await archive.load_configuration()
    assert without_ids(loaded) == without_ids(setup())


async def test_a_wrong_configuration_applies_nothing(archive: Archive) -> None:
    broken = dataclasses.replace(
        setup(), policies=(Policy(name="US", import_sources=("Nowhere",)),)
    )
    with pytest.raises(ConfigurationError):
        await archive.apply_configuration(broken, actor="t")
    assert await archive.load_configuration() == Configuration()


async def test_a_supervisor_cycle_in_a_document_is_refused(archive: Archive) -> None:
    cycle = Configuration(
        users=(User(login="a", name="A", supervisor="b"), User(login="b", name="B", supervisor="a"))
    )
    with pytest.raises(ConfigurationError) as caught:
        await archive.apply_configuration(cycle, actor="t")
    assert caught.value.field == "supervisor"


async def test_rotation_re_encrypts_every_secret_under_the_new_key(
    archive: Archive, box: SecretBox
) -> None:
    await archive.apply_configuration(setup(), actor="t")
    new_key = SecretBox.generate_key()
    assert await archive.reencrypt_secrets(box.with_primary(new_key), actor="t") == 3
    reopened = Archive(archive.engine, SecretBox([new_key]))
    assert await reopened.check_secrets() == 2
    stale = Archive(archive.engine, box)
    with pytest.raises(ConfigurationError):
        await stale.check_secrets()


async def test_alerts_are_stored_and_change_state(archive: Archive) -> None:
    source = await archive.import_sources.add(make_source(), actor="t")
    alert = await archive.alerts.add(
        AlertRecord(
            kind="retry_buffered",
            title="CDR placed in retry buffer",
            severity="Warning",
            state="Active",
            message="media not available yet",
            details={"conversation": "c-1"},
            import_source_id=source.id,
        )
    )
    assert alert.id is not None
    assert alert.raised_at is not None
    await archive.alerts.set_state(alert.id, "Acknowledged")
    (stored,) = await archive.alerts.list()
    assert stored.state == "Acknowledged"
    assert stored.details == {"conversation": "c-1"}
    assert await archive.alerts.list(state="Active") == []


async def test_batch_reports_keep_window_counters_and_lines(archive: Archive) -> None:
    source = await archive.import_sources.add(make_source(), actor="t")
    assert source.id is not None
    saved = await archive.conversations.save(conversation(source.id, "c-1"))
    report = BatchReport(
        policy_id=None,
        import_source_id=source.id,
        started_at=T0,
        finished_at=T0 + dt.timedelta(seconds=5),
        window_start=T0 - dt.timedelta(hours=1),
        window_end=T0,
        discovered=2,
        imported=1,
        retry_buffered=1,
        media_downloaded=1,
        entries=(
            BatchReportEntry(
                genesys_conversation_id="c-1",
                outcome="imported",
                conversation_id=saved.id,
                extension="4101",
                participant_number="+14155550199",
                newly_imported=True,
                media_downloaded=True,
            ),
            BatchReportEntry(genesys_conversation_id="c-2", outcome="retry_buffered"),
        ),
    )
    report_id = await archive.batch_reports.add(report)
    (stored,) = await archive.batch_reports.list(import_source_id=source.id)
    assert stored == dataclasses.replace(report, id=report_id)


async def test_the_audit_log_records_who_did_what_newest_first(archive: Archive) -> None:
    await archive.audit.record(actor="web:jane", action="recording_played", target="recording:1")
    await archive.audit.record(
        actor="web:jane", action="recording_downloaded", target="recording:1"
    )
    entries = await archive.audit.list(limit=1)
    assert [(e.actor, e.action) for e in entries] == [("web:jane", "recording_downloaded")]


async def test_times_come_from_the_injected_clock(archive: Archive, box: SecretBox) -> None:
    clocked = Archive(archive.engine, box, clock=FakeClock(T0))
    await clocked.audit.record(actor="t", action="recording_played", target="recording:1")
    alert = await clocked.alerts.add(
        AlertRecord(kind="k", title="t", severity="Error", state="Active", message="m")
    )
    (entry,) = await clocked.audit.list()
    assert entry.at == T0
    assert alert.raised_at == T0
