"""Legal holds on the web: `/api/v1/holds` and the Holds page for administrators and compliance
officers; a release needs a second person (four eyes); held conversations survive retention."""

from __future__ import annotations

import httpx
import pytest

from callarchive.archive import AuditFilter, ObjectStore
from callarchive.configuration import Policy
from callarchive.retention import RetentionJob
from tests.web.site import Site, csrf_of


async def _csrf(client: httpx.AsyncClient) -> dict[str, str]:
    page = await client.get("/holds")
    return {"X-CSRF-Token": csrf_of(page.text)}


async def _create(client: httpx.AsyncClient, **body: object) -> httpx.Response:
    payload = {"name": "Case 1", "reason": "SEC inquiry 2026-11", **body}
    return await client.post("/api/v1/holds", json=payload, headers=await _csrf(client))


async def test_a_hold_from_a_search_holds_what_it_finds(site: Site) -> None:
    async with site.signed_in("officer") as officer:
        created = await _create(officer, search={"user": "jane"},
                                conversation_ids=[site.ids["c-joe"]])  # fmt: skip
        assert created.status_code == 201, created.text
        hold = created.json()
        assert (hold["state"], hold["conversations"], hold["created_by"]) == (
            "active",
            2,
            "officer",
        )
        detail = await officer.get(f"/api/v1/holds/{hold['id']}")
        assert detail.json()["conversation_ids"] == sorted([site.ids["c-jane"], site.ids["c-joe"]])
        added = await officer.post(
            f"/api/v1/holds/{hold['id']}/conversations",
            json={"conversation_ids": [site.ids["c-boss"], site.ids["c-joe"]]},
            headers=await _csrf(officer),
        )
        assert added.json() == {"added": 1}
        listed = await officer.get("/api/v1/holds")
        assert [h["conversations"] for h in listed.json()] == [3]


async def test_the_requester_cannot_approve_the_release_a_second_person_can(site: Site) -> None:
    async with site.signed_in("officer") as officer, site.signed_in("admin") as admin:
        hold = (await _create(officer, conversation_ids=[site.ids["c-jane"]])).json()
        base = f"/api/v1/holds/{hold['id']}"
        early = await admin.post(f"{base}/release-approve", headers=await _csrf(admin))
        assert early.status_code == 422  # nothing requested yet
        requested = await officer.post(f"{base}/release-request", headers=await _csrf(officer))
        assert requested.json()["release_requested_by"] == "officer"

        refused = await officer.post(f"{base}/release-approve", headers=await _csrf(officer))
        assert refused.status_code == 403
        assert "four eyes" in refused.json()["detail"]
        assert (await officer.get(base)).json()["state"] == "active"

        approved = await admin.post(f"{base}/release-approve", headers=await _csrf(admin))
        assert approved.status_code == 200, approved.text
        assert approved.json()["state"] == "released"
        assert approved.json()["release_approved_by"] == "admin"
    archive = site.archive()
    try:
        entries = await archive.audit.list(AuditFilter(action="legal_hold_released"))
        assert [(e.actor, e.details["requested_by"]) for e in entries] == [("admin", "officer")]
    finally:
        await archive.close()


@pytest.mark.parametrize("login", ["jane", "boss"])
async def test_only_administrators_and_compliance_officers_see_holds(
    site: Site, login: str
) -> None:
    async with site.signed_in(login) as client:
        assert (await client.get("/api/v1/holds")).status_code == 403
        assert (await client.get("/holds")).status_code == 403
        assert (await client.get("/api/v1/retention/preview")).status_code == 403


async def test_held_conversations_survive_retention(site: Site) -> None:
    archive = site.archive()
    try:
        await archive.retention.set_user_days("jane", 1, actor="test")
        await archive.retention.set_user_days("joe", 1, actor="test")
    finally:
        await archive.close()
    async with site.signed_in("officer") as officer:
        preview = (await officer.get("/api/v1/retention/preview")).json()
        assert {i["genesys_id"] for i in preview["items"]} == {"c-jane", "c-joe"}
        await _create(officer, conversation_ids=[site.ids["c-jane"]])
        preview = (await officer.get("/api/v1/retention/preview")).json()
        assert [i["genesys_id"] for i in preview["items"]] == ["c-joe"]
    archive = site.archive()
    try:
        outcome = await RetentionJob(
            archive, ObjectStore.from_url(str(site.media_folder)), site.clock
        ).run()
        assert [c.genesys_id for c in outcome.conversations] == ["c-joe"]
        assert await archive.conversations.get(site.ids["c-jane"]) is not None
        assert await archive.conversations.get(site.ids["c-joe"]) is None
    finally:
        await archive.close()


async def test_the_holds_page_creates_adds_and_releases_with_four_eyes(site: Site) -> None:
    async with site.signed_in("officer") as officer, site.signed_in("admin") as admin:
        page = await officer.get("/holds", params={"user": "jane"})
        assert page.status_code == 200
        assert "user = jane" in page.text
        token = csrf_of(page.text)
        form = {"csrf_token": token, "name": "Case 2", "reason": "audit", "user": "jane"}
        created = await officer.post("/holds", data=form)
        assert created.status_code == 303, created.text
        [hold] = (await officer.get("/api/v1/holds")).json()
        assert hold["conversations"] == 1
        base = f"/holds/{hold['id']}"
        added = await officer.post(
            f"{base}/conversations",
            data={"csrf_token": token, "conversation_id": str(site.ids["c-lead"])},
        )
        assert added.status_code == 303
        await officer.post(f"{base}/release-request", data={"csrf_token": token})
        page = await officer.get("/holds")
        assert "requested by officer" in page.text
        refused = await officer.post(f"{base}/release-approve", data={"csrf_token": token})
        assert refused.status_code == 403
        assert "four eyes" in refused.text
        admin_token = csrf_of((await admin.get("/holds")).text)
        approved = await admin.post(f"{base}/release-approve", data={"csrf_token": admin_token})
        assert approved.status_code == 303
        [hold] = (await admin.get("/api/v1/holds")).json()
        assert (hold["state"], hold["conversations"]) == ("released", 2)


async def test_the_search_page_offers_its_results_for_a_hold(site: Site) -> None:
    async with site.signed_in("officer") as officer:
        page = await officer.get("/conversations", params={"user": "jane", "min_duration": "1"})
        assert 'href="/holds?user=jane&amp;min_duration=1"' in page.text
        form = await officer.get("/holds", params={"user": "jane", "min_duration": "1"})
        assert "user = jane" in form.text
    async with site.signed_in("jane") as agent:
        assert "hold-search" not in (await agent.get("/conversations")).text


async def test_editing_a_policy_or_a_user_on_the_web_keeps_their_retention(site: Site) -> None:
    archive = site.archive()
    try:
        assert site.source is not None
        await archive.policies.add(
            Policy(name="EU", import_sources=(site.source.name,), retention_days=1827), actor="t"
        )
        await archive.retention.set_user_days("jane", 3653, actor="t")
    finally:
        await archive.close()
    async with site.signed_in("admin") as admin:
        headers = await _csrf(admin)
        policy = {"name": "EU", "import_sources": [site.source.name], "enabled": False}
        changed = await admin.put("/api/v1/policies/EU", json=policy, headers=headers)
        assert changed.status_code == 200, changed.text
        user = {"name": "Jane Changed", "role": "agent", "supervisor": "lead", "password": None}
        changed = await admin.put("/api/v1/users/jane", json=user, headers=headers)
        assert changed.status_code == 200, changed.text
    archive = site.archive()
    try:
        assert (await archive.policies.get("EU")).retention_days == 1827
        assert (await archive.users.get("jane")).retention_days == 3653
    finally:
        await archive.close()


async def test_policies_show_their_retention(site: Site) -> None:
    archive = site.archive()
    try:
        assert site.source is not None
        await archive.policies.add(
            Policy(name="EU", import_sources=(site.source.name,), retention_days=1827), actor="t"
        )
    finally:
        await archive.close()
    async with site.signed_in("admin") as admin:
        assert (await admin.get("/api/v1/policies/EU")).json()["retention_days"] == 1827
        assert "1827 days" in (await admin.get("/data/policies")).text
