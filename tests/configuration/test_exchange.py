"""`config export|import`: the document's keys, no secrets out, secrets in, clear errors."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from callarchive.configuration import (
    Configuration,
    Extension,
    ExtensionType,
    Policy,
    Role,
    User,
    export_configuration,
    import_configuration,
)
from callarchive.errors import ConfigurationError
from tests.configuration.builders import make_source

SOURCE_KEYS = [
    "name", "client_id", "auth_url", "api_url", "tls_certificate", "tls_key_file",
    "tls_trust_list", "proxy_address", "proxy_port", "proxy_username", "codec",
    "recording_timezone", "recording_start", "max_recording_length_min",
    "availability_delay_min", "cache_lifetime_min", "delete_on_completion", "fetch_strategy",
    "internal_number_patterns",
]  # fmt: skip


def configuration() -> Configuration:
    return Configuration(
        import_sources=(
            make_source(
                proxy_address="proxy.example.com",
                proxy_port="3128",
                proxy_username="me",
                proxy_password="proxy-secret",
                internal_number_patterns=[r"^\+1312555\d{4}$", r"^\d{4}$"],
            ),
        ),
        policies=(Policy(name="Chicago import", import_sources=("Chicago",), servers=("n1",)),),
        users=(
            User(login="boss", name="Boss", role=Role.SUPERVISOR),
            User(login="jane", name="Jane", supervisor="boss", partitions=("sales",)),
        ),
        extensions=(Extension(type=ExtensionType.NUMBER, value="4101", user="jane"),),
    )


def test_the_document_has_exactly_the_design_keys_and_no_secret() -> None:
    document = export_configuration(configuration())
    assert list(document) == ["import_sources", "policies", "users", "extensions"]
    assert list(document["import_sources"][0]) == SOURCE_KEYS
    assert list(document["policies"][0]) == [
        "name", "import_sources", "enable_recording_rules", "schedule", "enabled", "servers",
    ]  # fmt: skip
    assert document["policies"][0]["schedule"] == {"every_minutes": 5}
    assert list(document["users"][0]) == [
        "login", "name", "role", "supervisor", "partitions", "recorded",
    ]  # fmt: skip
    assert document["extensions"] == [{"type": "number", "value": "4101", "user": "jane"}]
    text = json.dumps(document)
    assert "s3cr3t-value" not in text
    assert "proxy-secret" not in text
    assert document["import_sources"][0]["recording_start"] == "2023-02-02T07:00:00-06:00"


def test_a_document_imports_back_to_the_same_configuration_given_the_secrets() -> None:
    original = configuration()
    document = export_configuration(original)
    document["import_sources"][0]["client_secret"] = "s3cr3t-value"
    document["import_sources"][0]["proxy_password"] = "proxy-secret"
    assert import_configuration(json.loads(json.dumps(document))) == original


def test_existing_sources_lend_their_secrets_to_a_document_without_them() -> None:
    original = configuration()
    imported = import_configuration(
        export_configuration(original),
        existing_sources={"Chicago": original.import_sources[0]},
    )
    assert imported.import_sources[0].client_secret.reveal() == "s3cr3t-value"
    assert imported.import_sources[0].proxy_password == original.import_sources[0].proxy_password


def test_a_new_source_without_its_client_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        import_configuration(export_configuration(configuration()))
    assert caught.value.field == "import_sources[0].client_secret"
    assert "mandatory" in str(caught.value)


def test_tuning_items_and_extension_validity_are_exported_only_when_set() -> None:
    source = make_source(batch_duration_min="15")
    extension = Extension(
        type=ExtensionType.ADDRESS,
        value="jane@example.com",
        user="jane",
        valid_from=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    document = export_configuration(
        Configuration(import_sources=(source,), extensions=(extension,))
    )
    assert document["import_sources"][0]["batch_duration_min"] == 15
    assert "request_budget_per_minute" not in document["import_sources"][0]
    assert document["extensions"][0]["valid_from"] == "2024-01-01T00:00:00+00:00"


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(export_configuration(configuration()))
    document["import_sources"][0]["client_secret"] = "x"
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "document"),
        ({"import_sources": [], "extra": 1}, "extra"),
        ({"users": {"login": "x"}}, "users"),
        ({"users": ["jane"]}, "users[0]"),
        (_broken(["import_sources", 0, "codec"], "AAC"), "import_sources[0].codec"),
        (_broken(["import_sources", 0, "proxy_port"], 0), "import_sources[0].proxy_port"),
        (_broken(["policies", 0, "schedule"], {"every_minutes": -5}), "policies[0].schedule"),
        (_broken(["users", 1, "role"], "king"), "users[1].role"),
        (_broken(["extensions", 0, "type"], "fax"), "extensions[0].type"),
        (_broken(["users", 0, "login"], "jane"), "users[1]"),
    ],
)
def test_wrong_documents_are_refused_with_the_path_of_the_item(document: Any, field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        import_configuration(document)
    assert caught.value.field == field
