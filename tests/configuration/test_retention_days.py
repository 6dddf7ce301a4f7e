"""`retention_days` of policies and users: validated, exported only when set, imported back."""

from __future__ import annotations

import json

import pytest

from callarchive.configuration import (
    Configuration,
    Policy,
    User,
    export_configuration,
    import_configuration,
    parse_policy,
    parse_user,
)
from callarchive.errors import ConfigurationError
from tests.configuration.builders import make_source


def _configuration(policy_days: int | None, user_days: int | None) -> Configuration:
    return Configuration(
        import_sources=(make_source(),),
        policies=(Policy(name="US", import_sources=("Chicago",), retention_days=policy_days),),
        users=(User(login="jane", name="Jane", retention_days=user_days),),
    )


def test_retention_days_go_out_only_when_set_and_come_back() -> None:
    document = export_configuration(_configuration(2557, 3653))
    assert document["policies"][0]["retention_days"] == 2557
    assert document["users"][0]["retention_days"] == 3653
    document["import_sources"][0]["client_secret"] = "s3cr3t-value"
    assert import_configuration(json.loads(json.dumps(document))) == _configuration(2557, 3653)

    plain = export_configuration(_configuration(None, None))
    assert "retention_days" not in plain["policies"][0]
    assert "retention_days" not in plain["users"][0]


@pytest.mark.parametrize("raw", [0, -1, "ten", 40_000, True])
def test_retention_days_must_be_a_whole_number_of_days(raw: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_policy({"name": "US", "import_sources": ["Chicago"], "retention_days": raw})
    assert caught.value.field == "retention_days"
    with pytest.raises(ConfigurationError):
        parse_user({"login": "jane", "name": "Jane", "retention_days": raw})


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_blank_retention_days_mean_none(raw: object) -> None:
    policy = parse_policy({"name": "US", "import_sources": ["Chicago"], "retention_days": raw})
    assert policy.retention_days is None
