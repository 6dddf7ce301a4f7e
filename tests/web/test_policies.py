"""Data > Data Management Policies and `/api/v1/policies`: forms, actions, run now, history."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from callarchive.archive import BatchReport, BatchReportEntry
from callarchive.configuration import Policy
from callarchive.secrets import SecretBox
from tests.configuration.builders import make_source
from tests.web.site import T0, Site, csrf_of


def policy_form(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "name": "US import",
        "import_sources": ["Dallas", "Chicago"],
        "schedule_kind": "every",
        "every_minutes": "10",
        "cron": "",
        "active_from": "08:00",
        "active_to": "18:00",
        "schedule_timezone": "Europe/London",
        "selected_servers": "on",
        "servers": "node-a",
        "enabled": "on",
    }
    form.update(overrides)
    return form


async def add_dallas(site: Site) -> None:
    archive = site.archive()
    try:
        await archive.import_sources.add(make_source(name="Dallas"), actor="t")
    finally:
        await archive.close()


async def stored_policies(site: Site) -> list[Policy]:
    archive = site.archive()
    try:
        return await archive.policies.list()
    finally:
        await archive.close()


async def audit_of(site: Site, target: str) -> list[tuple[str, str]]:
    archive = site.archive()
    try:
        return [(e.actor, e.action) for e in await archive.audit.list() if e.target == target]
    finally:
        await archive.close()


async def token_of(client: httpx.AsyncClient, path: str = "/data/policies") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def test_an_administrator_adds_edits_and_deletes_a_policy_through_the_forms(
    site: Site,
) -> None:
    await add_dallas(site)
    async with site.signed_in("admin") as client:
        token = await token_of(client, "/data/policies/new")
        new = await client.get("/data/policies/new")
        assert "Execute Only on Selected Servers" in new.text
        assert "Currently this setting is mandatory switched on (checked)." in new.text
        added = await client.post("/data/policies/new", data={**policy_form(), "csrf_token": token})
        assert added.status_code == 303, added.text
        listing = await client.get("/data/policies")
        assert "every 10 min, 08:00-18:00 Europe/London" in listing.text
        [policy] = await stored_policies(site)
        assert policy.import_sources == ("Dallas", "Chicago")
        assert policy.servers == ("node-a",)
        page = await client.get(f"/data/policies/{policy.id}")
        assert 'value="node-a"' in page.text
        changed = await client.post(
            f"/data/policies/{policy.id}",
            data={
                **policy_form(schedule_kind="cron", cron="0 8-18 * * 1-5", selected_servers=""),
                "csrf_token": token,
            },
        )
        assert changed.status_code == 303, changed.text
        [policy] = await stored_policies(site)
        assert policy.schedule.cron == "0 8-18 * * 1-5"
        assert policy.servers == ()
        deleted = await client.post(
            f"/data/policies/{policy.id}/delete", data={"csrf_token": token}
        )
        assert deleted.status_code == 303
    assert await stored_policies(site) == []
    assert await audit_of(site, "policy:US import") == [
        ("admin", "policy_deleted"),
        ("admin", "policy_changed"),
        ("admin", "policy_added"),
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"schedule_kind": "cron", "cron": "every day"}, "schedule.cron", "not valid"),
        ({"import_sources": []}, "import_sources", "mandatory"),
        ({"servers": ""}, "servers", "expected one server name or more"),
        ({"every_minutes": "0"}, "schedule", "out of range"),
        ({"active_to": ""}, "schedule.active_hours", "mandatory"),
        ({"import_sources": ["Nowhere"]}, "import_sources", "no import source named"),
    ],
)
async def test_a_wrong_item_is_shown_next_to_its_field_and_nothing_is_stored(
    site: Site, changes: dict[str, str | list[str]], field: str, message: str
) -> None:
    await add_dallas(site)
    async with site.signed_in("admin") as client:
        token = await token_of(client)
        answer = await client.post(
            "/data/policies/new", data={**policy_form(**changes), "csrf_token": token}
        )
    assert answer.status_code == 422
    assert message in answer.text.split(f'id="error-{field}"', 1)[1].split("</p>", 1)[0]
    assert 'value="US import"' in answer.text
    assert await stored_policies(site) == []


async def test_a_policy_is_disabled_and_enabled_from_the_list(site: Site) -> None:
    await add_dallas(site)
    async with site.signed_in("admin") as client:
        token = await token_of(client)
        await client.post("/data/policies/new", data={**policy_form(), "csrf_token": token})
        [policy] = await stored_policies(site)
        answer = await client.post(
            f"/data/policies/{policy.id}/disable", data={"csrf_token": token, "back": "list"}
        )
        assert answer.headers["location"] == "/data/policies?done=disabled"
        assert not (await stored_policies(site))[0].enabled
        await client.post(f"/data/policies/{policy.id}/enable", data={"csrf_token": token})
        assert (await stored_policies(site))[0].enabled
    assert await audit_of(site, "policy:US import") == [
        ("admin", "policy_enabled"),
        ("admin", "policy_disabled"),
        ("admin", "policy_added"),
    ]


@pytest.fixture
async def scheduling_site(
    database_url: str, box: SecretBox, tmp_path: Path
) -> AsyncIterator[tuple[Site, list[tuple[int, int]]]]:
    """A site whose Run now records what it was asked to start."""
    started: list[tuple[int, int]] = []

    async def run_now(policy_id: int, import_source_id: int) -> None:
        started.append((policy_id, import_source_id))

    running = Site(
        database_url=database_url, media_folder=tmp_path / "media", box=box, run_now=run_now
    )
    await running.seed()
    running.start()
    yield running, started
    running.stop()


async def test_run_now_starts_each_import_source_of_the_policy(
    scheduling_site: tuple[Site, list[tuple[int, int]]],
) -> None:
    site, started = scheduling_site
    await add_dallas(site)
    async with site.signed_in("admin") as client:
        token = await token_of(client)
        await client.post("/data/policies/new", data={**policy_form(), "csrf_token": token})
        [policy] = await stored_policies(site)
        answer = await client.post(f"/data/policies/{policy.id}/run", data={"csrf_token": token})
        assert answer.status_code == 303
        assert "were started" in (await client.get(answer.headers["location"])).text
        api = await client.post("/api/v1/policies/US import/run", headers={"x-csrf-token": token})
        assert api.status_code == 202
        assert api.json() == {"started": ["Dallas", "Chicago"]}
    archive = site.archive()
    try:
        ids = {s.name: s.id for s in await archive.import_sources.list()}
    finally:
        await archive.close()
    assert started == [(policy.id, ids["Dallas"]), (policy.id, ids["Chicago"])] * 2
    assert await audit_of(site, "policy:US import") == [
        ("admin", "policy_run_requested"),
        ("admin", "policy_run_requested"),
        ("admin", "policy_added"),
    ]


async def test_run_now_without_a_scheduler_says_so(site: Site) -> None:
    archive = site.archive()
    try:
        policy = await archive.policies.add(
            Policy(name="P", import_sources=("Chicago",)), actor="t"
        )
    finally:
        await archive.close()
    async with site.signed_in("admin") as client:
        token = await token_of(client)
        page = await client.post(f"/data/policies/{policy.id}/run", data={"csrf_token": token})
        api = await client.post("/api/v1/policies/P/run", headers={"x-csrf-token": token})
    assert page.status_code == 503
    assert "no scheduler runs in this process" in page.text
    assert api.status_code == 503
    assert "no scheduler runs in this process" in api.json()["detail"]


async def test_the_run_history_shows_each_batch_report_with_its_lines(site: Site) -> None:
    assert site.source is not None
    archive = site.archive()
    try:
        policy = await archive.policies.add(
            Policy(name="P", import_sources=("Chicago",)), actor="t"
        )
        line = BatchReportEntry(
            genesys_conversation_id="g-4711",
            outcome="imported",
            conversation_id=site.ids["c-jane"],
            extension="4101",
            participant_number="+13125550101",
            newly_imported=True,
            media_downloaded=True,
        )
        await archive.batch_reports.add(
            BatchReport(
                policy_id=policy.id,
                import_source_id=site.source.id,
                started_at=T0,
                finished_at=T0 + dt.timedelta(seconds=5),
                window_start=T0 - dt.timedelta(hours=1),
                window_end=T0,
                discovered=1,
                imported=1,
                media_downloaded=1,
                entries=(line,),
            )
        )
    finally:
        await archive.close()
    async with site.signed_in("admin") as client:
        page = await client.get(f"/data/policies/{policy.id}")
        api = await client.get("/api/v1/policies/P/reports")
    assert "g-4711" in page.text
    assert "+13125550101" in page.text
    assert "1 imported" in page.text
    [report] = api.json()
    assert report["import_source"] == "Chicago"
    assert report["entries"][0]["genesys_conversation_id"] == "g-4711"
    assert report["entries"][0]["newly_imported"] is True


@pytest.mark.parametrize("login", ["officer", "lead", "joe"])
async def test_only_administrators_open_policies(site: Site, login: str) -> None:
    async with site.signed_in(login) as client:
        assert (await client.get("/data/policies")).status_code == 403
        assert (await client.get("/api/v1/policies")).status_code == 403
        token = await token_of(client, "/conversations")
        posted = await client.post(
            "/data/policies/new", data={**policy_form(), "csrf_token": token}
        )
        assert posted.status_code == 403


async def test_a_post_without_the_csrf_token_is_refused(site: Site) -> None:
    await add_dallas(site)
    async with site.signed_in("admin") as client:
        assert (await client.post("/data/policies/new", data=policy_form())).status_code == 403
    assert await stored_policies(site) == []


async def test_the_api_adds_reads_changes_toggles_and_deletes(site: Site) -> None:
    body = {
        "name": "API",
        "import_sources": ["Chicago"],
        "schedule": {"every_minutes": 15, "active_hours": {"from": "22:00", "to": "06:00"}},
    }
    async with site.signed_in("admin") as client:
        headers = {"x-csrf-token": await token_of(client)}
        added = await client.post("/api/v1/policies", json=body, headers=headers)
        assert added.status_code == 201, added.text
        assert added.json()["schedule"] == {
            "every_minutes": 15,
            "cron": None,
            "active_hours": {"from": "22:00", "to": "06:00"},
            "timezone": "UTC",
        }
        assert added.json()["execute_only_on_selected_servers"] is False
        changed = await client.put(
            "/api/v1/policies/API",
            json={**body, "name": "Nightly", "schedule": {"cron": "0 * * * *"}, "servers": ["n1"]},
            headers=headers,
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["schedule_text"] == "cron 0 * * * *"
        assert changed.json()["servers"] == ["n1"]
        wrong = await client.put(
            "/api/v1/policies/Nightly",
            json={**body, "schedule": {"every_minutes": 5, "cron": "0 * * * *"}},
            headers=headers,
        )
        assert wrong.status_code == 422
        assert wrong.json()["field"] == "schedule"
        disabled = await client.post("/api/v1/policies/Nightly/disable", headers=headers)
        assert disabled.json()["enabled"] is False
        assert [p["name"] for p in (await client.get("/api/v1/policies")).json()] == ["Nightly"]
        deleted = await client.delete("/api/v1/policies/Nightly", headers=headers)
        assert deleted.status_code == 204
        assert (await client.get("/api/v1/policies/Nightly")).status_code == 404
    assert await audit_of(site, "policy:Nightly") == [
        ("admin", "policy_deleted"),
        ("admin", "policy_disabled"),
        ("admin", "policy_changed"),
    ]
