"""API keys: a user creates one on their account page (shown once), uses it as a Bearer token
within their own scope, and revokes it, after which it is refused; the same through the API;
administrators see, create and revoke everyone's on /api-keys; nobody else can."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.site import Site, csrf_of


def new_key(page: str) -> str:
    found = re.search(r'<code id="new-api-key">([^<]+)</code>', page)
    assert found, "the page shows no new key"
    return found[1]


def key_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-key="(\d+)">', page)]


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def test_a_key_is_created_used_within_its_scope_and_revoked(site: Site) -> None:
    async with site.signed_in("jane") as client:
        token = csrf_of((await client.get("/account")).text)
        created = await client.post("/account/api-keys", data={"csrf_token": token, "name": "CI"})
        assert created.status_code == 200, created.text
        key = new_key(created.text)
        assert key.startswith("ca_")
        account = await client.get("/account")
        assert key not in account.text  # shown once
        assert f"{key[:10]}…" in account.text
        assert "never" in account.text
        async with site.client() as robot:
            me = await robot.get("/api/v1/me", headers=bearer(key))
            assert me.status_code == 200
            assert me.json()["login"] == "jane"
            found = (await robot.get("/api/v1/conversations", headers=bearer(key))).json()
            assert [c["genesys_id"] for c in found["items"]] == ["c-jane"]
            assert (await robot.get("/api/v1/me", headers={"x-api-key": key})).status_code == 200
        account = await client.get("/account")
        assert "never" not in account.text  # its last use is shown
        (key_id,) = key_ids(account.text)
        revoked = await client.post(
            f"/account/api-keys/{key_id}/revoke", data={"csrf_token": token}
        )
        assert revoked.status_code == 303
        assert "The key was revoked." in (await client.get(revoked.headers["location"])).text
    async with site.client() as robot:
        refused = await robot.get("/api/v1/me", headers=bearer(key))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")


async def test_keys_through_the_api(site: Site) -> None:
    async with site.signed_in("joe") as client:
        headers = {"x-csrf-token": csrf_of((await client.get("/account")).text)}
        created = await client.post("/api/v1/api-keys", json={"name": "backup"}, headers=headers)
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["login"], body["name"], body["prefix"]) == ("joe", "backup", body["key"][:10])
        listed = (await client.get("/api/v1/api-keys")).json()
        assert [k["id"] for k in listed] == [body["id"]]
        assert "key" not in listed[0]
        blank = await client.post("/api/v1/api-keys", json={"name": "  "}, headers=headers)
        assert blank.status_code == 422
        for_jane = await client.post(
            "/api/v1/api-keys", json={"name": "x", "login": "jane"}, headers=headers
        )
        assert for_jane.status_code == 403
    async with site.client(headers=bearer(body["key"])) as robot:
        assert (await robot.get("/api/v1/me")).json()["login"] == "joe"
        gone = await robot.delete(f"/api/v1/api-keys/{body['id']}")  # a key revokes itself
        assert gone.status_code == 204
        assert (await robot.get("/api/v1/me")).status_code == 401
    async with site.signed_in("joe") as client:
        headers = {"x-csrf-token": csrf_of((await client.get("/account")).text)}
        again = await client.delete(f"/api/v1/api-keys/{body['id']}", headers=headers)
        assert again.status_code == 404
        (shown,) = (await client.get("/api/v1/api-keys")).json()
        assert shown["revoked_at"] is not None


async def test_nobody_revokes_someone_elses_key_but_an_administrator(site: Site) -> None:
    async with site.signed_in("jane") as jane:
        token = csrf_of((await jane.get("/account")).text)
        key = new_key(
            (await jane.post("/account/api-keys", data={"csrf_token": token, "name": "j"})).text
        )
        (key_id,) = key_ids((await jane.get("/account")).text)
    async with site.signed_in("boss") as boss:
        token = csrf_of((await boss.get("/account")).text)
        refused = await boss.post(f"/account/api-keys/{key_id}/revoke", data={"csrf_token": token})
        assert refused.status_code == 404
        assert (await boss.get("/api/v1/api-keys")).json() == []
        assert (await boss.get("/api-keys")).status_code == 403
    async with site.signed_in("admin") as admin:
        page = await admin.get("/api-keys")
        assert page.status_code == 200
        assert key_ids(page.text) == [key_id]
        assert "<td>jane</td>" in page.text
        token = csrf_of(page.text)
        done = await admin.post(f"/api-keys/{key_id}/revoke", data={"csrf_token": token})
        assert done.status_code == 303
        actions = [
            e["action"]
            for e in (await admin.get("/api/v1/audit", params={"actor": "admin"})).json()["items"]
        ]
        assert "api_key_revoked" in actions
    async with site.client() as robot:
        assert (await robot.get("/api/v1/me", headers=bearer(key))).status_code == 401


async def test_an_administrator_creates_a_key_for_an_integration_user(site: Site) -> None:
    async with site.signed_in("admin") as admin:
        token = csrf_of((await admin.get("/api-keys")).text)
        created = await admin.post(
            "/api-keys", data={"csrf_token": token, "name": "recorder sync", "login": "pat"}
        )
        assert created.status_code == 200
        assert "for pat" in created.text
        key = new_key(created.text)
        unknown = await admin.post(
            "/api-keys", data={"csrf_token": token, "name": "x", "login": "nobody"}
        )
        assert unknown.status_code == 422
        assert "no user with login" in unknown.text
        assert "API keys" in (await admin.get("/conversations")).text  # in the menu
    async with site.client(headers=bearer(key)) as robot:
        assert (await robot.get("/api/v1/me")).json()["login"] == "pat"
        found = (await robot.get("/api/v1/conversations")).json()
        assert [c["genesys_id"] for c in found["items"]] == ["c-joe"]  # pat's partition


@pytest.mark.parametrize("header", ["Bearer ca_not-a-key", "bearer x"])
async def test_an_unknown_key_is_refused(site: Site, header: str) -> None:
    async with httpx.AsyncClient(base_url=site.url) as robot:
        answer = await robot.get("/api/v1/me", headers={"authorization": header})
        assert answer.status_code == 401
