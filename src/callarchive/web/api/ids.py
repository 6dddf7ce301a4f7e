"""Ids in paths: the archive's ids are positive 64-bit integers (PostgreSQL `bigint`, SQLite
`INTEGER`), so a path id outside that range is refused (422) before it reaches the database,
whose driver would fail on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2**63 - 1

ArchiveId = Annotated[int, Path(ge=1, le=MAX_ID, description="an archive id")]

__all__ = ["MAX_ID", "ArchiveId"]
