"""the cards going cold on a boundary day are counted from the last-touch index alone

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28

The digest's "going cold" count reads, for each stage cadence, the cards last touched on the
boundary's own day up to the boundary (services.rollups.card_counts, the part the per-day
rollup cannot hold). Through ``ix_contacts_last_touch_at`` alone every such card was then read
from the table for its team, owner, stage, status, archive and next step: at 1M cards four
boundaries read ~1,500 cards each, 25–60 ms apiece. The index now carries those columns, so the
count reads the index alone. Same number of indexes; the entry is wider and is rewritten when
one of those columns of a card changes (not on other edits).
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

NAME = "ix_contacts_last_touch_at"
COVERING = [
    "last_touch_at",
    "team_id",
    "owner_id",
    "stage",
    "status",
    "archived_at",
    "next_step_due",
]


def upgrade() -> None:
    op.drop_index(NAME, table_name="contacts")
    op.create_index(NAME, "contacts", COVERING)


def downgrade() -> None:
    op.drop_index(NAME, table_name="contacts")
    op.create_index(NAME, "contacts", ["last_touch_at"])
