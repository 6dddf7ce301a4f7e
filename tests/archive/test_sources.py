"""Stored import sources: every item round-trips; secrets are encrypted at rest."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text

from callarchive.archive import Archive
from callarchive.configuration import FetchStrategy, Policy
from callarchive.errors import ConfigurationError
from tests.archive.builders import conversation
from tests.configuration.builders import make_source


def full_source() -> object:
    return make_source(
        tls_certificate="/etc/callarchive/client.pem",
        tls_key_file="/etc/callarchive/client.key",
        tls_key_password="tls-key-password",
        tls_trust_list="/etc/callarchive/chain.pem",
        proxy_address="proxy.example.com",
        proxy_port="3128",
        proxy_username="archiver",
        proxy_password="proxy-password",
        delete_on_completion="true",
        fetch_strategy="batch",
        internal_number_patterns=[r"^\+1312555\d{4}$", r"^\d{4}$"],
        batch_duration_min="15",
        request_budget_per_minute="120",
    )


async def test_every_item_round_trips(archive: Archive) -> None:
    source = full_source()
    stored = await archive.import_sources.add(source, actor="test")  # type: ignore[arg-type]
    assert stored.id is not None
    assert stored == dataclasses.replace(source, id=stored.id)  # type: ignore[type-var]
    assert await archive.import_sources.get("Chicago") == stored
    assert await archive.import_sources.get_by_id(stored.id) == stored
    assert stored.fetch_strategy is FetchStrategy.BATCH


async def test_secrets_are_stored_only_encrypted(archive: Archive) -> None:
    await archive.import_sources.add(full_source(), actor="test")  # type: ignore[arg-type]
    async with archive.engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM import_sources"))).mappings().one()
    stored = " ".join(str(value) for value in row.values())
    for secret in ("s3cr3t-value", "tls-key-password", "proxy-password"):
        assert secret not in stored
    audit = " ".join(str(entry) for entry in await archive.audit.list())
    assert "s3cr3t-value" not in audit
    assert "proxy-password" not in audit


async def test_names_are_unique(archive: Archive) -> None:
    await archive.import_sources.add(make_source(), actor="test")
    with pytest.raises(ConfigurationError) as caught:
        await archive.import_sources.add(make_source(client_id="other"), actor="test")
    assert caught.value.field == "name"
    assert "already exists" in str(caught.value)


async def test_saving_replaces_the_source_of_the_same_name(archive: Archive) -> None:
    first = await archive.import_sources.add(make_source(), actor="test")
    second = await archive.import_sources.save(make_source(codec="WAV"), actor="test")
    assert second.id == first.id
    assert [s.codec.value for s in await archive.import_sources.list()] == ["WAV"]


async def test_an_unknown_name_says_which_names_exist(archive: Archive) -> None:
    await archive.import_sources.add(make_source(), actor="test")
    with pytest.raises(ConfigurationError) as caught:
        await archive.import_sources.get("Dallas")
    assert "'Chicago'" in str(caught.value)


async def test_changes_are_audited(archive: Archive) -> None:
    await archive.import_sources.add(make_source(), actor="cli:ops")
    await archive.import_sources.save(make_source(codec="WAV"), actor="cli:ops")
    entries = await archive.audit.list()
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("cli:ops", "import_source_changed", "import_source:Chicago"),
        ("cli:ops", "import_source_added", "import_source:Chicago"),
    ]


async def test_a_source_is_renamed_but_not_onto_another_name(archive: Archive) -> None:
    chicago = await archive.import_sources.add(make_source(), actor="test")
    await archive.import_sources.add(make_source(name="Dallas"), actor="test")
    renamed = await archive.import_sources.save(
        dataclasses.replace(chicago, name="Illinois"), actor="test"
    )
    assert renamed.id == chicago.id
    assert [s.name for s in await archive.import_sources.list()] == ["Dallas", "Illinois"]
    with pytest.raises(ConfigurationError) as caught:
        await archive.import_sources.save(dataclasses.replace(renamed, name="Dallas"), actor="t")
    assert caught.value.field == "name"


async def test_a_deleted_source_is_gone_and_audited(archive: Archive) -> None:
    await archive.import_sources.add(make_source(), actor="test")
    await archive.import_sources.delete("Chicago", actor="admin")
    assert await archive.import_sources.list() == []
    entry = (await archive.audit.list(limit=1))[0]
    assert (entry.actor, entry.action, entry.target) == (
        "admin",
        "import_source_deleted",
        "import_source:Chicago",
    )
    with pytest.raises(ConfigurationError):
        await archive.import_sources.delete("Chicago", actor="admin")


async def test_a_source_in_use_by_a_policy_is_not_deleted(archive: Archive) -> None:
    await archive.import_sources.add(make_source(), actor="test")
    await archive.policies.add(Policy(name="US", import_sources=("Chicago",)), actor="test")
    with pytest.raises(ConfigurationError, match="used by the policies 'US'"):
        await archive.import_sources.delete("Chicago", actor="admin")
    assert [s.name for s in await archive.import_sources.list()] == ["Chicago"]


async def test_a_source_with_conversations_is_not_deleted(archive: Archive) -> None:
    source = await archive.import_sources.add(make_source(), actor="test")
    await archive.conversations.save(conversation(source.id or 0, "c-1", user_login=None))
    with pytest.raises(ConfigurationError, match="1 conversations were imported"):
        await archive.import_sources.delete("Chicago", actor="admin")
