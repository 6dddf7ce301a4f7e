"""`conversations export` takes ranges of the audio analysis's figures."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from callarchive.archive import Archive
from callarchive.configuration import User
from tests.archive.builders import conversation
from tests.cli.harness import SOURCE_ARGS, Installation


@pytest.fixture
def installation(tmp_path: Path, database_url: str) -> Installation:
    installation = Installation(home=tmp_path / "home", database_url=database_url)
    installation.run("source", "add", *SOURCE_ARGS)

    async def store() -> None:
        archive = Archive.open(installation.database_url, installation.wiring().box())
        try:
            await archive.users.add(User(login="jane", name="Jane Doe"), actor="t")
            for name, silence, talkover, longest in (
                ("quiet", 0.6, 0.0, 14.0),
                ("busy", 0.1, 0.2, 1.5),
                ("calm", 0.3, 0.05, 4.0),
            ):
                await archive.conversations.save(
                    conversation(
                        1,
                        name,
                        silence_ratio=silence,
                        talkover_ratio=talkover,
                        longest_silence=longest,
                    )
                )
            await archive.conversations.save(conversation(1, "unanalysed"))
        finally:
            await archive.close()

    asyncio.run(store())
    return installation


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ((), ["busy", "calm", "quiet", "unanalysed"]),
        (("--min-silence-ratio", "0.3"), ["calm", "quiet"]),
        (("--max-silence-ratio", "0.3", "--min-talkover-ratio", "0.1"), ["busy"]),
        (("--max-talkover-ratio", "0.05"), ["calm", "quiet"]),
        (("--min-longest-silence", "10"), ["quiet"]),
        (("--max-longest-silence", "4"), ["busy", "calm"]),
    ],
)
def test_export_filters_by_the_analysis_figures(
    installation: Installation, options: tuple[str, ...], expected: list[str]
) -> None:
    result = installation.run("conversations", "export", *options)
    assert result.exit_code == 0, result.output
    found = [json.loads(line)["platform_call_id"] for line in result.stdout.splitlines()]
    assert sorted(found) == expected


def test_a_ratio_outside_zero_to_one_is_refused(installation: Installation) -> None:
    result = installation.run("conversations", "export", "--min-silence-ratio", "1.5")
    assert result.exit_code == 2
