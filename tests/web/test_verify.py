"""The Verify button and `POST /api/v1/conversations/{id}/verify`: administrators and compliance
officers check a conversation against its seal (and its media), with the result shown."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from callarchive.archive import AuditFilter
from callarchive.archive.schema import ConversationRow
from tests.web.site import Site, csrf_of


async def test_the_api_verifies_a_clean_conversation_and_its_media(site: Site) -> None:
    async with site.signed_in("officer") as officer:
        token = csrf_of((await officer.get("/conversations")).text)
        answer = await officer.post(
            f"/api/v1/conversations/{site.ids['c-jane']}/verify",
            params={"media": "true"},
            headers={"X-CSRF-Token": token},
        )
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["ok"] is True
        assert result["recordings_read"] == 1
        assert "result: OK" in result["report"]
        missing = await officer.post(
            "/api/v1/conversations/999999/verify", headers={"X-CSRF-Token": token}
        )
        assert missing.status_code == 404
    archive = site.archive()
    try:
        assert await archive.audit.count(AuditFilter(action="conversation_verified")) == 1
    finally:
        await archive.close()


async def test_the_verify_button_shows_a_changed_field(site: Site) -> None:
    archive = site.archive()
    try:
        async with archive.engine.begin() as connection:
            await connection.execute(
                update(ConversationRow)
                .where(ConversationRow.id == site.ids["c-jane"])
                .values(from_number="+19999999999")
            )
    finally:
        await archive.close()
    async with site.signed_in("admin") as admin:
        page = await admin.get(f"/conversations/{site.ids['c-jane']}")
        assert 'action="/conversations/' in page.text
        answer = await admin.post(
            f"/conversations/{site.ids['c-jane']}/verify",
            data={"csrf_token": csrf_of(page.text)},
        )
        assert answer.status_code == 200, answer.text
        assert "metadata changed" in answer.text
        assert "from_number" in answer.text
        forged = await admin.post(f"/conversations/{site.ids['c-jane']}/verify", data={})
        assert forged.status_code == 403


@pytest.mark.parametrize("login", ["jane", "boss"])
async def test_only_administrators_and_compliance_officers_verify(site: Site, login: str) -> None:
    async with site.signed_in(login) as client:
        page = await client.get(f"/conversations/{site.ids['c-jane']}")
        assert page.status_code == 200
        assert "/verify" not in page.text
        answer = await client.post(
            f"/api/v1/conversations/{site.ids['c-jane']}/verify",
            headers={"X-CSRF-Token": csrf_of(page.text)},
        )
        assert answer.status_code == 403
