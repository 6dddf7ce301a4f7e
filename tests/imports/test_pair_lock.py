"""One run of a pair at a time across nodes: while another node (a process of its own) holds
the pair's lock, `import run` and `cursor set` refuse at once with a retryable exit and touch
nothing; once that node is killed (SIGKILL), PostgreSQL frees its lock and the import runs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.archive.fixtures import POSTGRES_URL
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import POLICY, SOURCE, Installation
from tests.reliability.cluster import database_on, libpq

RETRY_LATER = 75
PAIR = (POLICY, SOURCE)


@pytest.fixture
def installation(make_installation: InstallationFactory) -> Iterator[Installation]:
    with database_on(POSTGRES_URL) as url:
        installation = make_installation(database_url=url)
        installation.configure()
        yield installation


@pytest.fixture
def other_node(installation: Installation) -> Iterator[subprocess.Popen[str]]:
    module = "tests.imports.lock_holder"
    holder = subprocess.Popen(
        [sys.executable, "-m", module, str(installation.home), installation.database_url, *PAIR],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    try:
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=30)
        holder.stdout.close()
        if holder.stdin is not None:
            holder.stdin.close()


def advisory_locks(url: str) -> int:
    with psycopg.connect(libpq(url)) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND d.datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def wait_released(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while advisory_locks(url):
        assert time.monotonic() < deadline, "the killed node's lock was never released"
        time.sleep(0.05)


def test_a_run_refuses_while_another_node_holds_the_pair_and_runs_once_it_died(
    installation: Installation, other_node: subprocess.Popen[str]
) -> None:
    refused = installation.import_run()
    assert refused.exit_code == RETRY_LATER, refused.output
    assert "another node is running policy" in refused.output
    assert installation.exported() == []
    set_ = installation.cli("cursor", "set", "--policy", POLICY, "--source", SOURCE, "2020-01-01")
    assert set_.exit_code == RETRY_LATER, set_.output

    other_node.send_signal(signal.SIGKILL)
    other_node.wait(timeout=30)
    wait_released(installation.database_url)
    installation.catch_up()
    assert installation.exported() != []
