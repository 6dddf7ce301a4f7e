"""Reconciliations count the conversations retention deleted (`deleted_by_retention`): a day
reconciled after retention took some of its conversations accounts for them as kept for as long
as they had to be, not as missing.

The column is added with 0 for the reconciliations stored before this revision.

Revision ID: v0009_reconciled_retention
Revises: v0008_seal_origins
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "v0009_reconciled_retention"
down_revision = "v0008_seal_origins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "reconciliations",
        sa.Column("deleted_by_retention", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("reconciliations") as batch:
        batch.drop_column("deleted_by_retention")
