"""Prometheus metrics of a node: what its import runs did, how far behind they are, and how it
talks to Genesys.

Run metrics are fed from each run's result (`observe_run`); Genesys request metrics from the
client's structured log events (`observe_log`, a structlog processor), so the client needs no
knowledge of metrics. Each `Metrics` has its own registry: tests build as many as they like.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from callarchive.imports import RunResult

_OUTCOMES = ("imported", "already_imported", "skipped_by_rules", "retry_buffered", "failed")
_PAIR = ("policy", "source")
# Path segments that are ids (uuids, hex, numbers) become {id}: one series per endpoint.
_ID_SEGMENT = re.compile(r"/(?=[^/]*\d)[0-9A-Za-z_.-]{8,}|/\d+(?=/|$)")
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def endpoint_of(path: str) -> str:
    """`/api/v2/conversations/8f2e…/recordings` → `/api/v2/conversations/{id}/recordings`."""
    return _ID_SEGMENT.sub("/{id}", path.split("?", 1)[0])


class Metrics:
    """The metrics of one node, in their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.conversations = Counter(
            "callarchive_conversations",
            "Conversations seen by import runs, by outcome (imported, already imported, skipped "
            "by rules, put in the retry buffer, failed)",
            [*_PAIR, "outcome"],
            registry=r,
        )
        self.runs = Counter(
            "callarchive_runs",
            "Import runs (windows), by how they ended",
            [*_PAIR, "status"],
            registry=r,
        )
        self.run_duration = Histogram(
            "callarchive_run_duration_seconds",
            "How long import runs (windows) took",
            _PAIR,
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.retry_buffer = Gauge(
            "callarchive_retry_buffer_size", "CDRs waiting in the retry buffer", _PAIR, registry=r
        )
        self.lag = Gauge(
            "callarchive_lag_seconds",
            "How far the cursor is behind real time",
            _PAIR,
            registry=r,
        )
        self.cursor = Gauge(
            "callarchive_cursor_timestamp_seconds",
            "The cursor's position (Unix time)",
            _PAIR,
            registry=r,
        )
        self.requests = Counter(
            "callarchive_genesys_requests",
            "Genesys API requests, by endpoint and final status",
            ["endpoint", "status"],
            registry=r,
        )
        self.rate_limited = Counter(
            "callarchive_genesys_rate_limited",
            "429 Too Many Requests answers from Genesys (each retried after Retry-After)",
            ["endpoint"],
            registry=r,
        )
        self.alerts = Counter(
            "callarchive_alerts_sent",
            "Alerts handed to a delivery channel, by channel and outcome",
            ["channel", "outcome"],
            registry=r,
        )

    def observe_run(
        self,
        policy: str,
        source: str,
        result: RunResult,
        *,
        duration_s: float,
        retry_buffer_size: int,
        lag_s: float | None,
    ) -> None:
        """Count one finished run (window) of `policy` and `source`."""
        report = result.report
        for outcome in _OUTCOMES:
            self.conversations.labels(policy, source, outcome).inc(getattr(report, outcome))
        self.runs.labels(policy, source, result.status.value).inc()
        self.run_duration.labels(policy, source).observe(duration_s)
        self.retry_buffer.labels(policy, source).set(retry_buffer_size)
        if result.cursor is not None:
            self.cursor.labels(policy, source).set(result.cursor.position.timestamp())
        if lag_s is not None:
            self.lag.labels(policy, source).set(lag_s)

    def observe_log(
        self, logger: object, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """structlog processor: count Genesys requests and 429s from the client's events."""
        del logger, method_name
        event = event_dict.get("event")
        if event == "genesys_request_sent":
            endpoint = str(event_dict.get("endpoint", "?"))
            self.requests.labels(endpoint, str(event_dict.get("status", "?"))).inc()
        elif event == "rate_limited":
            self.rate_limited.labels(endpoint_of(str(event_dict.get("path", "?")))).inc()
        return event_dict

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


__all__ = ["CONTENT_TYPE", "Metrics", "endpoint_of"]
