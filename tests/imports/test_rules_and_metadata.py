"""Recording rules decide what is archived; metadata follows the Recording Timezone and the
internal number patterns (DESIGN.md sections 2 and 5)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.imports.harness import Installation
from tests.imports.observe import (
    archived,
    assert_metadata_matches,
    document_for,
    import_document,
    reports,
    truth,
)

PUBLISHED = (r"^\+1312555\d{4}$", r"^\d{4}$")


def expected_direction(source: str, target: str, patterns: tuple[str, ...]) -> str:
    internal = [any(re.match(p, number) for p in patterns) for number in (source, target)]
    return {
        (True, True): "internal",
        (False, True): "inbound",
        (True, False): "outbound",
        (False, False): "external",
    }[internal[0], internal[1]]


def test_without_recorded_users_nothing_is_archived_and_every_conversation_is_skipped(
    installation: Installation,
) -> None:
    installation.configure(recorded=False)
    installation.catch_up()
    want = truth(installation)
    assert archived(installation) == {}
    done = reports(installation)
    assert sum(r.imported for r in done) == 0
    assert sum(r.skipped_by_rules for r in done) == len(want)
    skipped = [e.genesys_conversation_id for r in done for e in r.entries]
    assert sorted(skipped) == sorted(want)
    assert {e.outcome for r in done for e in r.entries} == {"skipped_by_rules"}


def test_only_the_conversations_of_recorded_users_are_archived(
    installation: Installation,
) -> None:
    document = document_for(installation)
    users = sorted(document["users"], key=lambda u: u["login"])
    recorded = {u["login"] for u in users[::2]}
    for user in document["users"]:
        user["recorded"] = user["login"] in recorded
    import_document(installation, document)
    installation.catch_up()
    org = installation.emulator.ground_truth()
    login_of = {u["id"]: u["username"] for u in org["users"]}
    name_of = {u["username"]: u["name"] for u in org["users"]}
    want = truth(installation)

    def involved(conversation: dict[str, Any]) -> set[str]:
        agents = {login_of[a["user_id"]] for a in conversation["agents"]}
        numbers = {conversation["export"]["from_user"], conversation["export"]["to_user"]}
        return (agents | numbers) & recorded

    theirs = {cid for cid, c in want.items() if involved(c)}
    got = archived(installation)
    assert set(got) == theirs
    assert 0 < len(theirs) < len(want)
    for conversation_id in theirs:
        conversation = want[conversation_id]
        assert got[conversation_id]["user"] in {name_of[login] for login in recorded}
        if login_of.get(conversation["export"]["user_id"]) in recorded:
            assert_metadata_matches(got[conversation_id], conversation)
    skipped = sum(r.skipped_by_rules for r in reports(installation))
    assert skipped == len(want) - len(theirs)


def test_times_are_exported_in_the_recording_timezone(installation: Installation) -> None:
    zone = "Pacific/Chatham"  # UTC+12:45 or +13:45: other minutes, mostly another day
    installation.configure(timezone=zone)
    installation.catch_up()
    local = truth(installation, timezone=zone)
    utc = truth(installation)
    got = archived(installation)
    assert set(got) == set(local)
    for conversation_id, conversation in local.items():
        assert_metadata_matches(got[conversation_id], conversation)
        assert got[conversation_id]["start_time"] != utc[conversation_id]["export"]["start_time"]
    dates = {(c["start_date"], utc[cid]["export"]["start_date"]) for cid, c in got.items()}
    assert any(here != there for here, there in dates)


@pytest.mark.parametrize(
    "patterns",
    [PUBLISHED, (), (r"^\d{4}$",)],
    ids=["published", "none", "extensions-only"],
)
def test_direction_comes_from_the_internal_number_patterns(
    installation: Installation, patterns: tuple[str, ...]
) -> None:
    document = document_for(installation)
    document["import_sources"][0]["internal_number_patterns"] = list(patterns)
    import_document(installation, document)
    installation.catch_up()
    want = truth(installation)
    got = archived(installation)
    assert set(got) == set(want)
    directions = set()
    for conversation_id, conversation in want.items():
        export = conversation["export"]
        direction = expected_direction(export["from"], export["to"], patterns)
        assert got[conversation_id]["direction"] == direction, conversation_id
        assert got[conversation_id]["direction_user"] == export["direction_user"]
        directions.add(direction)
        if patterns == PUBLISHED:
            assert direction == export["direction"]
    assert len(directions) >= (3 if patterns == PUBLISHED else 1)
