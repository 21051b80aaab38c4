"""button taps that create something, once per message

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

import sqlalchemy as sa

from storage.migrations.ops import Table
from storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"

BUTTON_TAPS = Table(
    "button_taps",
    ("chat_id", sa.BigInteger),
    ("message_id", sa.Integer),
    ("data", sa.String(64)),
    ("at", UTCDateTime),
    unique=[("uq_button_taps_chat_message_data", "chat_id", "message_id", "data")],
    indexes=[("ix_button_taps_at", ["at"])],
)


def upgrade() -> None:
    BUTTON_TAPS.create()


def downgrade() -> None:
    BUTTON_TAPS.drop()
