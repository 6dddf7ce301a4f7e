"""Seals record how they were made and by which key: `seals.origin` (`import` when a
conversation was sealed as it was archived, `late` when `callarchive seal --unsealed` sealed a
conversation archived before seals existed) and `seals.key_id` / `audit_log.key_id` (the signing
key, so that seals keep verifying after `callarchive secrets rotate-signing-key`).

Columns are only added (nullable): rows written before this revision have neither, and are
import-time seals signed by the installation's first key.

Revision ID: v0008_seal_origins
Revises: v0007_seals
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "v0008_seal_origins"
down_revision = "v0007_seals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("seals", sa.Column("origin", sa.String(length=8), nullable=True))
    op.add_column("seals", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column("audit_log", sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("key_id")
    with op.batch_alter_table("seals") as batch:
        batch.drop_column("key_id")
        batch.drop_column("origin")
