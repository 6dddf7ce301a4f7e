"""`callarchive source add|list|show|test`: import sources from the command line.

Every item of the seed's table is an option named after it (`--client-id`, `--codec`, ...).
Values are passed as text to the configuration's validation, so every error names the item and
what it expects. Secrets can come from options, from `CALLARCHIVE_SOURCE_*` variables (kept out
of the shell history), or from a hidden prompt at a terminal.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from callarchive.cli.app import actor, run, wiring
from callarchive.configuration import (
    FIELDS,
    SECRET_FIELDS,
    ImportSource,
    check_files,
    export_import_source,
    parse_import_source,
)

_MULTIPLE = {"internal_number_patterns": "--internal-number-pattern"}
_FLAGS = {"delete_on_completion"}


def _options(command: Any) -> Any:
    """One option per item of the seed's table (in reverse, as decorators apply)."""
    for name in reversed(list(FIELDS)):
        label = FIELDS[name]
        if name in _FLAGS:
            command = click.option(
                f"--{name.replace('_', '-')}/--no-{name.replace('_', '-')}",
                default=None,
                help=label,
            )(command)
        elif name in _MULTIPLE:
            command = click.option(
                _MULTIPLE[name], name, multiple=True, help=f"{label}; repeat for several"
            )(command)
        else:
            command = click.option(
                f"--{name.replace('_', '-')}",
                name,
                help=label,
                envvar=f"CALLARCHIVE_SOURCE_{name.upper()}" if name in SECRET_FIELDS else None,
                show_envvar=name in SECRET_FIELDS,
            )(command)
    return command


@click.group("source")
def source() -> None:
    """Genesys Cloud import sources."""


@source.command("add")
@_options
@click.pass_context
def add(ctx: click.Context, /, **items: Any) -> None:
    """Add an import source (the seed's configuration items)."""
    if not items.get("client_secret") and sys.stdin.isatty():
        items["client_secret"] = click.prompt("Client Secret", hide_input=True)
    raw = {name: value for name, value in items.items() if value not in (None, ())}
    candidate = parse_import_source(raw)
    check_files(candidate)

    async def store() -> ImportSource:
        async with wiring(ctx).archive() as archive:
            return await archive.import_sources.add(candidate, actor=actor())

    stored = run(store())
    click.echo(f"added import source {stored.name!r} (id {stored.id})")


@source.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List the import sources."""

    async def load() -> list[ImportSource]:
        async with wiring(ctx).archive() as archive:
            return await archive.import_sources.list()

    rows = [
        (str(s.id), s.name, s.api_url, s.codec.value, s.recording_timezone, s.fetch_strategy.value)
        for s in run(load())
    ]
    echo_table(("ID", "NAME", "API URL", "CODEC", "TIMEZONE", "FETCH"), rows)


@source.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the items as JSON (no secrets).")
@click.pass_context
def show(ctx: click.Context, name: str, *, as_json: bool) -> None:
    """Show every item of one import source; secrets only as set or not set."""

    async def load() -> ImportSource:
        async with wiring(ctx).archive() as archive:
            return await archive.import_sources.get(name)

    found = run(load())
    if as_json:
        click.echo(json.dumps(export_import_source(found), indent=2))
        return
    exported = export_import_source(found)
    click.echo(f"{'id':<28} {found.id}")
    for item in FIELDS:
        if item in SECRET_FIELDS:
            value: Any = "(set)" if getattr(found, item) is not None else "(not set)"
        elif item in exported:
            value = exported[item]
        else:
            value = getattr(found, item)
        if isinstance(value, list):
            value = ", ".join(value) or "-"
        click.echo(f"{item:<28} {'-' if value is None else value}")


@source.command("test")
@click.argument("name")
@click.pass_context
def test(ctx: click.Context, name: str) -> None:
    """Get a token and count the conversations of the last hour."""
    wired = wiring(ctx)

    async def probe() -> tuple[ImportSource, Any]:
        async with wired.archive() as archive:
            found = await archive.import_sources.get(name)
        check_files(found)
        until = wired.clock.now()
        return found, await wired.probe(found, since=until - dt.timedelta(hours=1), until=until)

    found, result = run(probe())
    expiry = f" (expires in {result.token_expires_in_s} s)" if result.token_expires_in_s else ""
    click.echo(f"import source {found.name!r}: token obtained{expiry}")
    click.echo(f"conversations started in the last hour: {result.conversations}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def echo_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Print aligned columns; a note when there are no rows."""
    if not rows:
        click.echo("(none)")
        return
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


__all__ = ["echo_table", "source"]
