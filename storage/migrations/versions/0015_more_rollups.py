"""more rollups: per-card marks (conversion, referral share, retention), first replies

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28

``rollup_marks`` holds each card's moments (services.rollup_marks), ``rollup_mark_days``
counts them per day; ``rollup_replies`` holds every inbound touch's first reply and
``rollup_reply_days`` counts them per day and delay band (services.rollup_replies). Triggers on
contacts, contact_events and touches keep them in the writing transaction, whatever wrote the
row. Filled from the existing data here.
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

MARK_INDEXES = (
    ("ix_rollup_marks_team_at", ["kind", "team_key", "at"]),
    ("ix_rollup_marks_owner_at", ["kind", "owner_id", "at"]),
    ("ix_rollup_marks_at", ["kind", "at"]),
    ("ix_rollup_marks_aux", ["kind", "aux"]),
)
REPLY_INDEXES = (
    ("ix_rollup_replies_contact", ["contact_id", "at"]),
    ("ix_rollup_replies_team", ["team_key", "at"]),
    ("ix_rollup_replies_owner", ["owner_id", "at"]),
    ("ix_rollup_replies_at", ["at"]),
    ("ix_rollup_replies_team_band", ["team_key", "band", "at"]),
    ("ix_rollup_replies_owner_band", ["owner_id", "band", "at"]),
    ("ix_rollup_replies_at_band", ["band", "at"]),
    ("ix_rollup_replies_reply_at", ["reply_at"]),
)


def upgrade() -> None:
    from services import rollup_marks as rm
    from services import rollup_replies as rr

    op.create_table(
        "rollup_marks",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("team_key", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("aux", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("contact_id", "kind", "seq", name=op.f("pk_rollup_marks")),
    )
    for name, columns in MARK_INDEXES:
        op.create_index(name, "rollup_marks", columns)
    op.create_table(
        "rollup_mark_days",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("team_key", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kind", "team_key", "day", "owner_id", name=op.f("pk_rollup_mark_days")
        ),
    )
    op.create_index("ix_rollup_mark_days_owner", "rollup_mark_days", ["kind", "owner_id", "day"])
    op.create_table(
        "rollup_replies",
        sa.Column("touch_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("team_key", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("reply_at", UTCDateTime(), nullable=True),
        sa.Column("delay", sa.Integer(), nullable=True),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("touch_id", name=op.f("pk_rollup_replies")),
    )
    for name, columns in REPLY_INDEXES:
        op.create_index(name, "rollup_replies", columns)
    op.create_table(
        "rollup_reply_days",
        sa.Column("team_key", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_key", "day", "owner_id", "band", name=op.f("pk_rollup_reply_days")
        ),
    )
    op.create_index("ix_rollup_reply_days_owner", "rollup_reply_days", ["owner_id", "day"])
    op.create_index("ix_rollup_reply_days_day", "rollup_reply_days", ["day"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        triggers = rm.sqlite_triggers() + rr.sqlite_triggers()
    else:
        triggers = rm.pg_up() + rr.pg_up()
    for sql in triggers + rm.rebuild_sql(dialect) + rr.rebuild_sql(dialect):
        op.execute(sql)


def downgrade() -> None:
    from services import rollup_marks as rm
    from services import rollup_replies as rr

    if op.get_bind().dialect.name == "sqlite":
        for name in rm.SQLITE_TRIGGERS + rr.SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for sql in rm.PG_DOWN + rr.PG_DOWN:
            op.execute(sql)
    op.drop_table("rollup_reply_days")
    op.drop_table("rollup_replies")
    op.drop_table("rollup_mark_days")
    op.drop_table("rollup_marks")
