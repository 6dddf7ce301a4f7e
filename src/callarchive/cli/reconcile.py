"""`callarchive reconcile --source NAME --day YYYY-MM-DD [--policy NAME] [--reimport]`.

Asks Genesys again for every recorded voice conversation of a past day and accounts for each
one; prints the counts, the completeness and the missing conversations, stores the result (the
status page shows it) and raises an alert when some are missing. `--reimport` puts the missing
ones into the retry buffer, so the next run of the policy imports them. Exits 1 when
conversations are missing and were not re-imported.
"""

from __future__ import annotations

import datetime as dt

import click
import structlog

from callarchive.alerts import Alerter, ArchiveAlertSink
from callarchive.archive import Archive, DayReconciliation
from callarchive.cli.app import Wiring, run, wiring
from callarchive.cli.imports import pair_client
from callarchive.configuration import ImportSource, Policy
from callarchive.errors import CallarchiveError, ConfigurationError
from callarchive.genesys import GenesysClient
from callarchive.imports.reconciliation import Reconciler

log = structlog.get_logger("callarchive.imports")


@click.command("reconcile")
@click.option("--source", "source_name", required=True, help="the import source")
@click.option("--day", "day_text", required=True, help="the day, YYYY-MM-DD (Recording Timezone)")
@click.option("--policy", "policy_name", help="the policy (needed when several use the source)")
@click.option(
    "--reimport", is_flag=True, help="put the missing conversations into the retry buffer"
)
@click.pass_context
def reconcile(
    ctx: click.Context,
    source_name: str,
    day_text: str,
    policy_name: str | None,
    reimport: bool,
) -> None:
    """Account for every recorded conversation of a past day: archived, skipped by rules, in
    the retry buffer, or missing."""
    wired = wiring(ctx)
    day = _day(day_text)
    found, keys = run(_reconcile(wired, source_name, policy_name, day, reimport=reimport))
    click.echo(summary(found))
    if keys:
        click.echo(
            f"{len(keys)} missing conversation(s) put into the retry buffer; the next run of "
            "the policy imports them"
        )
    if found.missing and not keys:
        ctx.exit(1)


async def _reconcile(
    wired: Wiring, source_name: str, policy_name: str | None, day: dt.date, *, reimport: bool
) -> tuple[DayReconciliation, list[str]]:
    async with wired.archive() as archive:
        policy, source = await _pair(archive, source_name, policy_name)
        async with pair_client(wired, policy, source) as client:
            reconciler = _reconciler(wired, archive, client, policy, source)
            result, found = await reconciler.reconcile(day)
            if reimport and result.missing:
                _, keys = await reconciler.reimport(found)
                return result, keys
            return result, []


async def reconcile_day(
    wired: Wiring, archive: Archive, policy: Policy, source: ImportSource, day: dt.date
) -> DayReconciliation:
    """The daily job of one pair and day (a node's scheduler runs it): a failure is stored as
    the day's result, so the status page shows it and the day is tried again later."""
    started = wired.clock.now()
    try:
        async with pair_client(wired, policy, source) as client:
            result, _ = await _reconciler(wired, archive, client, policy, source).reconcile(day)
    except CallarchiveError as error:
        log.warning(
            "reconciliation_failed", policy=policy.name, source=source.name, error=str(error)
        )
        failed = DayReconciliation(
            policy_id=policy.id or 0,
            import_source_id=source.id or 0,
            day=day,
            started_at=started,
            finished_at=wired.clock.now(),
            server=wired.settings.resolved_server_name,
            error=str(error),
        )
        await archive.reconciliations.save(failed)
        return failed
    return result


def _reconciler(
    wired: Wiring, archive: Archive, client: GenesysClient, policy: Policy, source: ImportSource
) -> Reconciler:
    return Reconciler(
        archive=archive,
        client=client,
        work=wired.work_store(),
        clock=wired.clock,
        alerter=Alerter(ArchiveAlertSink(archive)),
        policy=policy,
        source=source,
        server=wired.settings.resolved_server_name,
    )


async def _pair(
    archive: Archive, source_name: str, policy_name: str | None
) -> tuple[Policy, ImportSource]:
    source = await archive.import_sources.get(source_name)
    if policy_name is not None:
        policy = await archive.policies.get(policy_name)
        if source_name not in policy.import_sources:
            raise ConfigurationError(
                f"policy {policy_name!r} does not import from {source_name!r}", field="policy"
            )
        return policy, source
    using = [p for p in await archive.policies.list() if source_name in p.import_sources]
    if len(using) != 1:
        names = ", ".join(repr(p.name) for p in using) or "none"
        raise ConfigurationError(
            f"name the policy with --policy; policies importing from {source_name!r}: {names}",
            field="policy",
        )
    return using[0], source


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        message = f"{text!r} is not a day; expected YYYY-MM-DD"
        raise ConfigurationError(message, field="day") from None


def _percent(share: float) -> str:
    """One decimal, never rounded up to 100.0 % (nor down to 0.0 %) unless it is exactly so."""
    shown = round(share * 100, 1)
    if share < 1:
        shown = min(shown, 99.9)
    if share > 0:
        shown = max(shown, 0.1)
    return f"{shown:.1f} %"


def summary(result: DayReconciliation) -> str:
    """The result as a few lines of text."""
    share = result.completeness
    counts = (
        f"{result.day.isoformat()}: {result.genesys_total} recorded conversations in Genesys; "
        f"archived {result.archived}, deleted by retention {result.deleted_by_retention}, "
        f"skipped by rules {result.skipped_by_rules}, retry buffer "
        f"{result.retry_buffered}, not reached by the import yet {result.not_reached}, "
        f"missing {result.missing}"
    )
    lines = [
        counts,
        f"completeness {_percent(share)}" if share is not None else "completeness unknown",
    ]
    if result.archive_only:
        lines.append(f"archived but no longer listed by Genesys: {result.archive_only}")
    lines += [
        f"missing: {m.conversation_id}  start {m.start:%Y-%m-%d %H:%M:%S} UTC"
        for m in result.missing_conversations
    ]
    return "\n".join(lines)


__all__ = ["reconcile", "reconcile_day", "summary"]
