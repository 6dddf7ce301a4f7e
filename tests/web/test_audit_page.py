"""The audit log: administrators page through sign-ins and changes, filtered by actor, action and
time range, on the page and the API; nobody else sees it."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.web.site import Site, csrf_of, sign_in


def actors_and_actions(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<td class="actor">([^<]*)</td>\s*<td class="action">([^<]*)</td>', page)


async def test_the_page_lists_sign_ins_and_changes(site: Site) -> None:
    async with site.signed_in("jane") as jane:
        token = csrf_of((await jane.get("/account")).text)
        saved = await jane.post("/account", data={"csrf_token": token, "time_zone": "Europe/Paris"})
        assert saved.status_code == 303
    async with site.client() as stranger:
        assert (await sign_in(stranger, "jane", "wrong password!")).status_code == 401
    async with site.signed_in("admin") as client:
        page = await client.get("/audit")
        assert page.status_code == 200, page.text
        rows = actors_and_actions(page.text)
        assert rows[:4] == [
            ("admin", "signed_in"),
            ("jane", "sign_in_failed"),
            ("jane", "time_zone_set"),
            ("jane", "signed_in"),
        ]
        janes = actors_and_actions((await client.get("/audit?actor=jane")).text)
        assert {actor for actor, _ in janes} == {"jane"}
        sign_ins = actors_and_actions((await client.get("/audit?action=signed_in")).text)
        assert sign_ins == [("admin", "signed_in"), ("jane", "signed_in")]
        assert '<option value="time_zone_set"' in page.text


async def test_a_time_range_in_the_viewers_zone_selects_entries(site: Site) -> None:
    now = dt.datetime.now(dt.UTC)
    async with site.signed_in("admin") as client:
        later = (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        earlier = (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        future = await client.get("/audit", params={"since": later})
        assert "0 entries" in future.text
        span = await client.get("/audit", params={"since": earlier, "until": later})
        assert ("admin", "signed_in") in actors_and_actions(span.text)
        backwards = await client.get("/audit", params={"since": later, "until": earlier})
        assert backwards.status_code == 422
        assert "must be after the start" in backwards.text
        assert (await client.get("/audit", params={"since": "noon"})).status_code == 422


async def test_the_api_pages_and_filters(site: Site) -> None:
    archive = site.archive()
    try:
        for n in range(60):
            await archive.audit.record(actor="robot", action="recording_played", target=str(n))
    finally:
        await archive.close()
    async with site.signed_in("admin") as client:
        first = (await client.get("/api/v1/audit", params={"actor": "robot"})).json()
        assert (first["total"], len(first["items"])) == (60, 50)
        assert first["items"][0]["target"] == "59"
        second = await client.get("/api/v1/audit", params={"actor": "robot", "page": 2})
        assert [e["target"] for e in second.json()["items"]] == [str(n) for n in range(9, -1, -1)]
        played = await client.get(
            "/api/v1/audit", params={"action": "recording_played", "page_size": 100}
        )
        assert played.json()["total"] == 60
        assert (await client.get("/api/v1/audit", params={"page_size": 7})).status_code == 422
        page = await client.get("/audit?actor=robot")
        assert 'rel="next"' in page.text


@pytest.mark.parametrize("login", ["officer", "boss", "jane"])
async def test_only_administrators_see_the_audit_log(site: Site, login: str) -> None:
    async with site.signed_in(login) as client:
        assert (await client.get("/audit")).status_code == 403
        assert (await client.get("/api/v1/audit")).status_code == 403
