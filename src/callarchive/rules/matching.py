"""The recording rules: which conversations are imported, and under which user.

Seed section 3: a conversation is imported when one of its participants matches an extension
(type Number or Address) of a recorded user, valid at the conversation's start. The first
answered participant that matches wins; when none does, the session's ani, then its dnis, are
tried against Number extensions. A `RuleBook` indexes the extensions once so that a match costs
a few dictionary look-ups, however many extensions are configured.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from enum import StrEnum

from callarchive.configuration import Extension, ExtensionType, User
from callarchive.rules.numbers import normalize_address, normalize_number


class Via(StrEnum):
    """What a `RuleMatch` matched."""

    PARTICIPANT = "participant"  # an answered agent/user participant's number or address
    ANI = "ani"  # the calling number: the recorded user called
    DNIS = "dnis"  # the dialed number: the recorded user was called


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Party:
    """One agent/user participant of a conversation, as the rules see it."""

    genesys_user_id: str | None
    name: str | None  # display name (from the Genesys user)
    numbers: tuple[str, ...]  # the Genesys user's phone numbers and extensions, as given
    addresses: tuple[str, ...]  # the Genesys user's e-mail / username / SIP addresses
    answered: bool  # the participant was connected (had an interact segment)
    dialed: bool  # this participant placed the call (outbound session direction)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RuleMatch:
    """Why a conversation is imported: the recorded user, its extension, the participant."""

    user: User  # the recorded callarchive user
    extension: Extension  # the extension that matched
    party: Party | None  # the participant that matched; None when matched through ani/dnis
    via: Via | None = None  # what matched; None when unknown (a match built by hand)


@dataclasses.dataclass(frozen=True, slots=True)
class _Owned:
    extension: Extension
    user: User


class RuleBook:
    """Users and extensions indexed by normalized number and address, built once.

    Extensions of logins that are not among `users` are ignored; when two users share a login,
    the first one counts. Where several extensions share a value, the first valid one (in the
    given order) wins. Time stamps given to the look-ups must be timezone-aware.
    """

    __slots__ = ("_addresses", "_numbers")

    def __init__(self, users: Iterable[User], extensions: Iterable[Extension]) -> None:
        by_login: dict[str, User] = {}
        for user in users:
            by_login.setdefault(user.login, user)
        numbers: dict[str, list[_Owned]] = {}
        addresses: dict[str, list[_Owned]] = {}
        for extension in extensions:
            owner = by_login.get(extension.user)
            if owner is None:
                continue
            if extension.type is ExtensionType.NUMBER:
                key, index = normalize_number(extension.value), numbers
            else:
                key, index = normalize_address(extension.value), addresses
            if key:
                index.setdefault(key, []).append(_Owned(extension, owner))
        self._numbers = {key: tuple(owned) for key, owned in numbers.items()}
        self._addresses = {key: tuple(owned) for key, owned in addresses.items()}

    def match(
        self, parties: Sequence[Party], *, ani: str | None, dnis: str | None, at: dt.datetime
    ) -> RuleMatch | None:
        """The recording rule that imports the conversation, or None: it is not recorded."""
        for party in parties:
            owned = self._party_owner(party, at) if party.answered else None
            if owned is not None:
                return RuleMatch(
                    user=owned.user, extension=owned.extension, party=party, via=Via.PARTICIPANT
                )
        for via, number in ((Via.ANI, ani), (Via.DNIS, dnis)):
            owned = self._number_owner(number or "", at, recorded=True)
            if owned is not None:
                return RuleMatch(user=owned.user, extension=owned.extension, party=None, via=via)
        return None

    def owner(self, number: str, at: dt.datetime) -> User | None:
        """The user, recorded or not, owning a Number extension equal to `number` at `at`."""
        owned = self._number_owner(number, at, recorded=False)
        return owned.user if owned is not None else None

    def _party_owner(self, party: Party, at: dt.datetime) -> _Owned | None:
        for number in party.numbers:
            owned = self._number_owner(number, at, recorded=True)
            if owned is not None:
                return owned
        for address in party.addresses:
            owned = _first_valid(self._addresses.get(normalize_address(address), ()), at, True)
            if owned is not None:
                return owned
        return None

    def _number_owner(self, number: str, at: dt.datetime, *, recorded: bool) -> _Owned | None:
        return _first_valid(self._numbers.get(normalize_number(number), ()), at, recorded)


def _first_valid(candidates: Iterable[_Owned], at: dt.datetime, recorded: bool) -> _Owned | None:
    return next(
        (
            owned
            for owned in candidates
            if owned.extension.is_valid_at(at) and (owned.user.recorded or not recorded)
        ),
        None,
    )


def match_recorded(
    parties: Sequence[Party],
    *,
    ani: str | None,
    dnis: str | None,
    users: Sequence[User],
    extensions: Sequence[Extension],
    at: dt.datetime,
) -> RuleMatch | None:
    """`RuleBook(users, extensions).match(...)`, for a single conversation."""
    return RuleBook(users, extensions).match(parties, ani=ani, dnis=dnis, at=at)


def user_of_number(
    number: str, *, users: Sequence[User], extensions: Sequence[Extension], at: dt.datetime
) -> User | None:
    """`RuleBook(users, extensions).owner(number, at)`, for a single number."""
    return RuleBook(users, extensions).owner(number, at)


__all__ = ["Party", "RuleBook", "RuleMatch", "Via", "match_recorded", "user_of_number"]
