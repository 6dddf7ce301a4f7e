"""The work store: the seed's folders, atomic writes, listing, on local folders and S3."""

from __future__ import annotations

from pathlib import Path

import pytest

from callarchive.archive import WorkStore, pair_folders


def test_pair_folders_follow_the_seed_layout() -> None:
    pair = pair_folders(3, 12)
    assert pair.name == "3_12"
    assert pair.work == "cdrimport/GenesysCloud/work/3_12"
    assert pair.laststate == "cdrimport/GenesysCloud/laststate/3_12"
    assert pair.cursor == "cdrimport/GenesysCloud/laststate/3_12/3_12.cursor"
    assert pair.retry_buffer == "cdrimport/GenesysCloud/retryBuffer/3_12"
    assert pair.rejected == "cdrimport/GenesysCloud/retryBuffer/3_12/rejected"


async def test_put_get_replace_delete(work_store: WorkStore) -> None:
    key = pair_folders(1, 2).cursor
    assert await work_store.get(key) is None
    await work_store.put(key, b"c-1;2023.02.02 07:00:00.000")
    await work_store.put(key, b"c-2;2023.02.02 08:00:00.000")
    assert await work_store.get(key) == b"c-2;2023.02.02 08:00:00.000"
    await work_store.delete(key)
    await work_store.delete(key)
    assert await work_store.get(key) is None


async def test_list_gives_every_key_under_a_folder(work_store: WorkStore) -> None:
    pair = pair_folders(1, 2)
    for name in ("b.xml", "a.xml", "rejected/c.xml"):
        await work_store.put(f"{pair.retry_buffer}/{name}", b"<cdr/>")
    await work_store.put(f"{pair_folders(1, 20).retry_buffer}/x.xml", b"<cdr/>")
    assert await work_store.list(pair.retry_buffer) == [
        f"{pair.retry_buffer}/a.xml",
        f"{pair.retry_buffer}/b.xml",
        f"{pair.retry_buffer}/rejected/c.xml",
    ]
    assert await work_store.list(pair.retry_buffer + "/") == await work_store.list(
        pair.retry_buffer
    )
    assert await work_store.list("cdrimport/GenesysCloud/laststate") == []


@pytest.mark.parametrize("key", ["/abs", "a/../b", "a//b", "", "a\\b", "./a"])
async def test_paths_outside_the_work_root_are_refused(work_store: WorkStore, key: str) -> None:
    with pytest.raises(ValueError, match="relative"):
        await work_store.put(key, b"x")


async def test_a_local_work_store_shows_exactly_the_seed_layout(tmp_path: Path) -> None:
    store = WorkStore.from_url(str(tmp_path / "work"))
    pair = pair_folders(4, 9)
    await store.put(pair.cursor, b"c;2023.02.02 07:00:00.000")
    await store.put(f"{pair.work}/token", b"encrypted")
    await store.put(f"{pair.retry_buffer}/c-1.xml", b"<cdr/>")
    files = sorted(
        str(p.relative_to(tmp_path / "work")) for p in (tmp_path / "work").rglob("*") if p.is_file()
    )
    assert files == [
        "cdrimport/GenesysCloud/laststate/4_9/4_9.cursor",
        "cdrimport/GenesysCloud/retryBuffer/4_9/c-1.xml",
        "cdrimport/GenesysCloud/work/4_9/token",
    ]
    # An operator edits the cursor by hand, as the seed's maintenance procedure says.
    (tmp_path / "work" / pair.cursor).write_text("c;2023.01.01 00:00:00.000")
    assert await store.get(pair.cursor) == b"c;2023.01.01 00:00:00.000"


async def test_an_in_memory_store_behaves_the_same() -> None:
    store = WorkStore.from_url("memory://")
    await store.put("a/b", b"1")
    assert await store.list("a") == ["a/b"]
