"""Direction of a call: from the system's point of view and from the recorded user's.

The system direction (seed section 6, "Direction") compares the From and To numbers with the
internal number patterns: Python regular expressions matched (`re.match`) against the
normalized number, as the emulator's ground truth does. The user direction ("Direction (User)")
says whether the recorded user placed the call or was called.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from callarchive.archive import Direction, UserDirection
from callarchive.errors import ConfigurationError
from callarchive.rules.matching import RuleMatch, Via
from callarchive.rules.numbers import normalize_number

PATTERNS_FIELD = "internal_number_patterns"
_DIRECTIONS = {
    (True, True): Direction.INTERNAL,
    (False, True): Direction.INBOUND,
    (True, False): Direction.OUTBOUND,
    (False, False): Direction.EXTERNAL,
}


def compile_patterns(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    """The internal number patterns compiled; `ConfigurationError` naming a wrong one."""
    return tuple(_compile(pattern) for pattern in patterns)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ConfigurationError(
            f"{pattern!r} is not a valid regular expression ({error}); "
            r"expected a Python regular expression such as ^\+1312555\d{4}$",
            field=PATTERNS_FIELD,
        ) from error


def is_internal(number: str, patterns: Sequence[re.Pattern[str]]) -> bool:
    """True when an internal number pattern matches the normalized `number`."""
    normalized = normalize_number(number)
    return any(pattern.match(normalized) for pattern in patterns)


def call_direction(source: str, target: str, patterns: Sequence[re.Pattern[str]]) -> Direction:
    """The direction of a call from `source` to `target` from the system's point of view."""
    return _DIRECTIONS[is_internal(source, patterns), is_internal(target, patterns)]


def user_direction(match: RuleMatch, *, originating_direction: str | None) -> UserDirection:
    """Whether the recorded user of `match` placed the call (outgoing) or was called.

    A matched participant placed it when it dialed; a match through the ani means the user's
    number called, through the dnis that it was called. A match built without saying how it
    was found falls back on the conversation's Genesys `originatingDirection`.
    """
    if match.party is not None:
        outgoing = match.party.dialed
    elif match.via is not None:
        outgoing = match.via is Via.ANI
    else:
        outgoing = (originating_direction or "").casefold() == "outbound"
    return UserDirection.OUTGOING if outgoing else UserDirection.INCOMING


__all__ = ["PATTERNS_FIELD", "call_direction", "compile_patterns", "is_internal", "user_direction"]
