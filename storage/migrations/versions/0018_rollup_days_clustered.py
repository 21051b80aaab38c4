"""rollup day tables clustered by their keys on SQLite; finer reply-delay bands

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28

The per-day counts (``rollup_cards``, ``rollup_touches``, ``rollup_touch_hours``,
``rollup_mark_days``, ``rollup_reply_days``) are read as sums of ``n`` over a range of their
primary key. As rowid tables, SQLite walked the key's index and looked every row up in the
table for its ``n``: at 100k cards a team's "verified" days (tens of thousands of rows) took
15–35 ms per sum. Clustered by the key (WITHOUT ROWID), the same sum is one ordered read of the
rows themselves, and each write updates one B-tree instead of two. PostgreSQL is unchanged.

The triggers that write these tables (0010, 0015) name them in their bodies; the tables are
swapped with ``legacy_alter_table`` on, so SQLite does not re-check those bodies halfway.

Reply speed's delay bands (services.rollup_replies.BANDS) go from 32 to 200 — each second
under a minute, then 10% wide — so the band the median falls in holds a few hundredth of the
period's requests, not a fifth, and a one-second band gives its delay without reading rows.
The first-reply triggers (which write the band) are made again and the bands and day counts
recomputed from the kept delays, on both backends; downgrading keeps the bands of the code that
runs it.
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLES = (
    "rollup_cards",
    "rollup_touches",
    "rollup_touch_hours",
    "rollup_mark_days",
    "rollup_reply_days",
)


def _swap(table: str, without_rowid: bool) -> None:
    bind = op.get_bind()
    create = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    indexes = [
        sql
        for (sql,) in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
    ]
    body = create[create.index("(") : create.rindex(")") + 1]
    tail = " WITHOUT ROWID" if without_rowid else ""
    op.execute(f"CREATE TABLE {table}_swap {body}{tail}")
    op.execute(f"INSERT INTO {table}_swap SELECT * FROM {table}")  # noqa: S608
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {table}_swap RENAME TO {table}")
    for sql in indexes:
        op.execute(sql)


def _swap_all(without_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("PRAGMA legacy_alter_table = ON")
    for table in TABLES:
        _swap(table, without_rowid)
    op.execute("PRAGMA legacy_alter_table = OFF")


def _rebands() -> None:
    from services import rollup_replies as rr

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        drop = [f"DROP TRIGGER IF EXISTS {name}" for name in rr.SQLITE_TRIGGERS]
        create = rr.sqlite_triggers()
    else:
        drop, create = list(rr.PG_DOWN), rr.pg_up()
    # the delays stand; only their bands and the per-day counts change
    recount = [
        f"UPDATE rollup_replies SET band = {rr.band_sql('delay')}",
        "DELETE FROM rollup_reply_days",
        rr.days_sql(dialect),
    ]
    for sql in drop + create + recount:
        op.execute(sql)


def upgrade() -> None:
    _swap_all(True)
    _rebands()


def downgrade() -> None:
    _swap_all(False)
    _rebands()
