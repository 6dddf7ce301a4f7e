"""Settings: where this installation keeps its data, read from `CALLARCHIVE_*` variables.

The embedded default needs none of them: everything lives under `CALLARCHIVE_HOME`
(`~/.callarchive`): the SQLite database, the media folder, the work folder of the seed's layout
and the secret key file. A multi-server installation points the database at PostgreSQL and the
stores at an S3-compatible bucket. Settings are an edge: pydantic reads them, the rest of the
code receives plain values from `callarchive.cli`'s wiring.
"""

from __future__ import annotations

import socket
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".callarchive"


class Settings(BaseSettings):
    """Every `CALLARCHIVE_*` variable; `resolved_*` give the effective values."""

    model_config = SettingsConfigDict(env_prefix="CALLARCHIVE_", frozen=True, extra="ignore")

    home: Path = Field(default_factory=_default_home)
    """Folder of the embedded default: database, media, work folders, key file."""
    database_url: str | None = None
    """`sqlite:///PATH` or `postgresql+psycopg://USER@HOST/DB`; default SQLite under home."""
    media_url: str | None = None
    """Folder path, `file://` or `s3://BUCKET/PREFIX` for media; default `<home>/media`."""
    work_url: str | None = None
    """Folder path, `file://` or `s3://BUCKET/PREFIX` for the work store; default `<home>/work`."""
    secret_key: SecretStr | None = None
    """Fernet key(s), comma-separated, first encrypting; default the key file under home."""
    media_key: SecretStr | None = None
    """Media encryption master key(s), comma-separated, first wrapping; unset: see the file."""
    media_key_file: Path | None = None
    """File of media master keys (created with mode 0600 when missing); unset with
    `media_key` unset: media is stored unencrypted."""
    s3_endpoint_url: str | None = None
    """Endpoint of an S3-compatible server (MinIO, Ceph, ...); unset for AWS S3."""
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_object_lock: bool = False
    """Lock every media object in compliance mode until the end of its retention (S3 object
    lock; the media bucket must have been created with object lock enabled)."""
    server_name: str | None = None
    """This node's server name (Execute Only on Selected Servers); default the host name."""
    tls_certificate: Path | None = None
    """PEM certificate (with its chain) of this installation (the seed's "Customer provides TLS
    Certificate"): the web UI is served over HTTPS with it, and import sources that name no
    client certificate present it to Genesys."""
    tls_key: Path | None = None
    """PEM private key of `tls_certificate` (default: the certificate file holds it too)."""
    tls_key_password: SecretStr | None = None
    """Password of an encrypted `tls_key`."""
    genesys_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    """Seconds to wait to connect to Genesys or its media host, or between two reads, before
    giving up (the request is retried, then the conversation waits in the retry buffer)."""
    window_max_conversations: int = Field(default=2000, ge=10, le=100_000)
    """Most conversations one import window takes: a window holding more (history caught up
    through long windows, a busy org) ends where the first one left out starts, and the next
    window goes on from there, so memory does not grow with the traffic of a window."""
    alert_min_severity: str = "Warning"
    """Alerts at least this severe are e-mailed, sent to syslog and posted to the webhook."""
    alert_group_minutes: int = Field(default=60, ge=0)
    """Identical alerts within this many minutes are sent once, then counted; 0 sends each."""
    alert_smtp_host: str | None = None
    """SMTP server for alert e-mail; unset: no e-mail."""
    alert_smtp_port: int = Field(default=587, ge=1, le=65535)
    alert_smtp_starttls: bool = True
    """Upgrade the SMTP connection with STARTTLS before authenticating (required when on)."""
    alert_smtp_username: str | None = None
    alert_smtp_password: SecretStr | None = None
    alert_smtp_ca_file: Path | None = None
    """CA certificates to trust for the SMTP server (default: the system's)."""
    alert_email_from: str = "callarchive@localhost"
    alert_email_to: str | None = None
    """Recipients of alert e-mail, comma-separated."""
    alert_syslog_url: str | None = None
    """`udp://HOST:PORT` or `tcp://HOST:PORT` of a syslog receiver (RFC 5424); unset: none."""
    alert_webhook_url: str | None = None
    """URL that receives each alert as a JSON POST; unset: none."""
    alert_webhook_retries: int = Field(default=3, ge=0, le=10)
    """Further attempts after a failed POST (with backoff)."""

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @property
    def resolved_database_url(self) -> str:
        """The database URL, SQLite in the home folder unless set."""
        return self.database_url or f"sqlite:///{self.home / 'callarchive.db'}"

    @property
    def resolved_media_url(self) -> str:
        """The media store URL, a local folder in the home folder unless set."""
        return self.media_url or str(self.home / "media")

    @property
    def resolved_server_name(self) -> str:
        """This node's server name, the host name unless set."""
        return self.server_name or socket.gethostname()

    @property
    def resolved_work_url(self) -> str:
        """The work store URL, a local folder in the home folder unless set."""
        return self.work_url or str(self.home / "work")


__all__ = ["Settings"]
