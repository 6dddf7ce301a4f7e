"""Object lock (WORM) of media objects in an S3 bucket: compliance-mode retention per object.

With `CALLARCHIVE_S3_OBJECT_LOCK` on, every media object stored at import gets a retention in
COMPLIANCE mode until the day retention would delete it: until then the server refuses to
delete that version or to shorten its retention, whoever asks, an administrator included.
obstore cannot send the `x-amz-object-lock-*` headers (its puts take no per-request headers), so
the retention is set right after the put with PutObjectRetention, through botocore. A crash
between the two leaves the object unlocked only until the conversation is imported again: its
archive row is written after the lock, so the conversation is still due, and `retain` on an
object already stored locks it then. `retain` never shortens a lock and does nothing when the
object is already locked as long, so running it again is harmless.

In a bucket with object lock, versioning is always on: a plain DELETE only adds a delete marker
and keeps the data. `delete` (retention) therefore removes every version of the key, which the
server allows only once the lock has run out; before that it refuses, and `ObjectLockedError`
says so. botocore's errors are translated here into callarchive's:

    ClientError AccessDenied on a version under lock   -> ObjectLockedError (skip: later)
    ClientError NoSuchKey / 404                         -> ObjectNotFoundError (fatal)
    ClientError NoSuchBucket, InvalidRequest, AccessDenied, other 4xx -> ConfigurationError
    ClientError 5xx, throttling; BotoCoreError (network) -> StoreUnavailableError (retry)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import functools
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread

from callarchive.archive._obstore import ObjectNotFoundError, S3Options, StoreUnavailableError
from callarchive.errors import CallarchiveError, ConfigurationError, SkipError

SETTING = "CALLARCHIVE_S3_OBJECT_LOCK"
COMPLIANCE = "COMPLIANCE"
_NOT_FOUND = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})
_TRANSIENT = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "ServiceUnavailable"}
)


class ObjectLockedError(SkipError):
    """The store refuses to delete an object whose object lock has not run out yet."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Lock:
    """The object lock of one object version as the server reports it."""

    version_id: str | None
    mode: str | None
    retain_until: dt.datetime | None
    legal_hold: bool = False

    @property
    def locked(self) -> bool:
        """Whether the version has a retention or a legal hold (in force or not)."""
        return self.legal_hold or (self.mode is not None and self.retain_until is not None)


def needs_retention(current: Lock, wanted: dt.datetime, now: dt.datetime) -> bool:
    """Whether to set a COMPLIANCE retention until `wanted`: not when it is past (nothing to
    protect; S3 refuses past dates) nor when the object is locked at least as long already (a
    lock is never shortened)."""
    if wanted <= now:
        return False
    if current.mode == COMPLIANCE and current.retain_until is not None:
        return current.retain_until < wanted
    return True


class ObjectLock:
    """Object lock of the objects under `s3://bucket/prefix` (the media store's URL)."""

    def __init__(self, *, bucket: str, prefix: str, s3: S3Options) -> None:
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._s3 = s3
        self._client: Any = None
        self._checked = False

    @classmethod
    def from_url(cls, url: str, *, s3: S3Options | None) -> ObjectLock:
        """The object lock of the media store at `url`, which must be `s3://BUCKET/PREFIX`."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ConfigurationError(
                f"object lock needs media in an S3 bucket, not {url!r}; set CALLARCHIVE_MEDIA_URL "
                "to s3://BUCKET/PREFIX of a bucket created with object lock, or turn it off",
                field=SETTING,
            )
        return cls(bucket=parts.netloc, prefix=parts.path, s3=s3 or S3Options())

    async def check(self) -> None:
        """`ConfigurationError` unless the bucket has object lock enabled (checked once)."""
        if self._checked:
            return
        reply = await self._call(self._bucket, "get_object_lock_configuration", Bucket=self._bucket)
        enabled = reply.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        if enabled != "Enabled":
            raise _not_enabled(self._bucket)
        self._checked = True

    async def lock_of(self, key: str) -> Lock:
        """The object lock of the current version of `key`."""
        reply = await self._call(key, "head_object", Bucket=self._bucket, Key=self._path(key))
        return _lock(reply)

    async def retain(self, key: str, until: dt.datetime, *, now: dt.datetime) -> bool:
        """Lock the current version of `key` in COMPLIANCE mode until `until`; False when
        nothing needed doing (locked as long already, or `until` is past)."""
        await self.check()
        current = await self.lock_of(key)
        if not needs_retention(current, until, now):
            return False
        retention = {"Mode": COMPLIANCE, "RetainUntilDate": until.astimezone(dt.UTC)}
        await self._call(
            key,
            "put_object_retention",
            Bucket=self._bucket,
            Key=self._path(key),
            VersionId=current.version_id,
            Retention=retention,
        )
        return True

    async def hold(self, key: str, *, on: bool) -> bool:
        """Put an S3 legal hold on the current version of `key` (`on`), or take it off; False
        when it already was so. While on, the server refuses to delete that version even past
        its retention date; anyone allowed s3:PutObjectLegalHold can take it off."""
        await self.check()
        current = await self.lock_of(key)
        if current.legal_hold == on:
            return False
        await self._call(
            key,
            "put_object_legal_hold",
            Bucket=self._bucket,
            Key=self._path(key),
            VersionId=current.version_id,
            LegalHold={"Status": "ON" if on else "OFF"},
        )
        return True

    async def retain_like(self, key: str, reference: str) -> bool:
        """Lock the current version of `key` as long as the longest COMPLIANCE lock of any
        version of `reference` (a new version of a locked object, a locked object's sidecar);
        False when nothing needed doing. The server's own clock decides what is past."""
        await self.check()
        longest: dt.datetime | None = None
        now: dt.datetime | None = None
        for version in await self._versions(reference, markers=False):
            reply = await self._call(
                reference,
                "head_object",
                Bucket=self._bucket,
                Key=self._path(reference),
                VersionId=version,
            )
            lock, now = _lock(reply), _server_now(reply)
            if lock.mode == COMPLIANCE and lock.retain_until is not None:
                longest = max(longest or lock.retain_until, lock.retain_until)
        if longest is None or now is None:
            return False
        return await self.retain(key, longest, now=now)

    async def delete(self, key: str) -> bool:
        """Remove every version of `key` (and its delete markers); False when there was none.
        `ObjectLockedError` when the lock of a version has not run out."""
        objects = await self._versions(key, markers=False)
        for version in [*objects, *await self._versions(key, markers=True)]:
            await self._delete_version(key, version)
        return bool(objects)

    async def _versions(self, key: str, *, markers: bool) -> list[str]:
        """The version ids of `key`'s objects, or of its delete markers."""
        path = self._path(key)
        reply = await self._call(key, "list_object_versions", Bucket=self._bucket, Prefix=path)
        group = reply.get("DeleteMarkers" if markers else "Versions", [])
        return [str(v["VersionId"]) for v in group if v["Key"] == path]

    async def _delete_version(self, key: str, version: str) -> None:
        try:
            await self._call(
                key, "delete_object", Bucket=self._bucket, Key=self._path(key), VersionId=version
            )
        except ConfigurationError:
            lock = _lock(
                await self._call(
                    key, "head_object", Bucket=self._bucket, Key=self._path(key), VersionId=version
                )
            )
            if not lock.locked:  # refused for another reason: permissions
                raise
            until = lock.retain_until.isoformat() if lock.retain_until else "?"
            why = "an S3 legal hold" if lock.legal_hold else f"object lock until {until}"
            raise ObjectLockedError(
                f"the store refuses to delete {key!r}: it is under {why}; retention deletes it "
                "once that has ended"
            ) from None

    def _path(self, key: str) -> str:
        return f"{self._prefix}/{key}" if self._prefix else key

    async def _call(self, key: str, operation: str, **arguments: Any) -> dict[str, Any]:
        """Run one botocore operation in a worker thread, its errors translated."""
        import botocore.exceptions  # noqa: PLC0415 - botocore (20 MB) only where locks are kept

        try:
            reply: dict[str, Any] = await anyio.to_thread.run_sync(
                functools.partial(getattr(self._s3_client(), operation), **arguments)
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            raise translate(error, key=key, bucket=self._bucket) from error
        return reply

    def _s3_client(self) -> Any:
        if self._client is None:
            self._client = _make_client(self._s3)
        return self._client


def _make_client(s3: S3Options) -> Any:
    import botocore.config  # noqa: PLC0415 - see ObjectLock._call
    import botocore.session  # noqa: PLC0415

    secret = s3.secret_access_key.reveal() if s3.secret_access_key else None
    return botocore.session.get_session().create_client(
        "s3",
        region_name=s3.region,
        endpoint_url=s3.endpoint_url,
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=secret,
        config=botocore.config.Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            # As obstore addresses a server named by CALLARCHIVE_S3_ENDPOINT_URL (MinIO, Ceph):
            # the bucket in the path, not in the host name.
            s3={"addressing_style": "path" if s3.endpoint_url else "auto"},
        ),
    )


def _lock(reply: dict[str, Any]) -> Lock:
    until = reply.get("ObjectLockRetainUntilDate")
    return Lock(
        version_id=reply.get("VersionId"),
        mode=reply.get("ObjectLockMode"),
        retain_until=until.astimezone(dt.UTC) if isinstance(until, dt.datetime) else None,
        legal_hold=reply.get("ObjectLockLegalHoldStatus") == "ON",
    )


def _server_now(reply: dict[str, Any]) -> dt.datetime | None:
    """The server's time of a reply (its Date header): locks run out on the server's clock."""
    date = reply.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    return email.utils.parsedate_to_datetime(date).astimezone(dt.UTC) if date else None


def _not_enabled(bucket: str) -> ConfigurationError:
    return ConfigurationError(
        f"the bucket {bucket!r} does not have object lock enabled, so objects in it cannot be "
        "locked; object lock can only be chosen when a bucket is created: create a new bucket "
        "with object lock (e.g. `aws s3api create-bucket --bucket NAME "
        "--object-lock-enabled-for-bucket`), point CALLARCHIVE_MEDIA_URL at it, or turn "
        f"{SETTING} off",
        field=SETTING,
    )


def translate(error: Exception, *, key: str, bucket: str) -> CallarchiveError:
    """The callarchive error for a botocore error about `key` in `bucket`."""
    import botocore.exceptions  # noqa: PLC0415 - see ObjectLock._call

    if not isinstance(error, botocore.exceptions.ClientError):
        return StoreUnavailableError(
            f"the store failed on {key!r} ({type(error).__name__}); check that it is reachable, "
            "then try again"
        )
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", "")) or code
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in _NOT_FOUND:
        return ObjectNotFoundError(f"no stored object {key!r} ({message})")
    if code == "ObjectLockConfigurationNotFoundError" or (
        code == "InvalidRequest" and "ObjectLockConfiguration" in message
    ):
        return _not_enabled(bucket)
    if code in _TRANSIENT or status >= 500:
        return StoreUnavailableError(
            f"the store failed on {key!r} ({code}: {message}); try again later"
        )
    return ConfigurationError(
        f"the store refused {key!r} ({code}: {message}); object lock needs the permissions "
        "s3:GetBucketObjectLockConfiguration, s3:PutObjectRetention, s3:GetObjectRetention, "
        "s3:GetObjectVersion, s3:ListBucketVersions, s3:DeleteObjectVersion, s3:PutObjectLegalHold "
        "and s3:GetObjectLegalHold on the media bucket",
        field=SETTING,
    )


__all__ = ["COMPLIANCE", "Lock", "ObjectLock", "ObjectLockedError", "needs_retention", "translate"]
