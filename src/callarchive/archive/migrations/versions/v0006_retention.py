"""Retention and legal holds: retention days of policies and users, legal holds with their
conversations and four-eyes releases, the daily retention runs, and the batch report's mark of
recordings Genesys protects from deletion.

Columns are only added (nullable, or with a default); tables are new.

Revision ID: v0006_retention
Revises: v0005_reconciliation
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "v0006_retention"
down_revision = "v0005_reconciliation"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("policies", sa.Column("retention_days", sa.Integer(), nullable=True))
    op.add_column("users", sa.Column("retention_days", sa.Integer(), nullable=True))
    op.add_column(
        "batch_report_entries",
        sa.Column("deletion_protected", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("released_at", _AT, nullable=True),
        sa.CheckConstraint("state IN ('active', 'released')", name=op.f("ck_legal_holds_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
        sa.UniqueConstraint("name", name=op.f("uq_legal_holds_name")),
    )
    op.create_table(
        "legal_hold_conversations",
        sa.Column("hold_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["legal_holds.id"],
            name=op.f("fk_legal_hold_conversations_hold_id_legal_holds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_legal_hold_conversations_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "hold_id", "conversation_id", name=op.f("pk_legal_hold_conversations")
        ),
    )
    op.create_index(
        op.f("ix_legal_hold_conversations_conversation_id"),
        "legal_hold_conversations",
        ["conversation_id"],
    )
    op.create_table(
        "legal_hold_releases",
        sa.Column("id", _ID, nullable=False),
        sa.Column("hold_id", _ID, nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", _AT, nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", _AT, nullable=True),
        sa.CheckConstraint(
            "approved_by IS NULL OR approved_by <> requested_by",
            name=op.f("ck_legal_hold_releases_four_eyes"),
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["legal_holds.id"],
            name=op.f("fk_legal_hold_releases_hold_id_legal_holds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold_releases")),
    )
    op.create_index(op.f("ix_legal_hold_releases_hold_id"), "legal_hold_releases", ["hold_id"])
    op.create_table(
        "retention_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("server", sa.String(length=200), nullable=False),
        sa.Column("started_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.Column("deleted", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
        sa.UniqueConstraint("day", name=op.f("uq_retention_runs_day")),
    )


def downgrade() -> None:
    op.drop_table("retention_runs")
    op.drop_index(op.f("ix_legal_hold_releases_hold_id"), table_name="legal_hold_releases")
    op.drop_table("legal_hold_releases")
    op.drop_index(
        op.f("ix_legal_hold_conversations_conversation_id"),
        table_name="legal_hold_conversations",
    )
    op.drop_table("legal_hold_conversations")
    op.drop_table("legal_holds")
    with op.batch_alter_table("batch_report_entries") as batch:
        batch.drop_column("deletion_protected")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("retention_days")
    with op.batch_alter_table("policies") as batch:
        batch.drop_column("retention_days")
