"""On Completion Delete and Genesys's deletion protection: recordings Genesys protects stay in
Genesys, which is reported, not alerted; all others are deleted once archived."""

from __future__ import annotations

import asyncio

import httpx

from callarchive.cli.imports import run_pair
from callarchive.genesys import connect
from callarchive.imports.connection import connection_settings
from genesys_emulator.config import ALL_PERMISSIONS
from tests.imports.harness import POLICY, SOURCE, Installation
from tests.imports.observe import PAIR_OPTIONS, add_client, alerts, archived, reports, truth

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


class _ProtectionUnanswered(httpx.AsyncBaseTransport):
    """The network to the emulator, except that Genesys fails every deletion protection
    question (after the client's retries)."""

    def __init__(self) -> None:
        self._network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/recordings/deletionprotection":
            body = {"message": "unavailable", "code": "service.unavailable", "status": 503}
            return httpx.Response(503, json=body, headers={"inin-correlation-id": "test"})
        return await self._network.handle_async_request(request)

    async def aclose(self) -> None:
        await self._network.aclose()


def test_when_genesys_cannot_say_what_it_protects_nothing_is_deleted(
    installation: Installation,
) -> None:
    installation.configure(delete_on_completion=True, batch_duration_min=24 * 60)

    async def one_run() -> None:
        wired = installation.wiring()
        async with wired.archive() as archive:
            policy = await archive.policies.get(POLICY)
            source = await archive.import_sources.get(SOURCE)
            settings = connection_settings(source)
            transport = _ProtectionUnanswered()
            async with connect(settings, clock=wired.clock, transport=transport) as client:
                await run_pair(wired, archive, client, policy, source)

    asyncio.run(one_run())

    got = archived(installation)
    assert got
    assert installation.emulator.stats()["by_endpoint"].get(SET_RETENTION, 0) == 0
    states = {r["file_state"] for c in truth(installation).values() for r in c["recordings"]}
    assert "DELETED" not in states
    failed = [a.message for a in alerts(installation) if a.title == DELETE_FAILED]
    assert len(failed) == len(got)
    assert all("could not say" in m for m in failed)
    listed = installation.must("retry-buffer", "list", *PAIR_OPTIONS).output.splitlines()
    assert len(listed) == len(got)
    assert all("delete_pending" in line for line in listed)
