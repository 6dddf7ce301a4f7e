"""Fuzzing the configuration parsers: any JSON an operator may import or type into a form.

Random documents and random items end in a value or a `ConfigurationError` naming the field,
never another exception.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callarchive.configuration import (
    DOCUMENT_KEYS,
    FIELDS,
    import_configuration,
    parse_active_hours,
    parse_extension,
    parse_import_source,
    parse_policy,
    parse_retention_days,
    parse_schedule,
    parse_timestamp,
    parse_user,
)
from callarchive.errors import ConfigurationError

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        ["08:00-18:00", "*/5 * * * *", "Europe/Vienna", "2026-01-01T00:00:00Z", "WAV",
         "https://api.mypurecloud.com", "number", "address", "administrator", "5", "-1", " "]
    )
)  # fmt: skip
KEYS = st.sampled_from(
    [*DOCUMENT_KEYS, *FIELDS, "every_minutes", "cron", "active_hours", "timezone", "from",
     "to", "login", "role", "type", "value", "user", "enabled", "schedule", "retention_days"]
) | st.text(max_size=10)  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=8),
    max_leaves=40,
)
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARSERS: dict[str, Callable[[Any], object]] = {
    "document": import_configuration,
    "import_source": parse_import_source,
    "policy": parse_policy,
    "user": parse_user,
    "extension": parse_extension,
    "schedule": parse_schedule,
    "active_hours": parse_active_hours,
    "retention_days": parse_retention_days,
    "timestamp": lambda raw: parse_timestamp(raw, "recording_start", zone="Europe/Vienna"),
}


ITEMS = {"import_source", "policy", "user", "extension"}  # typed to take a mapping


@pytest.mark.parametrize("name", PARSERS)
@FUZZ
@given(data=st.data())
def test_any_json_is_a_value_or_a_configuration_error(name: str, data: st.DataObject) -> None:
    raw = data.draw(st.dictionaries(KEYS, JSON, max_size=12) if name in ITEMS else JSON)
    with contextlib.suppress(ConfigurationError):
        PARSERS[name](raw)


@FUZZ
@given(
    sources=st.lists(st.dictionaries(st.sampled_from(sorted(FIELDS)), SCALARS, max_size=30)),
    rest=st.dictionaries(st.sampled_from(["policies", "users", "extensions"]), JSON),
)
def test_documents_of_import_sources_with_random_items_are_refused_with_a_field(
    sources: list[dict[str, Any]], rest: dict[str, Any]
) -> None:
    try:
        import_configuration({"import_sources": sources, **rest})
    except ConfigurationError as error:
        refused = error
    else:
        return
    assert refused.field, f"{refused} names no field"
