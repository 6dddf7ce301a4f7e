"""Async analytics details jobs: submit one, wait until Genesys has fulfilled it.

The import reads history through them (beyond the details query's reach) and the partition
backfill reads participant attributes through them (only jobs return attributes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from callarchive.clock import Clock
from callarchive.errors import RetryableError
from callarchive.genesys import GenesysClient

JOB_POLL_S = 2.0
JOB_PATIENCE_S = 1800.0


async def fulfilled_job(
    client: GenesysClient,
    clock: Clock,
    start: dt.datetime,
    end: dt.datetime,
    ids: Sequence[str] = (),
) -> str:
    """The id of a fulfilled details job over [start, end) (just `ids`, when given)."""
    job_id = await client.submit_details_job(start, end, conversation_ids=ids)
    waited = 0.0
    while (state := (await client.details_job_status(job_id)).state) != "FULFILLED":
        if state in ("FAILED", "CANCELLED", "EXPIRED") or waited > JOB_PATIENCE_S:
            raise RetryableError(f"the analytics details job {job_id} ended {state}")
        await clock.sleep(JOB_POLL_S)
        waited += JOB_POLL_S
    return job_id


__all__ = ["JOB_PATIENCE_S", "JOB_POLL_S", "fulfilled_job"]
