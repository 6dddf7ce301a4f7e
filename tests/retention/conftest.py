"""An archive with one import source, two policies and recorded users, and a media store holding
each saved conversation's recordings; a fake clock the tests move."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callarchive.archive import Archive, Conversation, ObjectStore, Recording, media_key
from callarchive.clock import FakeClock
from callarchive.configuration import Codec, ImportSource, Policy, User
from callarchive.secrets import SecretBox
from tests.archive.builders import conversation
from tests.configuration.builders import make_source

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@dataclasses.dataclass(kw_only=True)
class Setting:
    """The archive under test and the ids the tests need."""

    archive: Archive
    objects: ObjectStore
    clock: FakeClock
    source: ImportSource
    policies: dict[str, int]

    async def archived(
        self, genesys_id: str, *, age_days: float, policy: str = "five-years", user: str = "jane"
    ) -> Conversation:
        """A conversation that started `age_days` before NOW, its media in the store."""
        assert self.source.id is not None
        start = NOW - dt.timedelta(days=age_days)
        recordings = []
        for number in (1, 2):
            recording_id = f"{genesys_id}-r{number}"
            key = media_key(self.source.id, start, genesys_id, recording_id, Codec.MP3)
            body = f"media of {recording_id}".encode()
            stored = await self.objects.put(key, _chunks(body))
            recordings.append(
                Recording(
                    recording_id=recording_id,
                    codec=Codec.MP3,
                    object_key=key,
                    size=stored.size,
                    sha256=hashlib.sha256(body).hexdigest(),
                )
            )
        saved = await self.archive.conversations.save(
            conversation(
                self.source.id,
                genesys_id,
                start=start,
                end=start + dt.timedelta(seconds=61),
                user_login=user,
                policy_id=self.policies[policy],
                recordings=tuple(recordings),
            )
        )
        found = await self.archive.conversations.get(saved.id)
        assert found is not None
        return found


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    yield body


@pytest.fixture
async def setting(database_url: str, box: SecretBox, tmp_path: Path) -> AsyncIterator[Setting]:
    clock = FakeClock(NOW)
    archive = Archive.open(database_url, box, clock=clock)
    try:
        yield await _populated(archive, clock, tmp_path)
    finally:
        await archive.close()


async def _populated(archive: Archive, clock: FakeClock, tmp_path: Path) -> Setting:
    source = await archive.import_sources.add(make_source(), actor="t")
    for login in ("jane", "joe", "ann"):
        await archive.users.add(User(login=login, name=login.title()), actor="t")
    policies = {}
    for name, days in (("five-years", 5 * 365), ("forever", None)):
        policy = await archive.policies.add(
            Policy(name=name, import_sources=(source.name,), retention_days=days), actor="t"
        )
        assert policy.id is not None
        policies[name] = policy.id
    return Setting(
        archive=archive,
        objects=ObjectStore.from_url(str(tmp_path / "media")),
        clock=clock,
        source=source,
        policies=policies,
    )
