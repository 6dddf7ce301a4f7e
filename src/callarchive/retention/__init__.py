"""callarchive.retention: deleting what is past its retention, never what a legal hold protects.

due, is_due        pure: which candidates go at `now` (start + period < now, not held)
RetentionJob       deletes media objects, then rows, each audited; a dry run lists them
daily_retention    the node's daily run, claimed once per day across nodes
sync_object_holds  legal holds mirrored on the media objects as S3 legal holds (object lock)
"""

from callarchive.retention.job import ACTOR, RetentionJob, RetentionOutcome
from callarchive.retention.object_holds import HoldSync, sync_object_holds
from callarchive.retention.schedule import (
    RUN_AT,
    daily_retention,
    due_day,
    run_if_due,
)
from callarchive.retention.selection import due, is_due

__all__ = [
    "ACTOR",
    "RUN_AT",
    "HoldSync",
    "RetentionJob",
    "RetentionOutcome",
    "daily_retention",
    "due",
    "due_day",
    "is_due",
    "run_if_due",
    "sync_object_holds",
]
