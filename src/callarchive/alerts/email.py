"""Alert e-mail over SMTP: STARTTLS before authenticating, then one message per notice.

Sent with the standard library's `smtplib` in a worker thread. With a user name configured the
connection must be upgraded with STARTTLS first: credentials never cross the network in clear.
"""

from __future__ import annotations

import asyncio
import email.utils
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from callarchive.alerts.notice import DeliveryError, Notice
from callarchive.errors import ConfigurationError

TIMEOUT_S = 30.0


class EmailChannel:
    """Sends each notice as an e-mail to `recipients`."""

    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        sender: str,
        recipients: Sequence[str],
        starttls: bool = True,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
    ) -> None:
        if not recipients:
            raise ConfigurationError(
                "no recipients; expected e-mail addresses, comma-separated",
                field="CALLARCHIVE_ALERT_EMAIL_TO",
            )
        if username and not starttls:
            raise ConfigurationError(
                "SMTP authentication needs STARTTLS (the password would cross the network in "
                "clear); expected CALLARCHIVE_ALERT_SMTP_STARTTLS=true",
                field="CALLARCHIVE_ALERT_SMTP_STARTTLS",
            )
        self._host = host
        self._port = port
        self._sender = sender
        self._recipients = list(recipients)
        self._starttls = starttls
        self._username = username
        self._password = password or ""
        self._ca_file = ca_file

    def message(self, notice: Notice) -> EmailMessage:
        """The e-mail of `notice`."""
        message = EmailMessage()
        message["Subject"] = notice.subject
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        message["Date"] = email.utils.format_datetime(notice.raised_at)
        message["Message-ID"] = email.utils.make_msgid(domain="callarchive")
        message.set_content(notice.text())
        return message

    async def send(self, notice: Notice) -> None:
        await asyncio.to_thread(self._send, self.message(notice))

    def _send(self, message: EmailMessage) -> None:
        where = f"{self._host}:{self._port}"
        try:
            with smtplib.SMTP(self._host, self._port, timeout=TIMEOUT_S) as smtp:
                smtp.ehlo()
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=self._ca_file))
                    smtp.ehlo()
                if self._username:
                    smtp.login(self._username, self._password)
                smtp.send_message(message)
        except smtplib.SMTPException as error:
            raise DeliveryError(
                f"the SMTP server {where} refused the alert e-mail: {error}"
            ) from error
        except (OSError, ssl.SSLError) as error:
            raise DeliveryError(f"cannot reach the SMTP server {where}: {error}") from error


__all__ = ["EmailChannel"]
