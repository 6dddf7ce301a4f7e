"""Object lock (WORM) of media on an S3-compatible server (moto) that implements it: a locked
object version cannot be deleted before its date, by callarchive's retention or by the bucket's
administrator; the lock is set idempotently and never shortened; once it has run out, retention
deletes every version; a bucket without object lock is refused with instructions."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import botocore.exceptions
import pytest

from callarchive.archive import (
    EncryptedObjectStore,
    InPlaceOutcome,
    MediaKeyring,
    ObjectLockedError,
    ObjectNotFoundError,
    ObjectStore,
    S3Options,
    StoreUnavailableError,
    encrypt_in_place,
)
from callarchive.archive.encryption import SIDECAR_SUFFIX
from callarchive.archive.object_lock import Lock, needs_retention, translate
from callarchive.errors import ConfigurationError
from tests.archive.fixtures import BUCKET, LOCKED_BUCKET, s3_admin

KEY = "media/1/2026/01/02/conversation-1/recording-1.mp3"
DAY = dt.timedelta(days=1)


def _now() -> dt.datetime:
    # The S3 server judges locks by its own (real) clock, so these tests use it too.
    return dt.datetime.now(dt.UTC)


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


def _prefix() -> str:
    return secrets.token_hex(6)


def _locked_store(s3: S3Options, prefix: str) -> ObjectStore:
    return ObjectStore.from_url(f"s3://{LOCKED_BUCKET}/{prefix}", s3=s3, object_lock=True)


def _head(admin: Any, prefix: str, key: str = KEY) -> dict[str, Any]:
    reply: dict[str, Any] = admin.head_object(Bucket=LOCKED_BUCKET, Key=f"{prefix}/{key}")
    return reply


def _versions(admin: Any, prefix: str, key: str = KEY) -> list[str]:
    reply = admin.list_object_versions(Bucket=LOCKED_BUCKET, Prefix=f"{prefix}/{key}")
    return [
        v["VersionId"]
        for group in ("Versions", "DeleteMarkers")
        for v in reply.get(group, [])
        if v["Key"] == f"{prefix}/{key}"
    ]


async def test_a_retained_object_is_locked_in_compliance_mode_until_its_date(
    s3_server: S3Options,
) -> None:
    prefix = _prefix()
    store = _locked_store(s3_server, prefix)
    await store.put(KEY, _once(b"a recording"))
    until = (_now() + 30 * DAY).replace(microsecond=0)

    assert await store.retain(KEY, until, now=_now())

    head = _head(s3_admin(s3_server), prefix)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"].astimezone(dt.UTC) == until


async def test_the_administrator_cannot_delete_a_locked_version_before_its_date(
    s3_server: S3Options,
) -> None:
    prefix = _prefix()
    store = _locked_store(s3_server, prefix)
    await store.put(KEY, _once(b"a recording"))
    await store.retain(KEY, _now() + 30 * DAY, now=_now())
    admin = s3_admin(s3_server)
    version = _head(admin, prefix)["VersionId"]
    path = f"{prefix}/{KEY}"

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        admin.delete_object(Bucket=LOCKED_BUCKET, Key=path, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    batch = admin.delete_objects(
        Bucket=LOCKED_BUCKET, Delete={"Objects": [{"Key": path, "VersionId": version}]}
    )
    assert [e["Code"] for e in batch["Errors"]] == ["AccessDenied"]
    # A plain DELETE only hides the object behind a delete marker; the locked version stays.
    assert admin.delete_object(Bucket=LOCKED_BUCKET, Key=path)["DeleteMarker"]
    assert version in _versions(admin, prefix)
    body = admin.get_object(Bucket=LOCKED_BUCKET, Key=path, VersionId=version)["Body"].read()
    assert body == b"a recording"


async def test_retention_cannot_delete_a_locked_object_and_leaves_it_whole(
    s3_server: S3Options,
) -> None:
    prefix = _prefix()
    store = _locked_store(s3_server, prefix)
    await store.put(KEY, _once(b"a recording"))
    await store.retain(KEY, _now() + 30 * DAY, now=_now())

    with pytest.raises(ObjectLockedError, match="under object lock until"):
        await store.delete(KEY)

    assert b"".join([c async for c in await store.read(KEY)]) == b"a recording"


async def test_a_lock_is_extended_but_never_shortened(s3_server: S3Options) -> None:
    prefix = _prefix()
    store = _locked_store(s3_server, prefix)
    admin = s3_admin(s3_server)
    await store.put(KEY, _once(b"a recording"))
    until = (_now() + 30 * DAY).replace(microsecond=0)
    await store.retain(KEY, until, now=_now())

    assert not await store.retain(KEY, until, now=_now())  # again: nothing to do
    assert not await store.retain(KEY, until - DAY, now=_now())
    assert _head(admin, prefix)["ObjectLockRetainUntilDate"].astimezone(dt.UTC) == until
    assert await store.retain(KEY, until + DAY, now=_now())
    assert _head(admin, prefix)["ObjectLockRetainUntilDate"].astimezone(dt.UTC) == until + DAY


async def test_a_date_already_past_locks_nothing(s3_server: S3Options) -> None:
    prefix = _prefix()
    store = _locked_store(s3_server, prefix)
    await store.put(KEY, _once(b"a recording"))

    assert not await store.retain(KEY, _now() - DAY, now=_now())
    assert not await store.retain(KEY, None, now=_now())  # kept for ever: no date

    assert "ObjectLockMode" not in _head(s3_admin(s3_server), prefix)
    assert await store.delete(KEY)


async def test_once_the_lock_has_run_out_retention_deletes_every_version(
    s3_server: S3Options,
) -> None:
    prefix = _prefix()
    store = _locked_store(s3_server, prefix)
    admin = s3_admin(s3_server)
    await store.put(KEY, _once(b"a recording"))
    until = _now() + dt.timedelta(seconds=3)  # room for a slow machine to get to the checks
    assert await store.retain(KEY, until, now=_now())
    admin.delete_object(Bucket=LOCKED_BUCKET, Key=f"{prefix}/{KEY}")  # a delete marker too
    with pytest.raises(ObjectLockedError):
        await store.delete(KEY)

    # The lock runs out on the server's clock, which is real time: wait for that moment.
    await anyio.sleep((until - _now()).total_seconds() + 1.0)

    assert await store.delete(KEY)
    assert _versions(admin, prefix) == []
    assert not await store.delete(KEY)  # nothing left: done already


async def test_an_encrypted_object_is_locked_and_kept_the_same_way(
    s3_server: S3Options,
) -> None:
    prefix = _prefix()
    store = EncryptedObjectStore(_locked_store(s3_server, prefix), MediaKeyring([os.urandom(32)]))
    await store.put(KEY, _once(b"a recording"))
    until = (_now() + 30 * DAY).replace(microsecond=0)

    assert store.object_lock
    assert await store.retain(KEY, until, now=_now())

    assert _head(s3_admin(s3_server), prefix)["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(ObjectLockedError):
        await store.delete(KEY)
    assert b"".join([c async for c in await store.read(KEY)]) == b"a recording"


async def test_a_bucket_without_object_lock_is_refused_with_what_to_do(
    s3_server: S3Options,
) -> None:
    store = ObjectStore.from_url(f"s3://{BUCKET}/{_prefix()}", s3=s3_server, object_lock=True)
    await store.put(KEY, _once(b"a recording"))

    with pytest.raises(ConfigurationError, match="does not have object lock enabled") as refused:
        await store.check_lock()
    assert refused.value.field == "CALLARCHIVE_S3_OBJECT_LOCK"
    assert "--object-lock-enabled-for-bucket" in str(refused.value)
    with pytest.raises(ConfigurationError, match="does not have object lock enabled"):
        await store.retain(KEY, _now() + DAY, now=_now())


async def test_a_locked_bucket_passes_the_check(s3_server: S3Options) -> None:
    await _locked_store(s3_server, _prefix()).check_lock()


def test_object_lock_needs_media_in_an_s3_bucket(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="object lock needs media in an S3 bucket"):
        ObjectStore.from_url(str(tmp_path / "media"), object_lock=True)
    assert not ObjectStore.from_url(str(tmp_path / "media")).object_lock


NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("mode", "current", "wanted", "expected"),
    [
        (None, None, NOW + DAY, True),  # not locked yet
        ("COMPLIANCE", NOW + DAY, NOW + DAY, False),  # locked as long already
        ("COMPLIANCE", NOW + 2 * DAY, NOW + DAY, False),  # never shortened
        ("COMPLIANCE", NOW + DAY, NOW + 2 * DAY, True),  # extended
        ("GOVERNANCE", NOW + 2 * DAY, NOW + DAY, True),  # made compliance
        (None, None, NOW - DAY, False),  # past: nothing to protect
        (None, None, NOW, False),
    ],
)
def test_when_a_retention_is_set(
    mode: str | None, current: dt.datetime | None, wanted: dt.datetime, expected: bool
) -> None:
    lock = Lock(version_id="v1", mode=mode, retain_until=current)
    assert needs_retention(lock, wanted, NOW) is expected


def _client_error(code: str, status: int, message: str = "") -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "PutObjectRetention",
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_client_error("NoSuchKey", 404), ObjectNotFoundError),
        (_client_error("404", 404), ObjectNotFoundError),
        (_client_error("NoSuchVersion", 404), ObjectNotFoundError),
        (_client_error("ObjectLockConfigurationNotFoundError", 404), ConfigurationError),
        (
            _client_error("InvalidRequest", 400, "Bucket is missing ObjectLockConfiguration"),
            ConfigurationError,
        ),
        (_client_error("NoSuchBucket", 404), ConfigurationError),
        (_client_error("AccessDenied", 403), ConfigurationError),
        (_client_error("InvalidArgument", 400), ConfigurationError),
        (_client_error("SlowDown", 503), StoreUnavailableError),
        (_client_error("InternalError", 500), StoreUnavailableError),
        (_client_error("RequestTimeout", 400), StoreUnavailableError),
        (
            botocore.exceptions.EndpointConnectionError(endpoint_url="https://s3"),
            StoreUnavailableError,
        ),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="https://s3"), StoreUnavailableError),
    ],
)
def test_every_botocore_error_becomes_one_of_ours(error: Exception, expected: type) -> None:
    translated = translate(error, key=KEY, bucket=LOCKED_BUCKET)
    assert type(translated) is expected
    assert KEY in str(translated) or LOCKED_BUCKET in str(translated)


async def test_a_rotated_media_keys_sidecar_is_locked_as_long_as_its_media(
    s3_server: S3Options,
) -> None:
    prefix = _prefix()
    admin = s3_admin(s3_server)
    old, new, newer = (os.urandom(32) for _ in range(3))
    store = EncryptedObjectStore(_locked_store(s3_server, prefix), MediaKeyring([old]))
    await store.put(KEY, _once(b"a recording"))
    until = (_now() + 30 * DAY).replace(microsecond=0)
    await store.retain(KEY, until, now=_now())

    rotated = EncryptedObjectStore(_locked_store(s3_server, prefix), MediaKeyring([new, old]))
    assert await rotated.rewrap(KEY)

    sidecar = KEY + SIDECAR_SUFFIX
    head = _head(admin, prefix, sidecar)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"].astimezone(dt.UTC) == until
    with pytest.raises(botocore.exceptions.ClientError):
        admin.delete_object(
            Bucket=LOCKED_BUCKET, Key=f"{prefix}/{sidecar}", VersionId=head["VersionId"]
        )
    # A later rotation puts a new version on top of the locked one, locked the same way.
    again = EncryptedObjectStore(_locked_store(s3_server, prefix), MediaKeyring([newer, new]))
    assert await again.rewrap(KEY)
    assert len(_versions(admin, prefix, sidecar)) == 2
    assert _head(admin, prefix, sidecar)["ObjectLockMode"] == "COMPLIANCE"
    assert b"".join([c async for c in await again.read(KEY)]) == b"a recording"


async def test_media_encrypted_in_place_stays_locked_as_long(s3_server: S3Options) -> None:
    prefix = _prefix()
    admin = s3_admin(s3_server)
    plain = _locked_store(s3_server, prefix)
    await plain.put(KEY, _once(b"a recording"))
    until = (_now() + 30 * DAY).replace(microsecond=0)
    await plain.retain(KEY, until, now=_now())
    store = EncryptedObjectStore(plain, MediaKeyring([os.urandom(32)]))

    assert await encrypt_in_place(store, KEY) is InPlaceOutcome.ENCRYPTED

    head = _head(admin, prefix)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"].astimezone(dt.UTC) == until
    # The unencrypted version stays too, locked, until its own date.
    assert len(_versions(admin, prefix)) == 2
    assert b"".join([c async for c in await store.read(KEY)]) == b"a recording"
    with pytest.raises(ObjectLockedError):
        await store.delete(KEY)


async def test_a_legal_hold_refuses_deletion_until_it_is_taken_off(s3_server: S3Options) -> None:
    prefix = _prefix()
    store = _locked_store(s3_server, prefix)
    await store.put(KEY, _once(b"a recording"))

    assert await store.hold(KEY, on=True)
    assert not await store.hold(KEY, on=True)  # already on
    assert _head(s3_admin(s3_server), prefix)["ObjectLockLegalHoldStatus"] == "ON"
    with pytest.raises(ObjectLockedError, match="legal hold"):
        await store.delete(KEY)

    assert await store.hold(KEY, on=False)
    assert await store.delete(KEY)
