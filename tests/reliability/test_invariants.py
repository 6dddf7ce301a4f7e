"""The invariant checker sees an import that caught up as whole, and sees what breaks it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing

import pytest

from tests.imports.conftest import ORG
from tests.imports.harness import Installation
from tests.reliability.invariants import Holdings, lost_or_doubled, violations

CODEC = "WAV"
DAY_END = dt.datetime.combine(ORG.start, dt.time(), dt.UTC) + dt.timedelta(days=ORG.days)


def holdings(installation: Installation) -> Holdings:
    return Holdings.read(
        installation.database_url,
        media_url=str(installation.home / "media"),
        work_url=str(installation.home / "work"),
    )


@pytest.mark.slow
def test_a_caught_up_import_holds_the_invariant_and_damage_is_named(
    installation: Installation,
) -> None:
    installation.configure(codec=CODEC)
    installation.catch_up()
    truth = installation.emulator.ground_truth(formats=CODEC)
    found = holdings(installation)
    assert violations(found, truth, installation.exported(), CODEC, cursor_past=DAY_END) == []

    # Damage: one media object gone, one stray object, one conversation row gone.
    [first, second, *_] = sorted(found.recordings, key=lambda r: r.object_key)
    media = installation.home / "media"
    (media / first.object_key).unlink()
    (media / "media" / "stray.wav").write_bytes(b"RIFF")
    with closing(sqlite3.connect(installation.home / "callarchive.db")) as database:
        database.execute(
            "DELETE FROM conversations WHERE genesys_conversation_id = ?",
            (second.conversation_id,),
        )
        database.commit()
    damaged = holdings(installation)
    wrong = violations(damaged, truth, installation.exported(), CODEC, cursor_past=DAY_END)
    assert f"recording row without its object ({first.size} bytes): {first.object_key}" in wrong
    assert "object without a recording row (or staging debris): media/stray.wav" in wrong
    assert f"not archived: {second.conversation_id}" in wrong
    assert any(
        line.startswith(f"the cursor ({damaged.cursor}) passed {second.conversation_id}")
        for line in lost_or_doubled(damaged, truth)
    )
