"""dialogues kept over a restart (bot.dialogues)

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29

A bot without Redis keeps its dialogues in memory: a restart (a deploy) lost every dialogue in
progress, and a rep's next answer ("Acme", "send the proposal") met "I didn't get that". The
open dialogues are now written here when the process stops and read back (and deleted) when it
starts. Rows live only between a stop and the next start.
"""

import sqlalchemy as sa

from storage.migrations.ops import NULL, Table
from storage.types import UTCDateTime

revision = "0025"
down_revision = "0024"

KEPT_DIALOGUES = Table(
    "kept_dialogues",
    ("bot_id", sa.BigInteger),
    ("chat_id", sa.BigInteger),
    ("user_id", sa.BigInteger),
    ("thread_id", sa.BigInteger, NULL),
    ("business_connection_id", sa.String(128), NULL),
    ("destiny", sa.String(64)),
    ("state", sa.String(256), NULL),
    ("data", sa.Text),
    ("kept_at", UTCDateTime),
)


def upgrade() -> None:
    KEPT_DIALOGUES.create()


def downgrade() -> None:
    KEPT_DIALOGUES.drop()
