"""An import into an S3 bucket with object lock (moto): every recording is locked in compliance
mode until its conversation's retention ends, and the bucket's administrator cannot delete it;
conversations kept for ever are not locked; objects stored but not locked (a crash between the
two) are locked when their conversations are imported again."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import secrets
from typing import Any

import botocore.exceptions
import pytest

from callarchive.archive import S3Options
from callarchive.cli import Wiring
from callarchive.cli.running import Node
from callarchive.errors import ConfigurationError
from callarchive.monitoring import Metrics
from callarchive.settings import Settings
from tests.archive.fixtures import BUCKET, LOCKED_BUCKET, s3_admin
from tests.imports.completeness import wanted
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import POLICY, Installation

TEN_YEARS = 3650


@dataclasses.dataclass
class LockingInstallation(Installation):
    """The installation with its media in the locked bucket and object lock on."""

    s3: S3Options
    prefix: str
    bucket: str = LOCKED_BUCKET

    def wiring(self) -> Wiring:
        secret = self.s3.secret_access_key
        settings = Settings(
            home=self.home,
            database_url=self.database_url,
            media_url=f"s3://{self.bucket}/{self.prefix}",
            s3_endpoint_url=self.s3.endpoint_url,
            s3_access_key_id=self.s3.access_key_id,
            s3_secret_access_key=secret.reveal() if secret else None,  # type: ignore[arg-type]
            s3_object_lock=True,
        )
        return Wiring(settings=settings, clock=self.clock)


def _locking(
    installation: Installation, s3: S3Options, prefix: str, **changes: Any
) -> LockingInstallation:
    fields = {f.name: getattr(installation, f.name) for f in dataclasses.fields(installation)}
    return LockingInstallation(**{**fields, **changes}, s3=s3, prefix=prefix)


def _locks(s3: S3Options, prefix: str) -> dict[str, dict[str, Any]]:
    """Each stored object's conversation id and object lock, by key."""
    admin = s3_admin(s3)
    listed = admin.list_objects_v2(Bucket=LOCKED_BUCKET, Prefix=f"{prefix}/media/")
    locks = {}
    for item in listed.get("Contents", []):
        head = admin.head_object(Bucket=LOCKED_BUCKET, Key=item["Key"])
        locks[item["Key"]] = {
            "conversation_id": item["Key"].split("/")[-2],
            "version": head["VersionId"],
            "mode": head.get("ObjectLockMode"),
            "until": head.get("ObjectLockRetainUntilDate"),
        }
    return locks


def _recordings(truth: dict[str, Any]) -> int:
    return sum(len(c["recordings"]) for c in wanted(truth).values())


def _assert_locked_until_retention_ends(
    locks: dict[str, dict[str, Any]], truth: dict[str, Any]
) -> None:
    conversations = wanted(truth)
    assert len(locks) == _recordings(truth) > 0
    for lock in locks.values():
        start = dt.datetime.fromisoformat(conversations[lock["conversation_id"]]["start"])
        assert lock["mode"] == "COMPLIANCE"
        assert abs(lock["until"] - (start + dt.timedelta(days=TEN_YEARS))) < dt.timedelta(seconds=1)


def test_every_imported_recording_is_locked_until_its_retention_ends(
    installation: Installation, s3_server: S3Options
) -> None:
    prefix = secrets.token_hex(6)
    locking = _locking(installation, s3_server, prefix)
    locking.configure(codec="MP3")
    locking.must("retention", "set", "--policy", POLICY, str(TEN_YEARS))

    locking.catch_up()

    locks = _locks(s3_server, prefix)
    _assert_locked_until_retention_ends(locks, locking.emulator.ground_truth(formats="MP3"))
    admin = s3_admin(s3_server)
    key, lock = next(iter(locks.items()))
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        admin.delete_object(Bucket=LOCKED_BUCKET, Key=key, VersionId=lock["version"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_objects_stored_unlocked_are_locked_when_imported_again(
    make_installation: InstallationFactory, s3_server: S3Options
) -> None:
    """The first import has no retention period (kept for ever: nothing to lock until), so it
    stores every object unlocked, as a process killed between storing and locking would; a
    fresh archive with a period, importing the same conversations, locks them."""
    prefix = secrets.token_hex(6)
    first = make_installation()
    unlocked = _locking(first, s3_server, prefix)
    unlocked.configure(codec="MP3")
    unlocked.catch_up()
    truth = unlocked.emulator.ground_truth(formats="MP3")
    assert {lock["mode"] for lock in _locks(s3_server, prefix).values()} == {None}

    home = first.home.with_name("home-again")
    again = _locking(
        first, s3_server, prefix, home=home, database_url=f"sqlite:///{home / 'callarchive.db'}"
    )
    again.configure(codec="MP3")
    again.must("retention", "set", "--policy", POLICY, str(TEN_YEARS))
    again.catch_up()

    _assert_locked_until_retention_ends(_locks(s3_server, prefix), truth)


def test_a_node_does_not_start_on_a_bucket_without_object_lock(
    installation: Installation, s3_server: S3Options
) -> None:
    plain = _locking(installation, s3_server, secrets.token_hex(6), bucket=BUCKET)
    plain.must("db", "upgrade")

    async def start() -> None:
        wired = plain.wiring()
        stop = asyncio.Event()
        stop.set()  # without the check, the node would start and stop at once
        async with wired.archive() as archive:
            await Node(wired, archive, metrics=Metrics()).run(stop)

    with pytest.raises(ConfigurationError, match="does not have object lock enabled"):
        asyncio.run(start())
