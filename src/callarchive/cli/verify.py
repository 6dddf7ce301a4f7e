"""`callarchive verify`: check the seals of the archive, the audit log's chain, or an export.

    callarchive verify --conversation ID | --day YYYY-MM-DD | --all  [--audit] [--media]
    callarchive verify --all --batch-size N
    callarchive verify --audit
    callarchive verify --public-key
    callarchive verify --export FILE.zip [--fingerprint SHA256:...]
    callarchive seal --unsealed [--batch-size N]

Prints each problem (metadata changed, media changed or missing, chain broken, signature
invalid, not sealed, conversation missing) and `result: OK` or the number of problems; the exit
code is 1 when there is any problem. `--all` goes through the archive in batches (memory does not
grow with it), with a progress bar of seals and conversations on a terminal. `--export` needs no
database: it checks a zip written by `conversations export --format zip` with the public key
inside it, against the fingerprint the regulator was given.

`seal --unsealed` seals, after the fact, the conversations archived before seals existed
(`archive.late_seals`), in batches, with a progress bar on a terminal; it can be interrupted and
run again.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from callarchive.archive import (
    DEFAULT_BATCH,
    LateSealing,
    ObjectStoreMedia,
    Verification,
    VerifyStep,
    verify_export,
)
from callarchive.cli.app import Wiring, actor, run, wiring

_BATCH_HELP = "Conversations per transaction (memory and lock time grow with it)."


@click.command("verify")
@click.option("--conversation", "conversation_id", type=int, help="One conversation (archive id).")
@click.option("--day", help="Every conversation archived on this UTC day (YYYY-MM-DD).")
@click.option("--all", "everything", is_flag=True, help="Every conversation and every day.")
@click.option("--audit", is_flag=True, help="The audit log's chain too (alone: only that).")
@click.option("--media", is_flag=True, help="Read every media object again and check its sha256.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Seals or conversations per batch of --all (memory grows with it, not the archive).",
)
@click.option("--public-key", is_flag=True, help="Print the installation's public key and exit.")
@click.option(
    "--export",
    "export_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check an export zip instead of this archive (no database needed).",
)
@click.option("--fingerprint", help="The public key fingerprint the export must carry (--export).")
@click.pass_context
def verify(  # noqa: PLR0917 (click passes one argument per option)
    ctx: click.Context,
    conversation_id: int | None,
    day: str | None,
    everything: bool,
    audit: bool,
    media: bool,
    batch_size: int,
    public_key: bool,
    export_file: Path | None,
    fingerprint: str | None,
) -> None:
    """Check that archived conversations, their media and the audit log are unchanged."""
    wired = wiring(ctx)
    if public_key:
        keyring = wired.seal_keys()
        click.echo(keyring.signer.public_pem.decode("ascii"), nl=False)
        click.echo(f"fingerprint {keyring.signer.fingerprint}", err=True)
        for retired in keyring.retired:
            click.echo(
                f"retired key {retired.verifier.key_id} ({retired.verifier.fingerprint}), "
                f"retired {retired.retired_at:%Y-%m-%d %H:%M:%S} UTC",
                err=True,
            )
        return
    if export_file is not None:
        _finish(ctx, verify_export(export_file, expected_fingerprint=fingerprint))
        return
    if fingerprint is not None:
        raise click.UsageError("--fingerprint goes with --export")
    if day is not None:
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise click.BadParameter("expected YYYY-MM-DD", param_hint="--day") from None
    if conversation_id is None and day is None and not everything and not audit:
        raise click.UsageError("say what to verify: --conversation ID, --day, --all or --audit")

    async def check() -> Verification:
        async with wired.archive() as archive:
            with _progress(Console(stderr=True)) as bar:
                tasks: dict[VerifyStep, TaskID] = {}
                if everything:
                    for step, total in (await archive.seals.totals()).items():
                        tasks[step] = bar.add_task("checking", total=total, unit=step)
                result = await archive.seals.verify(
                    conversation_id=conversation_id,
                    day=day,
                    everything=everything,
                    audit=audit,
                    media=ObjectStoreMedia(wired.media_store()) if media else None,
                    batch_size=batch_size,
                    progress=lambda step, count: bar.advance(tasks[step], count),
                )
            await archive.audit.record(
                actor=actor(),
                action="archive_verified",
                target=_target(conversation_id, day, everything=everything, audit=audit),
                details={"problems": len(result.problems), "media": media},
            )
            return result

    _finish(ctx, run(check()))


def _target(conversation_id: int | None, day: str | None, *, everything: bool, audit: bool) -> str:
    if everything:
        return "all"
    if conversation_id is not None:
        return f"conversation:{conversation_id}"
    return f"day:{day}" if day is not None else "audit" if audit else "all"


def _finish(ctx: click.Context, result: Verification) -> None:
    click.echo(result.report(), nl=False)
    if not result.ok:
        ctx.exit(1)


@click.command("seal")
@click.option(
    "--unsealed",
    is_flag=True,
    required=True,
    help="Seal the conversations archived before seals existed (required: the only mode).",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=500, show_default=True, help=_BATCH_HELP
)
@click.pass_context
def seal(ctx: click.Context, unsealed: bool, batch_size: int) -> None:
    """Seal, after the fact, every conversation archived before seals existed.

    Each gets a seal marked as made late, in the chain of the day it is made; `verify` then
    checks it like any other. Safe to interrupt and to run again.
    """
    if not unsealed:
        raise click.UsageError("say what to seal: --unsealed")
    wired = wiring(ctx)
    result, refused = run(_seal_unsealed(wired, batch_size, Console(stderr=True)))
    click.echo(f"sealed {result.sealed} conversations after the fact in {result.batches} batches")
    if refused:
        click.echo(
            f"left {refused} conversations archived since sealing began without a seal: they "
            "should have been sealed as they were archived; `callarchive verify --all` reports "
            "them"
        )


async def _seal_unsealed(
    wired: Wiring, batch_size: int, console: Console
) -> tuple[LateSealing, int]:
    async with wired.archive() as archive:
        before = await archive.late_seals.unsealed()
        with _progress(console) as bar:
            task = bar.add_task("sealing", total=before.eligible, unit="conversations")
            result = await archive.late_seals.seal(
                actor=actor(),
                batch_size=batch_size,
                progress=lambda count: bar.advance(task, count),
            )
        return result, before.refused


def _progress(console: Console) -> Progress:
    """The progress bar of long commands (shown on a terminal only)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


__all__ = ["seal", "verify"]
