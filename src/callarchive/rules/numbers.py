"""Numbers and addresses as the recording rules compare them.

Genesys writes a party's number in several shapes: `tel:+13125550100` (ani, dnis),
`sip:+13125550100@edge.example;user=phone` (SIP trunks), `(312) 555-0100` (a user's display
number), `2001` (an internal extension). Rules compare the normalized forms: a number is its
digits with an optional leading `+`; an address is lower case without its `sip:` scheme.
"""

from __future__ import annotations

import re

_SCHEME = re.compile(r"^(?:tel|sips?):", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s().\-/]")
_NUMBER = re.compile(r"\+?[0-9]+")
_ADDRESS_SCHEME = re.compile(r"^sips?:", re.IGNORECASE)


def normalize_number(value: str) -> str:
    """Digits with an optional leading `+`; "" when `value` is not a number.

    The `tel:`/`sip:` scheme, the SIP host (after `@`), URI parameters (after `;`) and visual
    separators (spaces, parentheses, dots, dashes, slashes) are dropped. A value with no digits,
    or with letters among them (`anonymous`, `sip:jane@host`), is not a number.
    """
    text = _SCHEME.sub("", value.strip(), count=1)
    user_part = text.split(";", 1)[0].split("@", 1)[0]
    number = _SEPARATORS.sub("", user_part)
    return number if _NUMBER.fullmatch(number) else ""


def normalize_address(value: str) -> str:
    """An address compared case-insensitively, without `sip:`/`sips:` and URI parameters."""
    text = _ADDRESS_SCHEME.sub("", value.strip(), count=1)
    return text.split(";", 1)[0].strip().casefold()


__all__ = ["normalize_address", "normalize_number"]
