"""Genesys request metrics come from the client's log events, one series per endpoint."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from callarchive.monitoring import Metrics, endpoint_of


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        (
            "/api/v2/conversations/8f2e6a1c-5c9b-4a57-b2d2-1f0e9d3c7b11/recordings",
            "/api/v2/conversations/{id}/recordings",
        ),
        (
            "/api/v2/analytics/conversations/details/jobs/1234567/results?cursor=x",
            "/api/v2/analytics/conversations/details/jobs/{id}/results",
        ),
        (
            "/api/v2/analytics/conversations/details/query",
            "/api/v2/analytics/conversations/details/query",
        ),
        ("/api/v2/users/42", "/api/v2/users/{id}"),
    ],
)
def test_ids_in_paths_become_placeholders(path: str, endpoint: str) -> None:
    assert endpoint_of(path) == endpoint


def test_requests_and_429s_are_counted_from_the_clients_events() -> None:
    metrics = Metrics()
    query = "POST /api/v2/analytics/conversations/details/query"
    for status in (200, 200, 503):
        metrics.observe_log(
            None, "debug", {"event": "genesys_request_sent", "endpoint": query, "status": status}
        )
    for _ in range(2):
        metrics.observe_log(
            None, "info", {"event": "rate_limited", "path": "/api/v2/users/7", "status": 429}
        )
    metrics.observe_log(None, "info", {"event": "run_started"})
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
    }
    assert (
        values["callarchive_genesys_requests_total", (("endpoint", query), ("status", "200"))] == 2
    )
    assert (
        values["callarchive_genesys_requests_total", (("endpoint", query), ("status", "503"))] == 1
    )
    assert (
        values["callarchive_genesys_rate_limited_total", (("endpoint", "/api/v2/users/{id}"),)] == 2
    )
