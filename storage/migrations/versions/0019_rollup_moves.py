"""rollup of stage moves and status changes per hour (the digest's moves)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28

``rollup_move_hours`` counts the stage and status events per UTC hour, field and new value
under the card's current owner and team (services.rollup_moves), kept by triggers on
contact_events and contacts; filled from the existing events here. On SQLite the table is
clustered by its key (WITHOUT ROWID), like the other day tables since 0018.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from services import rollup_moves as rm

    op.create_table(
        "rollup_move_hours",
        sa.Column("team_key", sa.Integer(), nullable=False),
        sa.Column("hour", sa.String(length=13), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_key", "hour", "owner_id", "field", "value", name=op.f("pk_rollup_move_hours")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_rollup_move_hours_owner", "rollup_move_hours", ["owner_id", "hour"])
    op.create_index("ix_rollup_move_hours_hour", "rollup_move_hours", ["hour"])
    dialect = op.get_bind().dialect.name
    triggers = rm.sqlite_triggers() if dialect == "sqlite" else rm.pg_up()
    for sql in triggers + rm.rebuild_sql(dialect):
        op.execute(sql)


def downgrade() -> None:
    from services import rollup_moves as rm

    if op.get_bind().dialect.name == "sqlite":
        for name in rm.SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for sql in rm.PG_DOWN:
            op.execute(sql)
    op.drop_table("rollup_move_hours")
