"""rollups for the digest and /stats: rollup_cards, kept by triggers on contacts

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27

Every insert, update and delete of a card adjusts ``rollup_cards`` in the same transaction,
whatever wrote it (services, merges, bulk imports), so the counts never drift from the cards.
The table is filled from the existing cards here (services.rollups.REBUILD).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# the columns whose change moves a card between rollup rows
WATCHED = (
    "owner_id",
    "team_id",
    "stage",
    "status",
    "archived_at",
    "next_step_due",
    "last_touch_at",
    "created_at",
    "verified_at",
)
INDEXES = (
    ("ix_contacts_next_step_due", "next_step_due"),
    ("ix_contacts_last_touch_at", "last_touch_at"),
    ("ix_contacts_created_at", "created_at"),
    ("ix_contacts_verified_at", "verified_at"),
)


def _sqlite_apply(row: str, sign: int) -> str:
    """The statements that add ``sign`` for the card ``row`` (new/old) to its rollup rows."""
    active = f"{row}.archived_at IS NULL AND {row}.status != 'lost'"
    out = []
    for kind, cond, day in (
        ("due", f"{row}.next_step_due IS NOT NULL", f"{row}.next_step_due"),
        ("quiet", f"{row}.next_step_due IS NULL", f"coalesce({row}.last_touch_at, {row}.created_at)"),
        ("verified", "1", f"{row}.verified_at"),
    ):
        out.append(
            "INSERT INTO rollup_cards (kind, team_key, owner_id, stage, day, n) "
            f"SELECT '{kind}', coalesce({row}.team_id, 0), {row}.owner_id, {row}.stage, "
            f"substr({day}, 1, 10), {sign} WHERE {active} AND {cond} "
            "ON CONFLICT (kind, team_key, owner_id, stage, day) DO UPDATE SET n = n + excluded.n;"
        )
    return " ".join(out)


def _sqlite_up() -> list[str]:
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in WATCHED)
    return [
        "CREATE TRIGGER rollup_cards_insert AFTER INSERT ON contacts BEGIN "
        f"{_sqlite_apply('new', 1)} END",
        "CREATE TRIGGER rollup_cards_delete AFTER DELETE ON contacts BEGIN "
        f"{_sqlite_apply('old', -1)} END",
        f"CREATE TRIGGER rollup_cards_update AFTER UPDATE OF {', '.join(WATCHED)} ON contacts "
        f"WHEN {changed} BEGIN {_sqlite_apply('old', -1)} {_sqlite_apply('new', 1)} END",
    ]


PG_UP = (
    """
    CREATE FUNCTION rollup_cards_add(r contacts, sign integer) RETURNS void AS $$
    BEGIN
        IF r.archived_at IS NOT NULL OR r.status = 'lost' THEN
            RETURN;
        END IF;
        INSERT INTO rollup_cards AS t (kind, team_key, owner_id, stage, day, n)
        VALUES (
            CASE WHEN r.next_step_due IS NOT NULL THEN 'due' ELSE 'quiet' END,
            coalesce(r.team_id, 0), r.owner_id, r.stage,
            (coalesce(r.next_step_due, r.last_touch_at, r.created_at) AT TIME ZONE 'UTC')::date,
            sign
        )
        ON CONFLICT (kind, team_key, owner_id, stage, day) DO UPDATE SET n = t.n + excluded.n;
        INSERT INTO rollup_cards AS t (kind, team_key, owner_id, stage, day, n)
        VALUES (
            'verified', coalesce(r.team_id, 0), r.owner_id, r.stage,
            (r.verified_at AT TIME ZONE 'UTC')::date, sign
        )
        ON CONFLICT (kind, team_key, owner_id, stage, day) DO UPDATE SET n = t.n + excluded.n;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION rollup_cards_trigger() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM rollup_cards_add(OLD, -1);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM rollup_cards_add(NEW, 1);
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER rollup_cards_change AFTER INSERT OR DELETE ON contacts "
    "FOR EACH ROW EXECUTE FUNCTION rollup_cards_trigger()",
    "CREATE TRIGGER rollup_cards_update AFTER UPDATE ON contacts FOR EACH ROW WHEN ("
    + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
    + ") EXECUTE FUNCTION rollup_cards_trigger()",
)
PG_DOWN = (
    "DROP TRIGGER IF EXISTS rollup_cards_update ON contacts",
    "DROP TRIGGER IF EXISTS rollup_cards_change ON contacts",
    "DROP FUNCTION IF EXISTS rollup_cards_trigger()",
    "DROP FUNCTION IF EXISTS rollup_cards_add(contacts, integer)",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS rollup_cards_update",
    "DROP TRIGGER IF EXISTS rollup_cards_delete",
    "DROP TRIGGER IF EXISTS rollup_cards_insert",
)


def upgrade() -> None:
    from services.rollups import rebuild_sql

    op.create_table(
        "rollup_cards",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("team_key", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kind", "team_key", "owner_id", "stage", "day", name=op.f("pk_rollup_cards")
        ),
    )
    for name, column in INDEXES:
        op.create_index(name, "contacts", [column])
    dialect = op.get_bind().dialect.name
    for sql in _sqlite_up() if dialect == "sqlite" else PG_UP:
        op.execute(sql)
    for sql in rebuild_sql(dialect):
        op.execute(sql)


def downgrade() -> None:
    for sql in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN:
        op.execute(sql)
    for name, _column in reversed(INDEXES):
        op.drop_index(name, table_name="contacts")
    op.drop_table("rollup_cards")
