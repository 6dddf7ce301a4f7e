"""`callarchive db|conversations|config|secrets`: the schema, exports, the set-up, the keys
(and `secrets encrypt-media`: the media stored before media encryption was turned on)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from callarchive.archive import (
    Archive,
    ConversationQuery,
    CorruptObjectError,
    EncryptedObjectStore,
    InPlaceOutcome,
    ObjectStoreMedia,
    Verification,
    current_revision,
    encrypt_in_place,
    finish_media_key_rotation,
    head_revision,
    rotate_media_key_file,
    write_export,
)
from callarchive.cli.app import actor, run, wiring
from callarchive.configuration import (
    export_configuration,
    import_configuration,
    parse_timestamp,
)
from callarchive.errors import ConfigurationError, FatalError
from callarchive.secrets import finish_key_rotation, key_file_path, rotate_key_file
from callarchive.signing import reencrypt_signing_keys, signing_key_path


@click.group("db")
def db() -> None:
    """The archive database."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create the database or migrate it to the newest schema."""

    async def upgrade() -> str | None:
        async with wiring(ctx).archive(check_schema=False) as archive:
            await archive.upgrade()
            return await current_revision(archive.engine)

    click.echo(f"database at schema revision {run(upgrade())}")


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Show the schema revision of the database and the one this version needs."""

    async def status() -> str | None:
        async with wiring(ctx).archive(check_schema=False) as archive:
            return await current_revision(archive.engine)

    click.echo(f"database: {run(status()) or 'empty'}; needed: {head_revision()}")


@click.group("conversations")
def conversations() -> None:
    """Archived conversations."""


@conversations.command("export")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["jsonl", "zip"]),
    default="jsonl",
    show_default=True,
    help="jsonl: metadata only; zip: media, metadata, seals and a verification report.",
)
@click.option(
    "--output",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Default stdout (jsonl only).",
)
@click.option("--hold", help="The conversations of this legal hold (zip only).")
@click.option("--from", "start_from", help="Only conversations started at or after (ISO 8601).")
@click.option("--to", "start_to", help="Only conversations started before (ISO 8601).")
@click.option("--user", help="Only conversations of this recorded user (login).")
@click.option("--source", help="Only conversations of this import source (name).")
@click.option("--min-silence-ratio", type=click.FloatRange(0, 1), help="Silence ratio at least.")
@click.option("--max-silence-ratio", type=click.FloatRange(0, 1), help="Silence ratio at most.")
@click.option("--min-talkover-ratio", type=click.FloatRange(0, 1), help="Talk-over ratio at least.")
@click.option("--max-talkover-ratio", type=click.FloatRange(0, 1), help="Talk-over ratio at most.")
@click.option(
    "--min-longest-silence",
    type=click.FloatRange(0),
    help="Longest silence at least (s).",
)
@click.option(
    "--max-longest-silence",
    type=click.FloatRange(0),
    help="Longest silence at most (s).",
)
@click.pass_context
def conversations_export(ctx: click.Context, /, **options: Any) -> None:
    """Export conversations, one JSON object per line (the standard metadata keys), or, with
    --format zip, as evidence for a regulator (see `callarchive verify --export`)."""
    output: Path | None = options["output"]
    start_from, start_to = (
        None if options[name] is None else parse_timestamp(options[name], name, zone="UTC")
        for name in ("start_from", "start_to")
    )
    if options["format_"] == "zip":
        if output is None:
            raise click.UsageError("--format zip needs --out FILE.zip")
        _export_zip(ctx, output, start_from, start_to, options)
        return
    if options["hold"]:
        raise click.UsageError("--hold needs --format zip")

    async def export(stream: TextIO) -> int:
        count = 0
        async with wiring(ctx).archive() as archive:
            source_id = None
            if options["source"]:
                source_id = (await archive.import_sources.get(options["source"])).id
            query = ConversationQuery(
                user=options["user"],
                import_source_id=source_id,
                start_from=start_from,
                start_to=start_to,
                **{name: options[name] for name in _ANALYSIS_RANGES},
            )
            async for record in archive.conversations.export(query):
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        return count

    if output is None:
        run(export(sys.stdout))
        return
    with output.open("w", encoding="utf-8") as stream:
        count = run(export(stream))
    click.echo(f"exported {count} conversations to {output}", err=True)


def _export_zip(
    ctx: click.Context,
    output: Path,
    start_from: dt.datetime | None,
    start_to: dt.datetime | None,
    options: dict[str, Any],
) -> None:
    wired = wiring(ctx)

    async def export() -> tuple[int, Verification]:
        async with wired.archive() as archive:
            if options["hold"]:
                ids = await archive.holds.conversation_ids(options["hold"])
            else:
                source_id = None
                if options["source"]:
                    source_id = (await archive.import_sources.get(options["source"])).id
                query = ConversationQuery(
                    user=options["user"],
                    import_source_id=source_id,
                    start_from=start_from,
                    start_to=start_to,
                    **{name: options[name] for name in _ANALYSIS_RANGES},
                )
                ids = await _all_ids(archive, query)
            store = wired.media_store()
            verification = await write_export(
                archive, ids, store, output, media=ObjectStoreMedia(store)
            )
            await archive.audit.record(
                actor=actor(),
                action="conversations_exported",
                target=f"hold:{options['hold']}" if options["hold"] else "search",
                details={"file": output.name, "conversations": len(ids), "format": "zip"},
            )
            return len(ids), verification

    count, verification = run(export())
    click.echo(f"exported {count} conversations to {output}", err=True)
    if not verification.ok:
        click.echo(verification.report(), err=True, nl=False)


async def _all_ids(archive: Archive, query: ConversationQuery) -> list[int]:
    ids: list[int] = []
    while True:
        page = await archive.conversations.search(
            dataclasses.replace(query, offset=len(ids), limit=1000)
        )
        ids += [conversation.id for conversation in page if conversation.id is not None]
        if len(page) < 1000:
            return ids


_ANALYSIS_RANGES = (
    "min_silence_ratio",
    "max_silence_ratio",
    "min_talkover_ratio",
    "max_talkover_ratio",
    "min_longest_silence",
    "max_longest_silence",
)


@click.group("config")
def config() -> None:
    """The whole set-up as one JSON document."""


@config.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.pass_context
def config_export(ctx: click.Context, file: Path) -> None:
    """Write import sources, policies, users and extensions to FILE (secrets left out)."""

    async def load() -> dict[str, Any]:
        async with wiring(ctx).archive() as archive:
            return export_configuration(await archive.load_configuration())

    text = json.dumps(run(load()), indent=2, ensure_ascii=False) + "\n"
    if str(file) == "-":
        click.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        click.echo(f"configuration written to {file}", err=True)


@config.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.pass_context
def config_import(ctx: click.Context, file: Path) -> None:
    """Add or replace everything in FILE, all or nothing; existing sources keep their secrets."""
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        document = json.loads(text)
    except OSError as error:
        raise ConfigurationError(f"cannot read {file} ({error.strerror})", field="file") from None
    except json.JSONDecodeError as error:
        raise ConfigurationError(
            f"{file} is not JSON ({error.msg} at line {error.lineno}); expected the document "
            "`callarchive config export` writes",
            field="file",
        ) from None

    async def apply() -> int:
        async with wiring(ctx).archive() as archive:
            existing = {s.name: s for s in await archive.import_sources.list()}
            configuration = import_configuration(document, existing_sources=existing)
            await archive.apply_configuration(configuration, actor=actor())
            return sum(
                len(items)
                for items in (
                    configuration.import_sources,
                    configuration.policies,
                    configuration.users,
                    configuration.extensions,
                )
            )

    click.echo(f"imported {run(apply())} items from {file}")


@click.group("secrets")
def secrets() -> None:
    """The keys: of stored secrets, of media, of seals."""


@secrets.command("rotate")
@click.pass_context
def secrets_rotate(ctx: click.Context) -> None:
    """Re-encrypt every stored secret under a new key.

    With the key file: a new key is generated, every secret re-encrypted, the old key dropped.
    With CALLARCHIVE_SECRET_KEY=NEW,OLD: every secret is re-encrypted under NEW; then remove OLD.
    The signing keys of seals (signing.key) are re-encrypted too.
    """
    wired = wiring(ctx)
    from_environment = wired.settings.secret_key is not None

    async def rotate() -> int:
        async with wired.archive() as archive:
            await archive.check_secrets()  # every secret opens with the current keys
            box = wired.box() if from_environment else rotate_key_file(wired.settings.home)
            count = await archive.reencrypt_secrets(box, actor=actor())
            reencrypt_signing_keys(wired.settings.home, box)
            return count

    count = run(rotate())
    if from_environment:
        click.echo(
            f"re-encrypted {count} secrets under the first key of CALLARCHIVE_SECRET_KEY; "
            "remove the other keys from it now"
        )
        return
    finish_key_rotation(wired.settings.home)
    click.echo(
        f"re-encrypted {count} secrets under a new key in {key_file_path(wired.settings.home)}; "
        f"restart running callarchive processes ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)"
    )


@secrets.command("rotate-signing-key")
@click.pass_context
def secrets_rotate_signing_key(ctx: click.Context) -> None:
    """Sign seals and the audit log with a new key from now on; the current key is retired.

    Seals and audit entries name the key that signed them, so those of the retired key keep
    verifying against its public key, which stays in signing.key (its private key does not).
    Copy signing.key to every node and restart running callarchive processes; give the new
    fingerprint to whoever checks exports.
    """
    wired = wiring(ctx)
    previous = wired.seal_keys().signer
    keyring = wired.rotate_seal_keys()

    async def record() -> None:
        async with wired.archive() as archive:
            await archive.audit.record(
                actor=actor(),
                action="signing_key_rotated",
                target="signing_key",
                details={
                    "key_id": keyring.signer.key_id,
                    "fingerprint": keyring.signer.fingerprint,
                    "retired_key_id": previous.key_id,
                },
            )

    run(record())
    click.echo(
        f"new signing key {keyring.signer.key_id} ({keyring.signer.fingerprint}); retired "
        f"{previous.key_id}, whose seals keep verifying"
    )
    click.echo(
        f"copy {signing_key_path(wired.settings.home)} to every node, restart running "
        "callarchive processes, and give the new fingerprint to whoever checks exports"
    )


@secrets.command("rotate-media-key")
@click.option(
    "--finish",
    is_flag=True,
    help="Wrap what is left under old keys (media written meanwhile), then drop them.",
)
@click.pass_context
def secrets_rotate_media_key(ctx: click.Context, finish: bool) -> None:
    """Wrap every media object's data key by a new media master key; media is not rewritten.

    With CALLARCHIVE_MEDIA_KEY_FILE: a new first key is added to the file and every data key
    re-wrapped; restart running callarchive processes, then run again with --finish, which
    re-wraps what they wrote meanwhile and drops the old keys. With CALLARCHIVE_MEDIA_KEY=NEW,OLD:
    every data key is re-wrapped by NEW; remove OLD once a run reports 0 re-wrapped.
    """
    wired = wiring(ctx)
    settings = wired.settings
    from_environment = settings.media_key is not None
    _require_media_key(settings.media_key_file, from_environment=from_environment)
    key_file = settings.media_key_file
    if not from_environment and not finish and key_file is not None:
        rotate_media_key_file(key_file)
    store = wired.media_store()
    if not isinstance(store, EncryptedObjectStore):  # pragma: no cover - checked above
        raise ConfigurationError("media encryption is off", field="CALLARCHIVE_MEDIA_KEY")

    async def rewrap() -> tuple[int, int]:
        seen = rewrapped = 0
        async for key in store.media_keys():
            seen += 1
            rewrapped += await store.rewrap(key)
        async with wired.archive() as archive:
            await archive.audit.record(
                actor=actor(),
                action="media_keys_rewrapped",
                target="media",
                details={"objects": seen, "rewrapped": rewrapped, "finish": finish},
            )
        return seen, rewrapped

    seen, rewrapped = run(rewrap())
    click.echo(f"re-wrapped the data keys of {rewrapped} of {seen} media objects")
    if from_environment:
        click.echo("remove the other keys from CALLARCHIVE_MEDIA_KEY once a run reports 0")
    elif finish and key_file is not None:
        finish_media_key_rotation(key_file)
        click.echo(f"kept only the new key in {key_file}")
    else:
        click.echo(
            "restart running callarchive processes, then run "
            "`callarchive secrets rotate-media-key --finish`"
        )


def _require_media_key(key_file: Path | None, *, from_environment: bool) -> None:
    if not from_environment and key_file is None:
        raise ConfigurationError(
            "media encryption is off; set CALLARCHIVE_MEDIA_KEY or CALLARCHIVE_MEDIA_KEY_FILE",
            field="CALLARCHIVE_MEDIA_KEY",
        )


@secrets.command("encrypt-media")
@click.option(
    "--progress-every",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Report progress after this many media objects.",
)
@click.pass_context
def secrets_encrypt_media(ctx: click.Context, progress_every: int) -> None:
    """Encrypt, in place, the media stored before media encryption was turned on.

    One object at a time, with imports and playback running: each is sealed into a staging
    copy, checked by decrypting it, and only then put in place of the unencrypted object.
    Stop it at any point and run it again: it goes on where it was (objects already encrypted
    are left as they are). An object whose sha256 is not the archive's is left unencrypted and
    named. Do not run retention meanwhile.
    """
    wired = wiring(ctx)
    _require_media_key(
        wired.settings.media_key_file, from_environment=wired.settings.media_key is not None
    )
    store = wired.media_store()
    if not isinstance(store, EncryptedObjectStore):  # pragma: no cover - checked above
        raise ConfigurationError("media encryption is off", field="CALLARCHIVE_MEDIA_KEY")

    async def encrypt() -> dict[str, int]:
        total = 0
        async for _ in store.media_keys():
            total += 1
        counts = {outcome.value: 0 for outcome in InPlaceOutcome} | {"unreadable": 0}
        async with wired.archive() as archive:
            seen = 0
            async for key in store.media_keys():
                outcome = await _encrypt_one(store, archive, key)
                counts[outcome] += 1
                seen += 1
                if seen % progress_every == 0 or seen == total:
                    click.echo(_progress(counts, seen, total), err=True)
            await archive.audit.record(
                actor=actor(), action="media_encrypted", target="media", details=counts
            )
        return counts

    counts = run(encrypt())
    click.echo(
        f"encrypted {counts['encrypted']} media objects in place; "
        f"{counts['already_encrypted']} were encrypted already"
    )
    left = counts["mismatched"] + counts["unreadable"] + counts["changed"]
    if left:
        raise FatalError(
            f"{left} media objects were left as they are (named above); run "
            "`callarchive verify --all --media`, then this command again"
        )


async def _encrypt_one(store: EncryptedObjectStore, archive: Archive, key: str) -> str:
    try:
        sha256 = await archive.conversations.media_sha256(key)
        outcome = await encrypt_in_place(store, key, sha256=sha256)
    except CorruptObjectError as error:
        click.echo(f"left unencrypted: {error}", err=True)
        return "unreadable"
    if outcome is InPlaceOutcome.MISMATCHED:
        click.echo(f"left unencrypted: {key!r} does not have the archive's sha256", err=True)
    elif outcome is InPlaceOutcome.CHANGED:
        click.echo(f"left for the next run: {key!r} changed while it was encrypted", err=True)
    return outcome.value


def _progress(counts: dict[str, int], seen: int, total: int) -> str:
    return (
        f"{seen} of {total} media objects: {counts['encrypted']} encrypted, "
        f"{counts['already_encrypted']} already encrypted, {counts['gone']} gone meanwhile"
    )


__all__ = ["config", "conversations", "db", "secrets"]
