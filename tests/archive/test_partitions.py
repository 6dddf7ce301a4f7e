"""Partitions of archived conversations: whether any user holds one, adding them later."""

from __future__ import annotations

from callarchive.archive import Archive
from callarchive.configuration import ImportSource, User
from tests.archive.builders import conversation
from tests.configuration.builders import make_source


async def stored_source(archive: Archive) -> int:
    await archive.users.add(User(login="jane", name="Jane Doe"), actor="t")
    source: ImportSource = await archive.import_sources.add(make_source(), actor="t")
    assert source.id is not None
    return source.id


async def partitions_of(archive: Archive, source_id: int, genesys_id: str) -> tuple[str, ...]:
    found = await archive.conversations.find(source_id, genesys_id)
    assert found is not None
    return found.partitions


async def test_partitions_are_in_use_once_a_user_holds_one(archive: Archive) -> None:
    await archive.users.add(User(login="joe", name="Joe"), actor="t")
    assert not await archive.partitions.in_use()
    await archive.users.add(User(login="ann", name="Ann", partitions=("retail",)), actor="t")
    assert await archive.partitions.in_use()


async def test_adding_partitions_links_archived_conversations_once(archive: Archive) -> None:
    source_id = await stored_source(archive)
    await archive.conversations.save(conversation(source_id, "c-1", partitions=()))
    await archive.conversations.save(conversation(source_id, "c-2", partitions=("sales",)))
    found = {"c-1": ("retail", "vip"), "c-2": ("sales", "retail"), "not-archived": ("x",)}

    assert await archive.partitions.add(source_id, found) == 3
    assert await archive.partitions.add(source_id, found) == 0

    assert await partitions_of(archive, source_id, "c-1") == ("retail", "vip")
    assert await partitions_of(archive, source_id, "c-2") == ("retail", "sales")


async def test_partitions_are_added_only_to_the_import_source_s_conversations(
    archive: Archive,
) -> None:
    source_id = await stored_source(archive)
    await archive.conversations.save(conversation(source_id, "c-1", partitions=()))
    assert await archive.partitions.add(source_id + 1, {"c-1": ("retail",)}) == 0
    assert await archive.partitions.add(source_id, {}) == 0
    assert await archive.partitions.add(source_id, {"c-1": ()}) == 0
    assert await partitions_of(archive, source_id, "c-1") == ()
