"""due work, working hours, team cadence

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 12:54:49.967828
"""

import sqlalchemy as sa
from alembic import op

from storage.migrations.ops import NULL, Table, column
from storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"

DUE_WORK = Table(
    "due_work",
    ("kind", sa.String(24)),
    ("key", sa.String(128)),
    ("chat_id", sa.BigInteger),
    ("user_id", sa.Integer, NULL),
    ("contact_id", sa.Integer, NULL),
    ("ref_id", sa.Integer, NULL),
    ("payload", sa.Text, NULL),
    ("due_at", UTCDateTime),
    ("status", sa.String(12)),
    ("attempts", sa.Integer),
    ("claimed_at", UTCDateTime, NULL),
    ("claimed_by", sa.String(64), NULL),
    ("sent_at", UTCDateTime, NULL),
    ("late", sa.Boolean),
    ("created_at", UTCDateTime),
    refs=[("contact_id", "contacts", "CASCADE"), ("user_id", "users", "CASCADE")],
    unique=["key"],
    indexes=[
        ("ix_due_work_contact_id", ["contact_id"]),
        ("ix_due_work_status_due", ["status", "due_at"]),
    ],
)


def upgrade() -> None:
    DUE_WORK.create()
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(column("cadence", sa.String(256), NULL))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(column("work_hours", sa.String(32), NULL))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("work_hours")

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("cadence")

    DUE_WORK.drop()
