"""users.left_at: when a manager deactivated the person

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-29

A deactivated rep lost their role and team and so looked like a stranger: what they wrote got
"Access is by invitation", with no word that their access had been turned off. The time of the
deactivation is kept on the person (cleared when they join again through an invite).
"""

from alembic import op

from storage.migrations.ops import NULL, column
from storage.types import UTCDateTime

revision = "0026"
down_revision = "0025"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(column("left_at", UTCDateTime, NULL))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("left_at")
