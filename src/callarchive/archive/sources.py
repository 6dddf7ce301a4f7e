"""Stored import sources: every item of the seed's table, secrets encrypted at rest.

Client secret, TLS key password and proxy password are written only as Fernet ciphertext and
decrypted into `Secret` values when read. Names are unique; every change is audited.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callarchive.archive._context import Context
from callarchive.archive.audit import write_entry
from callarchive.archive.database import translate_errors
from callarchive.archive.schema import (
    ConversationRow,
    ImportSourceRow,
    PolicyRow,
    policy_import_sources,
)
from callarchive.configuration import (
    SECRET_FIELDS,
    Codec,
    FetchStrategy,
    ImportSource,
    export_import_source,
)
from callarchive.errors import ConfigurationError
from callarchive.secrets import Secret, SecretBox

_PLAIN = (
    "name",
    "client_id",
    "auth_url",
    "api_url",
    "tls_certificate",
    "tls_key_file",
    "tls_trust_list",
    "proxy_address",
    "proxy_port",
    "proxy_username",
    "codec",
    "recording_timezone",
    "recording_start",
    "max_recording_length_min",
    "availability_delay_min",
    "cache_lifetime_min",
    "delete_on_completion",
    "fetch_strategy",
    "batch_duration_min",
    "request_budget_per_minute",
)
_ENUMS = ("codec", "fetch_strategy")


class ImportSources:
    """Add, change, read and list import sources."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def add(self, source: ImportSource, *, actor: str) -> ImportSource:
        """Store a new import source; `ConfigurationError` (name) when the name is taken."""
        async with translate_errors(), self._context.sessions.begin() as session:
            if await _row_by_name(session, source.name) is not None:
                raise ConfigurationError(
                    f"an import source named {source.name!r} already exists; expected a new "
                    "name (or change the existing one)",
                    field="name",
                )
            return await save_import_source(session, self._context, source, actor=actor)

    async def save(self, source: ImportSource, *, actor: str) -> ImportSource:
        """Store `source`, replacing the stored one of the same id, else of the same name."""
        async with translate_errors(), self._context.sessions.begin() as session:
            return await save_import_source(session, self._context, source, actor=actor)

    async def get(self, name: str) -> ImportSource:
        """The import source called `name`; `ConfigurationError` when there is none."""
        async with translate_errors(), self._context.sessions() as session:
            return to_import_source(await _existing(session, name), self._context.box)

    async def delete(self, name: str, *, actor: str) -> None:
        """Delete the import source `name`.

        `ConfigurationError` when there is none, while a policy uses it, or once conversations
        were imported from it (the archive keeps them, and they name their source).
        """
        async with translate_errors(), self._context.sessions.begin() as session:
            row = await _existing(session, name)
            policies = (
                await session.scalars(
                    select(PolicyRow.name)
                    .join(policy_import_sources, policy_import_sources.c.policy_id == PolicyRow.id)
                    .where(policy_import_sources.c.import_source_id == row.id)
                    .order_by(PolicyRow.name)
                )
            ).all()
            if policies:
                raise ConfigurationError(
                    f"{row.name!r} is used by the policies {', '.join(map(repr, policies))}; "
                    "remove it from them (or delete them) first",
                    field="name",
                )
            imported = await session.scalar(
                select(func.count()).where(ConversationRow.import_source_id == row.id)
            )
            if imported:
                raise ConfigurationError(
                    f"{imported} conversations were imported from {row.name!r} and the archive "
                    "keeps them with their source; an import source with conversations cannot "
                    "be deleted (disable its policies instead)",
                    field="name",
                )
            target = f"import_source:{row.name}"
            await session.delete(row)
            write_entry(
                session,
                at=self._context.now(),
                actor=actor,
                action="import_source_deleted",
                target=target,
            )

    async def get_by_id(self, source_id: int) -> ImportSource:
        """The import source with this archive id; `ConfigurationError` when there is none."""
        async with translate_errors(), self._context.sessions() as session:
            row = await session.get(ImportSourceRow, source_id)
            if row is None:
                raise ConfigurationError(f"no import source has id {source_id}", field="id")
            return to_import_source(row, self._context.box)

    async def list(self) -> list[ImportSource]:
        """Every import source, by name."""
        async with translate_errors(), self._context.sessions() as session:
            rows = await session.scalars(select(ImportSourceRow).order_by(ImportSourceRow.name))
            return [to_import_source(row, self._context.box) for row in rows]


async def save_import_source(
    session: AsyncSession, context: Context, source: ImportSource, *, actor: str
) -> ImportSource:
    """Insert or replace (by id, else by name) inside the caller's transaction."""
    row = await session.get(ImportSourceRow, source.id) if source.id is not None else None
    named = await _row_by_name(session, source.name)
    if row is not None and named is not None and named.id != row.id:
        raise ConfigurationError(
            f"another import source is named {source.name!r}; expected a new name",
            field="name",
        )
    row = row or named
    now = context.now()
    action = "import_source_changed"
    if row is None:
        row = ImportSourceRow(created_at=now)
        session.add(row)
        action = "import_source_added"
    _fill(row, source, context.box)
    row.updated_at = now
    await session.flush()
    write_entry(
        session,
        at=now,
        actor=actor,
        action=action,
        target=f"import_source:{source.name}",
        details=export_import_source(source),
    )
    return to_import_source(row, context.box)


def _fill(row: ImportSourceRow, source: ImportSource, box: SecretBox) -> None:
    for name in _PLAIN:
        value = getattr(source, name)
        setattr(row, name, value.value if isinstance(value, Codec | FetchStrategy) else value)
    row.internal_number_patterns = list(source.internal_number_patterns)
    row.client_secret_encrypted = box.encrypt(source.client_secret)
    row.tls_key_password_encrypted = _encrypt(box, source.tls_key_password)
    row.proxy_password_encrypted = _encrypt(box, source.proxy_password)


def _encrypt(box: SecretBox, secret: Secret | None) -> str | None:
    return None if secret is None else box.encrypt(secret)


def to_import_source(row: ImportSourceRow, box: SecretBox) -> ImportSource:
    """The domain value of a stored row, secrets decrypted."""
    return ImportSource(
        **{name: getattr(row, name) for name in _PLAIN if name not in _ENUMS},
        codec=Codec(row.codec),
        fetch_strategy=FetchStrategy(row.fetch_strategy),
        internal_number_patterns=tuple(row.internal_number_patterns),
        client_secret=box.decrypt(row.client_secret_encrypted),
        tls_key_password=_decrypt(box, row.tls_key_password_encrypted),
        proxy_password=_decrypt(box, row.proxy_password_encrypted),
        id=row.id,
    )


def _decrypt(box: SecretBox, token: str | None) -> Secret | None:
    return None if token is None else box.decrypt(token)


async def reencrypt_import_sources(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every stored secret under the box's primary key; the number re-encrypted."""
    count = 0
    for row in await session.scalars(select(ImportSourceRow)):
        for name in SECRET_FIELDS:
            column = f"{name}_encrypted"
            token = getattr(row, column)
            if token is not None:
                setattr(row, column, box.reencrypt(token))
                count += 1
    return count


async def _row_by_name(session: AsyncSession, name: str) -> ImportSourceRow | None:
    row: ImportSourceRow | None = await session.scalar(
        select(ImportSourceRow).where(ImportSourceRow.name == name.strip())
    )
    return row


async def _existing(session: AsyncSession, name: str) -> ImportSourceRow:
    row = await _row_by_name(session, name)
    if row is None:
        raise ConfigurationError(
            f"there is no import source named {name!r}; expected one of "
            f"{await _names(session)} (see `callarchive source list`)",
            field="name",
        )
    return row


async def _names(session: AsyncSession) -> str:
    names: Sequence[str] = (
        await session.scalars(select(ImportSourceRow.name).order_by(ImportSourceRow.name))
    ).all()
    return ", ".join(repr(n) for n in names) or "none (add one with `callarchive source add`)"


__all__ = ["ImportSources", "reencrypt_import_sources", "save_import_source", "to_import_source"]
