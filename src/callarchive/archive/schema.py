"""The archive's tables: SQLAlchemy 2 models shared by SQLite and PostgreSQL.

The Alembic migrations in `migrations/` create exactly these (a test compares them on both
databases). Unique constraints make imports idempotent: one conversation per import source and
Genesys conversation id, one recording per Genesys recording id and codec, one object per media
key. Times are stored in UTC and always come back timezone-aware. Secrets are stored only as
Fernet ciphertext (`*_encrypted` columns).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the archive: times must be timezone-aware")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: dt.datetime | None,
        dialect: Dialect,  # noqa: ARG002 (the TypeDecorator signature)
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# SQLite gives autoincrement only to INTEGER PRIMARY KEY; PostgreSQL gets 64-bit identities.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with constraint names that are the same on every database."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: Json,
    }


def _fk(target: str, *, ondelete: str) -> ForeignKey:
    return ForeignKey(target, ondelete=ondelete)


class ImportSourceRow(Base):
    """An import source: every item of the seed's table, secrets encrypted."""

    __tablename__ = "import_sources"
    __table_args__ = (
        CheckConstraint(
            "max_recording_length_min >= 0 AND availability_delay_min >= 0 "
            "AND cache_lifetime_min >= 0 AND batch_duration_min > 0 "
            "AND request_budget_per_minute > 0",
            name="minutes",
        ),
        CheckConstraint("proxy_port IS NULL OR proxy_port BETWEEN 1 AND 65535", name="proxy_port"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    auth_url: Mapped[str] = mapped_column(String(1000))
    api_url: Mapped[str] = mapped_column(String(1000))
    tls_certificate: Mapped[str | None] = mapped_column(String(1000))
    tls_key_file: Mapped[str | None] = mapped_column(String(1000))
    tls_key_password_encrypted: Mapped[str | None] = mapped_column(Text)
    tls_trust_list: Mapped[str | None] = mapped_column(String(1000))
    proxy_address: Mapped[str | None] = mapped_column(String(253))
    proxy_port: Mapped[int | None] = mapped_column(Integer)
    proxy_username: Mapped[str | None] = mapped_column(String(1000))
    proxy_password_encrypted: Mapped[str | None] = mapped_column(Text)
    codec: Mapped[str] = mapped_column(String(16))
    recording_timezone: Mapped[str] = mapped_column(String(100))
    recording_start: Mapped[dt.datetime]
    max_recording_length_min: Mapped[int] = mapped_column(Integer)
    availability_delay_min: Mapped[int] = mapped_column(Integer)
    cache_lifetime_min: Mapped[int] = mapped_column(Integer)
    delete_on_completion: Mapped[bool] = mapped_column(Boolean)
    fetch_strategy: Mapped[str] = mapped_column(String(16))
    internal_number_patterns: Mapped[list[str]] = mapped_column(Json)
    batch_duration_min: Mapped[int] = mapped_column(Integer)
    request_budget_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class ServerRow(Base):
    """A callarchive node; its host name is the Location of what it imports."""

    __tablename__ = "servers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    host: Mapped[str | None] = mapped_column(String(253))
    last_heartbeat: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class PolicyRow(Base):
    """A Data Management Policy with the Data Import action."""

    __tablename__ = "policies"
    __table_args__ = (
        CheckConstraint("every_minutes > 0", name="every_minutes"),
        CheckConstraint("enable_recording_rules", name="recording_rules_on"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    action: Mapped[str] = mapped_column(String(32))
    enable_recording_rules: Mapped[bool] = mapped_column(Boolean)
    every_minutes: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    # Revision 0002: cron schedules (replacing every_minutes when set) and active hours (HH:MM).
    cron: Mapped[str | None] = mapped_column(String(200))
    active_from: Mapped[str | None] = mapped_column(String(5))
    active_to: Mapped[str | None] = mapped_column(String(5))
    schedule_timezone: Mapped[str] = mapped_column(String(100), server_default="UTC")
    # Revision v0006_retention: days its conversations are kept (None: for ever).
    retention_days: Mapped[int | None] = mapped_column(Integer)


policy_import_sources = Table(
    "policy_import_sources",
    Base.metadata,
    Column("policy_id", Id, _fk("policies.id", ondelete="CASCADE"), primary_key=True),
    Column("import_source_id", Id, _fk("import_sources.id", ondelete="RESTRICT"), primary_key=True),
    Column("position", Integer, nullable=False),
)

policy_servers = Table(
    "policy_servers",
    Base.metadata,
    Column("policy_id", Id, _fk("policies.id", ondelete="CASCADE"), primary_key=True),
    Column("server_id", Id, _fk("servers.id", ondelete="RESTRICT"), primary_key=True),
)


class UserRow(Base):
    """A user: recorded or not, a role, a place in the agent hierarchy."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    login: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    supervisor_id: Mapped[int | None] = mapped_column(Id, _fk("users.id", ondelete="SET NULL"))
    recorded: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    # Revision 0004: web sign-in (an argon2 hash; None: the user cannot sign in) and the time
    # zone the user's pages show times in (None: UTC).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    time_zone: Mapped[str | None] = mapped_column(String(100))
    # Revision v0006_retention: days the user's recorded conversations are kept, overriding
    # their policy's (None: the policy's).
    retention_days: Mapped[int | None] = mapped_column(Integer)


class PartitionRow(Base):
    """A partition: attached data of a call that grants access to users holding it."""

    __tablename__ = "partitions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


user_partitions = Table(
    "user_partitions",
    Base.metadata,
    Column("user_id", Id, _fk("users.id", ondelete="CASCADE"), primary_key=True),
    Column("partition_id", Id, _fk("partitions.id", ondelete="CASCADE"), primary_key=True),
)


class ExtensionRow(Base):
    """A number or address owned by a user for a period."""

    __tablename__ = "extensions"
    __table_args__ = (
        Index(None, "type", "value"),
        CheckConstraint("type IN ('number', 'address')", name="type"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[int] = mapped_column(Id, _fk("users.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[dt.datetime | None]
    valid_to: Mapped[dt.datetime | None]


class ConversationRow(Base):
    """A CDR: the standard metadata of DESIGN.md section 5 and the Genesys ids."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("import_source_id", "genesys_conversation_id"),
        Index(None, "start_at"),
        Index(None, "recorded_user_id", "start_at"),
        Index(None, "from_number", "start_at"),
        Index(None, "to_number", "start_at"),
        Index(None, "direction", "start_at"),
        Index(None, "platform_call_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    import_source_id: Mapped[int] = mapped_column(Id, _fk("import_sources.id", ondelete="RESTRICT"))
    policy_id: Mapped[int | None] = mapped_column(Id, _fk("policies.id", ondelete="SET NULL"))
    genesys_conversation_id: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime | None]
    duration_s: Mapped[int | None] = mapped_column(Integer)
    recorded_user_id: Mapped[int | None] = mapped_column(Id, _fk("users.id", ondelete="SET NULL"))
    user_name: Mapped[str | None] = mapped_column(String(200))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    from_number: Mapped[str | None] = mapped_column(String(320))
    from_info: Mapped[str | None] = mapped_column(String(200))
    to_number: Mapped[str | None] = mapped_column(String(320))
    to_info: Mapped[str | None] = mapped_column(String(200))
    direction: Mapped[str | None] = mapped_column(String(16))
    direction_user: Mapped[str | None] = mapped_column(String(16))
    from_user: Mapped[str | None] = mapped_column(String(200))
    to_user: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(253))
    platform_call_id: Mapped[str] = mapped_column(String(64))
    source_platform: Mapped[str] = mapped_column(String(32))
    conversation_type: Mapped[str] = mapped_column(String(32))
    record_type: Mapped[str] = mapped_column(String(32))
    dialed_number: Mapped[str | None] = mapped_column(String(320))
    end_cause: Mapped[str | None] = mapped_column(String(64))
    audio_codec: Mapped[str | None] = mapped_column(String(32))
    media_length: Mapped[str | None] = mapped_column(String(16))
    voice_quality: Mapped[float | None] = mapped_column(Float)
    silence_ratio: Mapped[float | None] = mapped_column(Float)
    talkover_ratio: Mapped[float | None] = mapped_column(Float)
    longest_silence: Mapped[float | None] = mapped_column(Float)
    media_complete: Mapped[bool] = mapped_column(Boolean)
    deleted_in_genesys: Mapped[bool] = mapped_column(Boolean)
    imported_at: Mapped[dt.datetime]
    # Revision v0003_analysis: seconds of speech on the customer (left) and agent (right) channel.
    customer_speech_s: Mapped[float | None] = mapped_column(Float)
    agent_speech_s: Mapped[float | None] = mapped_column(Float)


conversation_partitions = Table(
    "conversation_partitions",
    Base.metadata,
    Column("conversation_id", Id, _fk("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("partition_id", Id, _fk("partitions.id", ondelete="CASCADE"), primary_key=True),
)


class RecordingRow(Base):
    """A media object of a conversation in one codec."""

    __tablename__ = "recordings"
    __table_args__ = (
        UniqueConstraint("genesys_recording_id", "codec"),
        CheckConstraint("size >= 0", name="size"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        Id, _fk("conversations.id", ondelete="CASCADE"), index=True
    )
    genesys_recording_id: Mapped[str] = mapped_column(String(64))
    codec: Mapped[str] = mapped_column(String(16))
    object_key: Mapped[str] = mapped_column(String(1000), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    channels: Mapped[int | None] = mapped_column(SmallInteger)
    media_subtype: Mapped[str | None] = mapped_column(String(32))
    stored_at: Mapped[dt.datetime]
    deleted_in_genesys_at: Mapped[dt.datetime | None]
    # Revision v0003_analysis: the recording's audio figures (JSON object, the analysis package's
    # `RecordingAnalysis`) and its waveform peaks (int8 min/max pairs per channel, a few kB).
    analysis: Mapped[dict[str, Any] | None]
    waveform: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class AlertRow(Base):
    """An alert: one of the seed's kinds, or the batch notification."""

    __tablename__ = "alerts"
    __table_args__ = (Index(None, "state", "raised_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]]
    policy_id: Mapped[int | None] = mapped_column(Id, _fk("policies.id", ondelete="SET NULL"))
    import_source_id: Mapped[int | None] = mapped_column(
        Id, _fk("import_sources.id", ondelete="SET NULL")
    )
    conversation_id: Mapped[int | None] = mapped_column(
        Id, _fk("conversations.id", ondelete="SET NULL")
    )
    raised_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    # Revision 0002: when the alert was handed to the delivery channels (once, by one node).
    delivered_at: Mapped[dt.datetime | None]


class ScheduledRunRow(Base):
    """A due run of a policy and import source, claimed once by the node that starts it."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (UniqueConstraint("policy_id", "import_source_id", "due_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    policy_id: Mapped[int] = mapped_column(Id, _fk("policies.id", ondelete="CASCADE"))
    import_source_id: Mapped[int] = mapped_column(Id, _fk("import_sources.id", ondelete="CASCADE"))
    due_at: Mapped[dt.datetime]
    server: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime]


class BatchReportRow(Base):
    """One import run of a policy and import source: its window and counters."""

    __tablename__ = "batch_reports"
    __table_args__ = (Index(None, "policy_id", "import_source_id", "started_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    policy_id: Mapped[int | None] = mapped_column(Id, _fk("policies.id", ondelete="SET NULL"))
    import_source_id: Mapped[int | None] = mapped_column(
        Id, _fk("import_sources.id", ondelete="SET NULL")
    )
    server: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime]
    window_start: Mapped[dt.datetime | None]
    window_end: Mapped[dt.datetime | None]
    discovered: Mapped[int] = mapped_column(Integer)
    imported: Mapped[int] = mapped_column(Integer)
    already_imported: Mapped[int] = mapped_column(Integer)
    skipped_by_rules: Mapped[int] = mapped_column(Integer)
    retry_buffered: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    media_downloaded: Mapped[int] = mapped_column(Integer)


class BatchReportEntryRow(Base):
    """One conversation of a batch report (the seed's batch notification line)."""

    __tablename__ = "batch_report_entries"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        Id, _fk("batch_reports.id", ondelete="CASCADE"), index=True
    )
    genesys_conversation_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[int | None] = mapped_column(
        Id, _fk("conversations.id", ondelete="SET NULL")
    )
    extension: Mapped[str | None] = mapped_column(String(320))
    participant_number: Mapped[str | None] = mapped_column(String(320))
    outcome: Mapped[str] = mapped_column(String(32))
    newly_imported: Mapped[bool] = mapped_column(Boolean)
    media_downloaded: Mapped[bool] = mapped_column(Boolean)
    already_imported: Mapped[bool] = mapped_column(Boolean)
    # Revision v0006_retention: On Completion Delete left its recordings in Genesys because
    # Genesys protects them from deletion (a legal hold there).
    deletion_protected: Mapped[bool] = mapped_column(Boolean, server_default=false())


class AuditRow(Base):
    """Who did what, when: configuration changes, playbacks, downloads."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    # Revision v0010_audit_action_index: the filter's list of actions steps through it.
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(400))
    details: Mapped[dict[str, Any]]
    # Revision v0007_seals: the audit chain, `link = sha256(previous link || sha256(canonical
    # entry))`, and the Ed25519 signature of the link (None: written before the revision).
    link: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(128))
    # Revision v0008_seal_origins: the signing key's id (None: the installation's first key).
    key_id: Mapped[str | None] = mapped_column(String(16))


class WebSessionRow(Base):
    """A signed-in browser: only the sha256 of its cookie token is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(Id, _fk("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class ApiKeyRow(Base):
    """An API key for automation: it acts as its user; only its sha256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(Id, _fk("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class LoginThrottleRow(Base):
    """Failed sign-ins of one login or one client address, and until when it is locked out."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]


class ReconciliationRow(Base):
    """The reconciliation of one day of one policy and import source (revision
    v0005_reconciliation): Genesys's recorded voice conversations of the day, each accounted
    for. The row is the claim of whoever reconciles the day (unique per pair and day);
    `finished_at` is None while it runs. `missing_conversations` lists the missing ones as
    `{"conversation_id", "start"}` objects; `retry_buffered_conversations` likewise."""

    __tablename__ = "reconciliations"
    __table_args__ = (UniqueConstraint("policy_id", "import_source_id", "day"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    policy_id: Mapped[int] = mapped_column(Id, _fk("policies.id", ondelete="CASCADE"))
    import_source_id: Mapped[int] = mapped_column(Id, _fk("import_sources.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    server: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    genesys_total: Mapped[int] = mapped_column(Integer)
    archived: Mapped[int] = mapped_column(Integer)
    skipped_by_rules: Mapped[int] = mapped_column(Integer)
    retry_buffered: Mapped[int] = mapped_column(Integer)
    not_reached: Mapped[int] = mapped_column(Integer)
    missing: Mapped[int] = mapped_column(Integer)
    archive_only: Mapped[int] = mapped_column(Integer)
    # Revision v0009_reconciled_retention: archived, then deleted by retention.
    deleted_by_retention: Mapped[int] = mapped_column(Integer, server_default="0")
    missing_conversations: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    retry_buffered_conversations: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    error: Mapped[str | None] = mapped_column(Text)


class LegalHoldRow(Base):
    """A named legal hold (revision v0006_retention): its conversations are never deleted by
    retention while it is active."""

    __tablename__ = "legal_holds"
    __table_args__ = (CheckConstraint("state IN ('active', 'released')", name="state"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    released_at: Mapped[dt.datetime | None]


class LegalHoldConversationRow(Base):
    """A conversation under a legal hold, and who put it there."""

    __tablename__ = "legal_hold_conversations"

    hold_id: Mapped[int] = mapped_column(
        Id, _fk("legal_holds.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[int] = mapped_column(
        Id, _fk("conversations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[dt.datetime]


class HoldReleaseRow(Base):
    """A request to release a legal hold and its approval by a second person (four eyes)."""

    __tablename__ = "legal_hold_releases"
    __table_args__ = (
        CheckConstraint("approved_by IS NULL OR approved_by <> requested_by", name="four_eyes"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    hold_id: Mapped[int] = mapped_column(Id, _fk("legal_holds.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[dt.datetime]
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[dt.datetime | None]


class RetentionRunRow(Base):
    """One day's retention job: claimed once across nodes (unique day), with its outcome."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), unique=True)  # YYYY-MM-DD, UTC
    server: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    deleted: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class SealChainRow(Base):
    """The head of a hash chain (revision v0007_seals): a UTC day of import (`YYYY-MM-DD`) or
    the audit log (`audit`). Appending locks this row, so two writers never fork a chain."""

    __tablename__ = "seal_chains"

    chain: Mapped[str] = mapped_column(String(16), primary_key=True)
    length: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(String(64))  # the last link ('' when empty)


class SealRow(Base):
    """The seal of a conversation (revision v0007_seals): the sha256 of its canonical metadata
    and recordings, chained within its day of import and signed with the installation's key.

    No foreign key: a seal outlives its conversation; retention marks it `deleted_at`."""

    __tablename__ = "seals"
    __table_args__ = (UniqueConstraint("day", "position"), Index(None, "conversation_id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(Id)
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD (UTC), the chain
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the day
    sealed_at: Mapped[dt.datetime]
    document: Mapped[str] = mapped_column(Text)  # the canonical JSON that was sealed
    seal: Mapped[str] = mapped_column(String(64))
    link: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    deleted_at: Mapped[dt.datetime | None]  # deleted by retention (see the audit log)
    # Revision v0008_seal_origins (None on older rows: an import-time seal by the first key).
    origin: Mapped[str | None] = mapped_column(String(8))  # "import" or "late"
    key_id: Mapped[str | None] = mapped_column(String(16))  # the signing key's id


__all__ = ["Base", "UTCDateTime"]
