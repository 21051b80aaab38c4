"""forgetting a person: contacts.forgotten_at and the privacy log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from storage.migrations.ops import NULL, Table, column
from storage.types import UTCDateTime

revision = "0007"
down_revision = "0006"

PRIVACY_LOG = Table(
    "privacy_log",
    ("contact_id", sa.Integer, NULL),
    ("actor_id", sa.Integer, NULL),
    ("action", sa.String(16)),
    ("counts", sa.Text),
    ("at", UTCDateTime),
    refs=[("contact_id", "contacts", "SET NULL"), ("actor_id", "users", "SET NULL")],
)


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(column("forgotten_at", UTCDateTime, NULL))
    PRIVACY_LOG.create()


def downgrade() -> None:
    PRIVACY_LOG.drop()
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("forgotten_at")
