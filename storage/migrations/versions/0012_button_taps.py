"""button taps that create something, once per message

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "button_taps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_button_taps")),
        sa.UniqueConstraint(
            "chat_id", "message_id", "data", name="uq_button_taps_chat_message_data"
        ),
    )
    op.create_index(op.f("ix_button_taps_at"), "button_taps", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_button_taps_at"), table_name="button_taps")
    op.drop_table("button_taps")
