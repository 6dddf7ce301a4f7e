"""Alerts: filtered by kind, severity and state on the page and the API; acknowledged and cleared
by administrators (forms with the CSRF token, or the API), each change audited; compliance
officers see but cannot change; agents and supervisors see nothing."""

from __future__ import annotations

import re

import pytest

from callarchive.archive import AlertRecord
from tests.web.site import Site, csrf_of

# kind, title, severity, state, message
ALERTS = (
    ("import_failed", "Conversation failed to import", "Error", "Active", "media 404 for c-1"),
    ("retry_buffered", "CDR placed in retry buffer", "Warning", "Active", "c-2 still in progress"),
    ("timezone_unavailable", "Could not obtain timezone offsets", "Critical", "Acknowledged",
     "Mars/Olympus is unknown"),
)  # fmt: skip


async def seed_alerts(site: Site) -> dict[str, int]:
    """The alerts of `ALERTS`, by message's first word."""
    archive = site.archive()
    ids = {}
    try:
        for kind, title, severity, state, message in ALERTS:
            alert = await archive.alerts.add(
                AlertRecord(kind=kind, title=title, severity=severity, state=state, message=message)
            )
            ids[kind] = alert.id or 0
    finally:
        await archive.close()
    return ids


def listed(page: str) -> list[str]:
    """The messages of the alerts a page lists, in order."""
    return re.findall(r'<td class="message">([^<]*)', page)


@pytest.mark.parametrize(
    ("query", "messages"),
    [
        ("", ["Mars/Olympus is unknown", "c-2 still in progress", "media 404 for c-1"]),
        ("?kind=import_failed", ["media 404 for c-1"]),
        ("?severity=Warning", ["c-2 still in progress"]),
        ("?state=Acknowledged", ["Mars/Olympus is unknown"]),
        ("?state=active&severity=critical", []),
    ],
)
async def test_the_page_filters_by_kind_severity_and_state(
    site: Site, query: str, messages: list[str]
) -> None:
    await seed_alerts(site)
    async with site.signed_in("officer") as client:
        page = await client.get(f"/alerts{query}")
        assert page.status_code == 200, page.text
        assert listed(page.text) == messages
        assert f"{len(messages)} alert" in page.text


async def test_the_api_filters_and_refuses_unknown_values(site: Site) -> None:
    ids = await seed_alerts(site)
    async with site.signed_in("officer") as client:
        answer = await client.get(
            "/api/v1/alerts", params={"kind": "import_failed", "state": "Active"}
        )
        assert answer.status_code == 200
        body = answer.json()
        assert body["total"] == 1
        assert [a["id"] for a in body["items"]] == [ids["import_failed"]]
        assert body["items"][0]["title"] == "Conversation failed to import"
        wrong = await client.get("/api/v1/alerts", params={"severity": "Loud"})
        assert wrong.status_code == 422
        assert wrong.json()["field"] == "severity"
        page = await client.get("/alerts?severity=Loud")
        assert page.status_code == 422
        assert "is not one of Notification" in page.text


async def test_an_administrator_acknowledges_and_clears_through_the_page(site: Site) -> None:
    ids = await seed_alerts(site)
    alert_id = ids["import_failed"]
    async with site.signed_in("admin") as client:
        page = await client.get("/alerts?state=Active")
        token = csrf_of(page.text)
        assert f'action="/alerts/{alert_id}/acknowledge"' in page.text
        forged = await client.post(f"/alerts/{alert_id}/acknowledge", data={"back": "/alerts"})
        assert forged.status_code == 403
        done = await client.post(
            f"/alerts/{alert_id}/acknowledge",
            data={"csrf_token": token, "back": "/alerts?state=Active"},
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/alerts?state=Active"
        active = await client.get("/alerts?state=Active")
        assert listed(active.text) == ["c-2 still in progress"]
        cleared = await client.post(
            f"/alerts/{alert_id}/clear", data={"csrf_token": token, "back": "https://evil.test/"}
        )
        assert cleared.headers["location"] == "/alerts"
        assert listed((await client.get("/alerts?state=Cleared")).text) == ["media 404 for c-1"]
        audit = (await client.get("/api/v1/audit", params={"actor": "admin"})).json()
    actions = [(e["action"], e["target"]) for e in audit["items"]]
    assert ("alert_acknowledged", f"alert:{alert_id}") in actions
    assert ("alert_cleared", f"alert:{alert_id}") in actions


async def test_an_administrator_changes_states_through_the_api(site: Site) -> None:
    ids = await seed_alerts(site)
    alert_id = ids["retry_buffered"]
    async with site.signed_in("admin") as client:
        token = csrf_of((await client.get("/alerts")).text)
        without = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge")
        assert without.status_code == 403
        headers = {"x-csrf-token": token}
        answer = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)
        assert answer.status_code == 200
        assert answer.json()["state"] == "Acknowledged"
        answer = await client.post(f"/api/v1/alerts/{alert_id}/clear", headers=headers)
        assert answer.json()["state"] == "Cleared"
        assert (await client.get(f"/api/v1/alerts/{alert_id}")).json()["state"] == "Cleared"
        missing = await client.post("/api/v1/alerts/999999/clear", headers=headers)
        assert missing.status_code == 404


async def test_a_compliance_officer_sees_but_cannot_change(site: Site) -> None:
    ids = await seed_alerts(site)
    alert_id = ids["import_failed"]
    async with site.signed_in("officer") as client:
        page = await client.get("/alerts")
        assert page.status_code == 200
        assert "/acknowledge" not in page.text
        token = csrf_of(page.text)
        form = await client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
        assert form.status_code == 403
        api = await client.post(f"/api/v1/alerts/{alert_id}/clear", headers={"x-csrf-token": token})
        assert api.status_code == 403
        (item,) = (await client.get("/api/v1/alerts", params={"kind": "import_failed"})).json()[
            "items"
        ]
        assert item["state"] == "Active"


@pytest.mark.parametrize("login", ["jane", "boss"])
async def test_agents_and_supervisors_see_no_alerts(site: Site, login: str) -> None:
    await seed_alerts(site)
    async with site.signed_in(login) as client:
        assert (await client.get("/alerts")).status_code == 403
        assert (await client.get("/api/v1/alerts")).status_code == 403
        assert 'href="/alerts"' not in (await client.get("/conversations")).text


async def test_alerts_of_one_import(site: Site) -> None:
    assert site.source is not None
    archive = site.archive()
    try:
        for source_id, message in ((site.source.id, "ours"), (None, "another's")):
            await archive.alerts.add(
                AlertRecord(
                    kind="import_failed",
                    title="Conversation failed to import",
                    severity="Error",
                    state="Active",
                    message=message,
                    import_source_id=source_id,
                )
            )
    finally:
        await archive.close()
    async with site.signed_in("officer") as client:
        query = {"import_source_id": str(site.source.id)}
        body = (await client.get("/api/v1/alerts", params=query)).json()
        assert [a["message"] for a in body["items"]] == ["ours"]
        page = await client.get("/alerts", params=query)
        assert listed(page.text) == ["ours"]
        assert 'href="/alerts?page=1">show every import' in page.text
