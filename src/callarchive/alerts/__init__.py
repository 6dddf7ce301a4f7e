"""callarchive.alerts: the alerts of the Genesys import source, with the seed's exact titles.

AlertKind      the five alerts of the seed plus the end-of-batch notification
Severity       Notification, Warning, Error, Critical, Fatal
AlertState     Active, Acknowledged, Cleared
Alerter        raises alerts into the archive (delivery to e-mail, syslog and webhooks
               builds on what is stored here)
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

__all__ = [
    "Alert",
    "AlertKind",
    "AlertSink",
    "AlertState",
    "Alerter",
    "ArchiveAlertSink",
    "Severity",
]
