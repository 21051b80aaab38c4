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

from storage.migrations.ops import KEY, NULL, TEAM_DAY_OWNER, Table, create_tables, drop_tables
from storage.types import UTCDateTime

revision = "0015"
down_revision = "0014"

TABLES = (
    Table(
        "rollup_marks",
        ("contact_id", sa.Integer, KEY),
        ("kind", sa.String(10), KEY),
        ("seq", sa.Integer, KEY),
        ("team_key", sa.Integer),
        ("owner_id", sa.Integer),
        ("at", UTCDateTime),
        ("aux", UTCDateTime, NULL),
        indexes=[
            ("ix_rollup_marks_team_at", ["kind", "team_key", "at"]),
            ("ix_rollup_marks_owner_at", ["kind", "owner_id", "at"]),
            ("ix_rollup_marks_at", ["kind", "at"]),
            ("ix_rollup_marks_aux", ["kind", "aux"]),
        ],
    ),
    Table(
        "rollup_mark_days",
        ("kind", sa.String(10), KEY),
        *TEAM_DAY_OWNER,
        ("n", sa.Integer),
        indexes=[("ix_rollup_mark_days_owner", ["kind", "owner_id", "day"])],
    ),
    Table(
        "rollup_replies",
        ("touch_id", sa.Integer, KEY),
        ("contact_id", sa.Integer),
        ("team_key", sa.Integer),
        ("owner_id", sa.Integer),
        ("at", UTCDateTime),
        ("reply_at", UTCDateTime, NULL),
        ("delay", sa.Integer, NULL),
        ("band", sa.Integer),
        indexes=[
            ("ix_rollup_replies_contact", ["contact_id", "at"]),
            ("ix_rollup_replies_team", ["team_key", "at"]),
            ("ix_rollup_replies_owner", ["owner_id", "at"]),
            ("ix_rollup_replies_at", ["at"]),
            ("ix_rollup_replies_team_band", ["team_key", "band", "at"]),
            ("ix_rollup_replies_owner_band", ["owner_id", "band", "at"]),
            ("ix_rollup_replies_at_band", ["band", "at"]),
            ("ix_rollup_replies_reply_at", ["reply_at"]),
        ],
    ),
    Table(
        "rollup_reply_days",
        *TEAM_DAY_OWNER,
        ("band", sa.Integer, KEY),
        ("n", sa.Integer),
        indexes=[
            ("ix_rollup_reply_days_owner", ["owner_id", "day"]),
            ("ix_rollup_reply_days_day", ["day"]),
        ],
    ),
)


def upgrade() -> None:
    from services import rollup_marks as rm
    from services import rollup_replies as rr

    create_tables(*TABLES)
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
    drop_tables(*TABLES, indexes=False)
