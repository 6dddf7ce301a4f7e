"""Stored policies, servers, users and extensions."""

from __future__ import annotations

import datetime as dt

import pytest

from callarchive.archive import Archive
from callarchive.configuration import Extension, ExtensionType, Policy, Role, Schedule, User
from callarchive.errors import ConfigurationError
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
