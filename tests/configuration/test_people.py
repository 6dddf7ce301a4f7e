"""Users and extensions: logins, roles, hierarchy, numbers and addresses, validity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from callarchive.configuration import (
    Extension,
    ExtensionType,
    Role,
    User,
    parse_extension,
    parse_user,
)
from callarchive.errors import ConfigurationError


def test_a_user_is_a_recorded_agent_by_default() -> None:
    user = parse_user({"login": "jane@example.com", "name": "Jane Doe"})
    assert user.role is Role.AGENT
    assert user.recorded is True
    assert user.supervisor is None
    assert user.partitions == ()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"name": "Jane"}, "login"),
        ({"login": "jane doe", "name": "Jane"}, "login"),
        ({"login": "jane"}, "name"),
        ({"login": "jane", "name": "Jane", "role": "boss"}, "role"),
        ({"login": "jane", "name": "Jane", "supervisor": "jane"}, "supervisor"),
        ({"login": "jane", "name": "Jane", "partitions": ["a", "a"]}, "partitions"),
        ({"login": "jane", "name": "Jane", "recorded": "sometimes"}, "recorded"),
        ({"login": "jane", "name": "Jane", "email": "x"}, "email"),
    ],
)
def test_wrong_users_are_refused_naming_the_item(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_user(raw)
    assert caught.value.field == field
    assert "expected" in caught.value.reason


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("+1 (312) 555-0101", "+13125550101"),
        ("tel:+13125550101", "+13125550101"),
        ("4101", "4101"),
        ("030.1234/56", "030123456"),
    ],
)
def test_numbers_are_stored_without_separators(value: str, stored: str) -> None:
    extension = parse_extension({"type": "number", "value": value, "user": "jane"})
    assert extension.value == stored


@pytest.mark.parametrize("value", ["sip:jane@example.com", "jane@example.com", "SIPS:a@b"])
def test_addresses_are_accepted(value: str) -> None:
    assert parse_extension({"type": "Address", "value": value, "user": "j"}).value == value


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"type": "fax", "value": "1", "user": "j"}, "type"),
        ({"type": "number", "value": "call me", "user": "j"}, "value"),
        ({"type": "number", "value": "+", "user": "j"}, "value"),
        ({"type": "address", "value": "jane", "user": "j"}, "value"),
        ({"type": "number", "value": "", "user": "j"}, "value"),
        ({"type": "number", "value": "1", "user": ""}, "user"),
        ({"type": "number", "value": "1", "user": "j", "valid_from": "soon"}, "valid_from"),
        (
            {
                "type": "number",
                "value": "1",
                "user": "j",
                "valid_from": "2024-02",
                "valid_to": "2024-01",
            },
            "valid_to",
        ),
    ],
)
def test_wrong_extensions_are_refused_naming_the_item(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_extension(raw)
    assert caught.value.field == field


def test_an_extension_is_valid_from_its_start_until_before_its_end() -> None:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    extension = Extension(
        type=ExtensionType.NUMBER, value="4101", user="jane", valid_from=start, valid_to=end
    )
    assert extension.is_valid_at(start)
    assert not extension.is_valid_at(start - dt.timedelta(seconds=1))
    assert not extension.is_valid_at(end)


def test_validity_without_offset_is_read_in_the_given_zone() -> None:
    extension = parse_extension(
        {"type": "number", "value": "1", "user": "j", "valid_from": "2024-01-01 09:00"},
        zone="Europe/Berlin",
    )
    assert extension.valid_from == dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC)


def test_typed_users_are_validated_too() -> None:
    with pytest.raises(ConfigurationError):
        User(login="", name="x")
