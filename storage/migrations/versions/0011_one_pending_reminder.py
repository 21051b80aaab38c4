"""one pending reminder per contact

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

A live card with an open next step has exactly one pending reminder; the database holds the
"at most one" half of that rule with a partial unique index, and services.followups upserts
against it. Before the index is built, rows that break the rule are settled: of several pending
reminders of one card the newest stays, and a pending reminder of an archived card or of a card
without a next step is cancelled.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"

INDEX = "ux_due_work_one_pending_reminder"
WHERE = "kind = 'reminder' AND status = 'pending'"


def upgrade() -> None:
    op.execute(
        f"""
        UPDATE due_work SET status = 'cancelled'
        WHERE {WHERE}
          AND contact_id IS NOT NULL
          AND id NOT IN (
              SELECT MAX(id) FROM due_work
              WHERE {WHERE} AND contact_id IS NOT NULL
              GROUP BY contact_id
          )
        """
    )
    op.execute(
        f"""
        UPDATE due_work SET status = 'cancelled'
        WHERE {WHERE}
          AND contact_id IN (
              SELECT id FROM contacts
              WHERE archived_at IS NOT NULL OR next_step_due IS NULL
          )
        """
    )
    op.create_index(
        INDEX,
        "due_work",
        ["contact_id"],
        unique=True,
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="due_work")
