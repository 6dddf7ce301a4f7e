"""Opening obstore stores from URLs, and translating obstore's errors into ours.

URLs: a folder path or `file://` URL (local folder, created when missing), `s3://BUCKET/PREFIX`
(S3 or any S3-compatible server, configured by `S3Options`), `memory://` (an in-memory store for
tests and demos).
"""

from __future__ import annotations

import dataclasses
import errno
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import obstore.exceptions as obstore_errors
from obstore.store import LocalStore, MemoryStore, S3Store

from callarchive.errors import CallarchiveError, ConfigurationError, FatalError, RetryableError
from callarchive.secrets import Secret

if TYPE_CHECKING:
    from obstore.store import ObjectStore as ObstoreStore

_LOOPBACK = re.compile(r"^(localhost|127(\.\d{1,3}){3}|\[::1\])$")
_QUERY = re.compile(r"\?[^\s\"']*")


class StoreUnavailableError(RetryableError):
    """The store cannot be reached or failed transiently; the same action may succeed later."""


class ObjectNotFoundError(FatalError):
    """A stored object that should exist does not."""


class ObjectChangedError(StoreUnavailableError):
    """An object was replaced while it was being read (a read pinned to one version of it)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class S3Options:
    """How to reach an S3-compatible server. Unset values come from the usual AWS_* variables.

    `endpoint_url` over http:// is accepted only on loopback (a test server).
    """

    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: Secret | None = None


def open_store(url: str, *, s3: S3Options | None, setting: str) -> ObstoreStore:
    """The obstore store for `url`; `ConfigurationError` naming `setting` when it is not usable."""
    if url == "memory://":
        return MemoryStore()
    parts = urlsplit(url)
    if parts.scheme == "s3":
        return _s3_store(parts.netloc, parts.path.strip("/"), s3 or S3Options(), setting)
    if parts.scheme in ("", "file") or re.match(r"^[A-Za-z]:[\\/]", url):
        folder = Path(parts.path if parts.scheme == "file" else url).expanduser().absolute()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigurationError(
                f"cannot create the folder {folder} ({error.strerror}); expected a writable folder",
                field=setting,
            ) from None
        return LocalStore(folder)
    raise ConfigurationError(
        f"{url!r} is not supported; expected a folder path, file:///PATH, s3://BUCKET/PREFIX "
        "or memory://",
        field=setting,
    )


def _s3_store(bucket: str, prefix: str, options: S3Options, setting: str) -> S3Store:
    if not bucket:
        raise ConfigurationError("expected s3://BUCKET/PREFIX with a bucket name", field=setting)
    allow_http = False
    if options.endpoint_url:
        endpoint = urlsplit(options.endpoint_url)
        if endpoint.scheme not in ("https", "http") or not endpoint.hostname:
            raise ConfigurationError(
                f"{options.endpoint_url!r} is not a URL; expected https://HOST[:PORT]",
                field="CALLARCHIVE_S3_ENDPOINT_URL",
            )
        allow_http = endpoint.scheme == "http"
        if allow_http and not _LOOPBACK.match(endpoint.netloc.rsplit(":", 1)[0]):
            raise ConfigurationError(
                f"{options.endpoint_url!r} is not HTTPS; expected https:// (http:// only on "
                "loopback, for a test server)",
                field="CALLARCHIVE_S3_ENDPOINT_URL",
            )
    config: dict[str, str] = {"region": options.region}
    if options.endpoint_url:
        config["endpoint"] = options.endpoint_url
    if options.access_key_id:
        config["access_key_id"] = options.access_key_id
    if options.secret_access_key:
        config["secret_access_key"] = options.secret_access_key.reveal()
    return S3Store(
        bucket,
        prefix=prefix or None,
        config=config,  # type: ignore[arg-type]  # S3Config is a TypedDict of these keys
        client_options={"allow_http": allow_http},
    )


def translate(error: Exception, *, key: str, setting: str) -> CallarchiveError:
    """The callarchive error for an obstore (or local file system) error about `key`."""
    message = _first_line(error)
    if isinstance(error, FileNotFoundError | obstore_errors.NotFoundError):
        return ObjectNotFoundError(f"no stored object {key!r} ({message})")
    if isinstance(error, obstore_errors.PreconditionError):
        return ObjectChangedError(f"the stored object {key!r} changed while it was read")
    if isinstance(
        error,
        obstore_errors.PermissionDeniedError
        | obstore_errors.UnauthenticatedError
        | PermissionError,
    ):
        return ConfigurationError(
            f"the store refused access to {key!r} ({message}); check the credentials and "
            "permissions",
            field=setting,
        )
    if isinstance(
        error,
        obstore_errors.UnknownConfigurationKeyError
        | obstore_errors.InvalidPathError
        | obstore_errors.NotSupportedError,
    ):
        return ConfigurationError(f"the store cannot handle {key!r} ({message})", field=setting)
    if _is_full(error, message):
        return StoreUnavailableError(
            f"the store is full: no space left for {key!r} ({message}); free space or enlarge "
            "it, and the next run stores it"
        )
    return StoreUnavailableError(
        f"the store failed on {key!r} ({message}); check that it is reachable, then try again"
    )


def _is_full(error: Exception, message: str) -> bool:
    """A full disk or quota: the local file system says ENOSPC or EDQUOT, which obstore passes
    on only in its message (os error 28 or 122)."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return f"(os error {errno.ENOSPC})" in message or f"(os error {errno.EDQUOT})" in message


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    # Signed URLs carry credentials in their query string: never repeat one.
    return _QUERY.sub("?…", text[0]) if text else type(error).__name__


STORE_ERRORS = (obstore_errors.BaseError, OSError)

__all__ = [
    "STORE_ERRORS",
    "ObjectChangedError",
    "ObjectNotFoundError",
    "S3Options",
    "StoreUnavailableError",
    "open_store",
    "translate",
]
