"""Emulator settings: everything the command line (and DESIGN.md section 8) can set.

One frozen value built once by `__main__` (or by a test fixture) and handed to `create_app`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

ALL_PERMISSIONS: frozenset[str] = frozenset(
    {
        "analytics:conversationDetail:view",
        "recording:recording:view",
        "recording:recording:viewSensitiveData",
        "recording:recording:editRetention",
        "recording:recording:restore",
    }
)


@dataclass(frozen=True, kw_only=True, slots=True)
class EmulatorConfig:
    """What the emulated Genesys Cloud org looks like and how its API behaves."""

    seed: int = 1
    # First day of traffic (UTC midnight); None means `days` days before today, or two days back.
    start: dt.date | None = None
    # Days of traffic from `start`; None means traffic never stops (live traffic as time passes).
    days: int | None = None
    calls_per_hour: float = 20.0
    mean_call_seconds: float = 240.0
    # Bounds of ordinary call lengths (the log-normal draw is clipped to them; long calls apart).
    min_call_seconds: float = 1.0
    max_call_seconds: float = 1.9 * 3600
    users: int = 20
    # Share of voice calls lasting two to three hours (long media; tests usually set 0).
    long_call_ratio: float = 0.002
    client_id: str = "callarchive-demo"
    client_secret: str = "demo-secret-change-me"  # noqa: S105 - the emulator's published demo credential
    client_permissions: frozenset[str] = ALL_PERMISSIONS
    latency_ms: int = 0
    rate_limit_per_minute: int = 300
    # Bandwidth of the media host in kilobits a second, shared by all downloads (0: unlimited).
    media_bandwidth_kbps: int = 0
    faults: str = ""
    trunk_codec: str = "OGG_OPUS"
    # Milliseconds Genesys needs to transcode one minute of audio.
    transcode_ms: int = 500
    url_ttl_s: int = 3600
    token_ttl_s: int = 86_400
    # Seconds after a recording leg ends until its media is uploaded and available.
    media_delay_s: int = 30
    # Seconds an async details job stays QUEUED before it is FULFILLED.
    job_delay_s: float = 2.0
    # How far the analytics data lake (async jobs) lags behind now.
    data_lag_s: int = 1800
    # Seconds a batch download job needs before it is Completed.
    batch_delay_s: float = 1.0
    # Recordings older than this many days are ARCHIVED (0: never).
    archive_after_days: int = 0
    # Seconds a restore of an archived recording takes (RESTORING, then RESTORED).
    restore_s: int = 4 * 3600
    # Share of recordings flagged as holding sensitive data (left out of batch downloads for
    # clients without recording:recording:viewSensitiveData).
    sensitive_ratio: float = 0.03
    # Extra delay of a "slow" fault, in milliseconds.
    slow_ms: int = 2000
    cache_dir: str | None = None
    extra_clients: tuple[tuple[str, str, frozenset[str]], ...] = field(default=())

    def first_day(self, today: dt.date) -> dt.date:
        """The first day of traffic, given today's date."""
        if self.start is not None:
            return self.start
        return today - dt.timedelta(days=self.days if self.days is not None else 2)

    def last_instant(self, today: dt.date) -> dt.datetime | None:
        """The end of traffic (exclusive), or None when traffic never stops."""
        if self.days is None:
            return None
        first = self.first_day(today)
        return dt.datetime.combine(first, dt.time(), dt.UTC) + dt.timedelta(days=self.days)
