"""Tamper evidence: conversation seals chained per day of import, the chains' heads, and the
audit log's chain (a link and a signature per entry).

Columns are only added (nullable); tables are new.

Revision ID: v0007_seals
Revises: v0006_retention
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "v0007_seals"
down_revision = "v0006_retention"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("link", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("signature", sa.String(length=128), nullable=True))
    op.create_table(
        "seal_chains",
        sa.Column("chain", sa.String(length=16), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_seal_chains")),
    )
    op.create_table(
        "seals",
        sa.Column("id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sealed_at", _AT, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("seal", sa.String(length=64), nullable=False),
        sa.Column("link", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("deleted_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seals")),
        sa.UniqueConstraint("day", "position", name=op.f("uq_seals_day_position")),
    )
    op.create_index(op.f("ix_seals_conversation_id"), "seals", ["conversation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_seals_conversation_id"), table_name="seals")
    op.drop_table("seals")
    op.drop_table("seal_chains")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("signature")
        batch.drop_column("link")
