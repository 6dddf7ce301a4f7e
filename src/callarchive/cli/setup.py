"""`callarchive policy|user|extension add|list`: who is recorded, from where, how often;
`policy enable|disable|history`: the maintenance procedure and each policy's runs."""

from __future__ import annotations

import sys
from typing import Any

import click

from callarchive.archive import BatchReport
from callarchive.cli.app import actor, run, wiring
from callarchive.cli.sources import echo_table
from callarchive.configuration import (
    Extension,
    Policy,
    User,
    parse_extension,
    parse_policy,
    parse_user,
)
from callarchive.errors import ConfigurationError
from callarchive.imports import notification_text


@click.group("policy")
def policy() -> None:
    """Data Management Policies with the Data Import action."""


@policy.command("add")
@click.option("--name", help="Name of the policy.")
@click.option(
    "--source", "import_sources", multiple=True, help="Import source to run; repeat for several."
)
@click.option("--every-minutes", help="Minutes between runs (Scheduling).")
@click.option("--cron", help="Run at the times of a cron expression instead, e.g. '0 * * * *'.")
@click.option("--active-hours", help="Start runs only in this period, e.g. 08:00-18:00.")
@click.option("--timezone", help="Time zone of --cron and --active-hours (default UTC).")
@click.option("--enabled/--disabled", default=True, help="Whether the policy runs.")
@click.option(
    "--server",
    "servers",
    multiple=True,
    help="Execute Only on Selected Servers: a server that may run it; repeat for several.",
)
@click.pass_context
def policy_add(ctx: click.Context, /, **items: Any) -> None:
    """Add a Data Import policy (Enable Recording Rules is always on)."""
    candidate = parse_policy(
        {
            "name": items["name"],
            "import_sources": list(items["import_sources"]),
            "schedule": {
                "every_minutes": items["every_minutes"],
                "cron": items["cron"],
                "active_hours": items["active_hours"],
                "timezone": items["timezone"],
            },
            "enabled": items["enabled"],
            "servers": list(items["servers"]),
        }
    )

    async def store() -> Policy:
        async with wiring(ctx).archive() as archive:
            return await archive.policies.add(candidate, actor=actor())

    stored = run(store())
    click.echo(f"added policy {stored.name!r} (id {stored.id})")


@policy.command("list")
@click.pass_context
def policy_list(ctx: click.Context) -> None:
    """List the policies."""

    async def load() -> list[Policy]:
        async with wiring(ctx).archive() as archive:
            return await archive.policies.list()

    rows = [
        (
            str(p.id),
            p.name,
            ", ".join(p.import_sources),
            p.schedule.describe(),
            "yes" if p.enabled else "no",
            ", ".join(p.servers) or "any",
        )
        for p in run(load())
    ]
    echo_table(("ID", "NAME", "IMPORT SOURCES", "SCHEDULE", "ENABLED", "SERVERS"), rows)


@policy.command("enable")
@click.argument("name")
@click.pass_context
def policy_enable(ctx: click.Context, name: str) -> None:
    """Enable a policy: the scheduler runs it again."""
    _set_enabled(ctx, name, enabled=True)


@policy.command("disable")
@click.argument("name")
@click.pass_context
def policy_disable(ctx: click.Context, name: str) -> None:
    """Disable a policy (the seed's maintenance procedure): no new run starts; a running one
    finishes its window and stops."""
    _set_enabled(ctx, name, enabled=False)


@policy.command("history")
@click.argument("name")
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
@click.option("--details", is_flag=True, help="Also each run's batch notification.")
@click.pass_context
def policy_history(ctx: click.Context, name: str, limit: int, details: bool) -> None:
    """The runs of a policy, newest first: window, server and what each imported."""

    async def load() -> tuple[list[BatchReport], dict[int, str]]:
        async with wiring(ctx).archive() as archive:
            found = await archive.policies.get(name)
            sources = {s.id: s.name for s in await archive.import_sources.list() if s.id}
            return await archive.batch_reports.list(policy_id=found.id, limit=limit), sources

    reports, sources = run(load())
    rows = [
        (
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            sources.get(r.import_source_id or 0, "-"),
            r.server or "-",
            f"{r.window_start:%Y-%m-%d %H:%M}..{r.window_end:%H:%M}"
            if r.window_start and r.window_end
            else "no window",
            *(str(n) for n in (r.imported, r.already_imported, r.skipped_by_rules)),
            *(str(n) for n in (r.retry_buffered, r.failed)),
        )
        for r in reports
    ]
    header = ("STARTED (UTC)", "SOURCE", "SERVER", "WINDOW (UTC)", "IMPORTED", "ALREADY")
    echo_table((*header, "SKIPPED", "RETRY BUFFER", "FAILED"), rows)
    for report in reports if details else ():
        click.echo(f"\n{report.started_at:%Y-%m-%d %H:%M:%S} UTC:")
        click.echo(notification_text(report))


def _set_enabled(ctx: click.Context, name: str, *, enabled: bool) -> None:
    async def store() -> Policy:
        async with wiring(ctx).archive() as archive:
            return await archive.policies.set_enabled(name, enabled, actor=actor())

    stored = run(store())
    click.echo(f"policy {stored.name!r} {'enabled' if enabled else 'disabled'}")


@click.group("user")
def user() -> None:
    """Users: recorded or not, role, supervisor, partitions."""


@user.command("add")
@click.option("--login", help="Login, e.g. jane.doe@example.com.")
@click.option("--name", help="Display name.")
@click.option(
    "--role", default="agent", help="agent, supervisor, compliance_officer or administrator."
)
@click.option("--supervisor", help="Login of the user's supervisor.")
@click.option("--partition", "partitions", multiple=True, help="Partition; repeat for several.")
@click.option("--recorded/--not-recorded", default=True, help="Whether calls are imported.")
@click.pass_context
def user_add(ctx: click.Context, /, **items: Any) -> None:
    """Add a user."""
    candidate = parse_user({**items, "partitions": list(items["partitions"])})

    async def store() -> User:
        async with wiring(ctx).archive() as archive:
            return await archive.users.add(candidate, actor=actor())

    stored = run(store())
    click.echo(f"added user {stored.login!r} (id {stored.id})")


@user.command("password")
@click.argument("login")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@click.pass_context
def user_password(ctx: click.Context, login: str, password_stdin: bool) -> None:
    """Set the web sign-in password of LOGIN (its sessions end).

    The password is asked for twice, hidden, unless --password-stdin is given. Only its argon2
    hash is stored.
    """
    from callarchive.web import hash_password, password_problem  # noqa: PLC0415 - see running.py

    password: str
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(click.prompt("password", hide_input=True, confirmation_prompt=True))
    problem = password_problem(password)
    if problem:
        raise ConfigurationError(problem, field="password")

    async def store() -> None:
        async with wiring(ctx).archive() as archive:
            await archive.users.get(login)
            await archive.accounts.set_password(login, hash_password(password), actor=actor())

    run(store())
    click.echo(f"password of {login!r} set")


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """List the users."""

    async def load() -> list[User]:
        async with wiring(ctx).archive() as archive:
            return await archive.users.list()

    rows = [
        (
            u.login,
            u.name,
            u.role.value,
            u.supervisor or "-",
            ", ".join(u.partitions) or "-",
            "yes" if u.recorded else "no",
        )
        for u in run(load())
    ]
    echo_table(("LOGIN", "NAME", "ROLE", "SUPERVISOR", "PARTITIONS", "RECORDED"), rows)


@click.group("extension")
def extension() -> None:
    """Extensions: numbers and addresses owned by users."""


@extension.command("add")
@click.option("--type", "type_", help="number or address.")
@click.option("--value", help="The number (e.g. +13125550123, 4123) or address.")
@click.option("--user", help="Login of the owner.")
@click.option("--valid-from", help="Start of the assignment (ISO 8601); default always.")
@click.option("--valid-to", help="End of the assignment (ISO 8601, exclusive); default open.")
@click.option(
    "--timezone", default="UTC", help="Time zone of --valid-from/--valid-to without offset."
)
@click.pass_context
def extension_add(ctx: click.Context, /, **items: Any) -> None:
    """Add an extension to a user."""
    raw = {
        "type": items["type_"],
        "value": items["value"],
        "user": items["user"],
        "valid_from": items["valid_from"],
        "valid_to": items["valid_to"],
    }
    candidate = parse_extension(raw, zone=items["timezone"])

    async def store() -> Extension:
        async with wiring(ctx).archive() as archive:
            return await archive.extensions.add(candidate, actor=actor())

    stored = run(store())
    click.echo(f"added {stored.type.value} {stored.value!r} to {stored.user!r}")


@extension.command("list")
@click.option("--user", help="Only the extensions of this login.")
@click.pass_context
def extension_list(ctx: click.Context, user: str | None) -> None:
    """List the extensions."""

    async def load() -> list[Extension]:
        async with wiring(ctx).archive() as archive:
            return await archive.extensions.list(user=user)

    rows = [
        (
            e.type.value,
            e.value,
            e.user,
            e.valid_from.isoformat() if e.valid_from else "-",
            e.valid_to.isoformat() if e.valid_to else "-",
        )
        for e in run(load())
    ]
    echo_table(("TYPE", "VALUE", "USER", "VALID FROM", "VALID TO"), rows)


__all__ = ["extension", "policy", "user"]
