"""The pair lock across nodes: on PostgreSQL two archives (two nodes) never hold one pair's lock
at once; on SQLite (one node) it holds nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from callarchive.archive import Archive, PairLockedError
from callarchive.secrets import SecretBox


@pytest.fixture
async def other_node(database_url: str, box: SecretBox) -> AsyncIterator[Archive]:
    """A second archive on the same database: another node's."""
    opened = Archive.open(database_url, box)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_pair_held_by_one_node_is_refused_to_another_until_released(
    archive: Archive, other_node: Archive
) -> None:
    async with archive.pair_lock(1, 2):
        with pytest.raises(PairLockedError, match="another node is running policy 1"):
            async with other_node.pair_lock(1, 2):
                pytest.fail("two nodes held the lock of one pair")
        async with other_node.pair_lock(1, 3), other_node.pair_lock(2, 2):
            pass  # other pairs are free
    async with other_node.pair_lock(1, 2):
        with pytest.raises(PairLockedError):
            async with archive.pair_lock(1, 2):
                pytest.fail("released to two nodes")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_lock_is_released_when_the_block_fails(
    archive: Archive, other_node: Archive
) -> None:
    with pytest.raises(RuntimeError, match="run failed"):
        async with archive.pair_lock(1, 2):
            raise RuntimeError("run failed")
    async with other_node.pair_lock(1, 2):
        pass


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_the_lock_holds_nothing(archive: Archive, other_node: Archive) -> None:
    async with archive.pair_lock(1, 2), other_node.pair_lock(1, 2):
        pass
