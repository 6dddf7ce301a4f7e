"""Store URLs and the translation of every obstore error into the callarchive error tree."""

from __future__ import annotations

import obstore.exceptions as obstore_errors
import pytest

from callarchive.archive import (
    ObjectNotFoundError,
    ObjectStore,
    S3Options,
    StoreUnavailableError,
    WorkStore,
)
from callarchive.archive._obstore import ObjectChangedError, translate
from callarchive.errors import CallarchiveError, ConfigurationError
from callarchive.secrets import Secret


def _subclasses(root: type[Exception]) -> list[type[Exception]]:
    found = [root]
    for sub in root.__subclasses__():
        found += _subclasses(sub)
    return found


@pytest.mark.parametrize("error_type", _subclasses(obstore_errors.BaseError))
def test_every_obstore_error_becomes_a_callarchive_error(error_type: type[Exception]) -> None:
    translated = translate(error_type("boom"), key="k", setting="CALLARCHIVE_MEDIA_URL")
    assert isinstance(translated, CallarchiveError)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (FileNotFoundError("gone"), ObjectNotFoundError),
        (PermissionError("denied"), ConfigurationError),
        (obstore_errors.UnauthenticatedError("no"), ConfigurationError),
        (obstore_errors.GenericError("timeout"), StoreUnavailableError),
        (OSError("disk"), StoreUnavailableError),
        (obstore_errors.PreconditionError("etag"), ObjectChangedError),
    ],
)
def test_errors_map_by_what_the_caller_can_do(error: Exception, expected: type[Exception]) -> None:
    assert isinstance(translate(error, key="k", setting="S"), expected)


def test_signed_url_queries_never_reach_a_message() -> None:
    error = obstore_errors.GenericError("GET https://b.s3/x?X-Amz-Signature=abc123 failed")
    assert "abc123" not in str(translate(error, key="k", setting="S"))


@pytest.mark.parametrize("url", ["ftp://host/x", "gs://bucket", "s3://"])
def test_unsupported_store_urls_are_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ObjectStore.from_url(url)
    assert caught.value.field == "CALLARCHIVE_MEDIA_URL"


def test_plain_http_to_s3_is_only_for_loopback() -> None:
    options = S3Options(
        endpoint_url="http://minio.example.com:9000",
        access_key_id="a",
        secret_access_key=Secret("b"),
    )
    with pytest.raises(ConfigurationError) as caught:
        WorkStore.from_url("s3://bucket/prefix", s3=options)
    assert caught.value.field == "CALLARCHIVE_S3_ENDPOINT_URL"


async def test_wrong_s3_credentials_are_a_configuration_error(s3_server: S3Options) -> None:
    wrong = S3Options(
        endpoint_url=s3_server.endpoint_url,
        region=s3_server.region,
        access_key_id="testing",
        secret_access_key=Secret("testing"),
    )
    store = WorkStore.from_url("s3://no-such-bucket/x", s3=wrong)
    with pytest.raises(CallarchiveError):
        await store.put("a", b"x")
