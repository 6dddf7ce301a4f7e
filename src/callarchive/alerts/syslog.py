"""Alerts to syslog as RFC 5424 messages, over UDP (RFC 5426) or TCP (RFC 6587 octet counting).

    <PRI>1 TIMESTAMP HOSTNAME callarchive PROCID MSGID [callarchive@32473 ...] BOM MESSAGE

PRI is facility local0 with the alert's severity mapped to syslog's (Notification → notice,
Warning → warning, Error → err, Critical → crit, Fatal → alert). MSGID is the alert kind; the
structured data carries the policy, import source, alert id and repeat count. 32473 is the
enterprise number reserved for examples (RFC 5612).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
from urllib.parse import urlsplit

from callarchive.alerts.alerter import Severity
from callarchive.alerts.notice import DeliveryError, Notice
from callarchive.errors import ConfigurationError

FACILITY_LOCAL0 = 16
SD_ID = "callarchive@32473"
MAX_UDP_BYTES = 8192
TIMEOUT_S = 10.0
_SEVERITY = {
    Severity.NOTIFICATION: 5,
    Severity.WARNING: 4,
    Severity.ERROR: 3,
    Severity.CRITICAL: 2,
    Severity.FATAL: 1,
}
_FIELD = "CALLARCHIVE_ALERT_SYSLOG_URL"


def _sd_value(value: object) -> str:
    # RFC 5424 section 6.3.3: '"', '\' and ']' are escaped inside PARAM-VALUE.
    text = str(value)
    for char in ("\\", '"', "]"):
        text = text.replace(char, "\\" + char)
    return text


def _token(value: str, limit: int) -> str:
    # Header fields are printable US-ASCII without spaces.
    cleaned = "".join(c if 33 <= ord(c) <= 126 else "_" for c in value)
    return cleaned[:limit] or "-"


def format_message(notice: Notice, *, hostname: str, app_name: str = "callarchive") -> bytes:
    """The RFC 5424 message of `notice`."""
    pri = FACILITY_LOCAL0 * 8 + _SEVERITY[notice.severity]
    timestamp = notice.raised_at.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    params = {
        "title": notice.title,
        "policy": notice.policy,
        "importSource": notice.import_source,
        "alertId": notice.alert_id,
        "state": notice.state,
        "repeated": notice.repeated,
    }
    data = " ".join(f'{k}="{_sd_value(v)}"' for k, v in params.items() if v is not None)
    header = (
        f"<{pri}>1 {timestamp.replace('+00:00', 'Z')} {_token(hostname, 255)} "
        f"{_token(app_name, 48)} {os.getpid()} {_token(notice.kind, 32)} [{SD_ID} {data}] "
    )
    text = f"{notice.subject}: {notice.message}".replace("\r", " ").replace("\n", " | ")
    return header.encode() + b"\xef\xbb\xbf" + text.encode()


class SyslogChannel:
    """Sends notices to a syslog receiver at `udp://HOST:PORT` or `tcp://HOST:PORT`."""

    name = "syslog"

    def __init__(self, url: str, *, hostname: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("udp", "tcp") or not parts.hostname:
            raise ConfigurationError(
                f"{url!r} is not a syslog address; expected udp://HOST:PORT or tcp://HOST:PORT",
                field=_FIELD,
            )
        self.transport = parts.scheme
        self.host = parts.hostname
        try:
            self.port = parts.port or (514 if parts.scheme == "udp" else 601)
        except ValueError:
            raise ConfigurationError(f"{url!r} has a bad port", field=_FIELD) from None
        self._hostname = hostname or socket.gethostname()

    async def send(self, notice: Notice) -> None:
        message = format_message(notice, hostname=self._hostname)
        where = f"{self.transport}://{self.host}:{self.port}"
        try:
            if self.transport == "udp":
                await asyncio.to_thread(self._send_udp, message[:MAX_UDP_BYTES])
            else:
                await asyncio.wait_for(self._send_tcp(message), TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            raise DeliveryError(f"cannot send the alert to syslog at {where}: {error}") from error

    def _send_udp(self, message: bytes) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.sendto(message, (self.host, self.port))

    async def _send_tcp(self, message: bytes) -> None:
        _, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(f"{len(message)} ".encode() + message)  # RFC 6587 octet counting
            await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()


__all__ = ["SyslogChannel", "format_message"]
