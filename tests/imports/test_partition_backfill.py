"""Partitions of conversations imported near real time: the details query carries no participant
attributes, so the backfill reads them through the details jobs once the data lake holds the
conversations; nothing is asked of Genesys while no user holds a partition."""

from __future__ import annotations

import asyncio
from typing import Any

from callarchive.archive import ConversationQuery
from tests.imports.harness import Installation
from tests.imports.observe import (
    PAIR,
    PAIR_OPTIONS,
    document_for,
    import_document,
    traffic_start,
    truth,
)

QUERY = "POST /api/v2/analytics/conversations/details/query"
JOBS = "POST /api/v2/analytics/conversations/details/jobs"
AVAILABILITY = "GET /api/v2/analytics/conversations/details/jobs/availability"
# Past the emulator's data lake lag (30 minutes) and the longest recording (10): every
# conversation of the org's day of traffic is in the lake.
LAKE_CATCH_UP_S = 2 * 3600


def configure(installation: Installation, *, partitions: bool, **options: Any) -> None:
    """Every agent recorded (unless `recorded=False`); with `partitions`, a compliance officer
    granted the Retail partition."""
    document = document_for(installation, **options)
    if partitions:
        document["users"].append(
            {
                "login": "compliance",
                "name": "Compliance Officer",
                "role": "compliance_officer",
                "partitions": ["Retail"],
                "recorded": False,
            }
        )
    import_document(installation, document)


def archived_partitions(installation: Installation) -> dict[str, tuple[str, ...]]:
    async def read() -> dict[str, tuple[str, ...]]:
        async with installation.wiring().archive() as archive:
            found = await archive.conversations.search(ConversationQuery(limit=100_000))
            return {c.genesys_id: c.partitions for c in found}

    return asyncio.run(read())


def true_partitions(installation: Installation) -> dict[str, tuple[str, ...]]:
    return {
        conversation_id: (c["partition"],) if c["partition"] else ()
        for conversation_id, c in truth(installation).items()
    }


def requests(installation: Installation) -> dict[str, int]:
    by_endpoint: dict[str, int] = installation.emulator.stats()["by_endpoint"]
    return by_endpoint


def state_file(installation: Installation) -> Any:
    return installation.work_folder() / "laststate" / PAIR / f"{PAIR}.partitions"


def test_near_real_time_imports_get_their_partitions_from_the_backfill(
    installation: Installation,
) -> None:
    configure(installation, partitions=True)
    installation.catch_up()
    installation.clock.advance(LAKE_CATCH_UP_S)
    installation.catch_up()

    want = true_partitions(installation)
    assert archived_partitions(installation) == want
    assert {()} < set(want.values())  # some conversations have a partition, some none
    calls = requests(installation)
    assert calls[QUERY] > 0  # imported near real time, without attributes
    assert 1 <= calls[JOBS] <= 3  # a job per span of hours, not per conversation
    assert calls[AVAILABILITY] <= calls[JOBS] + 2


def test_the_backfill_done_again_adds_nothing_twice(installation: Installation) -> None:
    configure(installation, partitions=True)
    installation.catch_up()
    installation.clock.advance(LAKE_CATCH_UP_S)
    installation.catch_up()
    before = archived_partitions(installation)
    jobs = requests(installation)[JOBS]

    state_file(installation).unlink()  # as if the last step stopped before recording its end
    installation.must("import", "run", *PAIR_OPTIONS[:2])

    assert requests(installation)[JOBS] == jobs + 1  # the whole span again, from the start
    assert archived_partitions(installation) == before == true_partitions(installation)
    assert state_file(installation).is_file()


def test_no_request_for_partitions_while_no_user_holds_one(installation: Installation) -> None:
    configure(installation, partitions=False)
    installation.catch_up()
    installation.clock.advance(LAKE_CATCH_UP_S)
    installation.catch_up()

    calls = requests(installation)
    assert calls[QUERY] > 0
    assert not [endpoint for endpoint in calls if "/details/jobs" in endpoint]
    assert not state_file(installation).exists()
    partitions = archived_partitions(installation)
    assert set(partitions) == set(truth(installation))
    assert set(partitions.values()) == {()}


def test_conversations_imported_behind_the_backfill_come_with_their_partitions(
    installation: Installation,
) -> None:
    """Imported after the backfill passed them (a retried CDR, the cursor set back): read
    through a job, which carries the partition."""
    configure(installation, partitions=True, recorded=False)
    installation.catch_up()
    installation.clock.advance(LAKE_CATCH_UP_S)
    installation.catch_up()
    assert archived_partitions(installation) == {}
    assert state_file(installation).is_file()  # the backfill passed the whole day

    configure(installation, partitions=True, recorded=True)
    want = true_partitions(installation)
    retried = min(i for i, names in want.items() if names)
    start = truth(installation)[retried]["start"]
    installation.must("retry-buffer", "add", *PAIR_OPTIONS, retried, "--start", start)
    installation.must("import", "run", *PAIR_OPTIONS[:2])
    assert archived_partitions(installation) == {retried: want[retried]}

    midnight = f"{traffic_start(installation):%Y.%m.%d} 00:00:00.000"
    installation.must("cursor", "set", *PAIR_OPTIONS, midnight)
    installation.catch_up()
    assert archived_partitions(installation) == want
