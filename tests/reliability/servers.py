"""Servers a test may stop and start again while an import runs: a PostgreSQL cluster of its own
and an S3-compatible server whose data outlives its listener.

The suite's shared PostgreSQL (`POSTGRES_URL`) serves every other test at the same time, so a
test that restarts the database gets a private cluster: Debian's `initdb` and `pg_ctl`, run as
the `postgres` user (initdb refuses root) on a free loopback port, its data and socket in a
temporary folder. `pg_ctl stop -m fast` disconnects every client and shuts down cleanly;
`-m immediate` kills the server processes, like a crash, and the next start replays the WAL.

moto keeps its buckets in the memory of its process, so killing that process would lose them.
`RestartableS3` runs moto in a helper process of its own (`python -m tests.reliability.s3_server`)
whose listener is closed, together with every connection it had accepted, and later bound again
to the same port: to a client that is what a restart of an S3-compatible server looks like
(connections cut, the port refusing, then the same objects), while the data lives on in the
helper's memory as it would on a real server's disk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from callarchive.archive import S3Options
from callarchive.secrets import Secret

POSTGRES_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
POSTGRES_USER = "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateCluster:
    """A PostgreSQL cluster of one test, on 127.0.0.1:`port`; stop and start it at will."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.bin = POSTGRES_BINARIES[-1].parent
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.url = f"postgresql+psycopg://{POSTGRES_USER}@127.0.0.1:{port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        command = ["runuser", "-u", POSTGRES_USER, "--", *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        assert done.returncode == 0, f"{' '.join(args)}: {done.stdout}{done.stderr}"

    def init(self) -> None:
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", POSTGRES_USER,
            "-A", "trust", "--no-sync", "-E", "UTF8",
        )  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it accepts connections (`pg_ctl -w`)."""
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c fsync=off"
        )
        self._as_postgres(
            str(self.bin / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
            "-l", str(self.log), "-o", options,
        )  # fmt: skip

    def stop(self, mode: str) -> None:
        """`pg_ctl stop -m MODE`: `fast` (clients disconnected, clean shutdown) or `immediate`
        (the server processes killed, like a crash: the next start recovers from the WAL)."""
        self._as_postgres(
            str(self.bin / "pg_ctl"), "stop", "-w", "-t", "60", "-D", str(self.data), "-m", mode
        )

    def running(self) -> bool:
        status = subprocess.run(
            ["runuser", "-u", POSTGRES_USER, "--", str(self.bin / "pg_ctl"), "status",
             "-D", str(self.data)],
            capture_output=True, check=False,
        )  # fmt: skip
        return status.returncode == 0


def require_private_postgres() -> None:
    """Fail with what is missing when a private cluster cannot be made here."""
    if os.geteuid() != 0:
        pytest.fail(
            "this test runs initdb and pg_ctl as the postgres user (runuser), which needs root",
            pytrace=False,
        )
    if not POSTGRES_BINARIES:
        pytest.fail(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install Debian's "
            "postgresql package); this test restarts a PostgreSQL cluster of its own",
            pytrace=False,
        )
    if shutil.which("runuser") is None:
        pytest.fail("runuser is missing (util-linux); it runs initdb as postgres", pytrace=False)


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A running PostgreSQL cluster of its own, removed at the end."""
    require_private_postgres()
    # Not under pytest's tmp_path: that is root's, mode 0700, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="callarchive-postgres-"))
    shutil.chown(folder, user=POSTGRES_USER, group=POSTGRES_USER)
    cluster = PrivateCluster(folder, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


class RestartableS3:
    """moto in a helper process; `stop()` closes its listener and connections, `start()` binds
    the same port again, and the buckets and objects stay."""

    def __init__(self, helper: subprocess.Popen[str], port: int) -> None:
        self._helper = helper
        self.port = port
        self.options = S3Options(
            endpoint_url=f"http://127.0.0.1:{port}",
            region="us-east-1",
            access_key_id="testing",
            secret_access_key=Secret("testing"),
        )

    def _say(self, command: str) -> str:
        assert self._helper.stdin is not None
        assert self._helper.stdout is not None
        self._helper.stdin.write(command + "\n")
        self._helper.stdin.flush()
        answer = self._helper.stdout.readline().strip()
        assert answer, f"the S3 helper ended (exit {self._helper.poll()})"
        return answer

    def stop(self) -> None:
        assert self._say("stop") == "stopped"

    def start(self) -> None:
        assert self._say("start") == f"listening {self.port}"


@contextlib.contextmanager
def restartable_s3(bucket: str) -> Iterator[RestartableS3]:
    """A restartable S3-compatible server with `bucket`, ended at the end."""
    port = free_port()
    helper = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.s3_server", str(port), bucket],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert helper.stdout is not None
        assert helper.stdout.readline().strip() == f"listening {port}"
        yield RestartableS3(helper, port)
    finally:
        helper.kill()
        helper.wait(timeout=30)
        for stream in (helper.stdin, helper.stdout):
            if stream is not None:
                stream.close()


__all__ = ["PrivateCluster", "RestartableS3", "private_cluster", "restartable_s3"]
