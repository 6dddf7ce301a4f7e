"""Call directions: from the internal number patterns, and from the recorded user's side."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callarchive.archive import Direction, UserDirection
from callarchive.errors import ConfigurationError
from callarchive.rules import RuleMatch, Via, call_direction, compile_patterns, user_direction
from genesys_emulator import ground_truth
from genesys_emulator.org import INTERNAL_NUMBER_PATTERNS
from tests.rules.builders import JANE, number, party

PATTERNS = compile_patterns(INTERNAL_NUMBER_PATTERNS)
# Numbers near the emulator's patterns: its DIDs, extensions, and numbers just outside both.
NEAR_MISSES = st.one_of(
    st.integers(0, 9999).map(lambda n: f"+1312555{n:04d}"),
    st.integers(0, 9999).map(lambda n: f"{n:04d}"),
    st.from_regex(r"\+?1?312555[0-9]{3,5}", fullmatch=True),
    st.from_regex(r"[0-9]{3,5}", fullmatch=True),
)
ANY_NUMBER = st.one_of(NEAR_MISSES, st.from_regex(r"\+?[0-9]{1,15}", fullmatch=True))
SHAPES = st.sampled_from(["{}", "tel:{}", "sip:{}@edge.example;user=phone"])


def test_patterns_compile_in_order() -> None:
    compiled = compile_patterns([r"^\d{4}$", r"^\+1312555\d{4}$"])
    assert [p.pattern for p in compiled] == [r"^\d{4}$", r"^\+1312555\d{4}$"]
    assert compile_patterns([]) == ()


@pytest.mark.parametrize("wrong", [r"^(\d{4}$", "[0-9", "*12", r"(?P<x>1)(?P<x>2)"])
def test_an_invalid_pattern_is_refused_naming_the_field_and_pattern(wrong: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        compile_patterns([r"^\d{4}$", wrong])
    assert caught.value.field == "internal_number_patterns"
    assert repr(wrong) in caught.value.reason
    assert "expected" in caught.value.reason


@pytest.mark.parametrize(
    ("source", "target", "direction"),
    [
        ("+13125551001", "+13125551002", Direction.INTERNAL),
        ("2001", "tel:+13125551002", Direction.INTERNAL),
        ("+14155550123", "+13125550100", Direction.INBOUND),
        ("tel:+14155550123", "sip:2001@edge.example", Direction.INBOUND),
        ("+13125551001", "+14155550123", Direction.OUTBOUND),
        ("tel:+1 (312) 555-1001", "tel:+44 20 7946 0958", Direction.OUTBOUND),
        ("+14155550123", "+442079460958", Direction.EXTERNAL),
        ("anonymous", "+14155550123", Direction.EXTERNAL),
        ("anonymous", "2001", Direction.INBOUND),
        ("20011", "+131255510012", Direction.EXTERNAL),
    ],
)
def test_the_direction_follows_the_internal_number_patterns(
    source: str, target: str, direction: Direction
) -> None:
    assert call_direction(source, target, PATTERNS) is direction


def test_without_patterns_every_call_is_external() -> None:
    assert call_direction("2001", "2002", ()) is Direction.EXTERNAL


def test_patterns_match_at_the_start_of_the_normalized_number() -> None:
    patterns = (re.compile(r"\+49"),)
    assert call_direction("tel:+49 30 1234", "+4930999", patterns) is Direction.INTERNAL
    assert call_direction("0049301234", "+14155550123", patterns) is Direction.EXTERNAL


@given(ANY_NUMBER, ANY_NUMBER, SHAPES, SHAPES)
def test_the_direction_agrees_with_the_emulator_ground_truth(
    source: str, target: str, source_shape: str, target_shape: str
) -> None:
    ours = call_direction(source_shape.format(source), target_shape.format(target), PATTERNS)
    assert ours.value == ground_truth.call_direction(source, target)


@pytest.mark.parametrize(
    ("dialed", "via", "originating", "expected"),
    [
        (True, Via.PARTICIPANT, "outbound", UserDirection.OUTGOING),
        (True, Via.PARTICIPANT, "inbound", UserDirection.OUTGOING),  # internal calls
        (False, Via.PARTICIPANT, "inbound", UserDirection.INCOMING),
        (False, Via.PARTICIPANT, "outbound", UserDirection.INCOMING),  # a transfer target
        (False, None, None, UserDirection.INCOMING),
    ],
)
def test_a_matched_participant_is_outgoing_when_it_dialed(
    dialed: bool, via: Via | None, originating: str | None, expected: UserDirection
) -> None:
    match = RuleMatch(
        user=JANE, extension=number("2001"), party=party("2001", dialed=dialed), via=via
    )
    assert user_direction(match, originating_direction=originating) is expected


@pytest.mark.parametrize(
    ("via", "originating", "expected"),
    [
        (Via.ANI, "inbound", UserDirection.OUTGOING),
        (Via.ANI, None, UserDirection.OUTGOING),
        (Via.DNIS, "outbound", UserDirection.INCOMING),
        (Via.DNIS, None, UserDirection.INCOMING),
        (None, "outbound", UserDirection.OUTGOING),
        (None, "OUTBOUND", UserDirection.OUTGOING),
        (None, "inbound", UserDirection.INCOMING),
        (None, None, UserDirection.INCOMING),
    ],
)
def test_a_number_match_is_outgoing_when_the_user_called_out(
    via: Via | None, originating: str | None, expected: UserDirection
) -> None:
    match = RuleMatch(user=JANE, extension=number("+13125551001"), party=None, via=via)
    assert user_direction(match, originating_direction=originating) is expected
