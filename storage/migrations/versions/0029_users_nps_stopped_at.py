"""users.nps_stopped_at: a /stop kept on the person, not only on their cards

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-30

/stop was recorded on the cards linked to the sender's Telegram account: someone who sent it
before any card carried their account still got a survey once a card was linked to it later.
The time of the /stop is kept on the person too, and honoured for every card linked to them.
"""

from alembic import op

from storage.migrations.ops import NULL, column
from storage.types import UTCDateTime

revision = "0029"
down_revision = "0028"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(column("nps_stopped_at", UTCDateTime, NULL))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("nps_stopped_at")
