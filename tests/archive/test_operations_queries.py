"""What the operations pages ask the archive: alerts and audit entries by filter, page and count;
an alert's state changed by a person, with its audit entry; the batch reports of a time span."""

from __future__ import annotations

import datetime as dt

import pytest

from callarchive.archive import AlertFilter, AlertRecord, Archive, AuditFilter, BatchReport
from callarchive.clock import FakeClock
from callarchive.secrets import SecretBox
from tests.archive.builders import T0
from tests.configuration.builders import make_source

# kind, severity, state
ALERTS = (
    ("import_failed", "Error", "Active"),
    ("retry_buffered", "Warning", "Active"),
    ("import_failed", "Error", "Cleared"),
    ("timezone_unavailable", "Critical", "Acknowledged"),
    ("batch_notification", "Notification", "Active"),
)


async def _alerts(archive: Archive, source_id: int | None = None) -> list[AlertRecord]:
    added = []
    for n, (kind, severity, state) in enumerate(ALERTS):
        added.append(
            await archive.alerts.add(
                AlertRecord(
                    kind=kind,
                    title=kind,
                    severity=severity,
                    state=state,
                    message=f"alert {n}",
                    raised_at=T0 + dt.timedelta(minutes=n),
                    import_source_id=source_id if n % 2 == 0 else None,
                )
            )
        )
    return added


@pytest.mark.parametrize(
    ("where", "messages"),
    [
        (AlertFilter(), ["alert 4", "alert 3", "alert 2", "alert 1", "alert 0"]),
        (AlertFilter(kind="import_failed"), ["alert 2", "alert 0"]),
        (AlertFilter(severities=("Error", "Critical")), ["alert 3", "alert 2", "alert 0"]),
        (AlertFilter(state="Active"), ["alert 4", "alert 1", "alert 0"]),
        (AlertFilter(kind="import_failed", state="Active"), ["alert 0"]),
        (AlertFilter(kind="delete_failed"), []),
    ],
)
async def test_alerts_are_filtered_by_kind_severity_and_state(
    archive: Archive, where: AlertFilter, messages: list[str]
) -> None:
    await _alerts(archive)
    assert [a.message for a in await archive.alerts.list(where)] == messages
    assert await archive.alerts.count(where) == len(messages)


async def test_alerts_are_filtered_by_import_source_and_paged(archive: Archive) -> None:
    source = await archive.import_sources.add(make_source(), actor="t")
    await _alerts(archive, source.id)
    where = AlertFilter(import_source_id=source.id)
    assert [a.message for a in await archive.alerts.list(where)] == [
        "alert 4",
        "alert 2",
        "alert 0",
    ]
    page = await archive.alerts.list(where, limit=1, offset=1)
    assert [a.message for a in page] == ["alert 2"]


async def test_a_person_changing_an_alert_state_is_audited(archive: Archive) -> None:
    first, *_ = await _alerts(archive)
    assert first.id is not None
    assert await archive.alerts.set_state(first.id, "Acknowledged", actor="admin")
    stored = await archive.alerts.get(first.id)
    assert stored is not None
    assert stored.state == "Acknowledged"
    (entry,) = await archive.audit.list()
    assert (entry.actor, entry.action, entry.target) == (
        "admin",
        "alert_acknowledged",
        f"alert:{first.id}",
    )
    assert entry.details == {"title": "import_failed", "from": "Active", "to": "Acknowledged"}


async def test_an_unknown_alert_is_neither_found_nor_changed(archive: Archive) -> None:
    assert await archive.alerts.get(999) is None
    assert not await archive.alerts.set_state(999, "Cleared", actor="admin")
    assert await archive.audit.list() == []


async def test_the_audit_log_is_filtered_by_actor_action_and_time(
    archive: Archive, box: SecretBox
) -> None:
    clock = FakeClock(T0)
    clocked = Archive(archive.engine, box, clock=clock)
    for actor, action in (("jane", "signed_in"), ("admin", "signed_in"), ("admin", "user_added")):
        await clocked.audit.record(actor=actor, action=action, target=actor)
        clock.advance(3600)
    everything = await clocked.audit.list()
    assert [(e.actor, e.action) for e in everything] == [
        ("admin", "user_added"),
        ("admin", "signed_in"),
        ("jane", "signed_in"),
    ]
    by_admin = AuditFilter(actor="admin")
    assert await clocked.audit.count(by_admin) == 2
    assert [e.action for e in await clocked.audit.list(by_admin, limit=1, offset=1)] == [
        "signed_in"
    ]
    sign_ins = await clocked.audit.list(AuditFilter(action="signed_in"))
    assert [e.actor for e in sign_ins] == ["admin", "jane"]
    span = AuditFilter(since=T0 + dt.timedelta(minutes=30), until=T0 + dt.timedelta(hours=2))
    assert [e.actor for e in await clocked.audit.list(span)] == ["admin"]
    assert await clocked.audit.actions() == ["signed_in", "user_added"]


async def test_batch_reports_since_a_time_come_without_their_lines_when_asked(
    archive: Archive,
) -> None:
    for hour in range(3):
        start = T0 + dt.timedelta(hours=hour)
        await archive.batch_reports.add(
            BatchReport(
                policy_id=None,
                import_source_id=None,
                started_at=start,
                finished_at=start,
                imported=hour,
            )
        )
    recent = await archive.batch_reports.list(
        since=T0 + dt.timedelta(hours=1), with_entries=False, limit=100
    )
    assert [r.imported for r in recent] == [2, 1]


async def test_the_actions_of_the_audit_log_are_listed_once_each_in_order(
    archive: Archive,
) -> None:
    assert await archive.audit.actions() == []
    for n in range(40):
        action = ("recording_played", "signed_in", "a_first", "zz_last", "user_added")[n % 5]
        await archive.audit.record(actor="robot", action=action, target=str(n))
    assert await archive.audit.actions() == [
        "a_first",
        "recording_played",
        "signed_in",
        "user_added",
        "zz_last",
    ]
