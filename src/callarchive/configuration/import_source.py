"""The Genesys Cloud Import Source: every configuration item of the seed's table, validated.

`ImportSource` is the frozen value the importer runs with; building one validates it, so an
invalid import source cannot exist. `parse_import_source` turns raw items (CLI text or JSON) into
one, naming the first wrong item and what it expects. Item names are the seed's items in
snake_case (`FIELDS` maps them to the seed's labels).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callarchive.configuration import _fields as f
from callarchive.errors import ConfigurationError
from callarchive.secrets import Secret


class Codec(StrEnum):
    """Formats Genesys transcodes recordings to (`formatId` of the recordings API)."""

    WAV = "WAV"  # 16-bit linear PCM in a WAV container
    WEBM = "WEBM"  # Opus in WebM
    WAV_ULAW = "WAV_ULAW"  # G.711 mu-law in a WAV container
    OGG_VORBIS = "OGG_VORBIS"  # Vorbis in Ogg
    OGG_OPUS = "OGG_OPUS"  # Opus in Ogg
    MP3 = "MP3"  # MPEG-1 layer III

    @property
    def file_extension(self) -> str:
        """File name extension of stored media; unique per codec (WAV_ULAW is `ulaw.wav`)."""
        return _EXTENSIONS[self]


_EXTENSIONS = {
    Codec.WAV: "wav",
    Codec.WEBM: "webm",
    Codec.WAV_ULAW: "ulaw.wav",
    Codec.OGG_VORBIS: "ogg",
    Codec.OGG_OPUS: "opus",
    Codec.MP3: "mp3",
}


class FetchStrategy(StrEnum):
    """How media is fetched from Genesys (DESIGN.md section 2)."""

    TRANSCODE = "transcode"  # per conversation, Genesys transcodes to the codec (the seed's way)
    BATCH = "batch"  # batch download requests, original codec, transcoded locally when needed


# The seed's label of every item, in the seed's order (plus our two additions at the end).
FIELDS: Mapping[str, str] = {
    "name": "Name",
    "client_id": "Client Id",
    "client_secret": "Client Secret",
    "auth_url": "HTTPS Genesys Cloud API Authentication URL",
    "api_url": "HTTPS Genesys Cloud API URL",
    "tls_certificate": "TLS Certificate File / Thumbprint",
    "tls_key_file": "TLS Key File",
    "tls_key_password": "TLS Key Password",
    "tls_trust_list": "TLS Trust List",
    "proxy_address": "Forward Proxy Address",
    "proxy_port": "Forward Proxy Port",
    "proxy_username": "Forward Proxy Username",
    "proxy_password": "Forward Proxy Password",
    "codec": "Transcoding by Genesys",
    "recording_timezone": "Recording Timezone",
    "recording_start": "Recording Start Timestamp",
    "max_recording_length_min": "Genesys Cloud Maximum Recording Length (minutes)",
    "availability_delay_min": "Genesys Cloud Availability Delay (minutes)",
    "cache_lifetime_min": "Genesys Cache Lifetime (minutes)",
    "delete_on_completion": "On Completion Delete Recordings Stored in Genesys Cloud",
    "fetch_strategy": "Media fetch strategy",
    "internal_number_patterns": "Internal number/domain patterns (for Direction)",
    "batch_duration_min": "Import batch duration (minutes)",
    "request_budget_per_minute": "Genesys API request budget (per minute)",
}
SECRET_FIELDS = ("client_secret", "tls_key_password", "proxy_password")
MANDATORY_FIELDS = (
    "name",
    "client_id",
    "client_secret",
    "auth_url",
    "api_url",
    "codec",
    "recording_timezone",
    "recording_start",
    "max_recording_length_min",
    "availability_delay_min",
    "cache_lifetime_min",
)
MAX_BATCH_DURATION_MIN = 7 * 24 * 60  # the details query takes at most 7 days per interval
_AUTH_EXAMPLE = "https://login.usw2.pure.cloud"
_API_EXAMPLE = "https://api.usw2.pure.cloud"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ImportSource:
    """A Genesys Cloud organisation to import from, and how. Validated on construction.

    Times are timezone-aware UTC; `recording_timezone` is used only to present them.
    `id` is the archive's identifier, None until stored.
    """

    name: str
    client_id: str
    client_secret: Secret
    auth_url: str
    api_url: str
    codec: Codec
    recording_timezone: str
    recording_start: dt.datetime
    max_recording_length_min: int
    availability_delay_min: int
    cache_lifetime_min: int
    tls_certificate: str | None = None
    tls_key_file: str | None = None
    tls_key_password: Secret | None = None
    tls_trust_list: str | None = None
    proxy_address: str | None = None
    proxy_port: int | None = None
    proxy_username: str | None = None
    proxy_password: Secret | None = None
    delete_on_completion: bool = False
    fetch_strategy: FetchStrategy = FetchStrategy.TRANSCODE
    internal_number_patterns: tuple[str, ...] = ()
    batch_duration_min: int = 60
    request_budget_per_minute: int = 300
    id: int | None = None

    def __post_init__(self) -> None:
        # One validation path for typed and raw values: parse every item, keep the canonical
        # form (stripped text, enum members, UTC times).
        for name, value in _parse_items(_items(self)).items():
            object.__setattr__(self, name, value)

    @property
    def zone(self) -> ZoneInfo:
        """The Recording Timezone."""
        return ZoneInfo(self.recording_timezone)

    @property
    def uses_proxy(self) -> bool:
        """True when connections go through the forward proxy."""
        return self.proxy_address is not None


def check_files(source: ImportSource) -> None:
    """Check that the TLS files an import source names exist and can be read on this server.

    Separate from construction: a set-up can be prepared on another machine, but adding or
    testing an import source here should fail early when a file is missing.
    """
    for name in ("tls_certificate", "tls_key_file", "tls_trust_list"):
        value = getattr(source, name)
        if value is None or (name == "tls_certificate" and f.is_thumbprint(value)):
            continue
        path = Path(value)
        if not path.is_file():
            raise ConfigurationError(
                f"{value!r} does not exist or is not a file; expected a readable file", field=name
            )
        try:
            path.open("rb").close()
        except OSError as error:
            raise ConfigurationError(
                f"{value!r} cannot be read ({error.strerror}); expected a readable file",
                field=name,
            ) from None


def _items(source: ImportSource) -> dict[str, Any]:
    return {field.name: getattr(source, field.name) for field in dataclasses.fields(source)}


def parse_import_source(raw: Mapping[str, Any], *, id: int | None = None) -> ImportSource:  # noqa: A002
    """An `ImportSource` from raw items (text or JSON values); unknown items are refused.

    Raises `ConfigurationError` naming the first wrong item (in the seed's order) and what it
    expects. Missing optional items take their defaults.
    """
    unknown = sorted(set(raw) - set(FIELDS) - {"id"})
    if unknown:
        raise ConfigurationError(
            f"unknown import source item; expected one of {', '.join(FIELDS)}", field=unknown[0]
        )
    return ImportSource(**_parse_items(raw), id=id)


def _parse_items(raw: Mapping[str, Any]) -> dict[str, Any]:
    zone = f.timezone(raw.get("recording_timezone"), "recording_timezone")
    items: dict[str, Any] = {
        "name": f.text(
            raw.get("name"), "name", what="a name for the import source", max_length=200
        ),
        "client_id": f.token(
            raw.get("client_id"), "client_id", what="the Client Id of the Genesys OAuth client"
        ),
        "client_secret": _secret(
            raw.get("client_secret"),
            "client_secret",
            what="the Client Secret of the Genesys OAuth client",
            mandatory=True,
        ),
        "auth_url": f.https_url(raw.get("auth_url"), "auth_url", example=_AUTH_EXAMPLE),
        "api_url": f.https_url(raw.get("api_url"), "api_url", example=_API_EXAMPLE),
        **_tls(raw),
        **_proxy(raw),
        "codec": f.choice(raw.get("codec"), Codec, "codec", what="the Genesys transcoding codec"),
        "recording_timezone": zone,
        "recording_start": f.timestamp(raw.get("recording_start"), "recording_start", zone=zone),
        "max_recording_length_min": f.minutes(
            raw.get("max_recording_length_min"), "max_recording_length_min"
        ),
        "availability_delay_min": f.minutes(
            raw.get("availability_delay_min"), "availability_delay_min"
        ),
        "cache_lifetime_min": f.minutes(raw.get("cache_lifetime_min"), "cache_lifetime_min"),
        "delete_on_completion": _optional(raw, "delete_on_completion", f.boolean, False),
        "fetch_strategy": _optional(
            raw,
            "fetch_strategy",
            lambda value, name: f.choice(value, FetchStrategy, name, what="a fetch strategy"),
            FetchStrategy.TRANSCODE,
        ),
        "internal_number_patterns": f.patterns(
            raw.get("internal_number_patterns"), "internal_number_patterns"
        ),
        "batch_duration_min": _optional(
            raw,
            "batch_duration_min",
            lambda value, name: f.integer(
                value, name, minimum=1, maximum=MAX_BATCH_DURATION_MIN, what="minutes per batch"
            ),
            60,
        ),
        "request_budget_per_minute": _optional(
            raw,
            "request_budget_per_minute",
            lambda value, name: f.integer(
                value, name, minimum=1, maximum=100_000, what="Genesys API requests per minute"
            ),
            300,
        ),
    }
    return {name: items[name] for name in FIELDS}


def _optional(raw: Mapping[str, Any], name: str, parse: Any, default: Any) -> Any:
    value = raw.get(name)
    return default if f.is_blank(value) else parse(value, name)


def _secret(raw: object, field: str, *, what: str, mandatory: bool) -> Secret | None:
    if isinstance(raw, Secret):
        raw = raw.reveal()
    if f.is_blank(raw):
        if mandatory:
            raise ConfigurationError(f"mandatory; expected {what}", field=field)
        return None
    if not isinstance(raw, str) or len(raw) > 4096 or "\n" in raw:
        raise ConfigurationError(f"expected {what} as one line of text", field=field)
    return Secret(raw)


def _tls(raw: Mapping[str, Any]) -> dict[str, Any]:
    certificate = f.certificate(raw.get("tls_certificate"), "tls_certificate")
    key_file = f.absolute_path(
        raw.get("tls_key_file"), "tls_key_file", what="the absolute path of the certificate's key"
    )
    password = _secret(
        raw.get("tls_key_password"),
        "tls_key_password",
        what="the password of the TLS key file",
        mandatory=False,
    )
    if key_file and (certificate is None or f.is_thumbprint(certificate)):
        raise ConfigurationError(
            "a key file belongs to a certificate file; expected tls_certificate to be a file "
            "path as well, or no key file",
            field="tls_key_file",
        )
    if password and not key_file:
        raise ConfigurationError(
            "a key password needs a key file; expected tls_key_file as well, or no password",
            field="tls_key_password",
        )
    trust_list = f.absolute_path(
        raw.get("tls_trust_list"),
        "tls_trust_list",
        what="the absolute path of a PEM file with the certificate chain to trust",
    )
    return {
        "tls_certificate": certificate,
        "tls_key_file": key_file,
        "tls_key_password": password,
        "tls_trust_list": trust_list,
    }


def _proxy(raw: Mapping[str, Any]) -> dict[str, Any]:
    address = f.host(raw.get("proxy_address"), "proxy_address")
    port = (
        None if f.is_blank(raw.get("proxy_port")) else f.port(raw.get("proxy_port"), "proxy_port")
    )
    username = f.optional_text(
        raw.get("proxy_username"), "proxy_username", what="the forward proxy user name"
    )
    password = _secret(
        raw.get("proxy_password"),
        "proxy_password",
        what="the forward proxy password",
        mandatory=False,
    )
    if address and port is None:
        raise ConfigurationError(
            "mandatory with a forward proxy address; expected a TCP port from 1 to 65535",
            field="proxy_port",
        )
    for name, value in (("proxy_port", port), ("proxy_username", username)):
        if value is not None and not address:
            raise ConfigurationError(
                "set without a forward proxy address; expected proxy_address as well",
                field=name,
            )
    if password and not username:
        raise ConfigurationError(
            "a proxy password needs a user name; expected proxy_username as well",
            field="proxy_password",
        )
    return {
        "proxy_address": address,
        "proxy_port": port,
        "proxy_username": username,
        "proxy_password": password,
    }


__all__ = [
    "FIELDS",
    "MANDATORY_FIELDS",
    "SECRET_FIELDS",
    "Codec",
    "FetchStrategy",
    "ImportSource",
    "check_files",
    "parse_import_source",
]
