"""Ids in paths and bodies: the archive's ids are positive 64-bit integers (PostgreSQL `bigint`,
SQLite `INTEGER`), so an id outside that range is refused (422) before it reaches the database,
whose driver would fail on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_ID = 2**63 - 1

ArchiveId = Annotated[int, Path(ge=1, le=MAX_ID, description="an archive id")]
"""An archive id in a path."""

ArchiveIdValue = Annotated[int, Field(ge=1, le=MAX_ID)]
"""An archive id in a request body."""

__all__ = ["MAX_ID", "ArchiveId", "ArchiveIdValue"]
