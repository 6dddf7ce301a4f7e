"""Field parsers: turn one raw value (CLI text or JSON) into a typed one, or say what is expected.

Every parser takes the field's name and raises `ConfigurationError(message, field=name)` whose
message states what was expected. Values of secret fields are never echoed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from pathlib import PurePosixPath, PureWindowsPath
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from callarchive.errors import ConfigurationError

E = TypeVar("E", bound=StrEnum)

MAX_MINUTES = 1_000_000
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_THUMBPRINT = re.compile(
    r"^(?:[0-9A-Fa-f]{2}:?){19}[0-9A-Fa-f]{2}$|^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$"
)
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def is_blank(raw: object) -> bool:
    """True for a missing value: None or text that is only whitespace."""
    return raw is None or (isinstance(raw, str) and not raw.strip())


def text(raw: object, field: str, *, what: str, max_length: int = 1000) -> str:
    """Mandatory single-line text, stripped; `what` says what the field holds."""
    if is_blank(raw):
        raise ConfigurationError(f"mandatory; expected {what}", field=field)
    if not isinstance(raw, str):
        raise ConfigurationError(f"expected text ({what})", field=field)
    value = raw.strip()
    if len(value) > max_length or any(ord(c) < 32 for c in value):
        raise ConfigurationError(
            f"expected {what} on one line of at most {max_length} characters", field=field
        )
    return value


def optional_text(raw: object, field: str, *, what: str, max_length: int = 1000) -> str | None:
    """Like `text`, but a missing value is None."""
    return None if is_blank(raw) else text(raw, field, what=what, max_length=max_length)


def token(raw: object, field: str, *, what: str) -> str:
    """Mandatory text without whitespace (a login, a client id, a server name)."""
    value = text(raw, field, what=what, max_length=200)
    if any(c.isspace() for c in value):
        raise ConfigurationError(
            f"{value!r} contains spaces; expected {what}, without spaces", field=field
        )
    return value


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_hostname(host: str) -> bool:
    """True for an IP address or a syntactically valid DNS name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.rstrip(".").split(".")
        return len(host) <= 253 and all(_HOST_LABEL.match(label) for label in labels)
    return True


def https_url(raw: object, field: str, *, example: str) -> str:
    """An https:// URL of a host (http:// only for loopback), without trailing slash."""
    expected = f"an https:// URL such as {example} (http:// only on loopback, e.g. for tests)"
    value = text(raw, field, what=expected)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ConfigurationError(
            f"{value!r} is not a valid URL; expected {expected}", field=field
        ) from None
    host = parts.hostname or ""
    if parts.scheme not in {"https", "http"} or not host or not is_hostname(host):
        raise ConfigurationError(
            f"{value!r} is not a valid URL; expected {expected}", field=field
        ) from None
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigurationError(
            f"{value!r} is not HTTPS; Genesys Cloud is reached over HTTPS (port 443): "
            f"expected {expected}",
            field=field,
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{value!r} has credentials, a query or a fragment; expected {expected}", field=field
        )
    if port == 0:
        raise ConfigurationError(f"{value!r} has port 0; expected {expected}", field=field)
    return value.rstrip("/")


def integer(raw: object, field: str, *, minimum: int, maximum: int, what: str) -> int:
    """A whole number within [minimum, maximum], from an int or decimal text."""
    expected = f"{what}: a whole number from {minimum} to {maximum}"
    if isinstance(raw, bool) or is_blank(raw):
        raise ConfigurationError(f"mandatory; expected {expected}", field=field)
    if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
        value = int(raw)
    elif isinstance(raw, int):
        value = raw
    else:
        raise ConfigurationError(f"{raw!r} is not a whole number; expected {expected}", field=field)
    if not minimum <= value <= maximum:
        raise ConfigurationError(f"{value} is out of range; expected {expected}", field=field)
    return value


def minutes(raw: object, field: str, *, minimum: int = 0, what: str = "minutes") -> int:
    """A duration in whole minutes, never negative."""
    return integer(raw, field, minimum=minimum, maximum=MAX_MINUTES, what=what)


def port(raw: object, field: str) -> int:
    """A TCP port number, 1 to 65535."""
    return integer(raw, field, minimum=1, maximum=65535, what="a TCP port")


def boolean(raw: object, field: str) -> bool:
    """true/false (also yes/no, on/off, 1/0)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ConfigurationError(f"{raw!r} is not a yes/no value; expected true or false", field=field)


def choice(raw: object, enum: type[E], field: str, *, what: str) -> E:
    """One member of `enum`, by value, case-insensitively."""
    allowed = ", ".join(member.value for member in enum)
    if is_blank(raw):
        raise ConfigurationError(f"mandatory; expected {what}: one of {allowed}", field=field)
    if isinstance(raw, str):
        for member in enum:
            if member.value.lower() == raw.strip().lower():
                return member
    raise ConfigurationError(
        f"{raw!r} is not allowed; expected {what}: one of {allowed}", field=field
    )


def timezone(raw: object, field: str) -> str:
    """An IANA time zone name such as Europe/London."""
    expected = "an IANA time zone name such as Europe/London, America/Chicago or UTC"
    value = text(raw, field, what=expected, max_length=100)
    if value not in _zone_names():
        raise ConfigurationError(
            f"{value!r} is not a known time zone; expected {expected}", field=field
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"{value!r} has no time zone data on this system; expected {expected}", field=field
        ) from None
    return value


@cache
def _zone_names() -> frozenset[str]:
    return frozenset({*available_timezones(), "UTC"})


_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def timestamp(raw: object, field: str, *, zone: str) -> dt.datetime:
    """An ISO 8601 time stamp (or a bare year or year-month), in UTC.

    A time stamp without offset is read in `zone` (the Recording Timezone); one with an offset
    or Z keeps it.
    """
    expected = (
        "an ISO 8601 time stamp such as 2020-01-01, 2023-02-02 07:00 or 2023-02-02T07:00:00Z "
        f"(without an offset it is read in {zone})"
    )
    if isinstance(raw, dt.datetime):
        value = raw
    else:
        stamp = text(raw, field, what=expected, max_length=64)
        if _YEAR.match(stamp):
            stamp += "-01-01"
        elif _MONTH.match(stamp):
            stamp += "-01"
        try:
            value = dt.datetime.fromisoformat(stamp)
        except ValueError:
            raise ConfigurationError(
                f"{stamp!r} is not a time stamp; expected {expected}", field=field
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(dt.UTC)


def absolute_path(raw: object, field: str, *, what: str) -> str | None:
    """An absolute file path (POSIX or Windows), or None."""
    value = optional_text(raw, field, what=what)
    if value is None:
        return None
    if not (PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute()):
        raise ConfigurationError(f"{value!r} is not an absolute path; expected {what}", field=field)
    return value


def certificate(raw: object, field: str) -> str | None:
    """A certificate file (absolute path) or a SHA-1/SHA-256 thumbprint in hex, or None."""
    what = (
        "an absolute path of a PEM certificate file, or a certificate thumbprint "
        "(40 or 64 hexadecimal digits, colons allowed)"
    )
    value = optional_text(raw, field, what=what)
    if value is None or _THUMBPRINT.match(value):
        return value
    return absolute_path(value, field, what=what)


def is_thumbprint(value: str) -> bool:
    """True when a TLS certificate value is a thumbprint rather than a file."""
    return bool(_THUMBPRINT.match(value))


def host(raw: object, field: str) -> str | None:
    """An IP address or FQDN (no scheme, no port), or None."""
    what = "an IP address or host name, without scheme or port (e.g. proxy.example.com)"
    value = optional_text(raw, field, what=what, max_length=253)
    if value is not None and not is_hostname(value):
        raise ConfigurationError(f"{value!r} is not valid; expected {what}", field=field)
    return value


def patterns(raw: object, field: str) -> tuple[str, ...]:
    """Regular expressions (a list, or text with one per line or comma-separated)."""
    what = r"regular expressions matching internal numbers or addresses, e.g. ^\+1312555\d{4}$"
    if is_blank(raw):
        return ()
    items: Iterable[object]
    if isinstance(raw, str):
        items = [part for line in raw.splitlines() for part in line.split(",")]
    elif isinstance(raw, list | tuple):
        items = raw
    else:
        raise ConfigurationError(f"expected a list of {what}", field=field)
    out: list[str] = []
    for item in items:
        if is_blank(item):
            continue
        if not isinstance(item, str):
            raise ConfigurationError(f"{item!r} is not text; expected {what}", field=field)
        try:
            re.compile(item.strip())
        except re.error as error:
            raise ConfigurationError(
                f"{item.strip()!r} is not a valid regular expression ({error}); expected {what}",
                field=field,
            ) from None
        out.append(item.strip())
    return tuple(out)


def names(raw: object, field: str, *, what: str) -> tuple[str, ...]:
    """A list of names (JSON list, or comma-separated text), without duplicates."""
    if is_blank(raw):
        return ()
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        raise ConfigurationError(f"expected a list of {what}", field=field)
    out: list[str] = []
    for item in items:
        name = text(item, field, what=what, max_length=200)
        if name in out:
            raise ConfigurationError(f"{name!r} is listed twice; expected {what}", field=field)
        out.append(name)
    return tuple(out)
