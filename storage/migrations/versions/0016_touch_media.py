"""media kept on touches and cards: voice notes, photos, documents by Telegram file id

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "touch_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("touch_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=False),
        sa.Column("file_unique_id", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=256), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_touch_media_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["touch_id"],
            ["touches.id"],
            name=op.f("fk_touch_media_touch_id_touches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_touch_media_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touch_media")),
    )
    op.create_index("ix_touch_media_contact_time", "touch_media", ["contact_id", "at"])
    op.create_index("ix_touch_media_touch", "touch_media", ["touch_id"])


def downgrade() -> None:
    op.drop_index("ix_touch_media_touch", table_name="touch_media")
    op.drop_index("ix_touch_media_contact_time", table_name="touch_media")
    op.drop_table("touch_media")
