"""callarchive.alerts: the alerts of the Genesys import source, and their delivery.

AlertKind      the five alerts of the seed plus the end-of-batch notification
Severity       Notification, Warning, Error, Critical, Fatal
AlertState     Active, Acknowledged, Cleared
Alerter        raises alerts into the archive (the UI's list)
AlertDelivery  sends stored alerts to e-mail (`EmailChannel`), syslog (`SyslogChannel`) and a
               webhook (`WebhookChannel`), once across nodes, grouping repeats (`Grouper`)
"""

from callarchive.alerts.alerter import (
    Alert,
    Alerter,
    AlertKind,
    AlertSink,
    AlertState,
    ArchiveAlertSink,
    Severity,
)
from callarchive.alerts.delivery import AlertDelivery
from callarchive.alerts.email import EmailChannel
from callarchive.alerts.grouping import Grouper
from callarchive.alerts.notice import Channel, DeliveryError, Notice, at_least
from callarchive.alerts.syslog import SyslogChannel, format_message
from callarchive.alerts.webhook import WebhookChannel

__all__ = [
    "Alert",
    "AlertDelivery",
    "AlertKind",
    "AlertSink",
    "AlertState",
    "Alerter",
    "ArchiveAlertSink",
    "Channel",
    "DeliveryError",
    "EmailChannel",
    "Grouper",
    "Notice",
    "Severity",
    "SyslogChannel",
    "WebhookChannel",
    "at_least",
    "format_message",
]
