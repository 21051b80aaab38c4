"""deals: an amount in a currency, an expected close date, open → won | lost

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

import sqlalchemy as sa

from storage.migrations.ops import NULL, Table
from storage.types import UTCDateTime

revision = "0017"
down_revision = "0016"

DEALS = Table(
    "deals",
    ("contact_id", sa.Integer),
    ("author_id", sa.Integer, NULL),
    ("title", sa.String(256)),
    ("amount", sa.BigInteger),
    ("currency", sa.String(3)),
    ("close_on", sa.Date, NULL),
    ("status", sa.String(8)),
    ("created_at", UTCDateTime),
    ("updated_at", UTCDateTime),
    ("closed_at", UTCDateTime, NULL),
    refs=[("contact_id", "contacts", "CASCADE"), ("author_id", "users", "SET NULL")],
    indexes=[
        ("ix_deals_contact_status", ["contact_id", "status"]),
        ("ix_deals_status_closed", ["status", "closed_at"]),
    ],
)


def upgrade() -> None:
    DEALS.create()


def downgrade() -> None:
    DEALS.drop()
