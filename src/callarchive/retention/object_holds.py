"""Legal holds mirrored on the media objects as S3 legal holds (object lock on).

callarchive's legal holds live in the database, and the retention job never deletes what they
hold. With object lock, the media of a held conversation is also protected in the bucket itself
once its retention lock has run out: `sync_object_holds` puts an S3 legal hold on every object
of every conversation under an active hold, and takes it off the objects of conversations whose
holds were all released. It runs at the start of each retention job (daily), so the bucket
follows the holds within a day, and it is idempotent: an object already so is left alone.
"""

from __future__ import annotations

import dataclasses

import structlog

from callarchive.archive import Archive, HoldState, ObjectNotFoundError, ObjectStore

log = structlog.get_logger("callarchive.retention")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class HoldSync:
    """How many objects got an S3 legal hold, and how many had theirs taken off."""

    held: int = 0
    released: int = 0


async def sync_object_holds(archive: Archive, objects: ObjectStore) -> HoldSync:
    """Make the S3 legal holds of the media objects follow the archive's legal holds."""
    if not objects.object_lock:
        return HoldSync()
    active: set[int] = set()
    released: set[int] = set()
    for hold in await archive.holds.list():
        ids = await archive.holds.conversation_ids(hold.name)
        (active if hold.state is HoldState.ACTIVE else released).update(ids)
    held = await _set(archive, objects, sorted(active), on=True)
    freed = await _set(archive, objects, sorted(released - active), on=False)
    if held or freed:
        log.info("object_holds_synced", held=held, released=freed)
    return HoldSync(held=held, released=freed)


async def _set(
    archive: Archive, objects: ObjectStore, conversations: list[int], *, on: bool
) -> int:
    changed = 0
    for conversation_id in conversations:
        for media in await archive.retention.media(conversation_id):
            try:
                changed += await objects.hold(media.object_key, on=on)
            except ObjectNotFoundError:  # missing media: `callarchive verify --media` reports it
                log.warning("object_hold_skipped", object_key=media.object_key, reason="missing")
    return changed


__all__ = ["HoldSync", "sync_object_holds"]
