"""On Completion Delete and Genesys's deletion protection: recordings Genesys protects stay in
Genesys, which is reported, not alerted; all others are deleted once archived."""

from __future__ import annotations

from genesys_emulator.config import ALL_PERMISSIONS
from tests.imports.harness import Installation
from tests.imports.observe import add_client, alerts, archived, reports, truth

SET_RETENTION = "PUT /api/v2/conversations/{conversationId}/recordings/{recordingId}"
ASK_PROTECTION = "POST /api/v2/recordings/deletionprotection"
DELETE_FAILED = "Conversation failed to delete from Genesys Cloud"
APPLY = "recording:deletionProtection:apply"


def _protect(installation: Installation, conversation_ids: list[str]) -> None:
    """Put the conversations under Genesys's deletion protection, as a legal team would."""
    add_client(installation, "legal", ALL_PERMISSIONS | {APPLY})
    emulator = installation.emulator
    with emulator.api(emulator.token("legal", "legal-secret")) as api:
        response = api.put(
            "/api/v2/recordings/deletionprotection",
            params={"protect": "true"},
            json={"conversationIds": conversation_ids},
        )
    assert response.status_code == 204, response.text


def test_protected_recordings_are_archived_and_left_in_genesys(installation: Installation) -> None:
    want = truth(installation)
    protected = sorted(want)[:2]
    _protect(installation, protected)
    installation.configure(delete_on_completion=True)

    installation.catch_up()

    assert set(archived(installation)) == set(want)
    states = {
        c["conversation_id"]: {r["file_state"] for r in c["recordings"]}
        for c in truth(installation).values()
    }
    for conversation_id, found in states.items():
        assert found == ({"AVAILABLE"} if conversation_id in protected else {"DELETED"})
    stats = installation.emulator.stats()["by_endpoint"]
    unprotected = sum(len(c["recordings"]) for cid, c in want.items() if cid not in protected)
    assert stats[SET_RETENTION] == unprotected
    assert stats[ASK_PROTECTION] >= 1
    assert [a for a in alerts(installation) if a.title == DELETE_FAILED] == []
    flagged = {
        e.genesys_conversation_id
        for r in reports(installation)
        for e in r.entries
        if e.deletion_protected
    }
    assert flagged == set(protected)
    notices = [a.message for a in alerts(installation) if "deletion protected" in a.message]
    assert {cid for cid in protected if any(cid in n for n in notices)} == set(protected)
