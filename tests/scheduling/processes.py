"""`callarchive serve` and `callarchive worker` as real processes, and what they print.

Each process logs JSON lines on standard error; `Process.wait_for` reads them until an event
matches (a bounded wait on the process's own output, not a sleep).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

COMMAND = [sys.executable, "-m", "callarchive.cli"]
# How long a test waits for a process to say or do something before it fails. Generous on
# purpose: the suite runs in parallel (pytest-xdist) beside other work on two cores, where starting
# a Python process, or a window of an import, takes many times what it does on an idle machine.
# It only bounds how soon a test that hangs fails; no test waits for it to pass.
PATIENCE_S = 300.0
Event = dict[str, Any]


class Process:
    """A running callarchive command; its stdout lines and JSON log events."""

    def __init__(
        self,
        args: list[str],
        env: Mapping[str, str],
        *,
        name: str = "",
        fleet: queue.Queue[tuple[Process, Any]] | None = None,
    ) -> None:
        self.name = name
        self._fleet = fleet
        self.popen = subprocess.Popen(
            [*COMMAND, *args],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[Event] = []
        self.stdout: list[str] = []
        self.other: list[str] = []
        self._queue: queue.Queue[Event | str | None] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read, args=(stream, parse), daemon=True)
            for stream, parse in ((self.popen.stdout, False), (self.popen.stderr, True))
        ]
        for reader in self._readers:
            reader.start()

    def close(self) -> None:
        """Kill the process if it still runs; read its output to the end; close the pipes."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=30)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()

    def _read(self, stream: Any, parse: bool) -> None:
        for line in stream:
            if not parse:
                self.stdout.append(line)
                self._queue.put(line)
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                self.other.append(line)
                continue
            self.events.append(event)
            self._queue.put(event)
            if self._fleet is not None:
                self._fleet.put((self, event))
        self._queue.put(None)

    def wait_for(self, matches: Callable[[Any], bool], timeout: float = PATIENCE_S) -> Any:
        """The first output (a stdout line or a log event) that `matches`, read from now on."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if item is None:
                raise AssertionError(f"the process ended: {self.diagnostics()}")
            if matches(item):
                return item
        raise AssertionError(f"nothing matched within {timeout} s: {self.diagnostics()}")

    def event(self, name: str, timeout: float = PATIENCE_S, **fields: Any) -> Event:
        """The next log event `name` with `fields`."""
        found: Event = self.wait_for(
            lambda e: (
                isinstance(e, dict)
                and e.get("event") == name
                and all(e.get(k) == v for k, v in fields.items())
            ),
            timeout,
        )
        return found

    def line(self, prefix: str, timeout: float = PATIENCE_S) -> str:
        """The next stdout line that starts with `prefix`."""
        found: str = self.wait_for(lambda e: isinstance(e, str) and e.startswith(prefix), timeout)
        return found.strip()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = PATIENCE_S) -> int:
        """Send `sig` and wait for the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        return self.popen.wait(timeout=timeout)

    def diagnostics(self) -> str:
        tail = [json.dumps(e) for e in self.events[-15:]] + self.other[-15:]
        return f"exit {self.popen.poll()}; stdout {self.stdout[-5:]}; log tail:\n" + "\n".join(tail)


@contextmanager
def running(args: list[str], env: Mapping[str, str]) -> Iterator[Process]:
    """A callarchive process, killed at the end if it is still running."""
    process = Process(args, env)
    try:
        yield process
    finally:
        process.close()


class Fleet:
    """Several callarchive processes whose log events are read as one stream."""

    def __init__(self) -> None:
        self.processes: list[Process] = []
        self._events: queue.Queue[tuple[Process, Any]] = queue.Queue()

    def start(self, name: str, args: list[str], env: Mapping[str, str]) -> Process:
        process = Process(args, env, name=name, fleet=self._events)
        self.processes.append(process)
        return process

    def event(
        self,
        name: str,
        timeout: float = PATIENCE_S,
        *,
        process: Process | None = None,
        **fields: Any,
    ) -> tuple[Process, Event]:
        """The next log event `name` with `fields` of any process (or of `process`), and who
        logged it."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                logged_by, event = self._events.get(timeout=left)
            except queue.Empty:
                break
            if process is not None and logged_by is not process:
                continue
            if event.get("event") == name and all(event.get(k) == v for k, v in fields.items()):
                return logged_by, event
        raise AssertionError(
            f"no {name} {fields} within {timeout} s:\n"
            + "\n".join(f"{p.name}: {p.diagnostics()}" for p in self.processes)
        )

    def close(self) -> None:
        for process in self.processes:
            process.close()


@contextmanager
def fleet() -> Iterator[Fleet]:
    """A fleet, every process killed at the end if still running."""
    started = Fleet()
    try:
        yield started
    finally:
        started.close()
