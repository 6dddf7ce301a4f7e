"""The archive: configuration, conversations, recordings, alerts, batch reports, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "import_sources",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("auth_url", sa.String(length=1000), nullable=False),
        sa.Column("api_url", sa.String(length=1000), nullable=False),
        sa.Column("tls_certificate", sa.String(length=1000), nullable=True),
        sa.Column("tls_key_file", sa.String(length=1000), nullable=True),
        sa.Column("tls_key_password_encrypted", sa.Text(), nullable=True),
        sa.Column("tls_trust_list", sa.String(length=1000), nullable=True),
        sa.Column("proxy_address", sa.String(length=253), nullable=True),
        sa.Column("proxy_port", sa.Integer(), nullable=True),
        sa.Column("proxy_username", sa.String(length=1000), nullable=True),
        sa.Column("proxy_password_encrypted", sa.Text(), nullable=True),
        sa.Column("codec", sa.String(length=16), nullable=False),
        sa.Column("recording_timezone", sa.String(length=100), nullable=False),
        sa.Column("recording_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_recording_length_min", sa.Integer(), nullable=False),
        sa.Column("availability_delay_min", sa.Integer(), nullable=False),
        sa.Column("cache_lifetime_min", sa.Integer(), nullable=False),
        sa.Column("delete_on_completion", sa.Boolean(), nullable=False),
        sa.Column("fetch_strategy", sa.String(length=16), nullable=False),
        sa.Column(
            "internal_number_patterns",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("batch_duration_min", sa.Integer(), nullable=False),
        sa.Column("request_budget_per_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "max_recording_length_min >= 0 AND availability_delay_min >= 0 "
            "AND cache_lifetime_min >= 0 AND batch_duration_min > 0 "
            "AND request_budget_per_minute > 0",
            name=op.f("ck_import_sources_minutes"),
        ),
        sa.CheckConstraint(
            "proxy_port IS NULL OR proxy_port BETWEEN 1 AND 65535",
            name=op.f("ck_import_sources_proxy_port"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_import_sources_name")),
    )
    op.create_table(
        "partitions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partitions")),
        sa.UniqueConstraint("name", name=op.f("uq_partitions_name")),
    )
    op.create_table(
        "policies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("enable_recording_rules", sa.Boolean(), nullable=False),
        sa.Column("every_minutes", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("enable_recording_rules", name=op.f("ck_policies_recording_rules_on")),
        sa.CheckConstraint("every_minutes > 0", name=op.f("ck_policies_every_minutes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_policies_name")),
    )
    op.create_table(
        "servers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=True),
        sa.Column("last_heartbeat", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_servers")),
        sa.UniqueConstraint("name", name=op.f("uq_servers_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("login", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column(
            "supervisor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("recorded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["users.id"],
            name=op.f("fk_users_supervisor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login", name=op.f("uq_users_login")),
    )
    op.create_table(
        "batch_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("policy_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "import_source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("server", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discovered", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("already_imported", sa.Integer(), nullable=False),
        sa.Column("skipped_by_rules", sa.Integer(), nullable=False),
        sa.Column("retry_buffered", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("media_downloaded", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_source_id"],
            ["import_sources.id"],
            name=op.f("fk_batch_reports_import_source_id_import_sources"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_batch_reports_policy_id_policies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_reports")),
    )
    with op.batch_alter_table("batch_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_batch_reports_policy_id_import_source_id_started_at"),
            ["policy_id", "import_source_id", "started_at"],
            unique=False,
        )

    op.create_table(
        "conversations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "import_source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("policy_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("genesys_conversation_id", sa.String(length=64), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column(
            "recorded_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("user_name", sa.String(length=200), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("from_number", sa.String(length=320), nullable=True),
        sa.Column("from_info", sa.String(length=200), nullable=True),
        sa.Column("to_number", sa.String(length=320), nullable=True),
        sa.Column("to_info", sa.String(length=200), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=True),
        sa.Column("direction_user", sa.String(length=16), nullable=True),
        sa.Column("from_user", sa.String(length=200), nullable=True),
        sa.Column("to_user", sa.String(length=200), nullable=True),
        sa.Column("location", sa.String(length=253), nullable=True),
        sa.Column("platform_call_id", sa.String(length=64), nullable=False),
        sa.Column("source_platform", sa.String(length=32), nullable=False),
        sa.Column("conversation_type", sa.String(length=32), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("dialed_number", sa.String(length=320), nullable=True),
        sa.Column("end_cause", sa.String(length=64), nullable=True),
        sa.Column("audio_codec", sa.String(length=32), nullable=True),
        sa.Column("media_length", sa.String(length=16), nullable=True),
        sa.Column("voice_quality", sa.Float(), nullable=True),
        sa.Column("silence_ratio", sa.Float(), nullable=True),
        sa.Column("talkover_ratio", sa.Float(), nullable=True),
        sa.Column("longest_silence", sa.Float(), nullable=True),
        sa.Column("media_complete", sa.Boolean(), nullable=False),
        sa.Column("deleted_in_genesys", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_source_id"],
            ["import_sources.id"],
            name=op.f("fk_conversations_import_source_id_import_sources"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_conversations_policy_id_policies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_user_id"],
            ["users.id"],
            name=op.f("fk_conversations_recorded_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint(
            "import_source_id",
            "genesys_conversation_id",
            name=op.f("uq_conversations_import_source_id_genesys_conversation_id"),
        ),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversations_direction_start_at"),
            ["direction", "start_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_from_number_start_at"),
            ["from_number", "start_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_platform_call_id"), ["platform_call_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_recorded_user_id_start_at"),
            ["recorded_user_id", "start_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_conversations_start_at"), ["start_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_conversations_to_number_start_at"),
            ["to_number", "start_at"],
            unique=False,
        )

    op.create_table(
        "extensions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("type IN ('number', 'address')", name=op.f("ck_extensions_type")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_extensions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extensions")),
    )
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extensions_type_value"), ["type", "value"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_extensions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "policy_import_sources",
        sa.Column(
            "policy_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "import_source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_source_id"],
            ["import_sources.id"],
            name=op.f("fk_policy_import_sources_import_source_id_import_sources"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_policy_import_sources_policy_id_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "policy_id", "import_source_id", name=op.f("pk_policy_import_sources")
        ),
    )
    op.create_table(
        "policy_servers",
        sa.Column(
            "policy_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "server_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_policy_servers_policy_id_policies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["servers.id"],
            name=op.f("fk_policy_servers_server_id_servers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("policy_id", "server_id", name=op.f("pk_policy_servers")),
    )
    op.create_table(
        "user_partitions",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "partition_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["partition_id"],
            ["partitions.id"],
            name=op.f("fk_user_partitions_partition_id_partitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_partitions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "partition_id", name=op.f("pk_user_partitions")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("policy_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "import_source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_alerts_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["import_source_id"],
            ["import_sources.id"],
            name=op.f("fk_alerts_import_source_id_import_sources"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_alerts_policy_id_policies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alerts_state_raised_at"), ["state", "raised_at"], unique=False
        )

    op.create_table(
        "batch_report_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("genesys_conversation_id", sa.String(length=64), nullable=False),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("extension", sa.String(length=320), nullable=True),
        sa.Column("participant_number", sa.String(length=320), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("newly_imported", sa.Boolean(), nullable=False),
        sa.Column("media_downloaded", sa.Boolean(), nullable=False),
        sa.Column("already_imported", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_batch_report_entries_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["batch_reports.id"],
            name=op.f("fk_batch_report_entries_report_id_batch_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_report_entries")),
    )
    with op.batch_alter_table("batch_report_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_batch_report_entries_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "conversation_partitions",
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "partition_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_partitions_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partition_id"],
            ["partitions.id"],
            name=op.f("fk_conversation_partitions_partition_id_partitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "conversation_id", "partition_id", name=op.f("pk_conversation_partitions")
        ),
    )
    op.create_table(
        "recordings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("genesys_recording_id", sa.String(length=64), nullable=False),
        sa.Column("codec", sa.String(length=16), nullable=False),
        sa.Column("object_key", sa.String(length=1000), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("channels", sa.SmallInteger(), nullable=True),
        sa.Column("media_subtype", sa.String(length=32), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_in_genesys_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("size >= 0", name=op.f("ck_recordings_size")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_recordings_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint(
            "genesys_recording_id", "codec", name=op.f("uq_recordings_genesys_recording_id_codec")
        ),
        sa.UniqueConstraint("object_key", name=op.f("uq_recordings_object_key")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recordings_conversation_id"), ["conversation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recordings_conversation_id"))

    op.drop_table("recordings")
    op.drop_table("conversation_partitions")
    with op.batch_alter_table("batch_report_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_report_entries_report_id"))

    op.drop_table("batch_report_entries")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_state_raised_at"))

    op.drop_table("alerts")
    op.drop_table("user_partitions")
    op.drop_table("policy_servers")
    op.drop_table("policy_import_sources")
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extensions_user_id"))
        batch_op.drop_index(batch_op.f("ix_extensions_type_value"))

    op.drop_table("extensions")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_to_number_start_at"))
        batch_op.drop_index(batch_op.f("ix_conversations_start_at"))
        batch_op.drop_index(batch_op.f("ix_conversations_recorded_user_id_start_at"))
        batch_op.drop_index(batch_op.f("ix_conversations_platform_call_id"))
        batch_op.drop_index(batch_op.f("ix_conversations_from_number_start_at"))
        batch_op.drop_index(batch_op.f("ix_conversations_direction_start_at"))

    op.drop_table("conversations")
    with op.batch_alter_table("batch_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_reports_policy_id_import_source_id_started_at"))

    op.drop_table("batch_reports")
    op.drop_table("users")
    op.drop_table("servers")
    op.drop_table("policies")
    op.drop_table("partitions")
    op.drop_table("import_sources")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
