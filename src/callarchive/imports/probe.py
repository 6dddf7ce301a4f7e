"""What `callarchive source test` and the web UI's "Test connection" do: a `SourceProbe`.

A probe obtains a token with the import source's client credentials, counts the recorded voice
conversations that started in a time range, and checks what it can of the OAuth client's
permissions: batch downloads silently leave out recordings with sensitive data when the client
lacks `recording:recording:viewSensitiveData` (DESIGN.md section 9.1), so a sample of
conversations is requested both ways and compared. `genesys_probe` is the real one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Protocol

from callarchive.clock import Clock
from callarchive.configuration import ImportSource
from callarchive.genesys import Conversation, GenesysClient, TlsSettings, check_urls
from callarchive.imports.connection import connect_source

SAMPLE = 10  # conversations checked against a batch download
BATCH_WAIT_S = 60.0


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ProbeResult:
    """What a probe found."""

    token_expires_in_s: int | None  # lifetime of the token obtained, when Genesys said it
    conversations: int  # voice conversations that started in the range
    warnings: tuple[str, ...] = ()  # e.g. a missing permission such as viewSensitiveData


class SourceProbe(Protocol):
    """Get a token for `source` and count the conversations started in [since, until)."""

    async def __call__(
        self, source: ImportSource, *, since: dt.datetime, until: dt.datetime
    ) -> ProbeResult: ...


def genesys_probe(
    clock: Clock,
    *,
    certificate_folder: str | None = None,
    server_certificate: TlsSettings | None = None,
) -> SourceProbe:
    """The real probe: talks to the import source's Genesys Cloud org."""

    async def probe(source: ImportSource, *, since: dt.datetime, until: dt.datetime) -> ProbeResult:
        warnings = check_urls(source.auth_url, source.api_url)
        client = connect_source(
            source,
            clock=clock,
            certificate_folder=certificate_folder,
            server_certificate=server_certificate,
        )
        async with client:
            token = await client.tokens.token()
            expires_in = int((token.expires_at - clock.now()).total_seconds())
            found = [c async for c in client.query_conversations(since, until)]
            started = [c for c in found if since <= c.conversation_start < until]
            warnings += await _batch_leaves_out_recordings(client, started, clock)
        return ProbeResult(
            token_expires_in_s=expires_in, conversations=len(started), warnings=tuple(warnings)
        )

    return probe


async def _batch_leaves_out_recordings(
    client: GenesysClient, conversations: list[Conversation], clock: Clock
) -> list[str]:
    """A warning when a batch download returns fewer recordings than the metadata lists."""
    sample = [c.conversation_id for c in conversations if c.ended][-SAMPLE:]  # the most recent
    if not sample:
        return []
    listed = 0
    for conversation_id in sample:
        listed += len(await client.recording_metadata(conversation_id))
    job_id = await client.submit_batch([(conversation_id, None) for conversation_id in sample])
    waited = 0.0
    status = await client.batch_status(job_id)
    while not status.completed and waited < BATCH_WAIT_S:
        await clock.sleep(2.0)
        waited += 2.0
        status = await client.batch_status(job_id)
    if status.completed and len(status.results) < listed:
        return [
            (
                f"a batch download returned {len(status.results)} of {listed} recordings: the "
                "OAuth client probably lacks recording:recording:viewSensitiveData, so recordings "
                "with sensitive data would be left out of batch downloads (callarchive then "
                "fetches them one by one); add the permission to the client's role"
            )
        ]
    return []


__all__ = ["ProbeResult", "SourceProbe", "genesys_probe"]
