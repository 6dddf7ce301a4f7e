"""Users > Users, Users > Extensions, `/api/v1/users` and `/api/v1/extensions`."""

from __future__ import annotations

import html
from urllib.parse import quote

import httpx
import pytest

from callarchive.configuration import User
from tests.web.site import Site, csrf_of, sign_in

NEW_PASSWORD = "a new long passphrase"


def user_form(**overrides: str) -> dict[str, str]:
    form = {
        "login": "ann",
        "name": "Ann Agent",
        "role": "agent",
        "supervisor": "lead",
        "partitions": "sales, eu",
        "recorded": "on",
        "time_zone": "Europe/Paris",
        "password": NEW_PASSWORD,
    }
    form.update(overrides)
    return form


async def token_of(client: httpx.AsyncClient, path: str = "/users") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def audit_of(site: Site, target: str) -> list[tuple[str, str]]:
    archive = site.archive()
    try:
        return [(e.actor, e.action) for e in await archive.audit.list() if e.target == target]
    finally:
        await archive.close()


async def stored_user(site: Site, login: str) -> User | None:
    archive = site.archive()
    try:
        return next((u for u in await archive.users.list() if u.login == login), None)
    finally:
        await archive.close()


async def test_an_administrator_adds_a_user_who_then_signs_in(site: Site) -> None:
    async with site.signed_in("admin") as client:
        token = await token_of(client, "/users/new")
        added = await client.post("/users/new", data={**user_form(), "csrf_token": token})
        assert added.status_code == 303, added.text
        listing = await client.get("/users")
        assert "Ann Agent" in listing.text
        page = await client.get("/users/edit/ann")
        assert "A password is set." in page.text
        assert 'value="Europe/Paris"' in page.text
        for answer in (listing, page):
            assert NEW_PASSWORD not in answer.text
            assert "argon2" not in answer.text
    user = await stored_user(site, "ann")
    assert user == User(
        login="ann",
        name="Ann Agent",
        supervisor="lead",
        partitions=("eu", "sales"),
        id=user.id if user else None,
    )
    async with site.client() as browser:
        assert (await sign_in(browser, "ann", NEW_PASSWORD)).status_code == 303
    assert await audit_of(site, "user:ann") == [("admin", "user_added")]
    assert ("admin", "password_set") in await audit_of(site, "ann")
    assert ("admin", "time_zone_set") in await audit_of(site, "ann")


async def test_an_administrator_edits_a_user_and_sets_a_new_password(site: Site) -> None:
    async with site.signed_in("admin") as client:
        token = await token_of(client, "/users/edit/joe")
        answer = await client.post(
            "/users/edit/joe",
            data={
                **user_form(login="ignored", name="Joe B", role="supervisor", supervisor=""),
                "recorded": "",
                "csrf_token": token,
            },
        )
        assert answer.status_code == 303, answer.text
    joe = await stored_user(site, "joe")
    assert joe is not None
    assert (joe.name, joe.role.value, joe.supervisor, joe.recorded) == (
        "Joe B",
        "supervisor",
        None,
        False,
    )
    assert await stored_user(site, "ignored") is None
    async with site.client() as browser:
        assert (await sign_in(browser, "joe", NEW_PASSWORD)).status_code == 303
    assert await audit_of(site, "user:joe") == [("admin", "user_changed"), ("test", "user_added")]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password": "short"}, "password", "at least 12 characters"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a time zone"),
        ({"login": "has space"}, "login", "without spaces"),
        ({"login": "jane"}, "login", "already exists"),
        ({"name": ""}, "name", "mandatory"),
        ({"role": "king"}, "role", "not allowed"),
    ],
)
async def test_a_wrong_item_is_shown_next_to_its_field_and_nothing_is_stored(
    site: Site, changes: dict[str, str], field: str, message: str
) -> None:
    async with site.signed_in("admin") as client:
        token = await token_of(client, "/users/new")
        answer = await client.post("/users/new", data={**user_form(**changes), "csrf_token": token})
    assert answer.status_code == 422
    assert message in answer.text.split(f'id="error-{field}"', 1)[1].split("</p>", 1)[0]
    assert 'value="sales, eu"' in answer.text
    assert NEW_PASSWORD not in answer.text
    if changes.get("login") != "jane":
        assert await stored_user(site, "ann") is None


@pytest.mark.parametrize("login", ["new", "extensions", "team/ann", "ann?x#1", "delete"])
async def test_any_login_opens_saves_and_deletes_through_its_page(site: Site, login: str) -> None:
    async with site.signed_in("admin") as client:
        token = await token_of(client, "/users/new")
        added = await client.post(
            "/users/new", data={**user_form(login=login), "csrf_token": token}
        )
        assert added.status_code == 303, added.text
        listing = await client.get("/users")
        link = listing.text.split(">" + html.escape(login) + "</a>", 1)[0].rsplit('href="', 1)[1]
        page = await client.get(html.unescape(link.split('"', 1)[0]))
        assert page.status_code == 200
        assert f'value="{html.escape(login)}"' in page.text
        saved = await client.post(
            f"/users/edit/{quote(login, safe='')}",
            data={**user_form(name="Renamed"), "csrf_token": token},
        )
        assert saved.status_code == 303, saved.text
        user = await stored_user(site, login)
        assert user is not None
        assert user.name == "Renamed"
        deleted = await client.post(
            f"/users/delete/{quote(login, safe='')}", data={"csrf_token": token}
        )
        assert deleted.status_code == 303, deleted.text
    assert await stored_user(site, login) is None


async def test_a_user_without_recordings_is_deleted_but_oneself_is_not(site: Site) -> None:
    async with site.signed_in("admin") as client:
        token = await token_of(client)
        await client.post("/users/new", data={**user_form(), "csrf_token": token})
        deleted = await client.post("/users/delete/ann", data={"csrf_token": token})
        assert deleted.status_code == 303
        self_delete = await client.post("/users/delete/admin", data={"csrf_token": token})
        assert self_delete.status_code == 409
        assert "you cannot delete your own account" in self_delete.text
        recorded = await client.post("/users/delete/jane", data={"csrf_token": token})
        assert recorded.status_code == 409
        assert "conversations are recorded for" in recorded.text
        demote = await client.post(
            "/users/edit/admin",
            data={**user_form(name="Admin", role="agent", password=""), "csrf_token": token},
        )
        assert demote.status_code == 422
        assert "your own administrator role" in demote.text
    assert await stored_user(site, "ann") is None
    assert await stored_user(site, "jane") is not None
    assert await audit_of(site, "user:ann") == [("admin", "user_deleted"), ("admin", "user_added")]


async def test_extensions_are_added_and_deleted(site: Site) -> None:
    async with site.signed_in("admin") as client:
        token = await token_of(client, "/users/extensions")
        added = await client.post(
            "/users/extensions",
            data={
                "type": "number",
                "value": "+1 (312) 555-0101",
                "user": "jane",
                "valid_from": "2026-01-01T00:00",
                "valid_to": "",
                "csrf_token": token,
            },
        )
        assert added.status_code == 303, added.text
        listing = await client.get("/users/extensions?user=jane")
        assert "+13125550101" in listing.text
        assert "2026-01-01 00:00" in listing.text
        clash = await client.post(
            "/users/extensions",
            data={"type": "number", "value": "+13125550101", "user": "joe", "csrf_token": token},
        )
        assert clash.status_code == 422
        assert "already belongs to" in clash.text.split('id="error-value"', 1)[1]
        wrong = await client.post(
            "/users/extensions",
            data={"type": "address", "value": "not an address", "user": "joe", "csrf_token": token},
        )
        assert 'id="error-value"' in wrong.text
        archive = site.archive()
        try:
            [extension] = await archive.extensions.list()
        finally:
            await archive.close()
        deleted = await client.post(
            f"/users/extensions/{extension.id}/delete", data={"csrf_token": token}
        )
        assert deleted.status_code == 303
        assert "+13125550101" not in (await client.get("/users/extensions")).text
    assert await audit_of(site, "extension:number:+13125550101") == [
        ("admin", "extension_deleted"),
        ("admin", "extension_added"),
    ]


@pytest.mark.parametrize("login", ["officer", "boss", "pat"])
async def test_only_administrators_open_users_and_extensions(site: Site, login: str) -> None:
    async with site.signed_in(login) as client:
        for path in ("/users", "/users/new", "/users/edit/jane", "/users/extensions"):
            assert (await client.get(path)).status_code == 403, path
        for path in ("/api/v1/users", "/api/v1/users/jane", "/api/v1/extensions"):
            assert (await client.get(path)).status_code == 403, path
        token = await token_of(client, "/conversations")
        posted = await client.post("/users/new", data={**user_form(), "csrf_token": token})
        assert posted.status_code == 403
    assert await stored_user(site, "ann") is None


async def test_a_post_without_the_csrf_token_is_refused(site: Site) -> None:
    async with site.signed_in("admin") as client:
        form = await client.post("/users/new", data=user_form())
        api = await client.post("/api/v1/users", json=user_form())
        gone = await client.post("/users/delete/joe")
    assert (form.status_code, api.status_code, gone.status_code) == (403, 403, 403)
    assert await stored_user(site, "ann") is None
    assert await stored_user(site, "joe") is not None


async def test_the_api_manages_users_and_extensions_without_password_hashes(site: Site) -> None:
    body = {**user_form(), "partitions": ["sales"], "recorded": True}
    async with site.signed_in("admin") as client:
        headers = {"x-csrf-token": await token_of(client)}
        added = await client.post("/api/v1/users", json=body, headers=headers)
        assert added.status_code == 201, added.text
        assert added.json() == {
            "login": "ann",
            "name": "Ann Agent",
            "role": "agent",
            "supervisor": "lead",
            "partitions": ["sales"],
            "recorded": True,
            "time_zone": "Europe/Paris",
            "can_sign_in": True,
        }
        changed = await client.put(
            "/api/v1/users/ann",
            json={"name": "Ann", "role": "compliance_officer", "password": None},
            headers=headers,
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["role"], changed.json()["supervisor"]) == (
            "compliance_officer",
            None,
        )
        wrong = await client.put(
            "/api/v1/users/ann", json={"name": "Ann", "password": "short"}, headers=headers
        )
        assert (wrong.status_code, wrong.json()["field"]) == (422, "password")
        extension = await client.post(
            "/api/v1/extensions",
            json={"type": "address", "value": "sip:ann@example.com", "user": "ann"},
            headers=headers,
        )
        assert extension.status_code == 201, extension.text
        listed = await client.get("/api/v1/extensions", params={"user": "ann"})
        assert [e["value"] for e in listed.json()] == ["sip:ann@example.com"]
        users = await client.get("/api/v1/users")
        assert len(users.json()) == 8
        for answer in (added, changed, users):
            assert NEW_PASSWORD not in answer.text
            assert "argon2" not in answer.text
            assert "password_hash" not in answer.text
        removed = await client.delete(
            f"/api/v1/extensions/{extension.json()['id']}", headers=headers
        )
        assert removed.status_code == 204
        assert (await client.delete("/api/v1/users/ann", headers=headers)).status_code == 204
        assert (await client.get("/api/v1/users/ann")).status_code == 404
        refused = await client.delete("/api/v1/users/admin", headers=headers)
        assert refused.status_code == 409
    assert await audit_of(site, "user:ann") == [
        ("admin", "user_deleted"),
        ("admin", "user_changed"),
        ("admin", "user_added"),
    ]
