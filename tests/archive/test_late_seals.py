"""Late seals: conversations archived before seals existed are sealed after the fact, in
batches, once, marked as late; verify then checks them like any other seal."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select, text, update

from callarchive.archive import Archive, SealOrigin, Unsealed
from callarchive.archive.schema import AuditRow, ConversationRow, SealChainRow, SealRow
from callarchive.archive.seals import ProblemKind
from callarchive.clock import FakeClock
from callarchive.configuration import ImportSource, User
from callarchive.secrets import SealKey, SecretBox
from tests.archive.builders import conversation
from tests.configuration.builders import make_source

BEFORE = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(BEFORE)


@pytest.fixture
async def clocked(database_url: str, box: SecretBox, clock: FakeClock) -> AsyncIterator[Archive]:
    opened = Archive.open(database_url, box, clock=clock, seal_key=SealKey.generate())
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def source(clocked: Archive) -> ImportSource:
    await clocked.users.add(User(login="jane", name="Jane Doe"), actor="t")
    return await clocked.import_sources.add(make_source(), actor="t")


class StoppedError(Exception):
    """Stands for a run killed between two batches."""


async def archive_before_seals(archive: Archive, source: ImportSource, count: int) -> None:
    """Conversations as an installation before revision v0007 left them: no seal, no chain."""
    for number in range(count):
        await archive.conversations.save(conversation(source.id, f"old{number}"))
    async with archive.engine.begin() as connection:
        await connection.execute(delete(SealRow))
        await connection.execute(delete(SealChainRow).where(SealChainRow.chain != "audit"))


async def test_unsealed_conversations_are_sealed_late_and_then_verify(
    clocked: Archive, source: ImportSource, clock: FakeClock
) -> None:
    await archive_before_seals(clocked, source, 7)
    before = await clocked.seals.verify(everything=True)
    assert before.ok
    assert sum("archived before sealing began" in note for note in before.notes) == 7
    clock.advance((LATER - BEFORE).total_seconds())
    batches: list[int] = []
    result = await clocked.late_seals.seal(actor="t", batch_size=3, progress=batches.append)
    assert (result.sealed, result.batches) == (7, 3)
    assert batches == [3, 3, 1]
    after = await clocked.seals.verify(everything=True, audit=True)
    assert after.ok, after.report()
    assert (after.conversations, after.seals, after.late_seals) == (7, 7, 7)
    assert "7 seals (7 sealed after the fact)" in after.report()
    assert not any("archived before sealing began" in note for note in after.notes)
    assert any("sealed after the fact on 2026-11-25 06:00:00 UTC" in n for n in after.notes)


async def test_a_late_seal_records_its_origin_and_time(
    clocked: Archive, source: ImportSource, clock: FakeClock
) -> None:
    await archive_before_seals(clocked, source, 1)
    clock.advance((LATER - BEFORE).total_seconds())
    await clocked.late_seals.seal(actor="t")
    async with clocked.engine.connect() as connection:
        seal = (await connection.execute(select(SealRow))).one()
        entry = (
            await connection.execute(
                select(AuditRow).where(AuditRow.action == "conversations_sealed_late")
            )
        ).one()
    assert seal.origin == SealOrigin.LATE
    assert (seal.sealed_at, seal.day) == (LATER, "2026-11-25")
    assert entry.details["conversations"] == 1


async def test_an_import_seal_is_marked_import(clocked: Archive, source: ImportSource) -> None:
    await clocked.conversations.save(conversation(source.id, "g1"))
    async with clocked.engine.connect() as connection:
        assert await connection.scalar(select(SealRow.origin)) == SealOrigin.IMPORT


async def test_running_twice_seals_nothing_more(
    clocked: Archive, source: ImportSource, clock: FakeClock
) -> None:
    await archive_before_seals(clocked, source, 4)
    clock.advance(3600)
    assert (await clocked.late_seals.seal(actor="t", batch_size=2)).sealed == 4
    assert (await clocked.late_seals.seal(actor="t", batch_size=2)).sealed == 0
    async with clocked.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM seals")) == 4


async def test_two_runs_at_once_seal_each_conversation_once(
    clocked: Archive, source: ImportSource, clock: FakeClock
) -> None:
    await archive_before_seals(clocked, source, 6)
    clock.advance(3600)
    results = await asyncio.gather(
        clocked.late_seals.seal(actor="a", batch_size=2),
        clocked.late_seals.seal(actor="b", batch_size=2),
    )
    assert sum(result.sealed for result in results) == 6
    verification = await clocked.seals.verify(everything=True)
    assert verification.ok, verification.report()
    assert verification.seals == 6


async def test_an_interrupted_run_is_finished_by_the_next(
    clocked: Archive, source: ImportSource, clock: FakeClock
) -> None:
    await archive_before_seals(clocked, source, 5)
    clock.advance(3600)

    def stop_after_first_batch(count: int) -> None:
        raise StoppedError(count)

    with pytest.raises(StoppedError):
        await clocked.late_seals.seal(actor="t", batch_size=2, progress=stop_after_first_batch)
    assert (await clocked.late_seals.unsealed()).eligible == 3
    assert (await clocked.late_seals.seal(actor="t", batch_size=2)).sealed == 3
    assert (await clocked.seals.verify(everything=True)).ok


async def test_a_conversation_archived_since_sealing_began_is_not_sealed_late(
    clocked: Archive, source: ImportSource, clock: FakeClock
) -> None:
    """Its seal was removed: sealing it now would hide that, so it is left for verify."""
    await archive_before_seals(clocked, source, 2)
    clock.advance(3600)
    await clocked.conversations.save(conversation(source.id, "new1"))
    clock.advance(60)
    removed = await clocked.conversations.save(conversation(source.id, "new2"))
    async with clocked.engine.begin() as connection:
        await connection.execute(delete(SealRow).where(SealRow.conversation_id == removed.id))
    assert await clocked.late_seals.unsealed() == Unsealed(eligible=2, refused=1)
    clock.advance(60)
    assert (await clocked.late_seals.seal(actor="t")).sealed == 2
    result = await clocked.seals.verify(everything=True)
    assert ProblemKind.NOT_SEALED in {problem.kind for problem in result.problems}
    assert f"conversation:{removed.id}" in result.report()


async def test_a_late_seal_whose_origin_is_changed_is_detected(
    clocked: Archive, source: ImportSource, clock: FakeClock
) -> None:
    """The signature covers the origin: a late seal cannot pass for an import-time one."""
    await archive_before_seals(clocked, source, 1)
    clock.advance(3600)
    await clocked.late_seals.seal(actor="t")
    async with clocked.engine.begin() as connection:
        await connection.execute(update(SealRow).values(origin=SealOrigin.IMPORT))
    kinds = {p.kind for p in (await clocked.seals.verify(everything=True)).problems}
    assert kinds == {ProblemKind.SIGNATURE_INVALID}


async def test_a_late_sealed_conversation_changed_afterwards_is_detected(
    clocked: Archive, source: ImportSource, clock: FakeClock
) -> None:
    await archive_before_seals(clocked, source, 1)
    clock.advance(3600)
    await clocked.late_seals.seal(actor="t")
    async with clocked.engine.begin() as connection:
        await connection.execute(update(ConversationRow).values(to_number="+10000000000"))
    kinds = {p.kind for p in (await clocked.seals.verify(everything=True)).problems}
    assert kinds == {ProblemKind.METADATA_CHANGED}
