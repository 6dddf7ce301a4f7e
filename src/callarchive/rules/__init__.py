"""callarchive.rules: the recording rules and call directions, as pure functions (no I/O).

Which conversations are imported and under which recorded user (`RuleBook`, `match_recorded`),
who owns a number (`user_of_number`, for the From/To (callarchive) metadata), and the system and
user directions of a call (`call_direction` with the internal number patterns, `user_direction`).
Errors: a wrong internal number pattern is a `ConfigurationError` naming
`internal_number_patterns`.
"""

from callarchive.rules.direction import call_direction, compile_patterns, user_direction
from callarchive.rules.matching import (
    Party,
    RuleBook,
    RuleMatch,
    Via,
    match_recorded,
    user_of_number,
)
from callarchive.rules.numbers import normalize_number

__all__ = [
    "Party",
    "RuleBook",
    "RuleMatch",
    "Via",
    "call_direction",
    "compile_patterns",
    "match_recorded",
    "normalize_number",
    "user_direction",
    "user_of_number",
]
