"""Accounts: scopes of the access model, sessions, API keys, the sign-in throttle."""

from __future__ import annotations

import datetime as dt

import pytest

from callarchive.archive import Archive, ConversationQuery, ConversationSort, Scope
from callarchive.archive.accounts import scope_of
from callarchive.clock import FakeClock
from callarchive.configuration import ImportSource, Role, User
from callarchive.secrets import SecretBox
from tests.archive.builders import T0, conversation
from tests.configuration.builders import make_source

HIERARCHY = {"ceo": None, "boss": "ceo", "lead": "boss", "agent": "lead", "other": "ceo"}


@pytest.mark.parametrize(
    ("login", "role", "expected"),
    [
        ("agent", Role.AGENT, {"agent"}),
        ("lead", Role.AGENT, {"lead"}),
        ("lead", Role.SUPERVISOR, {"lead", "agent"}),
        ("boss", Role.SUPERVISOR, {"boss", "lead", "agent"}),
        ("ceo", Role.SUPERVISOR, {"ceo", "boss", "lead", "agent", "other"}),
    ],
)
def test_a_scope_reaches_everyone_below_a_supervisor_and_no_one_below_an_agent(
    login: str, role: Role, expected: set[str]
) -> None:
    assert scope_of(login, role, HIERARCHY, ()).logins == expected


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.COMPLIANCE_OFFICER])
def test_administrators_and_compliance_officers_see_everything(role: Role) -> None:
    assert scope_of("x", role, HIERARCHY, ()).allows("anyone", ())


def test_a_granted_partition_opens_recordings_of_other_users() -> None:
    scope = scope_of("agent", Role.AGENT, HIERARCHY, ["sales"])
    assert scope.allows("other", ["sales", "emea"])
    assert not scope.allows("other", ["support"])
    assert not scope.allows(None, [])


def test_a_hierarchy_with_a_cycle_ends() -> None:
    looped = {"a": "b", "b": "a"}
    assert scope_of("a", Role.SUPERVISOR, looped, ()).logins == {"a", "b"}


@pytest.fixture
async def source(archive: Archive) -> ImportSource:
    for user in [
        User(login="boss", name="Boss", role=Role.SUPERVISOR),
        User(login="jane", name="Jane", supervisor="boss"),
        User(login="joe", name="Joe"),
        User(login="pat", name="Pat", partitions=("sales",)),
    ]:
        await archive.users.add(user, actor="t")
    return await archive.import_sources.add(make_source(), actor="t")


async def test_search_returns_only_what_the_scope_allows(
    archive: Archive, source: ImportSource
) -> None:
    assert source.id is not None
    for genesys_id, login, partitions in [
        ("c-jane", "jane", ()),
        ("c-joe", "joe", ("sales",)),
        ("c-boss", "boss", ()),
        ("c-none", None, ()),
    ]:
        await archive.conversations.save(
            conversation(source.id, genesys_id, user_login=login, partitions=partitions)
        )

    async def visible(login: str) -> set[str]:
        account = await archive.accounts.get(login)
        assert account is not None
        query = ConversationQuery(scope=account.scope)
        found = {c.genesys_id for c in await archive.conversations.search(query)}
        assert await archive.conversations.count(query) == len(found)
        return found

    assert await visible("boss") == {"c-jane", "c-boss"}
    assert await visible("jane") == {"c-jane"}
    assert await visible("pat") == {"c-joe"}
    assert await archive.conversations.count(ConversationQuery(scope=Scope())) == 0
    assert await archive.conversations.count(ConversationQuery(scope=Scope(everything=True))) == 4


async def test_search_sorts_and_pages_by_any_column(archive: Archive, source: ImportSource) -> None:
    assert source.id is not None
    for n, seconds in enumerate([30, 10, 20]):
        await archive.conversations.save(
            conversation(source.id, f"c-{n}", duration=seconds, start=T0 + dt.timedelta(hours=n))
        )
    query = ConversationQuery(sort=ConversationSort.DURATION, descending=False, limit=2)
    first = [c.duration for c in await archive.conversations.search(query)]
    second = [
        c.duration
        for c in await archive.conversations.search(
            ConversationQuery(sort=ConversationSort.DURATION, descending=False, offset=2)
        )
    ]
    assert (first, second) == ([10, 20], [30])
    ranged = ConversationQuery(min_duration=15, max_duration=25)
    assert [c.duration for c in await archive.conversations.search(ranged)] == [20]


async def test_a_session_lives_until_it_expires_or_closes(
    archive: Archive, source: ImportSource
) -> None:
    del source
    await archive.accounts.open_session(
        "jane", token_sha256="t" * 64, csrf_token="c" * 64, idle=dt.timedelta(hours=1)
    )
    opened = await archive.accounts.session("t" * 64)
    assert opened is not None
    assert (opened.account.login, opened.csrf_token) == ("jane", "c" * 64)
    await archive.accounts.close_session("t" * 64)
    assert await archive.accounts.session("t" * 64) is None

    await archive.accounts.open_session(
        "jane", token_sha256="e" * 64, csrf_token="c" * 64, idle=-dt.timedelta(seconds=1)
    )
    assert await archive.accounts.session("e" * 64) is None


async def test_a_new_password_closes_every_session(archive: Archive, source: ImportSource) -> None:
    del source
    await archive.accounts.open_session(
        "jane", token_sha256="t" * 64, csrf_token="c" * 64, idle=dt.timedelta(hours=1)
    )
    await archive.accounts.set_password("jane", "$argon2id$hash", actor="admin")
    assert await archive.accounts.session("t" * 64) is None
    account = await archive.accounts.get("jane")
    assert account is not None
    assert account.password_hash == "$argon2id$hash"
    actions = [entry.action for entry in await archive.audit.list()]
    assert "password_set" in actions
    assert "signed_in" in actions


async def test_an_api_key_acts_as_its_user_until_revoked(
    archive: Archive, source: ImportSource
) -> None:
    del source
    key = await archive.accounts.add_api_key(
        "boss", name="export job", key_sha256="k" * 64, prefix="ca_1234", actor="admin"
    )
    account = await archive.accounts.by_api_key("k" * 64)
    assert account is not None
    assert account.login == "boss"
    assert account.scope.logins == {"boss", "jane"}
    [listed] = await archive.accounts.api_keys("boss")
    assert listed.last_used_at is not None
    assert await archive.accounts.revoke_api_key(key.id, actor="admin")
    assert not await archive.accounts.revoke_api_key(key.id, actor="admin")
    assert await archive.accounts.by_api_key("k" * 64) is None


async def test_failed_sign_ins_are_counted_per_key_and_cleared(
    archive: Archive, source: ImportSource
) -> None:
    del source
    until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    await archive.accounts.record_failure("login:jane", failures=1, locked_until=None)
    await archive.accounts.record_failure("login:jane", failures=2, locked_until=until)
    throttle = await archive.accounts.throttle("login:jane")
    assert (throttle.failures, throttle.locked_until) == (2, until)
    assert (await archive.accounts.throttle("ip:127.0.0.1")).failures == 0
    await archive.accounts.clear_failures("login:jane")
    assert (await archive.accounts.throttle("login:jane")).failures == 0


async def test_an_api_keys_last_use_is_written_at_most_once_a_minute(
    database_url: str, box: SecretBox
) -> None:
    clock = FakeClock(dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC))
    archive = Archive.open(database_url, box, clock=clock)
    try:
        await archive.users.add(User(login="bot", name="Bot"), actor="t")
        await archive.accounts.add_api_key(
            "bot", name="bot", key_sha256="b" * 64, prefix="ca_b", actor="t"
        )

        async def last_use() -> dt.datetime | None:
            await archive.accounts.by_api_key("b" * 64)
            [key] = await archive.accounts.api_keys("bot")
            return key.last_used_at

        first = await last_use()
        clock.advance(30)
        assert await last_use() == first
        clock.advance(31)
        assert await last_use() == clock.now()
    finally:
        await archive.close()
