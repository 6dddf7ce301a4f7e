"""The recording rules: a conversation is imported when an answered participant, or else its
ani or dnis, matches a valid extension of a recorded user."""

from __future__ import annotations

import datetime as dt

import pytest

from callarchive.configuration import Extension, User
from callarchive.rules import Party, RuleBook, RuleMatch, Via, match_recorded, user_of_number
from tests.rules.builders import JANE, JOHN, MUTE, T0, address, number, party

USERS = (JANE, JOHN, MUTE)
EXTENSIONS = (
    number("+13125551001", JANE),
    number("2001", JANE),
    number("+13125551002", JOHN),
    number("2002", JOHN),
    number("+13125551003", MUTE),
    address("sip:John.Roe@Example.com", JOHN),
    address("mute@example.com", MUTE),
)
HOUR = dt.timedelta(hours=1)


def match(
    *parties: Party,
    ani: str | None = None,
    dnis: str | None = None,
    users: tuple[User, ...] = USERS,
    extensions: tuple[Extension, ...] = EXTENSIONS,
    at: dt.datetime = T0,
) -> RuleMatch | None:
    return match_recorded(parties, ani=ani, dnis=dnis, users=users, extensions=extensions, at=at)


def matched(result: RuleMatch | None) -> tuple[str, str, Via | None]:
    assert result is not None
    return result.user.login, result.extension.value, result.via


@pytest.mark.parametrize(
    ("numbers", "login", "value"),
    [
        (("+13125551001",), JANE.login, "+13125551001"),
        (("tel:+1 (312) 555-1001",), JANE.login, "+13125551001"),
        (("2001",), JANE.login, "2001"),
        (("sip:2002@edge.example",), JOHN.login, "2002"),
        (("+14155550123", "2002"), JOHN.login, "2002"),
        (("2002", "+13125551001"), JOHN.login, "2002"),
    ],
)
def test_an_answered_participant_matches_by_a_number_extension(
    numbers: tuple[str, ...], login: str, value: str
) -> None:
    found = party(*numbers)
    result = match(found)
    assert matched(result) == (login, value, Via.PARTICIPANT)
    assert result is not None
    assert result.party is found


@pytest.mark.parametrize(
    "value", ["john.roe@example.com", "sip:JOHN.ROE@example.com", "SIP:john.roe@EXAMPLE.COM"]
)
def test_an_answered_participant_matches_by_an_address_extension(value: str) -> None:
    result = match(party(addresses=("someone@else.com", value)))
    assert matched(result) == (JOHN.login, "sip:John.Roe@Example.com", Via.PARTICIPANT)


def test_a_number_of_the_participant_is_tried_before_its_addresses() -> None:
    result = match(party("2001", addresses=("john.roe@example.com",)))
    assert matched(result)[0] == JANE.login


def test_a_participant_that_was_only_alerted_never_matches() -> None:
    assert match(party("2001", answered=False)) is None
    assert match(party(addresses=("john.roe@example.com",), answered=False)) is None


def test_the_first_answered_participant_that_matches_wins() -> None:
    missed = party("2001", genesys_user_id="missed", answered=False)
    stranger = party("+14155550123", genesys_user_id="stranger")
    john = party("2002", genesys_user_id="john")
    jane = party("2001", genesys_user_id="jane")
    result = match(missed, stranger, john, jane)
    assert result is not None
    assert result.party is john
    assert matched(match(missed, stranger, jane, john))[0] == JANE.login


def test_a_user_who_is_not_recorded_never_matches() -> None:
    assert match(party("+13125551003")) is None
    assert match(party(addresses=("mute@example.com",))) is None
    assert match(ani="+13125551003", dnis="+13125551003") is None


def test_a_recorded_participant_after_an_unrecorded_one_matches() -> None:
    result = match(party("+13125551003"), party("2002"))
    assert matched(result)[0] == JOHN.login


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "imported"),
    [
        (None, None, True),
        (T0, None, True),  # valid from its first instant
        (T0 + HOUR, None, False),  # not yet
        (None, T0 + HOUR, True),
        (None, T0, False),  # the end is exclusive
        (T0 - HOUR, T0 + HOUR, True),
        (T0 - 2 * HOUR, T0 - HOUR, False),  # expired
    ],
)
def test_an_extension_matches_only_within_its_validity(
    valid_from: dt.datetime | None, valid_to: dt.datetime | None, imported: bool
) -> None:
    extensions = (number("2001", JANE, valid_from=valid_from, valid_to=valid_to),)
    assert (match(party("2001"), extensions=extensions) is not None) is imported
    assert (match(ani="2001", extensions=extensions) is not None) is imported


def test_a_number_reassigned_over_time_matches_its_owner_at_the_time() -> None:
    extensions = (
        number("2001", JANE, valid_to=T0),
        number("2001", JOHN, valid_from=T0),
    )
    assert matched(match(party("2001"), extensions=extensions, at=T0 - HOUR))[0] == JANE.login
    assert matched(match(party("2001"), extensions=extensions, at=T0))[0] == JOHN.login


def test_the_ani_matches_when_no_participant_does() -> None:
    result = match(party("+14155550123"), ani="tel:+13125551001", dnis="tel:+13125551002")
    assert matched(result) == (JANE.login, "+13125551001", Via.ANI)
    assert result is not None
    assert result.party is None


def test_the_dnis_matches_when_neither_participants_nor_ani_do() -> None:
    result = match(party("2001", answered=False), ani="tel:+14155550123", dnis="tel:+13125551002")
    assert matched(result) == (JOHN.login, "+13125551002", Via.DNIS)


def test_an_answered_participant_wins_over_the_ani() -> None:
    result = match(party("2002"), ani="tel:+13125551001")
    assert matched(result) == (JOHN.login, "2002", Via.PARTICIPANT)


def test_ani_and_dnis_match_number_extensions_only() -> None:
    assert match(ani="sip:john.roe@example.com", dnis="john.roe@example.com") is None


@pytest.mark.parametrize(
    ("parties", "ani", "dnis"),
    [
        ((), None, None),
        ((), "tel:+14155550123", "tel:+13125550100"),
        ((party("+14155550123", addresses=("x@example.com",)),), "anonymous", ""),
        ((party(),), None, None),
    ],
)
def test_nothing_matches_and_the_conversation_is_not_imported(
    parties: tuple[Party, ...], ani: str | None, dnis: str | None
) -> None:
    assert match(*parties, ani=ani, dnis=dnis) is None


def test_extensions_of_unknown_users_are_ignored() -> None:
    assert match(party("2001"), users=(JOHN,)) is None
    assert user_of_number("2001", users=(JOHN,), extensions=EXTENSIONS, at=T0) is None


@pytest.mark.parametrize(
    ("number_", "owner"),
    [
        ("tel:+13125551001", JANE),
        ("2002", JOHN),
        ("+1 312 555 1003", MUTE),  # not recorded, still named in From/To (callarchive)
        ("+14155550123", None),
        ("anonymous", None),
        ("", None),
    ],
)
def test_the_owner_of_a_number_is_recorded_or_not(number_: str, owner: User | None) -> None:
    assert user_of_number(number_, users=USERS, extensions=EXTENSIONS, at=T0) == owner
    assert RuleBook(USERS, EXTENSIONS).owner(number_, T0) == owner


def test_the_owner_of_a_number_depends_on_the_time() -> None:
    book = RuleBook(USERS, (number("2001", JANE, valid_to=T0), number("2001", JOHN, valid_from=T0)))
    assert book.owner("2001", T0 - HOUR) == JANE
    assert book.owner("2001", T0) == JOHN


def test_addresses_do_not_own_numbers() -> None:
    book = RuleBook(USERS, (address("2001@example.com", JANE),))
    assert book.owner("2001", T0) is None


def test_a_rule_book_answers_like_match_recorded() -> None:
    book = RuleBook(USERS, EXTENSIONS)
    parties = (party("+14155550123"), party(addresses=("sip:john.roe@example.com",)))
    assert book.match(parties, ani="2001", dnis=None, at=T0) == match(*parties, ani="2001")


def test_a_rule_book_of_ten_thousand_extensions_finds_each_owner() -> None:
    users = [
        User(login=f"agent{i}@example.com", name=f"Agent {i}", recorded=i % 3 != 0)
        for i in range(5000)
    ]
    extensions = [
        extension
        for i, user in enumerate(users)
        for extension in (
            number(f"+1312{i:07d}", user),
            address(f"sip:agent{i}@example.com", user) if i % 2 else number(f"9{i:04d}", user),
        )
    ]
    assert len(extensions) == 10_000
    book = RuleBook(users, extensions)
    for i in (1, 2, 3, 1234, 2998, 4999):
        user = users[i]
        result = book.match([party(f"tel:+1312{i:07d}")], ani=None, dnis=None, at=T0)
        assert (result.user if result else None) == (user if user.recorded else None)
        assert book.owner(f"+1 312 {i:07d}", T0) == user
    assert (
        matched(book.match([party(addresses=("AGENT7@example.com",))], ani=None, dnis=None, at=T0))[
            0
        ]
        == "agent7@example.com"
    )
    assert matched(book.match([], ani="91234", dnis=None, at=T0)) == (
        "agent1234@example.com",
        "91234",
        Via.ANI,
    )
    assert book.match([party("+13125550100")], ani="0000", dnis="+1", at=T0) is None
