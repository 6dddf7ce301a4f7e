"""The audit log is indexed by action: the audit page's filter lists the actions the log holds
by stepping through the index (one look-up per distinct action) instead of reading every entry,
and filtering by action no longer reads the whole log.

Revision ID: v0010_audit_action_index
Revises: v0009_reconciled_retention
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "v0010_audit_action_index"
down_revision = "v0009_reconciled_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")
