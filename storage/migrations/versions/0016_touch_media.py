"""media kept on touches and cards: voice notes, photos, documents by Telegram file id

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

import sqlalchemy as sa

from storage.migrations.ops import NULL, Table
from storage.types import UTCDateTime

revision = "0016"
down_revision = "0015"

TOUCH_MEDIA = Table(
    "touch_media",
    ("contact_id", sa.Integer),
    ("touch_id", sa.Integer, NULL),
    ("author_id", sa.Integer, NULL),
    ("kind", sa.String(12)),
    ("file_id", sa.String(256)),
    ("file_unique_id", sa.String(64)),
    ("file_name", sa.String(256), NULL),
    ("at", UTCDateTime),
    refs=[
        ("contact_id", "contacts", "CASCADE"),
        ("touch_id", "touches", "CASCADE"),
        ("author_id", "users", "SET NULL"),
    ],
    indexes=[
        ("ix_touch_media_contact_time", ["contact_id", "at"]),
        ("ix_touch_media_touch", ["touch_id"]),
    ],
)


def upgrade() -> None:
    TOUCH_MEDIA.create()


def downgrade() -> None:
    TOUCH_MEDIA.drop()
