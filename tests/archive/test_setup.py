"""Stored policies, servers, users and extensions."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from callarchive.archive import Archive, BatchReport
from callarchive.configuration import Extension, ExtensionType, Policy, Role, Schedule, User
from callarchive.errors import ConfigurationError
from tests.archive.builders import conversation
from tests.configuration.builders import make_source

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


async def test_a_policy_keeps_its_sources_in_order_schedule_and_servers(archive: Archive) -> None:
    await archive.import_sources.add(make_source(), actor="t")
    await archive.import_sources.add(make_source(name="Dallas"), actor="t")
    policy = Policy(
        name="US import",
        import_sources=("Dallas", "Chicago"),
        schedule=Schedule(every_minutes=10),
        enabled=False,
        servers=("node-b", "node-a"),
    )
    stored = await archive.policies.add(policy, actor="t")
    assert stored.import_sources == ("Dallas", "Chicago")
    assert stored.schedule.every_minutes == 10
    assert stored.enabled is False
    assert stored.servers == ("node-a", "node-b")
    assert stored.execute_only_on_selected_servers
    assert await archive.policies.get_by_id(stored.id or 0) == stored
    assert [s.name for s in await archive.servers.list()] == ["node-a", "node-b"]


async def test_a_policy_needs_existing_sources_and_a_new_name(archive: Archive) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await archive.policies.add(Policy(name="P", import_sources=("Nowhere",)), actor="t")
    assert caught.value.field == "import_sources"
    await archive.import_sources.add(make_source(), actor="t")
    await archive.policies.add(Policy(name="P", import_sources=("Chicago",)), actor="t")
    with pytest.raises(ConfigurationError) as caught:
        await archive.policies.add(Policy(name="P", import_sources=("Chicago",)), actor="t")
    assert caught.value.field == "name"


async def test_servers_register_and_beat(archive: Archive) -> None:
    server = await archive.servers.register("node-a", host="rec01.example.com")
    assert server.host == "rec01.example.com"
    await archive.servers.heartbeat("node-a")
    (listed,) = await archive.servers.list()
    assert listed.last_heartbeat is not None
    assert listed.host == "rec01.example.com"


async def test_users_keep_role_supervisor_partitions_and_recording(archive: Archive) -> None:
    await archive.users.add(User(login="boss", name="Boss", role=Role.SUPERVISOR), actor="t")
    jane = User(
        login="jane", name="Jane", supervisor="boss", partitions=("sales", "eu"), recorded=False
    )
    stored = await archive.users.add(jane, actor="t")
    assert stored.supervisor == "boss"
    assert stored.partitions == ("eu", "sales")
    assert stored.recorded is False
    assert await archive.users.get("jane") == stored


async def test_the_hierarchy_needs_existing_supervisors_and_has_no_cycle(archive: Archive) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await archive.users.add(User(login="jane", name="J", supervisor="ghost"), actor="t")
    assert caught.value.field == "supervisor"
    await archive.users.add(User(login="a", name="A"), actor="t")
    await archive.users.add(User(login="b", name="B", supervisor="a"), actor="t")
    with pytest.raises(ConfigurationError) as caught:
        await archive.users.save(User(login="a", name="A", supervisor="b"), actor="t")
    assert "below" in str(caught.value)


async def test_an_extension_belongs_to_one_user_at_a_time(archive: Archive) -> None:
    for login in ("jane", "joe"):
        await archive.users.add(User(login=login, name=login.title()), actor="t")
    month = dt.timedelta(days=31)
    janes = Extension(type=ExtensionType.NUMBER, value="4101", user="jane", valid_to=T0)
    await archive.extensions.add(janes, actor="t")
    await archive.extensions.add(janes, actor="t")  # the same again: kept once
    with pytest.raises(ConfigurationError) as caught:
        await archive.extensions.add(
            Extension(type=ExtensionType.NUMBER, value="4101", user="joe", valid_to=T0 + month),
            actor="t",
        )
    assert caught.value.field == "value"
    await archive.extensions.add(
        Extension(type=ExtensionType.NUMBER, value="4101", user="joe", valid_from=T0), actor="t"
    )
    owner = archive.extensions.owner
    assert (await owner(ExtensionType.NUMBER, "4101", T0 - month)).login == "jane"  # type: ignore[union-attr]
    assert (await owner(ExtensionType.NUMBER, "4101", T0)).login == "joe"  # type: ignore[union-attr]
    assert await owner(ExtensionType.ADDRESS, "4101", T0) is None
    assert len(await archive.extensions.list()) == 2
    assert [e.user for e in await archive.extensions.list(user="joe")] == ["joe"]


async def test_an_extension_needs_an_existing_user(archive: Archive) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await archive.extensions.add(
            Extension(type=ExtensionType.NUMBER, value="1", user="ghost"), actor="t"
        )
    assert caught.value.field == "user"


async def test_a_deleted_policy_keeps_its_batch_reports_unlinked(archive: Archive) -> None:
    source = await archive.import_sources.add(make_source(), actor="t")
    policy = await archive.policies.add(Policy(name="P", import_sources=("Chicago",)), actor="t")
    await archive.batch_reports.add(
        BatchReport(policy_id=policy.id, import_source_id=source.id, started_at=T0, finished_at=T0)
    )
    await archive.policies.delete("P", actor="admin")
    assert await archive.policies.list() == []
    assert [r.policy_id for r in await archive.batch_reports.list()] == [None]
    entry = (await archive.audit.list(limit=1))[0]
    assert (entry.actor, entry.action, entry.target) == ("admin", "policy_deleted", "policy:P")
    await archive.import_sources.delete("Chicago", actor="admin")  # no longer in use


async def test_a_policy_is_renamed_but_not_onto_another_name(archive: Archive) -> None:
    await archive.import_sources.add(make_source(), actor="t")
    first = await archive.policies.add(Policy(name="A", import_sources=("Chicago",)), actor="t")
    await archive.policies.add(Policy(name="B", import_sources=("Chicago",)), actor="t")
    renamed = await archive.policies.save(dataclasses.replace(first, name="C"), actor="t")
    assert renamed.id == first.id
    with pytest.raises(ConfigurationError) as caught:
        await archive.policies.save(dataclasses.replace(renamed, name="B"), actor="t")
    assert caught.value.field == "name"


async def test_a_deleted_user_takes_their_extensions_and_frees_whom_they_supervised(
    archive: Archive,
) -> None:
    await archive.users.add(User(login="boss", name="Boss", role=Role.SUPERVISOR), actor="t")
    await archive.users.add(User(login="jane", name="Jane", supervisor="boss"), actor="t")
    await archive.extensions.add(
        Extension(type=ExtensionType.NUMBER, value="4101", user="boss"), actor="t"
    )
    await archive.users.delete("boss", actor="admin")
    assert [u.login for u in await archive.users.list()] == ["jane"]
    assert (await archive.users.get("jane")).supervisor is None
    assert await archive.extensions.list() == []
    entry = (await archive.audit.list(limit=1))[0]
    assert (entry.actor, entry.action, entry.details) == (
        "admin",
        "user_deleted",
        {"supervised": ["jane"]},
    )


async def test_a_user_with_recordings_or_oneself_is_not_deleted(archive: Archive) -> None:
    source = await archive.import_sources.add(make_source(), actor="t")
    await archive.users.add(User(login="jane", name="Jane"), actor="t")
    await archive.conversations.save(conversation(source.id or 0, "c-1"))
    with pytest.raises(ConfigurationError, match="1 conversations are recorded for 'jane'"):
        await archive.users.delete("jane", actor="admin")
    with pytest.raises(ConfigurationError, match="your own account"):
        await archive.users.delete("jane", actor="jane")
    with pytest.raises(ConfigurationError):
        await archive.users.delete("ghost", actor="admin")


async def test_an_extension_is_deleted_by_id(archive: Archive) -> None:
    await archive.users.add(User(login="jane", name="Jane"), actor="t")
    stored = await archive.extensions.add(
        Extension(type=ExtensionType.ADDRESS, value="jane@example.com", user="jane"), actor="t"
    )
    deleted = await archive.extensions.delete(stored.id or 0, actor="admin")
    assert deleted == stored
    assert await archive.extensions.list() == []
    entry = (await archive.audit.list(limit=1))[0]
    assert (entry.actor, entry.action, entry.target) == (
        "admin",
        "extension_deleted",
        "extension:address:jane@example.com",
    )
    with pytest.raises(ConfigurationError) as caught:
        await archive.extensions.delete(stored.id or 0, actor="admin")
    assert caught.value.field == "id"
