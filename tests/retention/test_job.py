"""The retention job: exactly what is past its period and not held goes, media then row, each
audited; a dry run deletes nothing; a run interrupted half-way is finished by the next."""

from __future__ import annotations

import datetime as dt
import secrets

import botocore.exceptions
import pytest

from callarchive.archive import AuditFilter, ObjectStore, S3Options, StoreUnavailableError
from callarchive.retention import RetentionJob
from tests.archive.fixtures import LOCKED_BUCKET, s3_admin
from tests.retention.conftest import NOW, Setting

FIVE_YEARS = 5 * 365


async def _keys(setting: Setting, conversation_id: int) -> list[str]:
    return [m.object_key for m in await setting.archive.retention.media(conversation_id)]


async def _exists(objects: ObjectStore, key: str) -> bool:
    return await objects.size(key) is not None


async def test_only_conversations_past_their_period_and_not_held_are_deleted(
    setting: Setting,
) -> None:
    old = await setting.archived("old", age_days=FIVE_YEARS + 1)
    young = await setting.archived("young", age_days=FIVE_YEARS - 1)
    kept_for_ever = await setting.archived("for-ever", age_days=4000, policy="forever")
    held = await setting.archived("held", age_days=FIVE_YEARS + 10)
    await setting.archive.holds.create("Case 42", reason="SEC inquiry", actor="ann",
                                       conversation_ids=[held.id or 0])  # fmt: skip
    old_keys = await _keys(setting, old.id or 0)

    outcome = await RetentionJob(setting.archive, setting.objects, setting.clock).run()

    assert [c.genesys_id for c in outcome.conversations] == ["old"]
    assert await setting.archive.conversations.get(old.id or 0) is None
    for survivor in (young, kept_for_ever, held):
        assert await setting.archive.conversations.get(survivor.id or 0) is not None
        for key in await _keys(setting, survivor.id or 0):
            assert await _exists(setting.objects, key)
    for key in old_keys:
        assert not await _exists(setting.objects, key)
    assert outcome.objects_deleted == 2


async def test_a_users_override_replaces_the_policys_period(setting: Setting) -> None:
    await setting.archive.retention.set_user_days("joe", 30, actor="admin")
    await setting.archive.retention.set_user_days("jane", 10 * 365, actor="admin")
    joes = await setting.archived("joes", age_days=31, user="joe")
    janes = await setting.archived("janes", age_days=FIVE_YEARS + 1, user="jane")
    joes_for_ever = await setting.archived("joes-2", age_days=31, user="joe", policy="forever")

    outcome = await RetentionJob(setting.archive, setting.objects, setting.clock).run()

    assert sorted(c.genesys_id for c in outcome.conversations) == ["joes", "joes-2"]
    assert await setting.archive.conversations.get(joes.id or 0) is None
    assert await setting.archive.conversations.get(joes_for_ever.id or 0) is None
    assert await setting.archive.conversations.get(janes.id or 0) is not None


async def test_a_dry_run_lists_what_would_go_and_deletes_nothing(setting: Setting) -> None:
    old = await setting.archived("old", age_days=FIVE_YEARS + 1)
    await setting.archived("young", age_days=3)
    before = await setting.archive.audit.count()

    outcome = await RetentionJob(setting.archive, setting.objects, setting.clock).run(dry_run=True)

    assert [c.genesys_id for c in outcome.conversations] == ["old"]
    assert outcome.dry_run
    assert await setting.archive.conversations.get(old.id or 0) is not None
    for key in await _keys(setting, old.id or 0):
        assert await _exists(setting.objects, key)
    assert await setting.archive.audit.count() == before


async def test_each_deletion_is_audited_with_the_genesys_id_and_sha256s(setting: Setting) -> None:
    old = await setting.archived("old", age_days=FIVE_YEARS + 1)

    await RetentionJob(setting.archive, setting.objects, setting.clock).run()

    [entry] = await setting.archive.audit.list(AuditFilter(action="retention_deleted"))
    assert entry.actor == "system:retention"
    assert entry.target == f"conversation:{old.id}"
    assert entry.details["genesys_conversation_id"] == "old"
    assert entry.details["retention_days"] == FIVE_YEARS
    assert [r["sha256"] for r in entry.details["recordings"]] == [r.sha256 for r in old.recordings]
    assert entry.details["objects_already_gone"] == []


class _FailingStore(ObjectStore):
    """A media store whose deletions fail after `allowed` of them (the process dies)."""

    def __init__(self, inner: ObjectStore, allowed: int) -> None:
        super().__init__(inner._store)
        self.allowed = allowed

    async def delete(self, key: str) -> bool:
        if self.allowed == 0:
            raise StoreUnavailableError("the store went away")
        self.allowed -= 1
        return await super().delete(key)


async def test_a_run_stopped_between_media_and_row_is_finished_by_the_next(
    setting: Setting,
) -> None:
    first = await setting.archived("first", age_days=FIVE_YEARS + 2)
    second = await setting.archived("second", age_days=FIVE_YEARS + 1)
    crashing = _FailingStore(setting.objects, allowed=3)  # both of first's, one of second's

    try:
        await RetentionJob(setting.archive, crashing, setting.clock).run()
    except StoreUnavailableError:
        pass
    else:
        raise AssertionError("the run should have stopped")
    assert await setting.archive.conversations.get(first.id or 0) is None
    assert await setting.archive.conversations.get(second.id or 0) is not None

    outcome = await RetentionJob(setting.archive, setting.objects, setting.clock).run()

    assert [c.genesys_id for c in outcome.conversations] == ["second"]
    assert outcome.objects_already_gone == 1
    assert await setting.archive.conversations.get(second.id or 0) is None
    entries = await setting.archive.audit.list(AuditFilter(action="retention_deleted"))
    assert sorted(e.details["genesys_conversation_id"] for e in entries) == ["first", "second"]
    [late] = [e for e in entries if e.details["genesys_conversation_id"] == "second"]
    assert late.details["objects_already_gone"] == [second.recordings[0].object_key]


async def test_a_conversation_held_after_selection_survives(setting: Setting) -> None:
    old = await setting.archived("old", age_days=FIVE_YEARS + 1)
    [candidate] = await setting.archive.retention.candidates(setting.clock.now())
    await setting.archive.holds.create("Late hold", reason="litigation", actor="ann",
                                       conversation_ids=[old.id or 0])  # fmt: skip

    deleted = await setting.archive.retention.delete(
        candidate, [], actor="system:retention", missing_objects=[]
    )

    assert not deleted
    assert await setting.archive.conversations.get(old.id or 0) is not None


async def test_media_still_under_object_lock_is_kept_and_the_rest_deleted(
    setting: Setting, s3_server: S3Options
) -> None:
    """A period shortened after the import: the store refuses to delete media locked until the
    old end; that conversation is kept (counted) and the others go, every version of them."""
    prefix = secrets.token_hex(6)
    setting.objects = ObjectStore.from_url(
        f"s3://{LOCKED_BUCKET}/{prefix}", s3=s3_server, object_lock=True
    )
    locked = await setting.archived("locked", age_days=FIVE_YEARS + 2)
    unlocked = await setting.archived("unlocked", age_days=FIVE_YEARS + 1)
    now = dt.datetime.now(dt.UTC)  # the server judges locks by real time
    for key in await _keys(setting, locked.id or 0):
        assert await setting.objects.retain(key, now + dt.timedelta(days=30), now=now)

    outcome = await RetentionJob(setting.archive, setting.objects, setting.clock).run()

    assert [c.genesys_id for c in outcome.conversations] == ["unlocked"]
    assert outcome.locked == 1
    assert await setting.archive.conversations.get(locked.id or 0) is not None
    assert await setting.archive.conversations.get(unlocked.id or 0) is None
    listed = s3_admin(s3_server).list_object_versions(Bucket=LOCKED_BUCKET, Prefix=prefix)
    remaining = {v["Key"].removeprefix(f"{prefix}/") for v in listed.get("Versions", [])}
    assert remaining == set(await _keys(setting, locked.id or 0))


async def test_what_retention_deleted_is_read_back_by_source_and_day(setting: Setting) -> None:
    await setting.archive.retention.set_user_days("joe", 30, actor="admin")
    day = NOW - dt.timedelta(days=40)
    gone = [await setting.archived(f"gone-{n}", age_days=40 - n / 24, user="joe") for n in (0, 3)]
    await setting.archived("kept", age_days=40 - 5 / 24, user="jane")
    await setting.archived("other-day", age_days=45, user="joe")
    await RetentionJob(setting.archive, setting.objects, setting.clock).run()
    assert setting.source.id is not None
    start, end = day - dt.timedelta(hours=1), day + dt.timedelta(hours=12)

    found = await setting.archive.retention.deleted(setting.source.id, start, end)

    assert found == {c.genesys_id for c in gone} == {"gone-0", "gone-3"}
    assert await setting.archive.retention.deleted(setting.source.id + 1, start, end) == set()
    later = await setting.archive.retention.deleted(setting.source.id, end, NOW)
    assert later == set()


async def test_legal_holds_are_mirrored_on_the_objects_and_lifted_on_release(
    setting: Setting, s3_server: S3Options
) -> None:
    """Past its retention and with no retention lock left, a held conversation's media is still
    refused to the administrator (an S3 legal hold); released, the next run deletes it."""
    prefix = secrets.token_hex(6)
    setting.objects = ObjectStore.from_url(
        f"s3://{LOCKED_BUCKET}/{prefix}", s3=s3_server, object_lock=True
    )
    held = await setting.archived("held", age_days=FIVE_YEARS + 2)
    holds = setting.archive.holds
    await holds.create(
        "Case 42", reason="SEC inquiry", actor="ann", conversation_ids=[held.id or 0]
    )
    admin = s3_admin(s3_server)
    keys = await _keys(setting, held.id or 0)

    outcome = await RetentionJob(setting.archive, setting.objects, setting.clock).run()

    assert outcome.conversations == ()
    for key in keys:
        head = admin.head_object(Bucket=LOCKED_BUCKET, Key=f"{prefix}/{key}")
        assert head["ObjectLockLegalHoldStatus"] == "ON"
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            admin.delete_object(
                Bucket=LOCKED_BUCKET, Key=f"{prefix}/{key}", VersionId=head["VersionId"]
            )
        assert refused.value.response["Error"]["Code"] == "AccessDenied"

    await holds.request_release("Case 42", actor="ann")
    await holds.approve_release("Case 42", actor="bob")
    outcome = await RetentionJob(setting.archive, setting.objects, setting.clock).run()

    assert [c.genesys_id for c in outcome.conversations] == ["held"]
    listed = admin.list_object_versions(Bucket=LOCKED_BUCKET, Prefix=prefix)
    assert listed.get("Versions", []) == []
