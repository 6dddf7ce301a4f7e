"""Deletion protection (§5.3): which conversations are protected, applying and revoking it, and
a protected recording that is not deleted at its deleteDate."""

from __future__ import annotations

import httpx

from genesys_emulator import ALL_PERMISSIONS
from tests.emulator.harness import RunningEmulator, assert_valid

PATH = "/api/v2/recordings/deletionprotection"
APPLY = "recording:deletionProtection:apply"
REVOKE = "recording:deletionProtection:revoke"


def _call(emulator: RunningEmulator, *, protected: bool) -> dict[str, object]:
    start = (emulator.now().replace(microsecond=0)).isoformat()
    body = {"start": start, "duration_s": 5, "deletion_protected": protected}
    created: dict[str, object] = emulator.control("POST", "calls", json=body)
    return created


def _protected(emulator: RunningEmulator, ids: list[str]) -> httpx.Response:
    with emulator.api() as api:
        return api.post(PATH, json={"conversationIds": ids})


def _token_with(emulator: RunningEmulator, *extra: str) -> str:
    emulator.control(
        "POST",
        "clients",
        json={
            "client_id": "legal",
            "client_secret": "legal-secret",
            "permissions": sorted(ALL_PERMISSIONS | set(extra)),
        },
    )
    return emulator.token("legal", "legal-secret")


def test_the_query_answers_the_protected_conversations_as_entity_refs(
    emulator: RunningEmulator,
) -> None:
    held = str(_call(emulator, protected=True)["conversation_id"])
    free = str(_call(emulator, protected=False)["conversation_id"])

    response = _protected(emulator, [free, held, "not-a-conversation"])

    assert response.status_code == 200, response.text
    assert [ref["id"] for ref in response.json()] == [held]
    for ref in response.json():
        assert_valid(ref, "AddressableEntityRef")


def test_the_query_takes_at_most_a_hundred_conversations(emulator: RunningEmulator) -> None:
    assert _protected(emulator, [f"c{i}" for i in range(101)]).status_code == 400
    assert _protected(emulator, []).status_code == 200
    with emulator.api() as api:
        assert api.post(PATH, json={"conversationIds": "c1"}).status_code == 400


def test_applying_and_revoking_need_their_permissions(emulator: RunningEmulator) -> None:
    conversation = str(_call(emulator, protected=False)["conversation_id"])
    body = {"conversationIds": [conversation]}
    with emulator.api() as api:
        refused = api.put(PATH, params={"protect": "true"}, json=body)
    assert refused.status_code == 403
    assert APPLY in refused.json()["message"]

    with emulator.api(_token_with(emulator, APPLY)) as api:
        assert api.put(PATH, params={"protect": "true"}, json=body).status_code == 204
        assert [r["id"] for r in _protected(emulator, [conversation]).json()] == [conversation]
        refused = api.put(PATH, params={"protect": "false"}, json=body)
    assert refused.status_code == 403
    assert REVOKE in refused.json()["message"]


def test_a_protected_recording_outlives_its_delete_date_until_revoked(
    emulator: RunningEmulator,
) -> None:
    created = _call(emulator, protected=True)
    conversation = str(created["conversation_id"])
    recording = str(created["recording_ids"][0])  # type: ignore[index]
    emulator.advance(120)  # the call ended and its media is uploaded
    path = f"/api/v2/conversations/{conversation}/recordings/{recording}"
    with emulator.api() as api:
        past = (emulator.now()).isoformat()
        assert api.put(path, json={"deleteDate": past}).status_code == 200
        emulator.advance(1)
        kept = api.get(path, params={"formatId": "NONE"}).json()
    assert kept["fileState"] == "AVAILABLE"

    token = _token_with(emulator, APPLY, REVOKE)
    with emulator.api(token) as api:
        revoked = api.put(PATH, params={"protect": "false"},
                          json={"conversationIds": [conversation]})  # fmt: skip
        assert revoked.status_code == 204
        gone = api.get(path, params={"formatId": "NONE"}).json()
    assert gone["fileState"] == "DELETED"
