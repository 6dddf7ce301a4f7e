"""The client asks Genesys which conversations are protected from deletion, 100 at a time."""

from __future__ import annotations

from callarchive.genesys import GenesysClient
from tests.emulator.harness import RunningEmulator

ENDPOINT = "POST /api/v2/recordings/deletionprotection"


async def test_protected_conversations_are_found_among_many(
    genesys: GenesysClient, emulator: RunningEmulator
) -> None:
    conversations = [c["conversation_id"] for c in emulator.ground_truth()["conversations"]]
    protected = []
    for _ in range(3):
        body = {"duration_s": 5, "deletion_protected": True}
        protected.append(emulator.control("POST", "calls", json=body)["conversation_id"])
    asked = [*conversations[:150], *protected, conversations[0]]

    found = await genesys.deletion_protected(asked)

    assert found == set(protected)
    assert emulator.stats()["by_endpoint"][ENDPOINT] == 2  # 153 distinct ids: 100 + 53
    assert await genesys.deletion_protected([]) == set()
