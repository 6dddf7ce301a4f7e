"""Numbers and addresses are compared in one normalized form, whatever shape Genesys gives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callarchive.rules import normalize_number
from callarchive.rules.numbers import normalize_address

NUMBERS = st.from_regex(r"\+?[0-9]{1,15}", fullmatch=True)


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("tel:+1 (312) 555-0100", "+13125550100"),
        ("sip:+13125550100@edge.example;user=phone", "+13125550100"),
        ("sip:2001@host", "2001"),
        ("sips:2001@host:5061", "2001"),
        ("TEL:+13125550100", "+13125550100"),
        ("tel:2001;phone-context=example.com", "2001"),
        ("+13125550100", "+13125550100"),
        ("2001", "2001"),
        ("0044 20 7946 0958", "00442079460958"),
        ("+1.312.555.0100", "+13125550100"),
        ("030/1234-56", "030123456"),
        ("  +13125550100  ", "+13125550100"),
        ("", ""),
        ("anonymous", ""),
        ("sip:jane@example.com", ""),
        ("tel:", ""),
        ("+", ""),
        ("agent12", ""),
        ("12+34", ""),
    ],
)
def test_numbers_are_normalized_to_digits_with_an_optional_plus(
    value: str, normalized: str
) -> None:
    assert normalize_number(value) == normalized


@given(NUMBERS)
def test_a_normalized_number_is_its_own_normal_form(value: str) -> None:
    assert normalize_number(value) == value
    assert normalize_number(normalize_number(value)) == value


@given(NUMBERS, st.sampled_from(["tel:{}", "sip:{}@edge.example;user=phone", " {} ", "sips:{}@h"]))
def test_uri_shapes_of_a_number_normalize_to_the_number(value: str, shape: str) -> None:
    assert normalize_number(shape.format(value)) == value


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("sip:Jane.Doe@Example.com", "jane.doe@example.com"),
        ("SIPS:jane@example.com", "jane@example.com"),
        ("jane@example.com;transport=tls", "jane@example.com"),
        ("  JANE@example.com ", "jane@example.com"),
    ],
)
def test_addresses_ignore_case_scheme_and_parameters(value: str, normalized: str) -> None:
    assert normalize_address(value) == normalized
