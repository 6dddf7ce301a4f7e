"""`Archive`: the database of one installation and its repositories.

One object gives every repository (`import_sources`, `policies`, `servers`, `users`,
`extensions`, `conversations`, `partitions`, `alerts`, `batch_reports`, `scheduled_runs`, `audit`,
`accounts`, `reconciliations`, `holds`, `retention`, `seals`, `late_seals`) over one engine, one
secret box, one signing key and one clock, plus the operations that span them: applying a whole
configuration in one transaction, loading it back, re-encrypting every stored secret after
a key rotation, and the lock of one pair's runs across nodes.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from callarchive.archive import database
from callarchive.archive._context import Context
from callarchive.archive.accounts import Accounts
from callarchive.archive.alerts import Alerts
from callarchive.archive.audit import AuditLog, write_entry
from callarchive.archive.conversations import Conversations
from callarchive.archive.holds import Holds
from callarchive.archive.late_seals import LateSeals
from callarchive.archive.locks import pair_lock
from callarchive.archive.partitions import Partitions
from callarchive.archive.people import Extensions, Users, save_extension, save_user
from callarchive.archive.policies import Policies, Servers, save_policy
from callarchive.archive.reconciliations import Reconciliations
from callarchive.archive.reports import BatchReports
from callarchive.archive.retention import Retention
from callarchive.archive.runs import ScheduledRuns
from callarchive.archive.schema import ImportSourceRow
from callarchive.archive.seals import Seals
from callarchive.archive.sources import (
    ImportSources,
    reencrypt_import_sources,
    save_import_source,
    to_import_source,
)
from callarchive.clock import Clock, SystemClock
from callarchive.configuration import Configuration, User
from callarchive.errors import ConfigurationError
from callarchive.secrets import SealKey, SecretBox
from callarchive.signing import SealKeyring


class Archive:
    """The archive database. Build with `Archive.open(url, box)`; close with `close()`."""

    def __init__(
        self,
        engine: AsyncEngine,
        box: SecretBox,
        *,
        clock: Clock | None = None,
        seal_key: SealKey | SealKeyring | None = None,
    ) -> None:
        """`seal_key` signs seals and the audit chain: the installation's keyring
        (`load_seal_keyring`: its signing key signs, its retired keys still verify); a lone key
        has no retired ones; None gives a new key of this object's lifetime (tests)."""
        self.engine = engine
        keyring = (
            seal_key
            if isinstance(seal_key, SealKeyring)
            else SealKeyring(seal_key or SealKey.generate())
        )
        self._context = Context(
            sessions=database.session_factory(engine, info={"seal_key": keyring.signer}),
            box=box,
            clock=clock or SystemClock(),
            seal_keys=keyring,
        )
        self.import_sources = ImportSources(self._context)
        self.policies = Policies(self._context)
        self.servers = Servers(self._context)
        self.users = Users(self._context)
        self.extensions = Extensions(self._context)
        self.conversations = Conversations(self._context)
        self.partitions = Partitions(self._context)
        self.alerts = Alerts(self._context)
        self.batch_reports = BatchReports(self._context)
        self.scheduled_runs = ScheduledRuns(self._context)
        self.audit = AuditLog(self._context)
        self.accounts = Accounts(self._context)
        self.holds = Holds(self._context)
        self.retention = Retention(self._context)
        self.reconciliations = Reconciliations(self._context)
        self.seals = Seals(self._context)
        self.late_seals = LateSeals(self._context)

    @classmethod
    def open(
        cls,
        url: str,
        box: SecretBox,
        *,
        clock: Clock | None = None,
        seal_key: SealKey | SealKeyring | None = None,
    ) -> Archive:
        """An archive on the database at `url` (sqlite:///PATH or postgresql://...)."""
        return cls(database.create_engine(url), box, clock=clock, seal_key=seal_key)

    async def upgrade(self) -> None:
        """Create or migrate the schema to the newest revision (idempotent)."""
        await database.upgrade(self.engine)

    async def close(self) -> None:
        """Release every connection."""
        await self.engine.dispose()

    def pair_lock(self, policy_id: int, import_source_id: int) -> AbstractAsyncContextManager[None]:
        """The lock one run of a policy and import source holds on every node (PostgreSQL);
        `PairLockedError` at once when another node holds it."""
        return pair_lock(self.engine, policy_id, import_source_id)

    async def load_configuration(self) -> Configuration:
        """The whole set-up, as `callarchive config export` writes it."""
        return Configuration(
            import_sources=tuple(await self.import_sources.list()),
            policies=tuple(await self.policies.list()),
            users=tuple(await self.users.list()),
            extensions=tuple(await self.extensions.list()),
        )

    async def apply_configuration(self, configuration: Configuration, *, actor: str) -> None:
        """Add or replace everything in `configuration`, all or nothing.

        Import sources and policies are matched by name, users by login; extensions are added
        unless an identical one exists. Nothing is deleted.
        """
        context = self._context
        async with database.translate_errors(), context.sessions.begin() as session:
            for source in configuration.import_sources:
                await save_import_source(session, context, source, actor=actor)
            for user in _supervisors_first(configuration.users):
                await save_user(session, context, user, actor=actor)
            for extension in configuration.extensions:
                await save_extension(session, context, extension, actor=actor)
            for policy in configuration.policies:
                await save_policy(session, context, policy, actor=actor)

    async def reencrypt_secrets(self, box: SecretBox, *, actor: str) -> int:
        """Re-encrypt every stored secret under `box`'s primary key; how many were.

        `box` must hold the old keys too (rotation adds a key in front of them). Afterwards
        this archive uses `box`.
        """
        async with database.translate_errors(), self._context.sessions.begin() as session:
            count = await reencrypt_import_sources(session, box)
            write_entry(
                session,
                at=self._context.now(),
                actor=actor,
                action="secrets_reencrypted",
                target="secret_key",
                details={"secrets": count},
            )
        self._context.box = box
        return count

    async def check_secrets(self) -> int:
        """Decrypt every stored secret; the number of import sources checked.

        `ConfigurationError` (secret_key) when the configured keys cannot open one.
        """
        async with database.translate_errors(), self._context.sessions() as session:
            rows = (await session.scalars(select(ImportSourceRow))).all()
            for row in rows:
                to_import_source(row, self._context.box)
            return len(rows)


def _supervisors_first(users: tuple[User, ...]) -> list[User]:
    """Users ordered so that every supervisor in the list is saved before those it supervises."""
    by_login = {user.login: user for user in users}
    ordered: list[User] = []
    placed: set[str] = set()

    def place(user: User, path: frozenset[str]) -> None:
        if user.login in path:
            raise ConfigurationError(
                f"{user.login!r} is above and below {sorted(path)} in the hierarchy; expected "
                "supervisors without a cycle",
                field="supervisor",
            )
        if user.login in placed:
            return
        supervisor = by_login.get(user.supervisor or "")
        if supervisor is not None:
            place(supervisor, path | {user.login})
        placed.add(user.login)
        ordered.append(user)

    for user in users:
        place(user, frozenset())
    return ordered


__all__ = ["Archive"]
