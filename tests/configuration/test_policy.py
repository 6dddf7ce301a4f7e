"""Data Import policies: sources, schedule, recording rules always on, selected servers."""

from __future__ import annotations

from typing import Any

import pytest

from callarchive.configuration import Policy, PolicyAction, Schedule, parse_policy, parse_schedule
from callarchive.errors import ConfigurationError


def test_a_policy_imports_with_recording_rules_on_every_five_minutes_by_default() -> None:
    policy = parse_policy({"name": "Chicago import", "import_sources": ["Chicago"]})
    assert policy.action is PolicyAction.DATA_IMPORT
    assert policy.enable_recording_rules is True
    assert policy.schedule == Schedule(every_minutes=5)
    assert policy.enabled is True
    assert policy.execute_only_on_selected_servers is False


def test_naming_servers_means_execute_only_on_selected_servers() -> None:
    policy = parse_policy({"name": "P", "import_sources": ["S"], "servers": ["node-a", "node-b"]})
    assert policy.execute_only_on_selected_servers is True
    assert policy.servers == ("node-a", "node-b")


@pytest.mark.parametrize(
    ("raw", "field", "expected"),
    [
        ({"import_sources": ["S"]}, "name", "mandatory"),
        ({"name": "P"}, "import_sources", "mandatory"),
        ({"name": "P", "import_sources": []}, "import_sources", "one or more"),
        ({"name": "P", "import_sources": ["S", "S"]}, "import_sources", "twice"),
        (
            {"name": "P", "import_sources": "S", "enable_recording_rules": False},
            "enable_recording_rules",
            "must be on",
        ),
        (
            {"name": "P", "import_sources": ["S"], "schedule": {"every_minutes": 0}},
            "schedule",
            "from 1",
        ),
        (
            {"name": "P", "import_sources": ["S"], "schedule": {"every_minutes": "x"}},
            "schedule",
            "whole number",
        ),
        (
            {"name": "P", "import_sources": ["S"], "schedule": {"cron": "61 * * * *"}},
            "schedule.cron",
            "five-field cron",
        ),
        ({"name": "P", "import_sources": ["S"], "enabled": "perhaps"}, "enabled", "true or false"),
        (
            {"name": "P", "import_sources": ["S"], "servers": ["node a"]},
            "servers",
            "without spaces",
        ),
        ({"name": "P", "import_sources": ["S"], "colour": "red"}, "colour", "unknown"),
    ],
)
def test_wrong_policies_are_refused_naming_the_item(
    raw: dict[str, Any], field: str, expected: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_policy(raw)
    assert caught.value.field == field
    assert expected in caught.value.reason


def test_a_schedule_can_be_a_bare_number_of_minutes() -> None:
    assert parse_schedule("15").interval.total_seconds() == 900


def test_typed_policies_are_validated_too() -> None:
    with pytest.raises(ConfigurationError):
        Policy(name="P", import_sources=("S",), enable_recording_rules=False)
    with pytest.raises(ConfigurationError):
        Schedule(every_minutes=0)
