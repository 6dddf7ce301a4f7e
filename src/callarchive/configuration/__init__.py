"""Configuration: the import sources, policies, users and extensions an installation runs with.

Frozen, validated domain values (an invalid one cannot be built), the raw-item parsers used by
the CLI and the JSON document of `callarchive config export|import`. Every validation error is a
`ConfigurationError` naming the item (the seed's name in snake_case) and what it expects.
"""

from callarchive.configuration._fields import timestamp as parse_timestamp
from callarchive.configuration.exchange import (
    DOCUMENT_KEYS,
    Configuration,
    export_configuration,
    export_import_source,
    import_configuration,
)
from callarchive.configuration.import_source import (
    FIELDS,
    MANDATORY_FIELDS,
    SECRET_FIELDS,
    Codec,
    FetchStrategy,
    ImportSource,
    check_files,
    parse_import_source,
)
from callarchive.configuration.people import (
    Extension,
    ExtensionType,
    Role,
    User,
    normalize_extension,
    parse_extension,
    parse_user,
)
from callarchive.configuration.policy import (
    MAX_RETENTION_DAYS,
    ActiveHours,
    Policy,
    PolicyAction,
    Schedule,
    Server,
    export_schedule,
    parse_active_hours,
    parse_policy,
    parse_retention_days,
    parse_schedule,
)

__all__ = [
    "DOCUMENT_KEYS",
    "FIELDS",
    "MANDATORY_FIELDS",
    "MAX_RETENTION_DAYS",
    "SECRET_FIELDS",
    "ActiveHours",
    "Codec",
    "Configuration",
    "Extension",
    "ExtensionType",
    "FetchStrategy",
    "ImportSource",
    "Policy",
    "PolicyAction",
    "Role",
    "Schedule",
    "Server",
    "User",
    "check_files",
    "export_configuration",
    "export_import_source",
    "export_schedule",
    "import_configuration",
    "normalize_extension",
    "parse_active_hours",
    "parse_extension",
    "parse_import_source",
    "parse_policy",
    "parse_retention_days",
    "parse_schedule",
    "parse_timestamp",
    "parse_user",
]
