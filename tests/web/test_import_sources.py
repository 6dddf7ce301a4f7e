"""Data > Import Sources and `/api/v1/import-sources`: forms, validation, secrets, access, audit."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from callarchive.configuration import Policy
from callarchive.imports import genesys_probe
from callarchive.secrets import SecretBox
from genesys_emulator import EmulatorConfig
from tests.configuration.builders import source_items
from tests.emulator.harness import RunningEmulator, serve
from tests.genesys.conftest import EmulatorClock
from tests.web.site import Site, csrf_of

EMULATED = EmulatorConfig(
    seed=5, calls_per_hour=40, mean_call_seconds=5, long_call_ratio=0.0, users=6
)

SECRETS = {
    "client_secret": "client-secret-4711",
    "tls_key_password": "",
    "proxy_password": "proxy-secret-0815",
}


def dallas_form(**overrides: str) -> dict[str, str]:
    """The add form of a valid import source with a forward proxy."""
    items: dict[str, Any] = source_items(
        name="Dallas",
        client_secret=SECRETS["client_secret"],
        proxy_address="proxy.example.com",
        proxy_port="3128",
        proxy_username="archiver",
        proxy_password=SECRETS["proxy_password"],
        internal_number_patterns="^\\+1214555\\d{4}$",
    )
    items.update(overrides)
    return items


async def form_token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def assert_no_secret(text: str) -> None:
    for secret in ("client-secret-4711", "proxy-secret-0815", "s3cr3t-value"):
        assert secret not in text


async def test_the_form_shows_every_item_of_the_seed_with_its_description(site: Site) -> None:
    async with site.signed_in("admin") as client:
        page = await client.get("/data/import-sources/new")
    assert page.status_code == 200
    for label in (
        "Client Id",
        "HTTPS Genesys Cloud API Authentication URL",
        "TLS Certificate File / Thumbprint",
        "Forward Proxy Password",
        "Transcoding by Genesys",
        "Genesys Cache Lifetime (minutes)",
        "On Completion Delete Recordings Stored in Genesys Cloud",
    ):
        assert label in page.text
    assert "Select Genesys Cloud Import Source." in page.text
    assert "it is recommended to set the Maximum Recording Length to a large number" in page.text


async def test_an_administrator_adds_edits_and_deletes_a_source_through_the_forms(
    site: Site,
) -> None:
    async with site.signed_in("admin") as client:
        token = await form_token(client, "/data/import-sources/new")
        added = await client.post(
            "/data/import-sources/new", data={**dallas_form(), "csrf_token": token}
        )
        assert added.status_code == 303, added.text
        listing = await client.get(added.headers["location"])
        assert "The import source was added." in listing.text
        assert "Dallas" in listing.text
        archive = site.archive()
        try:
            stored = await archive.import_sources.get("Dallas")
            edit = await client.get(f"/data/import-sources/{stored.id}")
            assert_no_secret(edit.text)
            assert "stored; leave empty to keep it" in edit.text
            changed = await client.post(
                f"/data/import-sources/{stored.id}",
                data={
                    **dallas_form(codec="WAV", client_secret="", proxy_password=""),
                    "csrf_token": token,
                },
            )
            assert changed.status_code == 303, changed.text
            after = await archive.import_sources.get("Dallas")
            assert after.codec.value == "WAV"
            assert after.client_secret.reveal() == SECRETS["client_secret"]
            assert after.proxy_password is not None
            assert after.proxy_password.reveal() == SECRETS["proxy_password"]
            deleted = await client.post(
                f"/data/import-sources/{stored.id}/delete", data={"csrf_token": token}
            )
            assert deleted.status_code == 303
            assert [s.name for s in await archive.import_sources.list()] == ["Chicago"]
            entries = [
                (e.actor, e.action, e.target)
                for e in await archive.audit.list()
                if e.target == "import_source:Dallas"
            ]
        finally:
            await archive.close()
    assert entries == [
        ("admin", "import_source_deleted", "import_source:Dallas"),
        ("admin", "import_source_changed", "import_source:Dallas"),
        ("admin", "import_source_added", "import_source:Dallas"),
    ]


async def test_a_ticked_remove_box_clears_an_optional_secret(site: Site) -> None:
    async with site.signed_in("admin") as client:
        token = await form_token(client, "/data/import-sources/new")
        await client.post("/data/import-sources/new", data={**dallas_form(), "csrf_token": token})
        archive = site.archive()
        try:
            stored = await archive.import_sources.get("Dallas")
            answer = await client.post(
                f"/data/import-sources/{stored.id}",
                data={
                    **dallas_form(client_secret="", proxy_password=""),
                    "remove_proxy_password": "on",
                    "csrf_token": token,
                },
            )
            assert answer.status_code == 303, answer.text
            assert (await archive.import_sources.get("Dallas")).proxy_password is None
        finally:
            await archive.close()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("proxy_port", "99999", "out of range"),
        ("auth_url", "ftp://login.example.com", "auth_url"),
        ("recording_timezone", "Mars/Olympus", "not a known time zone"),
        ("codec", "", "mandatory"),
    ],
)
async def test_a_wrong_item_is_shown_next_to_its_field_and_nothing_is_stored(
    site: Site, field: str, value: str, message: str
) -> None:
    async with site.signed_in("admin") as client:
        token = await form_token(client, "/data/import-sources/new")
        answer = await client.post(
            "/data/import-sources/new", data={**dallas_form(**{field: value}), "csrf_token": token}
        )
    assert answer.status_code == 422
    error = answer.text.split(f'id="error-{field}"', 1)[1].split("</p>", 1)[0]
    assert message in error or message == field
    assert f'id="field-{field}"' in answer.text.split(f'id="error-{field}"', 1)[0][-2000:]
    assert 'value="Dallas"' in answer.text  # what was typed is kept
    assert 'value="proxy.example.com"' in answer.text
    assert_no_secret(answer.text)
    archive = site.archive()
    try:
        assert [s.name for s in await archive.import_sources.list()] == ["Chicago"]
    finally:
        await archive.close()


async def test_a_source_used_by_a_policy_is_not_deleted(site: Site) -> None:
    archive = site.archive()
    try:
        await archive.policies.add(Policy(name="US", import_sources=("Chicago",)), actor="t")
    finally:
        await archive.close()
    assert site.source is not None
    async with site.signed_in("admin") as client:
        token = await form_token(client, "/data/import-sources")
        answer = await client.post(
            f"/data/import-sources/{site.source.id}/delete", data={"csrf_token": token}
        )
        assert answer.status_code == 409
        assert "is used by the policies &#39;US&#39;" in answer.text
        api = await client.delete("/api/v1/import-sources/Chicago", headers={"x-csrf-token": token})
        assert api.status_code == 409
        assert "used by the policies" in api.json()["detail"]


@pytest.mark.parametrize("login", ["officer", "boss", "jane"])
async def test_only_administrators_open_import_sources(site: Site, login: str) -> None:
    async with site.signed_in(login) as client:
        assert (await client.get("/data/import-sources")).status_code == 403
        assert (await client.get("/data/import-sources/new")).status_code == 403
        assert (await client.get("/api/v1/import-sources")).status_code == 403
        token = await form_token(client, "/conversations")
        posted = await client.post(
            "/data/import-sources/new", data={**dallas_form(), "csrf_token": token}
        )
        assert posted.status_code == 403


async def test_a_post_without_the_csrf_token_is_refused(site: Site) -> None:
    async with site.signed_in("admin") as client:
        form = await client.post("/data/import-sources/new", data=dallas_form())
        api = await client.post("/api/v1/import-sources", json=dallas_form())
    assert form.status_code == 403
    assert api.status_code == 403
    archive = site.archive()
    try:
        assert [s.name for s in await archive.import_sources.list()] == ["Chicago"]
    finally:
        await archive.close()


async def test_the_api_adds_reads_changes_and_deletes_without_showing_secrets(
    site: Site,
) -> None:
    body: dict[str, Any] = {
        **dallas_form(),
        "proxy_port": 3128,
        "internal_number_patterns": ["^\\d{4}$"],
    }
    for name in ("max_recording_length_min", "availability_delay_min", "cache_lifetime_min"):
        body[name] = int(body[name])
    async with site.signed_in("admin") as client:
        headers = {"x-csrf-token": await form_token(client, "/conversations")}
        added = await client.post("/api/v1/import-sources", json=body, headers=headers)
        assert added.status_code == 201, added.text
        assert added.json()["client_secret_set"] is True
        assert added.json()["proxy_password_set"] is True
        assert added.json()["tls_key_password_set"] is False
        read = await client.get("/api/v1/import-sources/Dallas")
        assert read.json()["recording_start"] == "2023-02-02T07:00:00-06:00"
        changed = await client.put(
            "/api/v1/import-sources/Dallas",
            json={**body, "name": "Texas", "client_secret": None, "proxy_password": None},
            headers=headers,
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["name"] == "Texas"
        listing = await client.get("/api/v1/import-sources")
        assert [s["name"] for s in listing.json()] == ["Chicago", "Texas"]
        wrong = await client.put(
            "/api/v1/import-sources/Texas",
            json={**body, "name": "Texas", "proxy_port": 0},
            headers=headers,
        )
        assert wrong.status_code == 422
        assert wrong.json()["field"] == "proxy_port"
        for answer in (added, read, changed, listing, wrong):
            assert_no_secret(answer.text)
        archive = site.archive()
        try:
            texas = await archive.import_sources.get("Texas")
        finally:
            await archive.close()
        assert texas.client_secret.reveal() == SECRETS["client_secret"]
        deleted = await client.delete("/api/v1/import-sources/Texas", headers=headers)
        assert deleted.status_code == 204
        assert (await client.get("/api/v1/import-sources/Texas")).status_code == 404
    async with site.client() as anonymous:
        schema = (await anonymous.get("/api/v1/openapi.json")).json()
    described = schema["components"]["schemas"]["ImportSourceIn"]["properties"]
    assert "Customer firewall team" in described["auth_url"]["description"]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[RunningEmulator]:
    with serve(dataclasses.replace(EMULATED, cache_dir=str(tmp_path / "emulator"))) as running:
        yield running


@pytest.fixture
async def probing_site(
    database_url: str, box: SecretBox, tmp_path: Path, emulator: RunningEmulator
) -> AsyncIterator[Site]:
    """The site, whose Test connection talks to the Genesys emulator."""
    running = Site(
        database_url=database_url,
        media_folder=tmp_path / "media",
        box=box,
        probe=genesys_probe(EmulatorClock(emulator)),
    )
    await running.seed()
    running.start()
    yield running
    running.stop()


def emulated_form(emulator: RunningEmulator, secret: str) -> dict[str, str]:
    items: dict[str, str] = source_items(
        name="Emulated",
        client_id=EMULATED.client_id,
        client_secret=secret,
        auth_url=emulator.base_url,
        api_url=emulator.base_url,
    )
    return items


def recorded_last_hour(emulator: RunningEmulator) -> int:
    now = emulator.now()
    truth = emulator.ground_truth(**{"from": (now - dt.timedelta(hours=1)).isoformat()})
    return sum(1 for c in truth["conversations"] if c["voice"] and c["recorded"])


async def test_test_connection_counts_the_last_hour_before_and_after_saving(
    probing_site: Site, emulator: RunningEmulator
) -> None:
    form = emulated_form(emulator, EMULATED.client_secret)
    async with probing_site.signed_in("admin") as client:
        token = await form_token(client, "/data/import-sources/new")
        before = recorded_last_hour(emulator)  # the hour slides in real time while probing
        tested = await client.post(
            "/data/import-sources/new/test", data={**form, "csrf_token": token}
        )
        after = recorded_last_hour(emulator)
        assert tested.status_code == 200, tested.text
        assert "Connected: token obtained (valid for" in tested.text
        assert any(
            f'<b id="probe-conversations">{expected}</b>' in tested.text
            for expected in {before, after}
        )
        assert 'value="Emulated"' in tested.text  # the form is kept, not saved
        assert EMULATED.client_secret not in tested.text
        await client.post("/data/import-sources/new", data={**form, "csrf_token": token})
        before = recorded_last_hour(emulator)
        api = await client.post(
            "/api/v1/import-sources/Emulated/test", headers={"x-csrf-token": token}
        )
        after = recorded_last_hour(emulator)
        source_id = (await client.get("/api/v1/import-sources/Emulated")).json()["id"]
        stored_secret = await client.post(
            f"/data/import-sources/{source_id}/test",
            data={**form, "client_secret": "", "csrf_token": token},
        )
    assert "Connected: token obtained" in stored_secret.text  # the stored secret was used
    assert api.status_code == 200
    assert api.json()["ok"] is True
    assert api.json()["conversations"] in {before, after}
    assert api.json()["token_expires_in_s"] > 0


async def test_test_connection_shows_why_it_failed_without_the_secret(
    probing_site: Site, emulator: RunningEmulator
) -> None:
    form = emulated_form(emulator, "not-the-secret-42")
    async with probing_site.signed_in("admin") as client:
        token = await form_token(client, "/data/import-sources/new")
        tested = await client.post(
            "/data/import-sources/new/test", data={**form, "csrf_token": token}
        )
        await client.post("/data/import-sources/new", data={**form, "csrf_token": token})
        api = await client.post(
            "/api/v1/import-sources/Emulated/test", headers={"x-csrf-token": token}
        )
    assert tested.status_code == 200
    assert "refused the client credentials" in tested.text
    assert api.json()["ok"] is False
    assert "refused the client credentials" in api.json()["error"]
    for answer in (tested, api):
        assert "not-the-secret-42" not in answer.text
