"""The rules agree with the emulator's ground truth for every voice call of its org.

The ground truth assumes an importer with every agent configured as a recorded user (login =
Genesys username, Number extensions = the agent's direct number and internal extension) and
the published internal number patterns. The participants are built as the emulator's
analytics lists them: in order, answered when they had an interact segment, dialed when their
session is outbound.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from callarchive.configuration import Extension, ExtensionType, User
from callarchive.rules import Party, RuleBook, call_direction, compile_patterns, user_direction
from genesys_emulator import EmulatorConfig, ground_truth
from genesys_emulator.org import INTERNAL_NUMBER_PATTERNS, Agent, CallKind, Conversation, Org

DAY = dt.date(2024, 3, 1)
PATTERNS = compile_patterns(INTERNAL_NUMBER_PATTERNS)


@pytest.fixture(scope="module")
def org() -> Org:
    config = EmulatorConfig(seed=11, start=DAY, days=1, calls_per_hour=12, users=15)
    return Org(config, DAY + dt.timedelta(days=2))


def rule_book(org: Org) -> RuleBook:
    users = [User(login=a.username, name=a.name) for a in org.agents]
    extensions = [
        Extension(type=ExtensionType.NUMBER, value=value, user=a.username)
        for a in org.agents
        for value in (a.did, a.extension)
    ]
    return RuleBook(users, extensions)


def as_party(agent: Agent | None, *, answered: bool, dialed: bool) -> Party:
    assert agent is not None
    return Party(
        genesys_user_id=agent.id,
        name=agent.name,
        numbers=(agent.did, agent.extension),
        addresses=(agent.username,),
        answered=answered,
        dialed=dialed,
    )


def parties(org: Org, c: Conversation) -> list[Party]:
    """The agent/user participants in the order and shape of the emulator's analytics."""
    out = [
        as_party(
            org.agent(leg.user_id),
            answered=leg.connect is not None,
            dialed=c.kind is not CallKind.INBOUND and index == 0,
        )
        for index, leg in enumerate(c.legs)
    ]
    if c.kind is CallKind.INTERNAL:
        out.append(as_party(c.callee, answered=True, dialed=False))
    return out


def login(user: User | None) -> str | None:
    return user.login if user else None


def test_every_voice_call_is_filed_as_the_ground_truth_says(org: Org) -> None:
    book = rule_book(org)
    start = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    now = start + dt.timedelta(days=2)
    kinds: Counter[CallKind] = Counter()
    for c in org.conversations_started(start, start + dt.timedelta(days=1)):
        if c.kind is CallKind.CHAT:
            continue
        kinds[c.kind] += 1
        expected = ground_truth.export_keys(org, c, now, ZoneInfo("UTC"))
        ani, dnis = f"tel:{c.ani}", f"tel:{c.dnis}"
        match = book.match(parties(org, c), ani=ani, dnis=dnis, at=c.start)
        assert match is not None, c.id
        originating = "outbound" if c.kind is CallKind.OUTBOUND else "inbound"
        assert match.user.name == expected["user"], c.id
        truth_user = ground_truth.recorded_user(org, c)
        assert truth_user is not None, c.id
        assert match.user.login == truth_user.username, c.id
        assert (
            user_direction(match, originating_direction=originating) == expected["direction_user"]
        )
        assert call_direction(ani, dnis, PATTERNS) == expected["direction"], c.id
        assert login(book.owner(ani, c.start)) == expected["from_user"], c.id
        assert login(book.owner(dnis, c.start)) == expected["to_user"], c.id
    assert set(kinds) == {CallKind.INBOUND, CallKind.OUTBOUND, CallKind.INTERNAL}, kinds
