"""indexes for the digest and /stats

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

A period's touches, new cards, stage moves and sent alerts are read through their time; a team's
cards by status and stage without touching the table. Measured by bench/bench_digest.py.
"""

from alembic import op

revision = "0005"
down_revision = "0004"

INDEXES = (
    ("ix_contacts_team_created", "contacts", ["team_id", "created_at"]),
    ("ix_contacts_team_status_stage", "contacts", ["team_id", "status", "stage"]),
    ("ix_touches_time_direction", "touches", ["occurred_at", "direction"]),
    ("ix_contact_events_time", "contact_events", ["at"]),
    ("ix_due_work_kind_sent", "due_work", ["kind", "sent_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
