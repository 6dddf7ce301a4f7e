"""The emulated organisation: deterministic from its seed, realistic, and findable by id.

Checked through the ground truth (`/_emulator/ground-truth`) and the public API: the same seed
gives the same org, the default three days hold every kind of conversation an importer must
handle, and the ground truth's export keys follow DESIGN.md section 5.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.emulator.conftest import BASE, EmulatorFactory
from tests.emulator.harness import RunningEmulator, serve

QUERY = "/api/v2/analytics/conversations/details/query"
Json = dict[str, Any]


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """One emulator with the default org, shared by the tests that only read."""
    media = tmp_path_factory.mktemp("media")
    with serve(dataclasses.replace(BASE, cache_dir=str(media))) as running:
        yield running


@pytest.fixture(scope="module")
def truth(org: RunningEmulator) -> Json:
    return org.ground_truth()


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _history(truth: Json) -> str:
    return f"{truth['org']['traffic_start']}/{truth['org']['traffic_end']}"


def _query_all(emulator: RunningEmulator, interval: str) -> list[Json]:
    conversations: list[Json] = []
    with emulator.api() as api:
        number = 1
        while True:
            body = {"interval": interval, "paging": {"pageSize": 100, "pageNumber": number}}
            response = api.post(QUERY, json=body)
            assert response.status_code == 200, response.text
            conversations.extend(response.json().get("conversations", []))
            if number * 100 >= response.json()["totalHits"]:
                return conversations
            number += 1


def _without_now(truth: Json) -> Json:
    return {**truth, "org": {k: v for k, v in truth["org"].items() if k != "now"}}


# -- determinism ---------------------------------------------------------------------------


def test_the_same_seed_and_start_give_the_same_ground_truth(
    make_emulator: EmulatorFactory,
) -> None:
    first, second = make_emulator(), make_emulator()
    assert _without_now(first.ground_truth()) == _without_now(second.ground_truth())


def test_the_same_seed_and_start_give_the_same_details_query_results(
    make_emulator: EmulatorFactory,
) -> None:
    first, second = make_emulator(), make_emulator()
    interval = _history(first.ground_truth())
    assert _query_all(first, interval) == _query_all(second, interval)


def test_another_seed_gives_another_org(make_emulator: EmulatorFactory) -> None:
    first, second = make_emulator(), make_emulator(seed=BASE.seed + 1)
    one, other = first.ground_truth(), second.ground_truth()
    assert {u["id"] for u in one["users"]}.isdisjoint(u["id"] for u in other["users"])
    assert [u["name"] for u in one["users"]] != [u["name"] for u in other["users"]]
    ids = {c["conversation_id"] for c in one["conversations"]}
    assert ids.isdisjoint(c["conversation_id"] for c in other["conversations"])


# -- realism of the default org ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["inbound", "outbound", "internal", "chat"])
def test_the_default_org_has_conversations_of_every_kind(truth: Json, kind: str) -> None:
    assert any(c["kind"] == kind for c in truth["conversations"])


def test_the_default_org_has_unrecorded_voice_calls(truth: Json) -> None:
    unrecorded = [c for c in truth["conversations"] if c["voice"] and not c["recorded"]]
    assert unrecorded
    assert all(c["recordings"] == [] for c in unrecorded)


def test_chat_conversations_are_never_recorded(truth: Json) -> None:
    chats = [c for c in truth["conversations"] if not c["voice"]]
    assert chats
    assert not any(c["recorded"] or c["recordings"] for c in chats)


def test_transferred_calls_have_two_trunk_recordings_of_two_agents(truth: Json) -> None:
    two = [c for c in truth["conversations"] if len(c["recordings"]) == 2]
    transfers = [c for c in two if all(r["media_subtype"] == "Trunk" for r in c["recordings"])]
    assert transfers
    for conversation in transfers:
        first, second = conversation["recordings"]
        assert first["user_id"] != second["user_id"]
        assert first["end"] <= second["start"]  # the first agent left when the second took over


def test_conferenced_calls_have_a_consult_recording_that_overlaps_the_first(truth: Json) -> None:
    two = [c for c in truth["conversations"] if len(c["recordings"]) == 2]
    conferences = [c for c in two if c["recordings"][1]["media_subtype"] == "Consult"]
    assert conferences
    for conversation in conferences:
        first, second = conversation["recordings"]
        assert first["media_subtype"] == "Trunk"
        assert first["user_id"] != second["user_id"]
        assert second["start"] < first["end"]  # both agents stay on the call


def test_queued_inbound_calls_pass_through_an_ivr_and_an_acd_participant(
    org: RunningEmulator, truth: Json
) -> None:
    queued = {c["conversation_id"] for c in truth["conversations"] if c["partition"]}
    conversations = {c["conversationId"]: c for c in _query_all(org, _history(truth))}
    assert queued
    for conversation_id in queued:
        purposes = [p["purpose"] for p in conversations[conversation_id]["participants"]]
        assert purposes[:3] == ["customer", "ivr", "acd"]
        assert "agent" in purposes
    direct = [c for c in conversations.values() if c["conversationId"] not in queued]
    assert not any(p["purpose"] in {"ivr", "acd"} for c in direct for p in c["participants"])


@pytest.mark.parametrize("state", ["deleted", "inactive"])
def test_the_directory_has_users_who_left_or_are_inactive(truth: Json, state: str) -> None:
    assert [u["state"] for u in truth["users"]].count(state) == 1


def test_a_deleted_user_still_appears_in_calls_and_an_inactive_one_takes_none(
    truth: Json,
) -> None:
    states = {u["id"]: u["state"] for u in truth["users"]}
    taken = Counter(states[a["user_id"]] for c in truth["conversations"] for a in c["agents"])
    assert taken["deleted"] > 0
    assert taken["inactive"] == 0


def test_a_long_call_ratio_of_one_makes_every_call_last_over_two_hours(
    make_emulator: EmulatorFactory,
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    emulator = make_emulator(
        long_call_ratio=1.0, start=today - dt.timedelta(days=2), days=1, calls_per_hour=1
    )
    conversations = emulator.ground_truth(formats="none")["conversations"]
    durations = [_parse(c["end"]) - _parse(c["start"]) for c in conversations]
    assert len(durations) > 5
    assert min(durations) > dt.timedelta(hours=2)
    assert max(durations) < dt.timedelta(hours=3)


def test_call_lengths_stay_within_the_minimum_and_maximum_call_seconds(
    make_emulator: EmulatorFactory,
) -> None:
    emulator = make_emulator(
        mean_call_seconds=240, min_call_seconds=60, max_call_seconds=600, calls_per_hour=10
    )
    conversations = emulator.ground_truth(formats="none")["conversations"]
    durations = [(_parse(c["end"]) - _parse(c["start"])).total_seconds() for c in conversations]
    assert len(durations) > 100
    assert min(durations) == 60
    assert max(durations) == 600


# -- conversation ids ----------------------------------------------------------------------


def test_conversations_of_one_hour_share_an_id_prefix_that_other_hours_do_not(
    truth: Json,
) -> None:
    prefixes: dict[str, set[str]] = {}
    for conversation in truth["conversations"]:
        hour = conversation["start"][:13]
        prefixes.setdefault(hour, set()).add(conversation["conversation_id"][:8])
    assert all(len(p) == 1 for p in prefixes.values())
    assert len({p.pop() for p in prefixes.values()}) == len(prefixes)


def test_a_conversation_id_from_the_query_is_found_by_the_id_endpoints(
    org: RunningEmulator, truth: Json
) -> None:
    conversations = _query_all(org, _history(truth))
    recorded = {c["conversation_id"]: c for c in truth["conversations"] if c["recordings"]}
    sample = [c["conversationId"] for c in conversations if c["conversationId"] in recorded][::25]
    with org.api() as api:
        for conversation_id in sample:
            response = api.get(f"/api/v2/conversations/{conversation_id}/recordingmetadata")
            assert response.status_code == 200, response.text
            assert {r["conversationId"] for r in response.json()} == {conversation_id}
            assert len(response.json()) == len(recorded[conversation_id]["recordings"])
    assert len(sample) > 5


@pytest.mark.parametrize(
    "mangle",
    [lambda i: i[:9] + "0000-4000-8000-000000000000", lambda i: "ffffffff" + i[8:]],
    ids=["unknown-in-a-known-hour", "hour-without-it"],
)
def test_an_id_that_no_conversation_has_is_not_found(
    org: RunningEmulator, truth: Json, mangle: Any
) -> None:
    conversation_id = mangle(truth["conversations"][0]["conversation_id"])
    with org.api() as api:
        response = api.get(f"/api/v2/conversations/{conversation_id}/recordingmetadata")
    assert response.status_code == 404, response.text


# -- export keys of the ground truth -------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")


def _first_of_kind(truth: Json, kind: str) -> Json:
    return next(c for c in truth["conversations"] if c["kind"] == kind and c["recorded"])


def _internal(truth: Json, number: str) -> bool:
    return any(re.match(p, number) for p in truth["org"]["internal_number_patterns"])


@pytest.mark.parametrize(
    ("kind", "direction", "direction_user"),
    [
        ("inbound", "inbound", "incoming"),
        ("outbound", "outbound", "outgoing"),
        ("internal", "internal", "outgoing"),
    ],
)
def test_export_keys_give_the_direction_from_the_internal_number_patterns(
    truth: Json, kind: str, direction: str, direction_user: str
) -> None:
    export = _first_of_kind(truth, kind)["export"]
    internal = (_internal(truth, export["from"]), _internal(truth, export["to"]))
    expected = {
        (False, True): "inbound",
        (True, False): "outbound",
        (True, True): "internal",
    }[internal]
    assert export["direction"] == expected == direction
    assert export["direction_user"] == direction_user


@pytest.mark.parametrize("kind", ["inbound", "outbound", "internal"])
def test_export_keys_name_the_call_and_its_recorded_user(truth: Json, kind: str) -> None:
    conversation = _first_of_kind(truth, kind)
    export = conversation["export"]
    users = {u["id"]: u for u in truth["users"]}
    start, end = _parse(conversation["start"]), _parse(conversation["end"])
    assert export["platform_call_id"] == conversation["conversation_id"]
    assert (export["source_platform"], export["conversation_type"], export["record_type"]) == (
        "Genesys",
        "Voice",
        "Standard",
    )
    assert export["user"] == users[export["user_id"]]["name"]
    assert export["user_id"] == conversation["recordings"][0]["user_id"]
    assert export["duration"] == round((end - start).total_seconds())
    assert export["dialed_number"] == export["to"]
    own_number = users[export["user_id"]]["number"]
    if kind == "inbound":  # dialed the main line (IVR, queue) or the agent's direct number
        assert export["to"] in {truth["org"]["main_line"], own_number}
    else:
        assert export["from"] == own_number


@pytest.mark.parametrize("kind", ["inbound", "outbound", "internal"])
def test_export_times_follow_the_requested_timezone(
    org: RunningEmulator, truth: Json, kind: str
) -> None:
    conversation = _first_of_kind(truth, kind)
    zoned = org.ground_truth(timezone="America/New_York")
    export = next(
        c["export"]
        for c in zoned["conversations"]
        if c["conversation_id"] == conversation["conversation_id"]
    )
    start = _parse(conversation["start"]).astimezone(NEW_YORK)
    end = _parse(conversation["end"]).astimezone(NEW_YORK)
    assert (export["start_date"], export["start_time"]) == (
        start.strftime("%Y-%m-%d"),
        start.strftime("%H:%M:%S"),
    )
    assert (export["end_date"], export["end_time"]) == (
        end.strftime("%Y-%m-%d"),
        end.strftime("%H:%M:%S"),
    )
    utc = conversation["export"]
    shift = dt.datetime.fromisoformat(f"{utc['start_date']}T{utc['start_time']}") - (
        dt.datetime.fromisoformat(f"{export['start_date']}T{export['start_time']}")
    )
    assert shift in (dt.timedelta(hours=4), dt.timedelta(hours=5))
    assert zoned["org"]["timezone"] == "America/New_York"


def test_an_unknown_timezone_is_refused(org: RunningEmulator) -> None:
    with org.client() as http:
        response = http.get("/_emulator/ground-truth", params={"timezone": "Mars/Olympus"})
    assert response.status_code == 400
