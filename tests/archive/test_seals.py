"""Seals: every archived conversation is sealed at import, chained per day and signed; the
audit log is chained; verification finds every change and passes a clean archive."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib

import pytest
from sqlalchemy import delete, select, text, update

from callarchive.archive import Archive, ObjectStore
from callarchive.archive.schema import AuditRow, ConversationRow, SealChainRow, SealRow
from callarchive.archive.seals import (
    ObjectStoreMedia,
    ProblemKind,
    Verification,
    VerifyStep,
    seal_message,
)
from callarchive.configuration import ImportSource, User
from callarchive.errors import CallarchiveError
from callarchive.secrets import SealKey, SecretBox
from callarchive.signing import SealKeyring
from tests.archive.builders import conversation, recording
from tests.configuration.builders import make_source


@pytest.fixture
async def source(archive: Archive) -> ImportSource:
    await archive.users.add(User(login="jane", name="Jane Doe"), actor="t")
    return await archive.import_sources.add(make_source(), actor="t")


def kinds(verification: Verification) -> set[ProblemKind]:
    return {problem.kind for problem in verification.problems}


async def test_a_clean_archive_verifies(archive: Archive, source: ImportSource) -> None:
    for number in range(3):
        await archive.conversations.save(conversation(source.id, f"g{number}"))
    result = await archive.seals.verify(everything=True, audit=True)
    assert result.ok, result.report()
    assert result.conversations == 3
    assert result.seals == 3
    assert result.audit_entries >= 2
    assert "result: OK" in result.report()


async def test_saving_again_keeps_the_seal(archive: Archive, source: ImportSource) -> None:
    await archive.conversations.save(conversation(source.id, "g1"))
    await archive.conversations.save(conversation(source.id, "g1"))
    async with archive.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM seals")) == 1


async def test_late_media_appends_a_new_seal_and_verify_uses_it(
    archive: Archive, source: ImportSource
) -> None:
    first = conversation(source.id, "g1")
    saved = await archive.conversations.save(first)
    late = dataclasses.replace(
        first, recordings=(*first.recordings, recording(source.id, "g1", 2)), media_complete=True
    )
    await archive.conversations.save(late)
    async with archive.engine.connect() as connection:
        positions = (await connection.execute(select(SealRow.position))).scalars().all()
    assert sorted(positions) == [1, 2]
    result = await archive.seals.verify(conversation_id=saved.id)
    assert result.ok, result.report()


async def test_a_changed_metadata_field_is_detected(archive: Archive, source: ImportSource) -> None:
    saved = await archive.conversations.save(conversation(source.id, "g1"))
    async with archive.engine.begin() as connection:
        await connection.execute(
            update(ConversationRow)
            .where(ConversationRow.id == saved.id)
            .values(to_number="+10000000000")
        )
    result = await archive.seals.verify(conversation_id=saved.id)
    assert kinds(result) == {ProblemKind.METADATA_CHANGED}
    assert "to_number" in result.report()
    # Importing it again does not launder the change into a new seal.
    await archive.conversations.save(
        dataclasses.replace(conversation(source.id, "g1"), media_complete=True)
    )
    assert kinds(await archive.seals.verify(conversation_id=saved.id)) == {
        ProblemKind.METADATA_CHANGED
    }


async def test_a_changed_recording_checksum_is_detected(
    archive: Archive, source: ImportSource
) -> None:
    saved = await archive.conversations.save(conversation(source.id, "g1"))
    async with archive.engine.begin() as connection:
        await connection.execute(text("UPDATE recordings SET sha256 = :x"), {"x": "cd" * 32})
    result = await archive.seals.verify(day=None, conversation_id=saved.id)
    assert kinds(result) == {ProblemKind.METADATA_CHANGED}
    assert "recordings" in result.report()


async def test_a_broken_chain_is_detected(archive: Archive, source: ImportSource) -> None:
    for number in range(3):
        await archive.conversations.save(conversation(source.id, f"g{number}"))
    async with archive.engine.begin() as connection:
        await connection.execute(delete(SealRow).where(SealRow.position == 2))
    result = await archive.seals.verify(everything=True)
    assert ProblemKind.CHAIN_BROKEN in kinds(result)
    assert ProblemKind.NOT_SEALED in kinds(result)


async def test_a_removed_last_seal_is_detected(archive: Archive, source: ImportSource) -> None:
    for number in range(2):
        await archive.conversations.save(conversation(source.id, f"g{number}"))
    async with archive.engine.begin() as connection:
        await connection.execute(delete(SealRow).where(SealRow.position == 2))
        await connection.execute(
            delete(ConversationRow).where(ConversationRow.genesys_conversation_id == "g1")
        )
    result = await archive.seals.verify(everything=True)
    assert kinds(result) == {ProblemKind.CHAIN_BROKEN}


async def test_a_resealed_document_without_the_key_is_detected(
    archive: Archive, source: ImportSource
) -> None:
    """Someone changes a field and rewrites the seal and link: the signature gives it away."""
    saved = await archive.conversations.save(conversation(source.id, "g1"))
    async with archive.engine.begin() as connection:
        row = (await connection.execute(select(SealRow))).one()
        document = row.document.replace("+14155550199", "+10000000000")
        seal = hashlib.sha256(document.encode()).hexdigest()
        link = hashlib.sha256(bytes.fromhex(seal)).hexdigest()
        await connection.execute(update(SealRow).values(document=document, seal=seal, link=link))
        await connection.execute(
            update(SealChainRow).where(SealChainRow.chain == row.day).values(head=link)
        )
        await connection.execute(
            update(ConversationRow)
            .where(ConversationRow.id == saved.id)
            .values(to_number="+10000000000", dialed_number="+10000000000")
        )
    assert kinds(await archive.seals.verify(conversation_id=saved.id)) == {
        ProblemKind.SIGNATURE_INVALID
    }


async def test_another_installations_key_is_reported_as_unknown(
    archive: Archive, source: ImportSource
) -> None:
    await archive.conversations.save(conversation(source.id, "g1"))
    other = Archive(archive.engine, archive._context.box, seal_key=SealKey.generate())
    result = await other.seals.verify(everything=True, audit=True)
    assert kinds(result) == {ProblemKind.UNKNOWN_KEY}
    assert archive.seals.verifier.key_id in result.report()


async def test_an_edited_or_deleted_audit_entry_is_detected(archive: Archive) -> None:
    for number in range(3):
        await archive.audit.record(actor="t", action="played", target=f"conversation:{number}")
    assert (await archive.seals.verify(audit=True)).ok
    async with archive.engine.begin() as connection:
        ids = (await connection.execute(select(AuditRow.id).order_by(AuditRow.id))).scalars().all()
        await connection.execute(update(AuditRow).where(AuditRow.id == ids[1]).values(actor="x"))
    assert kinds(await archive.seals.verify(audit=True)) == {ProblemKind.CHAIN_BROKEN}
    async with archive.engine.begin() as connection:
        await connection.execute(delete(AuditRow).where(AuditRow.id == ids[1]))
    edited = await archive.seals.verify(audit=True)
    assert kinds(edited) == {ProblemKind.CHAIN_BROKEN}
    assert f"audit:{ids[2]}" in edited.report()
    async with archive.engine.begin() as connection:
        await connection.execute(delete(AuditRow).where(AuditRow.id >= ids[1]))
    assert "removed from its end" in (await archive.seals.verify(audit=True)).report()


async def test_concurrent_saves_do_not_fork_the_day(archive: Archive, source: ImportSource) -> None:
    await asyncio.gather(
        *(archive.conversations.save(conversation(source.id, f"g{n}")) for n in range(8))
    )
    result = await archive.seals.verify(everything=True)
    assert result.ok, result.report()
    assert result.seals == 8


async def test_a_save_whose_seal_fails_archives_nothing(
    archive: Archive, source: ImportSource
) -> None:
    """Sealing is in the save's transaction: when the seal cannot be written, the
    conversation is not archived either (and the next save seals it)."""
    await archive.conversations.save(conversation(source.id, "g0"))
    async with archive.engine.begin() as connection:
        day = (await connection.execute(select(SealRow.day))).scalar_one()
        await connection.execute(
            update(SealChainRow).where(SealChainRow.chain == day).values(length=0)
        )  # the next seal takes position 1 again, which the unique constraint refuses
    with pytest.raises(CallarchiveError):
        await archive.conversations.save(conversation(source.id, "g1"))
    async with archive.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM seals")) == 1
        assert await connection.scalar(text("SELECT count(*) FROM conversations")) == 1


async def _chunks(data: bytes):  # type: ignore[no-untyped-def]
    yield data


async def test_a_tampered_media_byte_and_a_missing_object_are_detected(
    archive: Archive, source: ImportSource, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    store = ObjectStore.from_url(f"file://{tmp_path}/media")
    data = b"RIFF" + bytes(2000)
    records = []
    for number in (1, 2):
        key = f"k{number}"
        stored = await store.put(key, _chunks(data))
        records.append(
            recording(
                source.id, f"g{number}", object_key=key, size=stored.size, sha256=stored.sha256
            )
        )
        await archive.conversations.save(
            conversation(source.id, f"g{number}", recordings=(records[-1],))
        )
    assert (await archive.seals.verify(everything=True, media=ObjectStoreMedia(store))).ok
    path = tmp_path / "media" / "k1"
    tampered = bytearray(path.read_bytes())
    tampered[100] ^= 1
    path.write_bytes(bytes(tampered))
    (tmp_path / "media" / "k2").unlink()
    result = await archive.seals.verify(everything=True, media=ObjectStoreMedia(store))
    assert kinds(result) == {ProblemKind.MEDIA_CHANGED, ProblemKind.MEDIA_MISSING}
    assert result.recordings_read == 2


async def test_a_day_verifies_its_chain_and_its_conversations(
    archive: Archive, source: ImportSource
) -> None:
    saved = await archive.conversations.save(conversation(source.id, "g1"))
    [day] = await archive.seals.days()
    result = await archive.seals.verify(day=day)
    assert result.ok, result.report()
    assert (result.conversations, result.seals, result.chains) == (1, 1, (day,))
    async with archive.engine.begin() as connection:
        await connection.execute(
            update(ConversationRow).where(ConversationRow.id == saved.id).values(duration_s=1)
        )
    assert kinds(await archive.seals.verify(day=day)) == {ProblemKind.METADATA_CHANGED}
    assert (await archive.seals.verify(day="2001-01-01")).conversations == 0


async def test_concurrent_audit_entries_do_not_fork_the_audit_chain(archive: Archive) -> None:
    await asyncio.gather(
        *(archive.audit.record(actor="t", action="played", target=f"c:{n}") for n in range(8))
    )
    result = await archive.seals.verify(audit=True)
    assert result.ok, result.report()
    assert result.audit_entries == 8


async def test_a_seal_made_before_key_ids_still_verifies(database_url: str, box: SecretBox) -> None:
    """Seals of revision v0007 have no key id and sign the `v1` message."""
    key = SealKey.generate()
    archive = Archive.open(database_url, box, seal_key=key)
    try:
        await archive.users.add(User(login="jane", name="Jane Doe"), actor="t")
        source = await archive.import_sources.add(make_source(), actor="t")
        await archive.conversations.save(conversation(source.id, "g1"))
        async with archive.engine.begin() as connection:
            row = (await connection.execute(select(SealRow))).one()
            message = seal_message(
                row.day, row.position, f"conversation:{row.conversation_id}", row.seal, row.link
            )
            await connection.execute(
                update(SealRow).values(signature=key.sign(message), key_id=None, origin=None)
            )
        result = await archive.seals.verify(everything=True)
        assert result.ok, result.report()
        async with archive.engine.begin() as connection:
            await connection.execute(update(SealRow).values(signature="00" * 64))
        assert kinds(await archive.seals.verify(everything=True)) == {ProblemKind.SIGNATURE_INVALID}
    finally:
        await archive.close()


async def test_seals_keep_verifying_after_the_signing_key_is_rotated(
    database_url: str, box: SecretBox
) -> None:
    """Seal, rotate, seal more: every seal and audit entry verifies with the keyring."""
    keyring = SealKeyring(SealKey.generate())
    rotated = keyring.rotated(SealKey.generate(), dt.datetime.now(dt.UTC))
    before = Archive.open(database_url, box, seal_key=keyring)
    after = Archive.open(database_url, box, seal_key=rotated)
    try:
        await before.users.add(User(login="jane", name="Jane Doe"), actor="t")
        source = await before.import_sources.add(make_source(), actor="t")
        for number in range(3):
            await before.conversations.save(conversation(source.id, f"a{number}"))
        for number in range(3):
            await after.conversations.save(conversation(source.id, f"b{number}"))
        result = await after.seals.verify(everything=True, audit=True)
        assert result.ok, result.report()
        assert result.seals == 6
        async with after.engine.connect() as connection:
            key_ids = (await connection.execute(select(SealRow.key_id))).scalars().all()
        assert sorted(set(key_ids)) == sorted({keyring.signer.key_id, rotated.signer.key_id})
        # The installation before the rotation does not know the new key.
        assert kinds(await before.seals.verify(everything=True)) == {ProblemKind.UNKNOWN_KEY}
    finally:
        await before.close()
        await after.close()


async def test_everything_is_verified_in_batches_and_a_tampered_conversation_found(
    archive: Archive, source: ImportSource
) -> None:
    saved = [
        await archive.conversations.save(conversation(source.id, f"g{number:03d}"))
        for number in range(300)
    ]
    middle = saved[150].id
    async with archive.engine.begin() as connection:
        await connection.execute(
            update(ConversationRow).where(ConversationRow.id == middle).values(duration_s=1)
        )
    batches: list[tuple[VerifyStep, int]] = []
    result = await archive.seals.verify(
        everything=True, audit=True, batch_size=40, progress=lambda *batch: batches.append(batch)
    )
    assert [(p.kind, p.subject) for p in result.problems] == [
        (ProblemKind.METADATA_CHANGED, f"conversation:{middle}")
    ]
    assert result.problems[0].message.startswith("duration_s differ")
    assert (result.conversations, result.seals) == (300, 300)
    assert await archive.seals.totals() == {VerifyStep.SEALS: 300, VerifyStep.CONVERSATIONS: 300}
    conversation_batches = [count for step, count in batches if step is VerifyStep.CONVERSATIONS]
    assert conversation_batches == [40] * 7 + [20]
    assert sum(count for step, count in batches if step is VerifyStep.SEALS) == 300
    assert "result: 1 problem(s)" in result.report()


async def test_verifying_everything_checks_sealed_conversations_no_longer_archived(
    archive: Archive, source: ImportSource
) -> None:
    kept = await archive.conversations.save(conversation(source.id, "kept"))
    gone = await archive.conversations.save(conversation(source.id, "gone"))
    async with archive.engine.begin() as connection:
        await connection.execute(delete(ConversationRow).where(ConversationRow.id == gone.id))
    result = await archive.seals.verify(everything=True, batch_size=1)
    assert [(p.kind, p.subject) for p in result.problems] == [
        (ProblemKind.CONVERSATION_MISSING, f"conversation:{gone.id}")
    ]
    assert result.conversations == 2
    assert kept.id != gone.id
