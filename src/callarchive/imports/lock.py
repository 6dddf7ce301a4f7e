"""The run lock: two runs of the same policy and import source never overlap on one node.

An exclusive `flock` on a file per pair under the installation's home; the kernel releases it
when the process ends, however it ends, so a crashed run never leaves a stale lock behind.
(Several nodes share a database lock instead; see the scheduling package.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from callarchive.errors import RetryableError


class RunInProgressError(RetryableError):
    """Another run of the same policy and import source holds the lock."""


@contextlib.contextmanager
def run_lock(folder: Path, name: str) -> Iterator[None]:
    """Hold the lock `name` for the block; RunInProgressError at once when someone else has it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgressError(
                f"another run of {name} is in progress (lock {path}); wait for it to finish"
            ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(descriptor)
