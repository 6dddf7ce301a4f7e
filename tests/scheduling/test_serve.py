"""`callarchive serve` as a real process: it imports on schedule, serves /metrics, /health and
/ready, registers as a server, keeps every run's report, and stops cleanly on SIGTERM."""

from __future__ import annotations

import socket

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.imports.completeness import assert_archive_is_ground_truth, wanted
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import POLICY, Installation
from tests.scheduling.processes import running

CODEC = "WAV"


@pytest.fixture
def configured(make_installation: InstallationFactory) -> Installation:
    installation = make_installation()
    installation.configure(codec=CODEC, batch_duration_min=240)
    return installation


def _imported(metrics: str) -> float:
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if (
                sample.name == "callarchive_conversations_total"
                and sample.labels["outcome"] == "imported"
            ):
                return sample.value
    raise AssertionError("no callarchive_conversations_total{outcome=imported}")


@pytest.mark.slow
def test_serve_imports_on_schedule_and_stops_cleanly_on_sigterm(configured: Installation) -> None:
    truth = configured.emulator.ground_truth(formats=CODEC)
    env = {
        "CALLARCHIVE_HOME": str(configured.home),
        "CALLARCHIVE_DATABASE_URL": configured.database_url,
        "CALLARCHIVE_SERVER_NAME": "node-a",
        "CALLARCHIVE_LOG_LEVEL": "info",
    }
    with running(["serve", "--port", "0"], env) as serve:
        banner = serve.line("LISTENING")
        url = banner.split()[1]
        assert banner.endswith("server node-a")
        claimed = serve.event("run_claimed")
        assert claimed["policy"] == POLICY
        assert claimed["server"] == "node-a"
        finished = serve.event("job_finished")
        assert finished["server"] == "node-a"
        with httpx.Client(base_url=url, trust_env=False) as http:
            metrics = http.get("/metrics")
            ready, health = http.get("/ready"), http.get("/health")
        assert _imported(metrics.text) == len(wanted(truth))
        assert ready.json() == {"status": "ok", "problems": []}
        assert health.status_code == 200
        assert serve.stop() == 0
        assert any(e.get("event") == "node_stopped" for e in serve.events)
        assert all(e.get("level") != "error" for e in serve.events), serve.diagnostics()

    servers = configured.must("server", "list").output.splitlines()
    assert servers[0].split() == ["NAME", "HOST", "LAST", "HEARTBEAT", "RESPONDING"]
    [node] = [line.split() for line in servers[1:]]
    assert (node[0], node[1], node[-1]) == ("node-a", socket.gethostname(), "yes")

    history = configured.must("policy", "history", POLICY).output.splitlines()
    assert history[0].split()[:3] == ["STARTED", "(UTC)", "SOURCE"]
    runs = [line for line in history[1:] if line.strip()]
    assert len(runs) >= 6  # a day and more in four-hour windows, newest first
    assert sorted(runs, reverse=True) == runs
    detailed = configured.must("policy", "history", POLICY, "--limit", "1", "--details").output
    assert "No conversations imported" in detailed or "newly imported" in detailed
    assert_archive_is_ground_truth(configured.exported(), truth, CODEC)


def test_serve_stopped_the_moment_it_is_listening_exits_cleanly(configured: Installation) -> None:
    """SIGTERM while the node is still starting (database, stores) ends it with exit 0."""
    env = {
        "CALLARCHIVE_HOME": str(configured.home),
        "CALLARCHIVE_DATABASE_URL": configured.database_url,
    }
    with running(["serve", "--port", "0"], env) as serve:
        serve.line("LISTENING")
        assert serve.stop() == 0, serve.diagnostics()
