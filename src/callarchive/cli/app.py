"""The `callarchive` command: its group, its wiring, and the one place errors become exit codes.

`Wiring` builds the real dependencies from `Settings` (the `CALLARCHIVE_*` variables); tests
pass their own through click's `obj`. A `CallarchiveError` ends any command with its message
(no traceback) and its `exit_code`: 2 for configuration errors, 75 when a retry may succeed,
77 for a missing Genesys permission, 1 otherwise. Usage errors are click's (exit code 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import getpass
import importlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from callarchive import __version__, logs
from callarchive.archive import (
    Archive,
    EncryptedObjectStore,
    MediaKeyring,
    ObjectStore,
    S3Options,
    WorkStore,
    current_revision,
    head_revision,
    load_media_keyring,
)
from callarchive.clock import Clock, SystemClock
from callarchive.errors import CallarchiveError, ConfigurationError, FatalError
from callarchive.genesys import TlsSettings
from callarchive.imports import SourceProbe, genesys_probe
from callarchive.secrets import Secret, SecretBox, load_secret_box
from callarchive.settings import Settings
from callarchive.signing import SealKeyring, load_seal_keyring, rotate_signing_key

T = TypeVar("T")


@dataclasses.dataclass(kw_only=True)
class Wiring:
    """Everything a command needs, built from settings once per invocation."""

    settings: Settings
    probe_override: SourceProbe | None = None
    clock: Clock = dataclasses.field(default_factory=SystemClock)
    _box: SecretBox | None = None
    _seal_keys: SealKeyring | None = None

    @property
    def probe(self) -> SourceProbe:
        """How `source test` reaches Genesys (the real client unless a test replaces it)."""
        if self.probe_override is not None:
            return self.probe_override
        return genesys_probe(
            self.clock,
            certificate_folder=str(self.settings.home / "certificates"),
            server_certificate=self.server_certificate(),
        )

    def server_certificate(self) -> TlsSettings | None:
        """The installation's certificate (CALLARCHIVE_TLS_*), the default client certificate
        of import sources that name none."""
        settings = self.settings
        if settings.tls_certificate is None:
            return None
        password = settings.tls_key_password
        return TlsSettings(
            certificate=str(settings.tls_certificate),
            key_file=str(settings.tls_key or settings.tls_certificate),
            key_password=password.get_secret_value() if password else None,
        )

    @classmethod
    def from_environment(cls) -> Wiring:
        """The wiring of a real invocation: settings from `CALLARCHIVE_*` variables."""
        try:
            return cls(settings=Settings())
        except ValidationError as error:
            first = error.errors()[0]
            field = "CALLARCHIVE_" + "_".join(str(part) for part in first["loc"]).upper()
            raise ConfigurationError(first["msg"], field=field) from None

    def box(self) -> SecretBox:
        """The secret box (the key file is created on first use)."""
        if self._box is None:
            key = self.settings.secret_key
            self._box = load_secret_box(
                home=self.settings.home, env_key=key.get_secret_value() if key else None
            )
        return self._box

    def seal_keys(self) -> SealKeyring:
        """The installation's signing keys of seals (the key file is created on first use)."""
        if self._seal_keys is None:
            self._seal_keys = load_seal_keyring(self.settings.home, self.box())
        return self._seal_keys

    def rotate_seal_keys(self) -> SealKeyring:
        """Make a new signing key and retire the current one; what this wiring opens from now
        on signs with the new key."""
        self._seal_keys = rotate_signing_key(self.settings.home, self.box(), self.clock.now())
        return self._seal_keys

    def s3(self) -> S3Options:
        """How to reach S3 when a store URL is s3://."""
        secret = self.settings.s3_secret_access_key
        return S3Options(
            endpoint_url=self.settings.s3_endpoint_url,
            region=self.settings.s3_region,
            access_key_id=self.settings.s3_access_key_id,
            secret_access_key=Secret(secret.get_secret_value()) if secret else None,
        )

    def media_store(self) -> ObjectStore:
        """The media store of `CALLARCHIVE_MEDIA_URL`, encrypted when a media key is set."""
        store = ObjectStore.from_url(
            self.settings.resolved_media_url,
            s3=self.s3(),
            object_lock=self.settings.s3_object_lock,
        )
        keyring = self.media_keyring()
        return store if keyring is None else EncryptedObjectStore(store, keyring)

    def media_keyring(self) -> MediaKeyring | None:
        """The media master keys (`CALLARCHIVE_MEDIA_KEY[_FILE]`); None: not encrypted."""
        key = self.settings.media_key
        return load_media_keyring(
            env_key=key.get_secret_value() if key else None,
            key_file=self.settings.media_key_file,
        )

    def work_store(self) -> WorkStore:
        """The work store (the seed's folders) of `CALLARCHIVE_WORK_URL`."""
        return WorkStore.from_url(self.settings.resolved_work_url, s3=self.s3())

    @contextlib.asynccontextmanager
    async def archive(self, *, check_schema: bool = True) -> AsyncIterator[Archive]:
        """The archive, closed afterwards; refused when its schema is not the newest."""
        archive = Archive.open(
            self.settings.resolved_database_url,
            self.box(),
            clock=self.clock,
            seal_key=self.seal_keys(),
        )
        try:
            if check_schema:
                current, head = await current_revision(archive.engine), head_revision()
                if current != head:
                    raise FatalError(
                        f"the database is at schema revision {current or 'none'} and this "
                        f"callarchive needs {head}; run `callarchive db upgrade` first"
                    )
            yield archive
        finally:
            await archive.close()


# Each command's module, loaded when the command runs: `import run` then loads neither the web
# server, nor the job queue, nor the S3 object-lock client, and starts with less memory.
COMMANDS = {
    "alert": ("alerts", "alert"),
    "config": ("data", "config"),
    "conversations": ("data", "conversations"),
    "cursor": ("imports", "cursor"),
    "db": ("data", "db"),
    "extension": ("setup", "extension"),
    "hold": ("compliance", "hold"),
    "import": ("imports", "import_"),
    "policy": ("setup", "policy"),
    "reconcile": ("reconcile", "reconcile"),
    "retention": ("compliance", "retention"),
    "retry-buffer": ("imports", "retry_buffer"),
    "seal": ("verify", "seal"),
    "secrets": ("data", "secrets"),
    "serve": ("running", "serve"),
    "server": ("running", "server"),
    "source": ("sources", "source"),
    "user": ("setup", "user"),
    "verify": ("verify", "verify"),
    "worker": ("workers", "worker"),
}


class _Group(click.Group):
    """A group that turns every `CallarchiveError` into its message and exit code, and loads
    each command's module (`COMMANDS`) only when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, name = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(f"callarchive.cli.{module}"), name)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CallarchiveError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="callarchive")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    envvar="CALLARCHIVE_LOG_LEVEL",
    help="what the structured log (on standard error) shows",
)
@click.option(
    "--log-json/--log-text",
    default=False,
    envvar="CALLARCHIVE_LOG_JSON",
    help="JSON lines (for a log collector) or readable text",
)
@click.pass_context
def cli(ctx: click.Context, log_level: str, log_json: bool) -> None:
    """callarchive: archive Genesys Cloud call recordings for compliance.

    Configuration comes from CALLARCHIVE_* environment variables (see docs/configuration.md);
    by default everything lives in ~/.callarchive.
    """
    logs.configure(level=getattr(logging, log_level.upper()), json=log_json)
    if ctx.obj is None:
        ctx.obj = Wiring.from_environment()


def wiring(ctx: click.Context) -> Wiring:
    """The wiring of the running command."""
    found: Wiring = ctx.find_root().obj
    return found


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine to completion."""
    return asyncio.run(coroutine)


def actor() -> str:
    """Who the audit log names for a command-line change."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def main() -> None:
    """Entry point of the `callarchive` script."""
    cli(prog_name="callarchive")


__all__ = ["Wiring", "actor", "cli", "main", "run", "wiring"]
