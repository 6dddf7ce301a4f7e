"""The retry buffer: the seed's folder, 25 oldest per run, nothing lost on a crash or a bad file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path

import pytest
from obstore.store import MemoryStore

from callarchive.archive import WorkStore, pair_folders
from callarchive.imports.retry_buffer import Cdr, RetryBuffer, RetryReason, parse, render
from tests.imports.cdr_files import BILLION_LAUGHS, EXTERNAL_ENTITY, MINIMAL

PAIR = pair_folders(3, 12)
BUFFER = "cdrimport/GenesysCloud/retryBuffer/3_12"
INFLIGHT = "cdrimport/GenesysCloud/work/3_12/inflight"
REJECTED = "cdrimport/GenesysCloud/retryBuffer/3_12/rejected"
START = dt.datetime(2023, 2, 2, 7, tzinfo=dt.UTC)
LATER = dt.datetime(2023, 2, 3, 9, tzinfo=dt.UTC)


def cdr(conversation_id: str = "c-1", minutes: int = 0, **changes: object) -> Cdr:
    value = Cdr(
        conversation_id=conversation_id,
        conversation_start=START + dt.timedelta(minutes=minutes),
        policy_id=3,
        import_source_id=12,
        reason=RetryReason.MEDIA_NOT_READY,
    )
    return dataclasses.replace(value, **changes)  # type: ignore[arg-type]


@pytest.fixture(params=["folder", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> WorkStore:
    return WorkStore.from_url(str(tmp_path) if request.param == "folder" else "memory://")


@pytest.fixture
def buffer(store: WorkStore) -> RetryBuffer:
    return RetryBuffer(store, PAIR)


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- the seed's folders -----------------------------------------------------------------------


async def test_files_follow_the_seed_layout_on_a_local_folder(tmp_path: Path) -> None:
    buffer = RetryBuffer(WorkStore.from_url(str(tmp_path)), PAIR)
    await buffer.add(cdr("c-1"))
    await buffer.add(cdr("c-2", minutes=90))
    (tmp_path / BUFFER / "0-broken.xml").write_text("<cdr>")
    assert files_under(tmp_path) == [
        f"{BUFFER}/0-broken.xml",
        f"{BUFFER}/20230202T070000_c-1.xml",
        f"{BUFFER}/20230202T083000_c-2.xml",
    ]
    await buffer.take(limit=1)
    assert files_under(tmp_path) == [
        f"{BUFFER}/20230202T083000_c-2.xml",
        f"{REJECTED}/0-broken.xml",
        f"{REJECTED}/0-broken.xml.reason.txt",
        f"{INFLIGHT}/20230202T070000_c-1.xml",
    ]


async def test_add_names_the_file_after_the_conversation_start_in_utc(buffer: RetryBuffer) -> None:
    eastern = dt.timezone(-dt.timedelta(hours=5))
    start = dt.datetime(2023, 2, 1, 23, 30, 15, tzinfo=eastern)
    key = await buffer.add(cdr("c-1", conversation_start=start))
    assert key == f"{BUFFER}/20230202T043015_c-1.xml"


async def test_an_operator_file_written_by_hand_is_taken(tmp_path: Path) -> None:
    buffer = RetryBuffer(WorkStore.from_url(str(tmp_path)), PAIR)
    folder = tmp_path / BUFFER
    folder.mkdir(parents=True)
    (folder / "ticket-4711.xml").write_text(MINIMAL.replace("\n", "\r\n"), encoding="utf-8")
    [taken] = await buffer.take()
    assert (taken.conversation_id, taken.reason) == ("c-1", RetryReason.MANUAL)
    assert files_under(tmp_path) == [f"{INFLIGHT}/ticket-4711.xml"]


# --- add --------------------------------------------------------------------------------------


async def test_add_writes_our_xml(buffer: RetryBuffer, store: WorkStore) -> None:
    value = cdr(metadata={"from": "+44 20 7946 0000", "to_info": None})
    key = await buffer.add(value)
    assert await store.get(key) == render(value)


async def test_adding_a_conversation_again_replaces_its_file(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    await buffer.add(cdr("c-1"))
    await buffer.add(cdr("c-1", attempts=2))
    assert [parse(await store.get(key) or b"").attempts for key in await store.list(BUFFER)] == [2]
    # Even when the start it was filed under changed.
    key = await buffer.add(cdr("c-1", minutes=5, attempts=3))
    assert await store.list(BUFFER) == [key]


async def test_conversations_whose_ids_end_alike_keep_their_own_files(
    buffer: RetryBuffer,
) -> None:
    await buffer.add(cdr("b"))
    await buffer.add(cdr("a_b"))
    await buffer.add(cdr("x-b"))
    assert await buffer.size() == 3


async def test_add_refuses_a_cdr_of_another_pair(buffer: RetryBuffer) -> None:
    with pytest.raises(ValueError, match="belongs to 4_12, not to the retry buffer of 3_12"):
        await buffer.add(cdr(policy_id=4))
    assert await buffer.size() == 0


# --- take, settle, recover --------------------------------------------------------------------


async def test_take_gives_the_25_oldest_first(buffer: RetryBuffer) -> None:
    minutes = list(range(0, 30 * 7, 7))
    random.Random(4).shuffle(minutes)
    for minute in minutes:
        await buffer.add(cdr(f"c-{minute:03d}", minutes=minute))
    taken = await buffer.take()
    assert [c.conversation_id for c in taken] == [f"c-{m:03d}" for m in range(0, 25 * 7, 7)]
    assert await buffer.size() == 5
    assert [c.conversation_id for c in await buffer.take()] == [
        f"c-{m:03d}" for m in range(25 * 7, 30 * 7, 7)
    ]
    assert await buffer.take() == []


async def test_take_respects_a_smaller_limit(buffer: RetryBuffer) -> None:
    for n in range(3):
        await buffer.add(cdr(f"c-{n}", minutes=n))
    assert [c.conversation_id for c in await buffer.take(limit=2)] == ["c-0", "c-1"]
    assert await buffer.take(limit=0) == []
    with pytest.raises(ValueError, match="limit must be 0 or more"):
        await buffer.take(limit=-1)


async def test_take_moves_each_file_in_flight(buffer: RetryBuffer, store: WorkStore) -> None:
    key = await buffer.add(cdr("c-1"))
    data = await store.get(key)
    [taken] = await buffer.take()
    assert taken == cdr("c-1")
    assert await store.list(BUFFER) == []
    assert await store.get(f"{INFLIGHT}/20230202T070000_c-1.xml") == data


async def test_settle_drops_the_in_flight_file(buffer: RetryBuffer, store: WorkStore) -> None:
    await buffer.add(cdr("c-1"))
    await buffer.add(cdr("c-2", minutes=1))
    first, second = await buffer.take()
    await buffer.settle(first)
    assert await store.list(INFLIGHT) == [f"{INFLIGHT}/20230202T070100_c-2.xml"]
    await buffer.settle(second)
    assert await store.list(INFLIGHT) == []
    assert await buffer.recover() == 0
    assert await buffer.size() == 0


async def test_a_crash_between_take_and_settle_loses_nothing(store: WorkStore) -> None:
    crashed = RetryBuffer(store, PAIR)
    for n in range(3):
        await crashed.add(cdr(f"c-{n}", minutes=n))
    taken = await crashed.take()
    await crashed.settle(taken[0])  # imported before the crash
    del crashed

    restarted = RetryBuffer(store, PAIR)
    assert await restarted.recover() == 2
    assert await store.list(INFLIGHT) == []
    assert await restarted.take() == taken[1:]


async def test_a_crash_in_the_middle_of_a_move_keeps_one_copy(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    key = await buffer.add(cdr("c-1"))
    await store.put(f"{INFLIGHT}/20230202T070000_c-1.xml", await store.get(key) or b"")
    assert await buffer.recover() == 0
    assert await store.list(INFLIGHT) == []
    assert [entry.key for entry in await buffer.list()] == [key]
    assert [c.conversation_id for c in await buffer.take()] == ["c-1"]


async def test_a_failed_cdr_comes_back_with_one_more_attempt(buffer: RetryBuffer) -> None:
    at = [LATER + dt.timedelta(minutes=5 * n) for n in range(3)]
    await buffer.add(
        cdr("c-1").failed_again(reason=RetryReason.MEDIA_NOT_READY, message="202", at=at[0])
    )
    for run in (1, 2):
        assert await buffer.recover() == 0
        [taken] = await buffer.take()
        assert taken.attempts == run
        await buffer.add(taken.failed_again(reason=RetryReason.FAILED, message="500", at=at[run]))
        await buffer.settle(taken)
    [again] = await buffer.take()
    assert (again.attempts, again.first_failed_at, again.last_failed_at) == (3, at[0], at[2])
    assert (again.reason, again.message) == (RetryReason.FAILED, "500")


async def test_recover_keeps_the_newer_cdr_when_the_crash_came_after_add(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    await buffer.add(cdr("c-1", attempts=1))
    [taken] = await buffer.take()
    await buffer.add(taken.failed_again(reason=RetryReason.FAILED, message="500", at=LATER))
    # crash: settle() never ran
    restarted = RetryBuffer(store, PAIR)
    assert await restarted.recover() == 0
    assert await store.list(INFLIGHT) == []
    [again] = await restarted.take()
    assert again.attempts == 2


async def test_settle_after_a_restart_finds_our_in_flight_file(store: WorkStore) -> None:
    await RetryBuffer(store, PAIR).add(cdr("c-1"))
    [taken] = await RetryBuffer(store, PAIR).take()
    await RetryBuffer(store, PAIR).settle(taken)
    assert await store.list(INFLIGHT) == []


# --- duplicates, rejected and ignored files ---------------------------------------------------


async def test_copies_of_a_conversation_are_taken_once_and_settled_together(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    ours = await buffer.add(cdr("c-1", attempts=4))
    await store.put(f"{BUFFER}/20230202T070000_c-1 - Copy.xml", render(cdr("c-1", attempts=0)))
    await buffer.add(cdr("c-2", minutes=1))
    taken = await buffer.take()
    assert [(c.conversation_id, c.attempts) for c in taken] == [("c-1", 4), ("c-2", 0)]
    assert len(await store.list(INFLIGHT)) == 3
    await buffer.settle(taken[0])
    assert await store.list(INFLIGHT) == [f"{INFLIGHT}/20230202T070100_c-2.xml"]
    assert ours not in await store.list(BUFFER)


async def test_copies_under_other_names_are_taken_once(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    for name in ("a.xml", "b.xml"):
        await store.put(f"{BUFFER}/{name}", MINIMAL.encode())
    [taken] = await buffer.take()
    await buffer.settle(taken)
    assert await store.list(INFLIGHT) == []
    assert await buffer.size() == 0


async def test_unreadable_files_are_rejected_with_a_reason_and_not_counted(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    bad = {"0-empty.xml": b"", "0-laughs.xml": BILLION_LAUGHS, "0-xxe.xml": EXTERNAL_ENTITY}
    for name, data in bad.items():
        await store.put(f"{BUFFER}/{name}", data)
    for n in range(26):
        await buffer.add(cdr(f"c-{n:02d}", minutes=n))
    assert len(await buffer.take()) == 25
    assert await buffer.size() == 1
    assert [entry.key for entry in buffer.rejected] == [f"{REJECTED}/{name}" for name in bad]
    assert all(entry.cdr is None for entry in buffer.rejected)
    for name, data in bad.items():
        assert await store.get(f"{REJECTED}/{name}") == data  # kept byte for byte
    reason = (await store.get(f"{REJECTED}/0-laughs.xml.reason.txt") or b"").decode()
    assert reason.startswith(f"{BUFFER}/0-laughs.xml: has a DTD")
    assert f"move it back into {BUFFER}/" in reason
    assert "DTD" in (buffer.rejected[1].error or "")


async def test_rejected_is_reset_by_each_take(buffer: RetryBuffer, store: WorkStore) -> None:
    await store.put(f"{BUFFER}/bad.xml", b"<cdr>")
    await buffer.take()
    assert len(buffer.rejected) == 1
    await buffer.take()
    assert buffer.rejected == []


async def test_a_rejected_file_never_overwrites_an_earlier_one(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    await store.put(f"{BUFFER}/bad.xml", b"first")
    await buffer.take()
    await store.put(f"{BUFFER}/bad.xml", b"second")
    await buffer.take()
    assert await store.get(f"{REJECTED}/bad.xml") == b"first"
    assert await store.get(f"{REJECTED}/bad.1.xml") == b"second"
    assert await store.get(f"{REJECTED}/bad.1.xml.reason.txt") is not None


async def test_a_cdr_of_another_pair_is_rejected_with_where_it_belongs(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    await store.put(f"{BUFFER}/stray.xml", MINIMAL.replace(">3<", ">4<").encode())
    assert await buffer.take() == []
    [entry] = buffer.rejected
    assert "belongs to policy 4 and import source 12; move it to retryBuffer/4_12/" in (
        entry.error or ""
    )


async def test_files_that_are_not_cdrs_are_left_alone(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    others = ["x.xml~", "x.xml.bak", "notes.txt", ".x.xml", "old/y.xml", "rejected/z.xml"]
    for name in others:
        await store.put(f"{BUFFER}/{name}", b"not a cdr")
    await buffer.add(cdr("c-1"))
    assert await buffer.size() == 1
    assert len(await buffer.take()) == 1
    assert buffer.rejected == []
    assert await store.list(BUFFER) == sorted(f"{BUFFER}/{name}" for name in others)


class OperatorDeletesAfterListing(WorkStore):
    """A work store where an operator deletes `victim` just after the buffer listed it."""

    def __init__(self, victim: str) -> None:
        super().__init__(MemoryStore())
        self.victim = victim

    async def list(self, prefix: str) -> list[str]:
        keys = await super().list(prefix)
        await self.delete(self.victim)
        return keys


async def test_a_file_removed_while_taking_is_skipped() -> None:
    store = OperatorDeletesAfterListing(f"{BUFFER}/20230202T070000_c-1.xml")
    buffer = RetryBuffer(store, PAIR)
    await buffer.add(cdr("c-2", minutes=1))
    await store.put(store.victim, render(cdr("c-1")))
    assert [c.conversation_id for c in await buffer.take()] == ["c-2"]
    assert buffer.rejected == []
    assert await store.list(INFLIGHT) == [f"{INFLIGHT}/20230202T070100_c-2.xml"]


# --- list and remove --------------------------------------------------------------------------


async def test_list_shows_every_file_read_or_not_and_moves_nothing(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    await buffer.add(cdr("c-1"))
    await store.put(f"{BUFFER}/broken.xml", b"<cdr")
    await store.put(f"{REJECTED}/old.xml", b"<cdr")
    await store.put(f"{BUFFER}/readme.txt", b"hello")
    before = await store.list(BUFFER)
    good, broken = await buffer.list()
    assert (good.key, good.cdr, good.error) == (f"{BUFFER}/20230202T070000_c-1.xml", cdr(), None)
    assert (broken.key, broken.cdr) == (f"{BUFFER}/broken.xml", None)
    assert (broken.error or "").startswith(f"{BUFFER}/broken.xml: is not well-formed XML")
    assert await store.list(BUFFER) == before


async def test_remove_deletes_every_file_of_a_conversation(
    buffer: RetryBuffer, store: WorkStore
) -> None:
    await buffer.add(cdr("c-1"))
    await buffer.add(cdr("c-2", minutes=1))
    await store.put(f"{BUFFER}/by-hand.xml", MINIMAL.encode())
    assert await buffer.remove("c-1") == 2
    assert [entry.key for entry in await buffer.list()] == [f"{BUFFER}/20230202T070100_c-2.xml"]
    assert await buffer.remove("c-404") == 0


async def test_size_counts_the_waiting_files(buffer: RetryBuffer) -> None:
    assert await buffer.size() == 0
    for n in range(4):
        await buffer.add(cdr(f"c-{n}", minutes=n))
    assert await buffer.size() == 4
