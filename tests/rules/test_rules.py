"""The rules package exports a small public surface, and every exported name exists."""

from __future__ import annotations

import callarchive.rules

EXPECTED = {
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
}


def test_the_public_surface_is_the_documented_one() -> None:
    assert set(callarchive.rules.__all__) == EXPECTED
    assert callarchive.rules.__all__ == sorted(callarchive.rules.__all__)
    for name in callarchive.rules.__all__:
        assert getattr(callarchive.rules, name) is not None
