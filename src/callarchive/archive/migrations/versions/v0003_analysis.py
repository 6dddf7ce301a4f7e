"""Audio analysis: per-channel speech time of a conversation; a recording's figures and waveform.

Columns are only added and all are nullable: recordings archived before this revision, and those
that cannot be decoded, simply have no analysis.

Revision ID: v0003_analysis
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "v0003_analysis"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("conversations", sa.Column("customer_speech_s", sa.Float(), nullable=True))
    op.add_column("conversations", sa.Column("agent_speech_s", sa.Float(), nullable=True))
    op.add_column("recordings", sa.Column("analysis", _JSON, nullable=True))
    op.add_column("recordings", sa.Column("waveform", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("waveform")
        batch.drop_column("analysis")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("agent_speech_s")
        batch.drop_column("customer_speech_s")
