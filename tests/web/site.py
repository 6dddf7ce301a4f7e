"""A running callarchive web site for tests: uvicorn on a loopback port, over a real archive.

`Site` seeds an archive with an import source, the users of every role (a small hierarchy and a
partition), conversations with real WAV media in the object store, and serves `create_app` on
its own thread and event loop. The socket listens before the thread starts, so a client can
connect at once. `Site.client()` is an httpx client for the site.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import io
import math
import struct
import threading
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import uvicorn

from callarchive.archive import Archive, ObjectStore, Recording, WorkStore, media_key
from callarchive.cli.running import listening_socket
from callarchive.clock import Clock, SystemClock
from callarchive.configuration import Codec, ImportSource, Role, User
from callarchive.imports import SourceProbe
from callarchive.secrets import SealKey, SecretBox
from callarchive.web import RunNow, WebState, create_app, hash_password
from tests.archive.builders import conversation
from tests.configuration.builders import make_source

PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose
T0 = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)

# login, role, supervisor, partitions
PEOPLE: tuple[tuple[str, Role, str | None, tuple[str, ...]], ...] = (
    ("admin", Role.ADMINISTRATOR, None, ()),
    ("officer", Role.COMPLIANCE_OFFICER, None, ()),
    ("boss", Role.SUPERVISOR, None, ()),
    ("lead", Role.SUPERVISOR, "boss", ()),
    ("jane", Role.AGENT, "lead", ()),
    ("joe", Role.AGENT, None, ()),
    ("pat", Role.AGENT, None, ("sales",)),
)
# Genesys id, recorded user, partitions: who sees what is the access matrix's input
CALLS: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    ("c-jane", "jane", ()),
    ("c-lead", "lead", ()),
    ("c-boss", "boss", ()),
    ("c-joe", "joe", ("sales",)),
    ("c-nobody", None, ()),
)


def tone_wav(seconds: float = 3.0, rate: int = 8000) -> bytes:
    """A stereo 16-bit WAV of two tones (left 440 Hz, right 660 Hz)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for n in range(int(seconds * rate)):
            left = int(8000 * math.sin(2 * math.pi * 440 * n / rate))
            right = int(8000 * math.sin(2 * math.pi * 660 * n / rate))
            frames += struct.pack("<hh", left, right)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


@dataclasses.dataclass(kw_only=True)
class Site:
    """A seeded archive and the web app serving it."""

    database_url: str
    media_folder: Path
    work_folder: Path | None = None  # the seed's folders (cursors, retry buffers), when given
    box: SecretBox
    clock: Clock = dataclasses.field(default_factory=SystemClock)
    seal_key: SealKey = dataclasses.field(default_factory=SealKey.generate)
    url: str = ""
    ids: dict[str, int] = dataclasses.field(default_factory=dict)
    source: ImportSource | None = None
    media: bytes = b""
    probe: SourceProbe | None = None
    run_now: RunNow | None = None
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def work(self) -> WorkStore:
        """The site's work store (give `work_folder`)."""
        assert self.work_folder is not None, "this site has no work store"
        return WorkStore.from_url(str(self.work_folder))

    def archive(self) -> Archive:
        """A new archive handle for the test's own event loop (close it)."""
        return Archive.open(self.database_url, self.box, clock=self.clock, seal_key=self.seal_key)

    async def seed(self) -> None:
        archive = self.archive()
        try:
            await archive.upgrade()
            self.source = await archive.import_sources.add(make_source(), actor="test")
            for login, role, supervisor, partitions in PEOPLE:
                user = User(
                    login=login,
                    name=login.title(),
                    role=role,
                    supervisor=supervisor,
                    partitions=partitions,
                )
                await archive.users.add(user, actor="test")
                await archive.accounts.set_password(login, PASSWORD_HASH, actor="test")
            store = ObjectStore.from_url(str(self.media_folder))
            self.media = tone_wav()
            source_id = self.source.id or 0
            for n, (genesys_id, login, partitions) in enumerate(CALLS):
                start = T0 + dt.timedelta(minutes=n)
                key = media_key(source_id, start, genesys_id, f"{genesys_id}-r1", Codec.WAV)
                stored = await store.put(key, _chunks(self.media))
                recording = Recording(
                    recording_id=f"{genesys_id}-r1",
                    codec=Codec.WAV,
                    object_key=key,
                    size=stored.size,
                    sha256=stored.sha256,
                    duration_ms=3000,
                    channels=2,
                )
                saved = await archive.conversations.save(
                    conversation(
                        source_id,
                        genesys_id,
                        start=start,
                        end=start + dt.timedelta(seconds=3),
                        duration=3,
                        user=login.title() if login else None,
                        user_login=login,
                        partitions=partitions,
                        recordings=(recording,),
                        media_complete=True,
                    )
                )
                self.ids[genesys_id] = saved.id
        finally:
            await archive.close()

    def start(self) -> None:
        """Serve the app on a free loopback port, on a thread of its own."""
        state = WebState(
            archive=self.archive(),
            media=ObjectStore.from_url(str(self.media_folder)),
            clock=self.clock,
            probe=self.probe,
            run_now=self.run_now,
            work=None if self.work_folder is None else self.work(),
        )
        sock = listening_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = uvicorn.Server(
            uvicorn.Config(create_app(state), log_level="warning", lifespan="off")
        )
        server = self._server

        def serve() -> None:
            async def main() -> None:
                try:
                    await server.serve(sockets=[sock])
                finally:
                    await state.archive.close()
                    sock.close()

            asyncio.run(main())

        self._thread = threading.Thread(target=serve, name="web site", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        """An httpx client of the site (cookies kept, redirects not followed) that waits up to
        60 s for an answer: httpx's 5 s ran out under parallel load."""
        kwargs.setdefault("timeout", 60)
        return httpx.AsyncClient(base_url=self.url, **kwargs)  # type: ignore[arg-type]

    @contextlib.asynccontextmanager
    async def signed_in(self, login: str) -> AsyncIterator[httpx.AsyncClient]:
        """A client with a session of `login`."""
        async with self.client() as client:
            answer = await sign_in(client, login)
            assert answer.status_code == 303, answer.text
            yield client


async def sign_in(
    client: httpx.AsyncClient, login: str, password: str = PASSWORD
) -> httpx.Response:
    """Sign in through the form, as a browser does."""
    page = await client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return await client.post(
        "/login", data={"login": login, "password": password, "csrf_token": token}
    )


def csrf_of(page: str) -> str:
    """The CSRF token a signed-in page carries in its forms."""
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


__all__ = ["CALLS", "PASSWORD", "PEOPLE", "Site", "csrf_of", "sign_in", "tone_wav"]
