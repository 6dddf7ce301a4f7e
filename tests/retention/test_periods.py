"""Retention periods in the archive: stored with policies and users, changed and audited."""

from __future__ import annotations

import pytest

from callarchive.archive import AuditFilter
from callarchive.configuration import Configuration, Policy, User
from callarchive.errors import ConfigurationError
from tests.retention.conftest import Setting


async def test_periods_are_stored_with_the_configuration(setting: Setting) -> None:
    archive = setting.archive
    policy = Policy(name="EU", import_sources=(setting.source.name,), retention_days=1827)
    user = User(login="trader", name="Trader", retention_days=3653)
    await archive.apply_configuration(
        Configuration(policies=(policy,), users=(user,)), actor="admin"
    )
    loaded = await archive.load_configuration()
    assert {p.name: p.retention_days for p in loaded.policies} == {
        "EU": 1827, "five-years": 5 * 365, "forever": None,
    }  # fmt: skip
    assert {u.login: u.retention_days for u in loaded.users}["trader"] == 3653


async def test_changing_a_period_is_audited(setting: Setting) -> None:
    retention = setting.archive.retention
    await retention.set_policy_days("forever", 30, actor="admin")
    await retention.set_user_days("jane", 90, actor="admin")
    await retention.set_user_days("jane", None, actor="admin")
    assert (await setting.archive.policies.get("forever")).retention_days == 30
    assert (await setting.archive.users.get("jane")).retention_days is None
    entries = await setting.archive.audit.list(AuditFilter(action="retention_changed"))
    assert [(e.target, e.details["retention_days"]) for e in reversed(entries)] == [
        ("policy:forever", 30), ("user:jane", 90), ("user:jane", None),
    ]  # fmt: skip
    with pytest.raises(ConfigurationError):
        await retention.set_policy_days("nope", 30, actor="admin")
    with pytest.raises(ConfigurationError):
        await retention.set_user_days("jane", 0, actor="admin")
