"""The daily reconciliation job: each pair's last finished day, once across nodes, only after
the import has passed it."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools

from callarchive.archive import Archive
from callarchive.cli.app import Wiring
from callarchive.cli.reconcile import reconcile_day
from callarchive.scheduling import DailyReconciliation
from tests.imports.conftest import InstallationFactory
from tests.imports.harness import POLICY, SOURCE, Installation


def job(
    installation: Installation, wired: Wiring, archive: Archive, server: str
) -> DailyReconciliation:
    return DailyReconciliation(
        archive=archive,
        clock=installation.clock,
        work=wired.work_store(),
        server=server,
        reconcile=functools.partial(reconcile_day, wired, archive),
    )


async def test_the_last_finished_day_is_reconciled_once_after_the_import_passed_it(
    make_installation: InstallationFactory,
) -> None:
    installation = make_installation()
    await asyncio.to_thread(installation.configure)
    first = installation.emulator.config.start
    assert first is not None
    day_end = dt.datetime.combine(first + dt.timedelta(days=1), dt.time(), dt.UTC)
    installation.clock.advance(
        (day_end + dt.timedelta(minutes=15) - installation.clock.now()).total_seconds()
    )
    wired = installation.wiring()
    async with wired.archive() as archive:
        here, there = job(installation, wired, archive, "a"), job(installation, wired, archive, "b")
        assert await here.tick() == []  # the import has not passed the day yet
        await asyncio.to_thread(installation.catch_up)
        assert await here.tick() == [(POLICY, SOURCE, first)]
        assert await there.tick() == []  # claimed once, across nodes
        assert await here.tick() == []
        [result] = await archive.reconciliations.list()
    assert result.day == first
    assert result.complete
    assert result.server == wired.settings.resolved_server_name
    assert result.genesys_total > 0


async def test_a_failed_reconciliation_is_stored_with_its_error_and_tried_again_a_day_later(
    make_installation: InstallationFactory,
) -> None:
    installation = make_installation()
    await asyncio.to_thread(installation.configure)
    first = installation.emulator.config.start
    assert first is not None
    await asyncio.to_thread(installation.catch_up)
    day_end = dt.datetime.combine(first + dt.timedelta(days=1), dt.time(), dt.UTC)
    installation.clock.advance(
        (day_end + dt.timedelta(minutes=15) - installation.clock.now()).total_seconds()
    )
    wired = installation.wiring()
    async with wired.archive() as archive:
        source = await archive.import_sources.get(SOURCE)
        away = dataclasses.replace(source, api_url="http://127.0.0.1:9")  # nobody listens
        await archive.import_sources.save(away, actor="test")
        daily = job(installation, wired, archive, "a")
        assert await daily.tick() == [(POLICY, SOURCE, first)]
        [failed] = await archive.reconciliations.list()
        assert failed.error is not None
        assert failed.completeness is None
        assert await daily.tick() == []
        await archive.import_sources.save(source, actor="test")
        installation.clock.advance(dt.timedelta(hours=21).total_seconds())
        assert await daily.tick() == [(POLICY, SOURCE, first)]
        [again] = await archive.reconciliations.list()
    assert again.error is None
    assert again.complete
