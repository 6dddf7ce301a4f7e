"""`callarchive retention|hold`: retention periods and runs, legal holds and their release.

    callarchive retention show
    callarchive retention set (--policy NAME | --user LOGIN) DAYS|none
    callarchive retention run [--dry-run]
    callarchive hold create NAME --reason TEXT [--from --to --user --number --direction --call-id]
    callarchive hold add NAME CONVERSATION_ID...
    callarchive hold list | show NAME | release-request NAME | release-approve NAME

The actor of every change is `cli:<os user>`; the release of a hold must be approved by a
different actor than the one who requested it (four eyes).
"""

from __future__ import annotations

from typing import Any

import click

from callarchive.archive import ConversationQuery, Direction, LegalHold, RetentionRun
from callarchive.cli.app import actor, run, wiring
from callarchive.cli.sources import echo_table
from callarchive.configuration import Policy, User, parse_retention_days, parse_timestamp
from callarchive.errors import ConfigurationError
from callarchive.retention import RetentionJob, RetentionOutcome
from callarchive.rules import normalize_number


@click.group("retention")
def retention() -> None:
    """Retention: how long conversations are kept, and deleting what is past it."""


@retention.command("show")
@click.pass_context
def retention_show(ctx: click.Context) -> None:
    """Each policy's retention, users' overrides, and the last daily runs."""

    async def load() -> tuple[list[Policy], list[User], list[RetentionRun]]:
        async with wiring(ctx).archive() as archive:
            return (
                await archive.policies.list(),
                await archive.users.list(),
                await archive.retention.runs(limit=7),
            )

    policies, users, runs = run(load())
    click.echo("Policies:")
    echo_table(("POLICY", "RETENTION"), [(p.name, _days(p.retention_days)) for p in policies])
    overrides = [(u.login, _days(u.retention_days)) for u in users if u.retention_days]
    click.echo("User overrides:")
    echo_table(("USER", "RETENTION"), overrides)
    click.echo("Daily runs:")
    echo_table(
        ("DAY", "SERVER", "FINISHED", "DELETED", "ERROR"),
        [
            (
                r.day,
                r.server,
                f"{r.finished_at:%Y-%m-%d %H:%M:%S}" if r.finished_at else "running",
                "-" if r.deleted is None else str(r.deleted),
                r.error or "",
            )
            for r in runs
        ],
    )


@retention.command("set")
@click.option("--policy", help="The policy whose conversations are kept DAYS days.")
@click.option("--user", help="The recorded user whose conversations are kept DAYS days.")
@click.argument("days")
@click.pass_context
def retention_set(ctx: click.Context, policy: str | None, user: str | None, days: str) -> None:
    """Keep conversations DAYS days after they started; `none` keeps a policy's for ever and
    gives a user the policy's retention back."""
    if (policy is None) == (user is None):
        raise click.UsageError("give --policy NAME or --user LOGIN")
    value = None if days.strip().lower() in {"none", "forever", ""} else days
    parsed = parse_retention_days(value)

    async def save() -> None:
        async with wiring(ctx).archive() as archive:
            if policy is not None:
                await archive.retention.set_policy_days(policy, parsed, actor=actor())
            else:
                await archive.retention.set_user_days(user or "", parsed, actor=actor())

    run(save())
    shown = "the policy's" if user is not None and parsed is None else _days(parsed)
    click.echo(f"retention of {policy or user}: {shown}")


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.pass_context
def retention_run(ctx: click.Context, dry_run: bool) -> None:
    """Delete every conversation past its retention that no legal hold protects: media first,
    then the archive row, each written to the audit log."""
    wired = wiring(ctx)

    async def go() -> RetentionOutcome:
        async with wired.archive() as archive:
            job = RetentionJob(archive, wired.media_store(), wired.clock, actor=actor())
            return await job.run(dry_run=dry_run)

    outcome = run(go())
    echo_table(
        ("CONVERSATION", "GENESYS ID", "STARTED", "RETENTION", "EXPIRED"),
        [
            (
                str(c.conversation_id),
                c.genesys_id,
                f"{c.start:%Y-%m-%d %H:%M:%S}",
                _days(c.retention_days),
                f"{c.expires_at:%Y-%m-%d}" if c.expires_at else "-",
            )
            for c in outcome.conversations
        ],
    )
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {len(outcome.conversations)} conversations", err=True)
    if outcome.held_meanwhile:
        click.echo(f"kept {outcome.held_meanwhile} put under a legal hold meanwhile", err=True)


@click.group("hold")
def hold() -> None:
    """Legal holds: conversations that retention never deletes until the hold is released."""


@hold.command("create")
@click.argument("name")
@click.option("--reason", required=True, help="Why, e.g. the case or matter number.")
@click.option("--from", "start_from", help="Hold conversations started at or after (ISO 8601).")
@click.option("--to", "start_to", help="... and before (ISO 8601, UTC without an offset).")
@click.option("--user", help="... of this recorded user (login).")
@click.option("--number", help="... from or to this number.")
@click.option(
    "--direction", type=click.Choice([d.value for d in Direction]), help="... in this direction."
)
@click.option("--call-id", help="... with this Genesys conversation id.")
@click.pass_context
def hold_create(ctx: click.Context, /, name: str, reason: str, **search: Any) -> None:
    """Put every conversation the search finds under a new hold NAME (no search: an empty
    hold; add conversations later with `hold add`)."""
    query = _query(search)

    async def create() -> LegalHold:
        async with wiring(ctx).archive() as archive:
            return await archive.holds.create(name, reason=reason, actor=actor(), matching=query)

    created = run(create())
    click.echo(f"legal hold {created.name!r} holds {created.conversations} conversations")


@hold.command("add")
@click.argument("name")
@click.argument("conversation_ids", nargs=-1, required=True, type=int)
@click.pass_context
def hold_add(ctx: click.Context, name: str, conversation_ids: tuple[int, ...]) -> None:
    """Put conversations (archive ids, as the search shows them) under the hold NAME."""

    async def add() -> int:
        async with wiring(ctx).archive() as archive:
            return await archive.holds.add(name, actor=actor(), conversation_ids=conversation_ids)

    click.echo(f"{run(add())} conversations added to {name!r}")


@hold.command("list")
@click.pass_context
def hold_list(ctx: click.Context) -> None:
    """Every legal hold: name, state, conversations, who created it, release."""

    async def load() -> list[LegalHold]:
        async with wiring(ctx).archive() as archive:
            return await archive.holds.list()

    echo_table(
        ("NAME", "STATE", "CONVERSATIONS", "CREATED BY", "CREATED", "RELEASE"),
        [
            (
                h.name,
                h.state.value,
                str(h.conversations),
                h.created_by,
                f"{h.created_at:%Y-%m-%d %H:%M}",
                _release(h),
            )
            for h in run(load())
        ],
    )


@hold.command("show")
@click.argument("name")
@click.pass_context
def hold_show(ctx: click.Context, name: str) -> None:
    """One hold with its reason and the archive ids of its conversations."""

    async def load() -> tuple[LegalHold, list[int]]:
        async with wiring(ctx).archive() as archive:
            return await archive.holds.get(name), await archive.holds.conversation_ids(name)

    found, ids = run(load())
    click.echo(f"name: {found.name}")
    click.echo(f"state: {found.state.value}")
    click.echo(f"reason: {found.reason}")
    click.echo(f"created: {found.created_at:%Y-%m-%d %H:%M:%S} by {found.created_by}")
    click.echo(f"release: {_release(found)}")
    click.echo(f"conversations ({len(ids)}): {' '.join(str(i) for i in ids) or '-'}")


@hold.command("release-request")
@click.argument("name")
@click.pass_context
def hold_release_request(ctx: click.Context, name: str) -> None:
    """Ask for the hold NAME to be released; another person must approve (four eyes)."""

    async def request() -> LegalHold:
        async with wiring(ctx).archive() as archive:
            return await archive.holds.request_release(name, actor=actor())

    found = run(request())
    click.echo(f"release of {found.name!r} requested by {actor()}; awaiting a second approval")


@hold.command("release-approve")
@click.argument("name")
@click.pass_context
def hold_release_approve(ctx: click.Context, name: str) -> None:
    """Approve the requested release of NAME (not by its requester): the hold is released."""

    async def approve() -> LegalHold:
        async with wiring(ctx).archive() as archive:
            return await archive.holds.approve_release(name, actor=actor())

    found = run(approve())
    click.echo(f"legal hold {found.name!r} released")


def _query(search: dict[str, Any]) -> ConversationQuery | None:
    if not any(search.values()):
        return None
    start_from, start_to = (
        None if not search[name] else parse_timestamp(search[name], name, zone="UTC")
        for name in ("start_from", "start_to")
    )
    number = search["number"]
    if number:
        number = normalize_number(number) or number
    if start_from and start_to and start_to <= start_from:
        raise ConfigurationError("must be after --from", field="to")
    return ConversationQuery(
        start_from=start_from,
        start_to=start_to,
        user=search["user"] or None,
        number=number or None,
        direction=Direction(search["direction"]) if search["direction"] else None,
        platform_call_id=search["call_id"] or None,
    )


def _days(days: int | None) -> str:
    return "for ever" if days is None else f"{days} days"


def _release(found: LegalHold) -> str:
    release = found.release
    if release is None:
        return "-"
    if release.approved_by is None:
        return f"requested by {release.requested_by}"
    return f"approved by {release.approved_by} (requested by {release.requested_by})"


__all__ = ["hold", "retention"]
