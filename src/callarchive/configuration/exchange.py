"""Configuration export and import: the whole set-up as one JSON document.

For moving a set-up between installations (`callarchive config export|import`). The document has
exactly the keys of DESIGN.md section 8: `import_sources`, `policies`, `users`, `extensions`, each
a list of objects keyed by the seed's items in snake_case. Export leaves secrets out; import takes
them, and an import source that already exists keeps its stored secrets when the document has
none. Policies and users carry `retention_days` only when it is set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from callarchive.configuration.import_source import (
    FIELDS,
    SECRET_FIELDS,
    ImportSource,
    parse_import_source,
)
from callarchive.configuration.people import Extension, User, parse_extension, parse_user
from callarchive.configuration.policy import Policy, export_schedule, parse_policy
from callarchive.errors import ConfigurationError

DOCUMENT_KEYS = ("import_sources", "policies", "users", "extensions")
# A stored secret is reused only while the item it belongs to is still configured.
_SECRET_COMPANIONS = {
    "client_secret": "client_id",
    "tls_key_password": "tls_key_file",
    "proxy_password": "proxy_username",
}
# Our two items beyond the seed's table: exported only when they differ from the default.
_TUNING = {"batch_duration_min": 60, "request_budget_per_minute": 300}
T = TypeVar("T")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Configuration:
    """A whole set-up: import sources, policies, users and extensions."""

    import_sources: tuple[ImportSource, ...] = ()
    policies: tuple[Policy, ...] = ()
    users: tuple[User, ...] = ()
    extensions: tuple[Extension, ...] = ()


def export_configuration(configuration: Configuration) -> dict[str, Any]:
    """The JSON document of `configuration`, without any secret."""
    return {
        "import_sources": [export_import_source(s) for s in configuration.import_sources],
        "policies": [
            {
                "name": p.name,
                "import_sources": list(p.import_sources),
                "enable_recording_rules": p.enable_recording_rules,
                "schedule": export_schedule(p.schedule),
                "enabled": p.enabled,
                "servers": list(p.servers),
                **_retention(p.retention_days),
            }
            for p in configuration.policies
        ],
        "users": [
            {
                "login": u.login,
                "name": u.name,
                "role": u.role.value,
                "supervisor": u.supervisor,
                "partitions": list(u.partitions),
                "recorded": u.recorded,
                **_retention(u.retention_days),
            }
            for u in configuration.users
        ],
        "extensions": [_export_extension(e) for e in configuration.extensions],
    }


def _retention(days: int | None) -> dict[str, int]:
    """`retention_days` when set: a document without it keeps conversations for ever (policy)
    or as the policy says (user), so set-ups without retention export as before."""
    return {} if days is None else {"retention_days": days}


def _export_extension(extension: Extension) -> dict[str, Any]:
    values: dict[str, Any] = {
        "type": extension.type.value,
        "value": extension.value,
        "user": extension.user,
    }
    # Validity periods are kept when set, so a move between installations loses no history.
    for name in ("valid_from", "valid_to"):
        moment = getattr(extension, name)
        if moment is not None:
            values[name] = moment.isoformat()
    return values


def export_import_source(source: ImportSource) -> dict[str, Any]:
    """One import source as exported: the keys of DESIGN.md section 8, secrets left out.

    `batch_duration_min` and `request_budget_per_minute` appear only when not the default.
    """
    values: dict[str, Any] = {}
    for name in FIELDS:
        if name in SECRET_FIELDS or (name in _TUNING and getattr(source, name) == _TUNING[name]):
            continue
        value = getattr(source, name)
        if name == "recording_start":
            value = value.astimezone(source.zone).isoformat()
        elif name == "internal_number_patterns":
            value = list(value)
        values[name] = value.value if hasattr(value, "value") else value
    return values


def import_configuration(
    document: object, *, existing_sources: Mapping[str, ImportSource] | None = None
) -> Configuration:
    """Parse and validate a configuration document.

    `existing_sources` (by name) supply the secrets a document leaves out. Raises
    `ConfigurationError` whose field is the item's path, e.g. `import_sources[1].codec`.
    """
    if not isinstance(document, Mapping):
        raise ConfigurationError(
            f"expected a JSON object with the keys {', '.join(DOCUMENT_KEYS)}", field="document"
        )
    unknown = sorted(set(document) - set(DOCUMENT_KEYS))
    if unknown:
        raise ConfigurationError(
            f"unknown key; expected only {', '.join(DOCUMENT_KEYS)}", field=unknown[0]
        )
    known = existing_sources or {}
    configuration = Configuration(
        import_sources=_each(
            document, "import_sources", lambda raw: parse_import_source(_with_secrets(raw, known))
        ),
        policies=_each(document, "policies", parse_policy),
        users=_each(document, "users", parse_user),
        extensions=_each(document, "extensions", parse_extension),
    )
    _refuse_duplicates(configuration)
    return configuration


def _with_secrets(raw: Mapping[str, Any], known: Mapping[str, ImportSource]) -> Mapping[str, Any]:
    existing = known.get(str(raw.get("name", "")).strip())
    if existing is None:
        return raw
    filled = dict(raw)
    for secret, companion in _SECRET_COMPANIONS.items():
        stored = getattr(existing, secret)
        if raw.get(secret) in (None, "") and raw.get(companion) not in (None, "") and stored:
            filled[secret] = stored
    return filled


def _each(
    document: Mapping[str, Any], key: str, parse: Callable[[Mapping[str, Any]], T]
) -> tuple[T, ...]:
    items = document.get(key, [])
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise ConfigurationError("expected a list of objects", field=key)
    parsed: list[T] = []
    for index, raw in enumerate(items):
        if not isinstance(raw, Mapping):
            raise ConfigurationError("expected an object", field=f"{key}[{index}]")
        try:
            parsed.append(parse(raw))
        except ConfigurationError as error:
            label = raw.get("name") or raw.get("login") or raw.get("value")
            where = f" ({label})" if isinstance(label, str) and error.field != "name" else ""
            raise ConfigurationError(
                f"{error.reason}{where}", field=f"{key}[{index}].{error.field}"
            ) from None
    return tuple(parsed)


def _refuse_duplicates(configuration: Configuration) -> None:
    for key, values in (
        ("import_sources", [s.name for s in configuration.import_sources]),
        ("policies", [p.name for p in configuration.policies]),
        ("users", [u.login for u in configuration.users]),
        ("extensions", [(e.type, e.value, e.user) for e in configuration.extensions]),
    ):
        seen: set[object] = set()
        for index, value in enumerate(values):
            if value in seen:
                raise ConfigurationError(
                    f"{value!r} appears twice; expected each once", field=f"{key}[{index}]"
                )
            seen.add(value)


__all__ = [
    "DOCUMENT_KEYS",
    "Configuration",
    "export_configuration",
    "export_import_source",
    "import_configuration",
]
