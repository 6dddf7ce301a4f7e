"""Alerts reach e-mail, syslog and a webhook (real servers on loopback), grouped and once."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from callarchive.alerts import (
    Alert,
    AlertDelivery,
    Alerter,
    AlertKind,
    AlertState,
    ArchiveAlertSink,
    DeliveryError,
    EmailChannel,
    Grouper,
    Notice,
    Severity,
    SyslogChannel,
    WebhookChannel,
    format_message,
)
from callarchive.archive import Archive
from callarchive.clock import FakeClock
from callarchive.errors import ConfigurationError
from tests.alerts.receivers import (
    PASSWORD,
    USER,
    free_port,
    smtp_server,
    syslog_listener,
    wait_for,
    webhook,
)

RAISED = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
NOTICE = Notice(
    kind="import_failed",
    title="Conversation failed to import",
    severity=Severity.ERROR,
    state="Active",
    message="conversation 8f2e: the media checksum does not match",
    raised_at=RAISED,
    alert_id=7,
    policy="US",
    import_source="Chicago",
)


class Collected:
    """A channel that keeps what it was sent."""

    name = "collected"

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    async def send(self, notice: Notice) -> None:
        self.sent.append(notice)


# -- e-mail ----------------------------------------------------------------------------------


def _email(port: int, ca_file: str | None, **overrides: object) -> EmailChannel:
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": "callarchive@example.com",
        "recipients": ["compliance@example.com", "it@example.com"],
        "username": USER,
        "password": PASSWORD,
        "ca_file": ca_file,
    }
    options.update(overrides)
    return EmailChannel(**options)  # type: ignore[arg-type]


async def test_an_alert_is_mailed_over_starttls_with_authentication(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as smtp:
        await _email(smtp.port, smtp.ca_file).send(NOTICE)
        await wait_for(smtp.mailbox.arrived)
    [message] = smtp.mailbox.messages
    assert message["Subject"] == "[callarchive] Error: Conversation failed to import"
    assert message["To"] == "compliance@example.com, it@example.com"
    body = message.get_payload()
    assert isinstance(body, str)
    assert "the media checksum does not match" in body
    assert "policy: US" in body
    assert "import_source: Chicago" in body


async def test_a_wrong_smtp_password_is_a_delivery_error(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as smtp, pytest.raises(DeliveryError, match="refused"):
        await _email(smtp.port, smtp.ca_file, password="wrong").send(NOTICE)
    assert smtp.mailbox.messages == []


async def test_an_smtp_server_that_is_not_trusted_gets_no_password(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as smtp, pytest.raises(DeliveryError, match="cannot reach"):
        await _email(smtp.port, None).send(NOTICE)  # the system's CAs do not know the test CA
    assert smtp.mailbox.messages == []


def test_authentication_without_starttls_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="STARTTLS"):
        _email(25, None, starttls=False)


# -- syslog ----------------------------------------------------------------------------------

_RFC5424 = re.compile(
    rb"^<(?P<pri>\d+)>1 (?P<ts>\S+) (?P<host>\S+) callarchive (?P<pid>\d+) (?P<msgid>\S+) "
    rb"\[callarchive@32473 (?P<sd>[^\]]*)\] \xef\xbb\xbf(?P<msg>.*)$",
    re.DOTALL,
)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_an_alert_goes_to_syslog_as_rfc_5424(transport: str) -> None:
    with syslog_listener(transport) as listener:
        await SyslogChannel(listener.url, hostname="rec01").send(NOTICE)
        await wait_for(listener.arrived)
    [raw] = listener.received
    parsed = _RFC5424.match(raw)
    assert parsed is not None, raw
    assert int(parsed["pri"]) == 16 * 8 + 3  # local0, err
    assert parsed["ts"] == b"2026-06-01T10:00:00.000Z"
    assert parsed["host"] == b"rec01"
    assert parsed["msgid"] == b"import_failed"
    assert b'policy="US"' in parsed["sd"]
    assert b'importSource="Chicago"' in parsed["sd"]
    assert b'alertId="7"' in parsed["sd"]
    assert parsed["msg"].decode() == (
        "[callarchive] Error: Conversation failed to import: "
        "conversation 8f2e: the media checksum does not match"
    )


def test_syslog_structured_data_escapes_quotes_and_brackets() -> None:
    tricky = Notice(**{**_fields(NOTICE), "policy": 'US "east" [1]'})
    assert b'policy="US \\"east\\" [1\\]"' in format_message(tricky, hostname="h")


async def test_a_syslog_receiver_that_is_down_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError, match="syslog"):
        await SyslogChannel(f"tcp://127.0.0.1:{free_port()}").send(NOTICE)


@pytest.mark.parametrize("url", ["syslog://host:514", "udp://", "tcp://host:x"])
def test_a_bad_syslog_address_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="CALLARCHIVE_ALERT_SYSLOG_URL"):
        SyslogChannel(url)


# -- webhook ---------------------------------------------------------------------------------


async def test_an_alert_is_posted_to_the_webhook_as_json() -> None:
    with webhook() as hook:
        await WebhookChannel(hook.url, clock=FakeClock()).send(NOTICE)
    [document] = hook.received
    assert document["title"] == "Conversation failed to import"
    assert document["severity"] == "Error"
    assert document["policy"] == "US"
    assert document["import_source"] == "Chicago"
    assert document["alert_id"] == 7
    assert document["raised_at"] == "2026-06-01T10:00:00+00:00"


async def test_a_failing_webhook_is_retried_with_growing_pauses() -> None:
    clock = FakeClock()
    with webhook(failures=2) as hook:
        await WebhookChannel(hook.url, clock=clock, retries=3).send(NOTICE)
    assert len(hook.received) == 3
    assert clock.slept == [1.0, 2.0]


async def test_a_webhook_gives_up_after_its_retries_and_on_a_refusal() -> None:
    clock = FakeClock()
    with webhook(failures=10) as hook:
        with pytest.raises(DeliveryError, match="answered 503"):
            await WebhookChannel(hook.url, clock=clock, retries=2).send(NOTICE)
        assert len(hook.received) == 3
    with webhook(failures=10, status=400) as refused:
        with pytest.raises(DeliveryError, match="answered 400"):
            await WebhookChannel(refused.url, clock=clock, retries=2).send(NOTICE)
        assert len(refused.received) == 1


# -- grouping and delivery from the archive --------------------------------------------------


def test_identical_alerts_within_the_period_are_counted_not_sent() -> None:
    grouper = Grouper(dt.timedelta(minutes=60))
    minute = dt.timedelta(minutes=1)
    assert grouper.admit("k", RAISED) == 0
    assert [grouper.admit("k", RAISED + n * minute) for n in range(1, 4)] == [None] * 3
    assert grouper.admit("other", RAISED + minute) == 0
    assert grouper.due(RAISED + 59 * minute) == []
    assert grouper.due(RAISED + 60 * minute) == [("k", 3)]
    assert grouper.admit("k", RAISED + 61 * minute) == 0  # a new period starts


def test_a_repeat_after_the_period_carries_the_count_when_no_summary_went_out() -> None:
    grouper = Grouper(dt.timedelta(minutes=10))
    grouper.admit("k", RAISED)
    grouper.admit("k", RAISED + dt.timedelta(minutes=5))
    assert grouper.admit("k", RAISED + dt.timedelta(minutes=11)) == 1


async def _raise(archive: Archive, kind: AlertKind, message: str, times: int = 1) -> None:
    alerter = Alerter(ArchiveAlertSink(archive))
    for _ in range(times):
        await alerter.raise_(Alert(kind=kind, message=message))


async def test_a_thousand_identical_alerts_are_sent_once_then_counted(archive: Archive) -> None:
    clock = FakeClock(RAISED)
    channel = Collected()
    delivery = AlertDelivery(
        archive=archive, channels=[channel], clock=clock, group_period=dt.timedelta(hours=1)
    )
    await _raise(archive, AlertKind.RETRY_BUFFERED, "conversation c1: media not ready", 1000)
    await _raise(archive, AlertKind.RETRY_BUFFERED, "conversation c2: media not ready")
    for _ in range(10):  # the loop polls again and again: nothing is sent twice
        await delivery.deliver_pending()
    assert [(n.message, n.repeated, n.summary) for n in channel.sent] == [
        ("conversation c1: media not ready", 0, False),
        ("conversation c2: media not ready", 0, False),
    ]
    clock.advance(3600)
    await delivery.deliver_pending()
    [summary] = channel.sent[2:]
    assert (summary.message, summary.repeated, summary.summary) == (
        "conversation c1: media not ready",
        999,
        True,
    )
    assert summary.subject.endswith("(repeated 999 times)")
    # Every alert stays in the archive for the UI, Active until someone acknowledges it.
    stored = await archive.alerts.list(limit=2000)
    assert len(stored) == 1001
    assert {a.state for a in stored} == {AlertState.ACTIVE.value}


async def test_each_alert_is_sent_by_one_node_only(archive: Archive) -> None:
    clock = FakeClock(RAISED)
    channels = [Collected(), Collected()]
    nodes = [
        AlertDelivery(archive=archive, channels=[channel], clock=clock) for channel in channels
    ]
    for n in range(20):
        await _raise(archive, AlertKind.IMPORT_FAILED, f"conversation c{n}: failed")
    for node in nodes:
        await node.deliver_pending()
    sent = [n.message for channel in channels for n in channel.sent]
    assert sorted(sent) == sorted(f"conversation c{n}: failed" for n in range(20))


async def test_only_alerts_at_least_the_minimum_severity_are_sent(archive: Archive) -> None:
    channel = Collected()
    delivery = AlertDelivery(
        archive=archive, channels=[channel], clock=FakeClock(RAISED), min_severity=Severity.ERROR
    )
    await _raise(archive, AlertKind.BATCH_NOTIFICATION, "No conversations imported")
    await _raise(archive, AlertKind.RETRY_BUFFERED, "warning")
    await _raise(archive, AlertKind.IMPORT_FAILED, "error")
    await _raise(archive, AlertKind.CURSOR_INVALID, "critical")
    await delivery.deliver_pending()
    assert [n.message for n in channel.sent] == ["error", "critical"]


async def test_one_failing_channel_does_not_keep_the_alert_from_the_others(
    archive: Archive,
) -> None:
    working = Collected()
    outcomes: list[tuple[str, str]] = []
    down = SyslogChannel(f"tcp://127.0.0.1:{free_port()}")
    delivery = AlertDelivery(
        archive=archive,
        channels=[down, working],
        clock=FakeClock(RAISED),
        on_sent=lambda channel, outcome: outcomes.append((channel, outcome)),
    )
    await _raise(archive, AlertKind.IMPORT_FAILED, "error")
    await delivery.deliver_pending()
    assert [n.message for n in working.sent] == ["error"]
    assert outcomes == [("syslog", "failed"), ("collected", "sent")]


def _fields(notice: Notice) -> dict[str, object]:
    return {name: getattr(notice, name) for name in notice.__dataclass_fields__}
