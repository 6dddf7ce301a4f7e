"""Reconciliation: one row per policy, import source and day, accounting for every recorded
voice conversation Genesys lists for that day.

A new table only; nothing existing changes.

Revision ID: v0005_reconciliation
Revises: v0004_web
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "v0005_reconciliation"
down_revision = "v0004_web"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_COUNTS = (
    "genesys_total",
    "archived",
    "skipped_by_rules",
    "retry_buffered",
    "not_reached",
    "missing",
    "archive_only",
)


def upgrade() -> None:
    op.create_table(
        "reconciliations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("policy_id", _ID, nullable=False),
        sa.Column("import_source_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("server", sa.String(length=200), nullable=True),
        sa.Column("started_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("missing_conversations", _JSON, nullable=False),
        sa.Column("retry_buffered_conversations", _JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_source_id"],
            ["import_sources.id"],
            name=op.f("fk_reconciliations_import_source_id_import_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_reconciliations_policy_id_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliations")),
        sa.UniqueConstraint(
            "policy_id",
            "import_source_id",
            "day",
            name=op.f("uq_reconciliations_policy_id_import_source_id_day"),
        ),
    )


def downgrade() -> None:
    op.drop_table("reconciliations")
