"""The retention job: delete what is past its retention, media first and the row last.

Candidates are read page by page in (start, id) order and decided by `selection.due`. For each
conversation that goes: check the legal holds once more, delete its media objects (an object
already gone is not an error), then delete its row with the `retention_deleted` audit entry in
one transaction (which checks the holds again). A crash between the two leaves a row whose
objects are gone; the next run selects it again and finishes it. A dry run decides the same
and deletes nothing. A store or database failure stops the job; what it deleted stays deleted.
With object lock, each run first mirrors the legal holds on the media objects
(`sync_object_holds`); a conversation whose media the store refuses to delete because an object
lock is still in force (its retention was shortened after the import) is kept and counted, and
a later run deletes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import structlog

from callarchive.archive import Archive, Candidate, ObjectLockedError, ObjectStore
from callarchive.clock import Clock
from callarchive.retention.object_holds import sync_object_holds
from callarchive.retention.selection import due

log = structlog.get_logger("callarchive.retention")

PAGE = 500
ACTOR = "system:retention"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RetentionOutcome:
    """What a run deleted, or (dry run) would delete."""

    now: dt.datetime
    dry_run: bool
    conversations: tuple[Candidate, ...]  # deleted, or that a dry run would delete
    # Put under a legal hold between selection and deletion (kept), or deleted meanwhile by
    # another run (a hand-started run beside the daily one).
    held_meanwhile: int = 0
    objects_deleted: int = 0
    objects_already_gone: int = 0
    # Kept because the store refused to delete media still under object lock.
    locked: int = 0


class RetentionJob:
    """Deletes conversations past their retention from one archive and media store."""

    def __init__(
        self,
        archive: Archive,
        objects: ObjectStore,
        clock: Clock,
        *,
        actor: str = ACTOR,
        page: int = PAGE,
    ) -> None:
        self._archive = archive
        self._objects = objects
        self._clock = clock
        self._actor = actor
        self._page = page

    async def run(self, *, dry_run: bool = False, limit: int | None = None) -> RetentionOutcome:
        """Delete (or, dry run, list) every conversation past its retention now; a dry run
        stops after `limit` when given (a preview)."""
        now = self._clock.now()
        if not dry_run:
            await sync_object_holds(self._archive, self._objects)
        gone: list[Candidate] = []
        held = deleted_objects = missing_objects = locked = 0
        after: tuple[dt.datetime, int] | None = None
        while True:
            page = await self._archive.retention.candidates(now, after=after, limit=self._page)
            for candidate in due(page, now):
                if dry_run:
                    gone.append(candidate)
                    if limit is not None and len(gone) >= limit:
                        break
                    continue
                try:
                    removed = await self._delete(candidate)
                except ObjectLockedError as error:
                    cid = candidate.conversation_id
                    log.warning("retention_refused_by_lock", conversation_id=cid, reason=str(error))
                    locked += 1
                    continue
                if removed is None:
                    held += 1
                    continue
                gone.append(candidate)
                deleted_objects += removed[0]
                missing_objects += removed[1]
            if len(page) < self._page or (limit is not None and len(gone) >= limit):
                break
            after = (page[-1].start, page[-1].conversation_id)
        log.info(
            "retention_finished",
            dry_run=dry_run,
            conversations=len(gone),
            held_meanwhile=held,
            objects_deleted=deleted_objects,
            objects_already_gone=missing_objects,
            locked=locked,
        )
        return RetentionOutcome(
            now=now,
            dry_run=dry_run,
            conversations=tuple(gone),
            held_meanwhile=held,
            objects_deleted=deleted_objects,
            objects_already_gone=missing_objects,
            locked=locked,
        )

    async def _delete(self, candidate: Candidate) -> tuple[int, int] | None:
        """Media, then the row; (objects deleted, objects already gone), or None when a legal
        hold now protects the conversation (nothing is deleted) or another run deleted it."""
        cid = candidate.conversation_id
        if await self._archive.holds.held([cid]):
            return None
        media = await self._archive.retention.media(cid)
        missing = [m.object_key for m in media if not await self._objects.delete(m.object_key)]
        if not await self._archive.retention.delete(
            candidate, media, actor=self._actor, missing_objects=missing
        ):
            return None
        log.info(
            "conversation_deleted_by_retention",
            conversation_id=cid,
            genesys_conversation_id=candidate.genesys_id,
            retention_days=candidate.retention_days,
        )
        return len(media) - len(missing), len(missing)


__all__ = ["ACTOR", "RetentionJob", "RetentionOutcome"]
