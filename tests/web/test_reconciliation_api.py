"""`/api/v1/reconciliation`: each pair's reconciled days for administrators and compliance
officers, newest first, with the missing conversations; nobody else may read it."""

from __future__ import annotations

import datetime as dt

import pytest

from callarchive.archive import DayReconciliation, Unaccounted
from callarchive.configuration import Policy
from tests.web.site import T0, Site

DAY = T0.date()


async def seed_days(site: Site) -> None:
    archive = site.archive()
    try:
        assert site.source is not None
        policy = await archive.policies.add(
            Policy(name="Daily", import_sources=(site.source.name,)), actor="t"
        )
        for n, missing in enumerate((0, 2)):
            day = DAY - dt.timedelta(days=n)
            lost = tuple(
                Unaccounted(conversation_id=f"lost-{i}", start=T0 - dt.timedelta(days=n))
                for i in range(missing)
            )
            await archive.reconciliations.save(
                DayReconciliation(
                    policy_id=policy.id or 0,
                    import_source_id=site.source.id or 0,
                    day=day,
                    started_at=T0,
                    finished_at=T0,
                    genesys_total=10,
                    archived=6 - missing,
                    skipped_by_rules=4,
                    missing=missing,
                    missing_conversations=lost,
                )
            )
    finally:
        await archive.close()


@pytest.mark.parametrize("login", ["admin", "officer"])
async def test_operations_viewers_read_every_pairs_days_newest_first(
    site: Site, login: str
) -> None:
    await seed_days(site)
    async with site.signed_in(login) as client:
        answer = await client.get("/api/v1/reconciliation")
        assert answer.status_code == 200, answer.text
        [pair] = answer.json()
        assert site.source is not None
        assert (pair["policy"], pair["import_source"]) == ("Daily", site.source.name)
        newest, older = pair["days"]
        assert newest["day"] == DAY.isoformat()
        assert (newest["completeness"], newest["complete"]) == (1.0, True)
        assert older["missing"] == 2
        assert older["completeness"] == pytest.approx(0.8)
        assert [m["conversation_id"] for m in older["missing_conversations"]] == [
            "lost-0",
            "lost-1",
        ]
        one = await client.get(
            "/api/v1/reconciliation", params={"source": site.source.name, "days": 1}
        )
        assert [len(p["days"]) for p in one.json()] == [1]


async def test_unknown_names_answer_404_and_other_roles_403(site: Site) -> None:
    await seed_days(site)
    async with site.signed_in("admin") as client:
        for params in ({"source": "Nowhere"}, {"policy": "Nobody"}):
            answer = await client.get("/api/v1/reconciliation", params=params)
            assert answer.status_code == 404, params
    for login in ("boss", "jane"):
        async with site.signed_in(login) as client:
            answer = await client.get("/api/v1/reconciliation")
            assert answer.status_code == 403, login
    async with site.client() as anonymous:
        assert (await anonymous.get("/api/v1/reconciliation")).status_code == 401


async def seed_retention_day(site: Site) -> None:
    """A day whose conversations retention deleted in part after they were archived."""
    archive = site.archive()
    try:
        assert site.source is not None
        policy = await archive.policies.add(
            Policy(name="Kept a year", import_sources=(site.source.name,)), actor="t"
        )
        await archive.reconciliations.save(
            DayReconciliation(
                policy_id=policy.id or 0,
                import_source_id=site.source.id or 0,
                day=DAY,
                started_at=T0,
                finished_at=T0,
                genesys_total=10,
                archived=3,
                deleted_by_retention=5,
                skipped_by_rules=2,
            )
        )
    finally:
        await archive.close()


async def test_conversations_deleted_by_retention_count_as_accounted_for(site: Site) -> None:
    await seed_retention_day(site)
    async with site.signed_in("officer") as client:
        [pair] = (await client.get("/api/v1/reconciliation")).json()
    [day] = pair["days"]
    assert (day["archived"], day["deleted_by_retention"], day["missing"]) == (3, 5, 0)
    assert (day["completeness"], day["complete"]) == (1.0, True)
