"""Scheduling: cron schedules and active hours, claimed due runs, alert delivery.

Columns are only added (SQLite adds them in place: no table is copied, so no foreign key
action can fire on existing rows). Alerts raised before this revision count as delivered.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("policies", sa.Column("cron", sa.String(length=200), nullable=True))
    op.add_column("policies", sa.Column("active_from", sa.String(length=5), nullable=True))
    op.add_column("policies", sa.Column("active_to", sa.String(length=5), nullable=True))
    op.add_column(
        "policies",
        sa.Column("schedule_timezone", sa.String(length=100), server_default="UTC", nullable=False),
    )
    op.add_column("alerts", sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE alerts SET delivered_at = raised_at")
    op.create_table(
        "scheduled_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("policy_id", _ID, nullable=False),
        sa.Column("import_source_id", _ID, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("server", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_source_id"],
            ["import_sources.id"],
            name=op.f("fk_scheduled_runs_import_source_id_import_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_scheduled_runs_policy_id_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_runs")),
        sa.UniqueConstraint(
            "policy_id",
            "import_source_id",
            "due_at",
            name=op.f("uq_scheduled_runs_policy_id_import_source_id_due_at"),
        ),
    )


def downgrade() -> None:
    op.drop_table("scheduled_runs")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("delivered_at")
    with op.batch_alter_table("policies") as batch:
        batch.drop_column("schedule_timezone")
        batch.drop_column("active_to")
        batch.drop_column("active_from")
        batch.drop_column("cron")
