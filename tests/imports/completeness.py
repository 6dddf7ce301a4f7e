"""What a finished import must show: the archive is the ground truth, once, and nothing is lost.

Shared by the crash-safety and fault-profile tests. The archive is read through
`callarchive conversations export` records, the retry buffer and the cursor through the seed's
folders in the work store (the files an operator reads).
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from callarchive.imports.cursor import parse as parse_cursor
from callarchive.imports.retry_buffer import parse as parse_cdr
from tests.imports.test_end_to_end import COMPARED_KEYS


def wanted(truth: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The ground truth's conversations an importer must archive: recorded, ended voice calls."""
    return {
        c["conversation_id"]: c
        for c in truth["conversations"]
        if c["voice"] and c["recorded"] and c["ended"]
    }


def duplicates(values: Iterable[str]) -> list[str]:
    """The values that occur more than once."""
    return sorted(v for v, n in collections.Counter(values).items() if n > 1)


def assert_archive_is_ground_truth(
    records: list[dict[str, Any]], truth: Mapping[str, Any], codec: str
) -> None:
    """Every wanted conversation archived exactly once, with the ground truth's keys and media."""
    assert duplicates(r["platform_call_id"] for r in records) == []
    archived = {r["platform_call_id"]: r for r in records}
    expected = wanted(truth)
    assert sorted(archived) == sorted(expected)
    for conversation_id, conversation in expected.items():
        got = archived[conversation_id]
        for key in COMPARED_KEYS:
            assert got[key] == conversation["export"][key], (conversation_id, key)
        assert duplicates(r["recording_id"] for r in got["recordings"]) == [], conversation_id
        want = {
            r["recording_id"]: r["formats"][codec]["sha256"] for r in conversation["recordings"]
        }
        assert {r["recording_id"]: r["sha256"] for r in got["recordings"]} == want


def pair_folder(work_root: Path, kind: str) -> Path:
    """The one pair folder under `work_root/<kind>/` (`laststate`, `retryBuffer`, `work`)."""
    [folder] = (work_root / kind).iterdir()
    return folder


def buffered(work_root: Path) -> dict[str, list[str]]:
    """Conversation ids of the CDR files waiting in the retry buffer and in its inflight folder."""
    found: dict[str, list[str]] = {"buffer": [], "inflight": []}
    for name, folder in (("buffer", "retryBuffer"), ("inflight", "work")):
        root = work_root / folder
        pairs = list(root.iterdir()) if root.is_dir() else []
        for pair in pairs:
            files = pair.glob("*.xml") if name == "buffer" else (pair / "inflight").glob("*.xml")
            found[name] += [parse_cdr(f.read_bytes(), source=str(f)).conversation_id for f in files]
    return found


def cursor_position(work_root: Path) -> dt.datetime:
    """Where the cursor file says the import has got."""
    [cursor] = pair_folder(work_root, "laststate").glob("*.cursor")
    return parse_cursor(cursor.read_bytes(), source=str(cursor)).position


def traffic_end(truth: Mapping[str, Any]) -> dt.datetime:
    """The start of the ground truth's last conversation: the cursor must be past it."""
    return max(dt.datetime.fromisoformat(c["start"]) for c in truth["conversations"])
