"""A real forward proxy (tinyproxy, from Debian) on loopback, with basic authentication."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RunningProxy:
    host: str
    port: int
    username: str
    password: str
    log: list[str] = field(default_factory=list)

    def requests(self) -> list[str]:
        """The requests the proxy forwarded or tunnelled, as it logged them."""
        return [line for line in self.log if "Request (file descriptor" in line]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def tinyproxy(
    directory: Path, *, username: str = "alice", password: str = "pr0xy-pass"
) -> Iterator[RunningProxy]:
    """Run tinyproxy in the foreground; returns once it accepts connections."""
    port = _free_port()
    config = directory / "tinyproxy.conf"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "Listen 127.0.0.1",
                "Timeout 60",
                "LogLevel Info",
                "MaxClients 100",
                f"BasicAuth {username} {password}",
                "Allow 127.0.0.1",
            ]
        )
        + "\n"
    )
    process = subprocess.Popen(
        ["tinyproxy", "-d", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    proxy = RunningProxy(host="127.0.0.1", port=port, username=username, password=password)
    for line in process.stdout:  # blocks until tinyproxy says it is ready (or exits)
        proxy.log.append(line)
        if "Accepting connections" in line:
            break
    else:
        raise RuntimeError("tinyproxy did not start:\n" + "".join(proxy.log))
    reader = threading.Thread(target=lambda: proxy.log.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        yield proxy
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=10)
        process.stdout.close()
