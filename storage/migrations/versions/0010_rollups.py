"""rollups for the digest and /stats: rollup_cards, kept by triggers on contacts

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

Every insert, update and delete of a card adjusts ``rollup_cards`` in the same transaction,
whatever wrote it (services, merges, bulk imports), so the counts never drift from the cards.
The table is filled from the existing cards here (services.rollups.REBUILD).
"""

import sqlalchemy as sa
from alembic import op

from storage.migrations.ops import KEY, TEAM_DAY_OWNER, Table, create_tables, drop_tables
from storage.plpgsql import old_then_new, per_contact, trigger_function

revision = "0010"
down_revision = "0009"

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

SURVEY_INDEXES = (
    ("ix_surveys_team_delivered", ["team_id", "delivered_at"]),
    ("ix_surveys_rep_delivered", ["rep_id", "delivered_at"]),
)


def _sqlite_apply(row: str, sign: int) -> str:
    """The statements that add ``sign`` for the card ``row`` (new/old) to its rollup rows."""
    active = f"{row}.archived_at IS NULL AND {row}.status != 'lost'"
    out = []
    for kind, cond, day in (
        ("due", f"{row}.next_step_due IS NOT NULL", f"{row}.next_step_due"),
        (
            "quiet",
            f"{row}.next_step_due IS NULL",
            f"coalesce({row}.last_touch_at, {row}.created_at)",
        ),
        ("verified", "1", f"{row}.verified_at"),
    ):
        out.append(
            "INSERT INTO rollup_cards (kind, team_key, owner_id, stage, day, n) "
            f"SELECT '{kind}', coalesce({row}.team_id, 0), {row}.owner_id, {row}.stage, "
            f"substr({day}, 1, 10), {sign} WHERE {active} AND {cond} "
            "ON CONFLICT (kind, team_key, owner_id, stage, day) DO UPDATE SET n = n + excluded.n;"
        )
    return " ".join(out)


UPSERT_CARDS = (
    "ON CONFLICT (kind, team_key, owner_id, stage, day) DO UPDATE SET n = n + excluded.n;"
)
UPSERT_TOUCHES = "ON CONFLICT (team_key, owner_id, stage, day) DO UPDATE SET n = n + excluded.n;"
UPSERT_HOURS = (
    "ON CONFLICT (team_key, hour, owner_id, stage, type) DO UPDATE SET n = n + excluded.n;"
)


def _sqlite_touch(row: str, sign: int) -> str:
    """Count the touch ``row`` (new/old) under its card's current keys (if the card exists)."""
    return (
        "INSERT INTO rollup_touches (team_key, owner_id, stage, day, n) "
        f"SELECT coalesce(team_id, 0), owner_id, stage, substr({row}.occurred_at, 1, 10), {sign} "
        f"FROM contacts WHERE id = {row}.contact_id {UPSERT_TOUCHES} "
        "INSERT INTO rollup_touch_hours (team_key, hour, owner_id, stage, type, n) "
        f"SELECT coalesce(team_id, 0), substr({row}.occurred_at, 1, 13), owner_id, stage, "
        f"{row}.type, {sign} FROM contacts WHERE id = {row}.contact_id {UPSERT_HOURS}"
    )


def _sqlite_refresh(cid: str) -> str:
    """Move card ``cid`` in the ``touched`` histogram to the day of its latest touch."""
    return (
        "INSERT INTO rollup_cards (kind, team_key, owner_id, stage, day, n) "
        "SELECT 'touched', coalesce(c.team_id, 0), c.owner_id, c.stage, lt.day, -1 "
        "FROM rollup_last_touch AS lt JOIN contacts AS c ON c.id = lt.contact_id "
        f"WHERE lt.contact_id = {cid} {UPSERT_CARDS} "
        f"DELETE FROM rollup_last_touch WHERE contact_id = {cid}; "
        "INSERT INTO rollup_last_touch (contact_id, day) "
        f"SELECT {cid}, substr(max(occurred_at), 1, 10) FROM touches WHERE contact_id = {cid} "
        f"HAVING count(*) > 0 AND EXISTS (SELECT 1 FROM contacts WHERE id = {cid}); "
        "INSERT INTO rollup_cards (kind, team_key, owner_id, stage, day, n) "
        "SELECT 'touched', coalesce(c.team_id, 0), c.owner_id, c.stage, lt.day, 1 "
        "FROM rollup_last_touch AS lt JOIN contacts AS c ON c.id = lt.contact_id "
        f"WHERE lt.contact_id = {cid} {UPSERT_CARDS}"
    )


def _sqlite_card_touches(row: str, sign: str) -> str:
    """Add (sign "") or take away (sign "-") card ``row``'s touches and its latest touch
    under the card's keys in ``row``."""
    return (
        "INSERT INTO rollup_touches (team_key, owner_id, stage, day, n) "
        f"SELECT coalesce({row}.team_id, 0), {row}.owner_id, {row}.stage, "
        f"substr(occurred_at, 1, 10), {sign}count(*) FROM touches WHERE contact_id = {row}.id "
        f"GROUP BY 4 {UPSERT_TOUCHES} "
        "INSERT INTO rollup_touch_hours (team_key, hour, owner_id, stage, type, n) "
        f"SELECT coalesce({row}.team_id, 0), substr(occurred_at, 1, 13), {row}.owner_id, "
        f"{row}.stage, type, {sign}count(*) FROM touches WHERE contact_id = {row}.id "
        f"GROUP BY 2, 5 {UPSERT_HOURS} "
        "INSERT INTO rollup_cards (kind, team_key, owner_id, stage, day, n) "
        f"SELECT 'touched', coalesce({row}.team_id, 0), {row}.owner_id, {row}.stage, day, "
        f"{sign}1 FROM rollup_last_touch WHERE contact_id = {row}.id {UPSERT_CARDS}"
    )


MOVED = ("owner_id", "team_id", "stage")


def _sqlite_up() -> list[str]:
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in WATCHED)
    return [
        "CREATE TRIGGER rollup_cards_insert AFTER INSERT ON contacts BEGIN "
        f"{_sqlite_apply('new', 1)} END",
        "CREATE TRIGGER rollup_cards_delete AFTER DELETE ON contacts BEGIN "
        f"{_sqlite_apply('old', -1)} END",
        f"CREATE TRIGGER rollup_cards_update AFTER UPDATE OF {', '.join(WATCHED)} ON contacts "
        f"WHEN {changed} BEGIN {_sqlite_apply('old', -1)} {_sqlite_apply('new', 1)} END",
        "CREATE TRIGGER rollup_touches_insert AFTER INSERT ON touches BEGIN "
        f"{_sqlite_touch('new', 1)} {_sqlite_refresh('new.contact_id')} END",
        "CREATE TRIGGER rollup_touches_delete AFTER DELETE ON touches BEGIN "
        f"{_sqlite_touch('old', -1)} {_sqlite_refresh('old.contact_id')} END",
        "CREATE TRIGGER rollup_touches_update AFTER UPDATE OF contact_id, occurred_at, type "
        "ON touches WHEN old.contact_id IS NOT new.contact_id "
        "OR old.occurred_at IS NOT new.occurred_at OR old.type IS NOT new.type "
        f"BEGIN {_sqlite_touch('old', -1)} {_sqlite_touch('new', 1)} "
        f"{_sqlite_refresh('old.contact_id')} {_sqlite_refresh('new.contact_id')} END",
        # a card that changes hands or stage takes its touches along
        f"CREATE TRIGGER rollup_touches_card_move AFTER UPDATE OF {', '.join(MOVED)} ON contacts "
        f"WHEN {' OR '.join(f'old.{c} IS NOT new.{c}' for c in MOVED)} BEGIN "
        f"{_sqlite_card_touches('old', '-')} {_sqlite_card_touches('new', '')} END",
        # before the cascade deletes its touches (whose triggers then find no card)
        "CREATE TRIGGER rollup_touches_card_delete BEFORE DELETE ON contacts BEGIN "
        f"{_sqlite_card_touches('old', '-')} "
        "DELETE FROM rollup_last_touch WHERE contact_id = old.id; END",
    ]


# the PL/pgSQL functions' text as PostgreSQL keeps it (storage.plpgsql)
INDENT = " " * 4
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
    trigger_function(
        "rollup_cards_trigger",
        old_then_new("rollup_cards_add(OLD, -1)", "rollup_cards_add(NEW, 1)"),
        INDENT,
    ),
    "CREATE TRIGGER rollup_cards_change AFTER INSERT OR DELETE ON contacts "
    "FOR EACH ROW EXECUTE FUNCTION rollup_cards_trigger()",
    "CREATE TRIGGER rollup_cards_update AFTER UPDATE ON contacts FOR EACH ROW WHEN ("
    + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
    + ") EXECUTE FUNCTION rollup_cards_trigger()",
)
PG_TOUCHES = (
    """
    CREATE FUNCTION rollup_touch_refresh(cid integer) RETURNS void AS $$
    DECLARE
        c contacts;
        old_day date;
        new_day date;
    BEGIN
        SELECT * INTO c FROM contacts WHERE id = cid;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        SELECT day INTO old_day FROM rollup_last_touch WHERE contact_id = cid;
        SELECT (max(occurred_at) AT TIME ZONE 'UTC')::date INTO new_day
        FROM touches WHERE contact_id = cid;
        IF old_day IS NOT DISTINCT FROM new_day THEN
            RETURN;
        END IF;
        IF old_day IS NOT NULL THEN
            INSERT INTO rollup_cards AS t (kind, team_key, owner_id, stage, day, n)
            VALUES ('touched', coalesce(c.team_id, 0), c.owner_id, c.stage, old_day, -1)
            ON CONFLICT (kind, team_key, owner_id, stage, day) DO UPDATE SET n = t.n + excluded.n;
            DELETE FROM rollup_last_touch WHERE contact_id = cid;
        END IF;
        IF new_day IS NOT NULL THEN
            INSERT INTO rollup_cards AS t (kind, team_key, owner_id, stage, day, n)
            VALUES ('touched', coalesce(c.team_id, 0), c.owner_id, c.stage, new_day, 1)
            ON CONFLICT (kind, team_key, owner_id, stage, day) DO UPDATE SET n = t.n + excluded.n;
            INSERT INTO rollup_last_touch (contact_id, day) VALUES (cid, new_day);
        END IF;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION rollup_touch_add(cid integer, at timestamptz, touch_type text, sign integer)
    RETURNS void AS $$
    BEGIN
        INSERT INTO rollup_touches AS t (team_key, owner_id, stage, day, n)
        SELECT coalesce(team_id, 0), owner_id, stage, (at AT TIME ZONE 'UTC')::date, sign
        FROM contacts WHERE id = cid
        ON CONFLICT (team_key, owner_id, stage, day) DO UPDATE SET n = t.n + excluded.n;
        INSERT INTO rollup_touch_hours AS t (team_key, hour, owner_id, stage, type, n)
        SELECT coalesce(team_id, 0), to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24'),
               owner_id, stage, touch_type, sign
        FROM contacts WHERE id = cid
        ON CONFLICT (team_key, hour, owner_id, stage, type) DO UPDATE SET n = t.n + excluded.n;
    END
    $$ LANGUAGE plpgsql
    """,
    trigger_function(
        "rollup_touches_trigger",
        [
            *old_then_new(
                "rollup_touch_add(OLD.contact_id, OLD.occurred_at, OLD.type, -1)",
                "rollup_touch_add(NEW.contact_id, NEW.occurred_at, NEW.type, 1)",
            ),
            *per_contact("rollup_touch_refresh"),
        ],
        INDENT,
    ),
    """
    CREATE FUNCTION rollup_card_touches(r contacts, sign integer) RETURNS void AS $$
    BEGIN
        INSERT INTO rollup_touches AS t (team_key, owner_id, stage, day, n)
        SELECT coalesce(r.team_id, 0), r.owner_id, r.stage,
               (occurred_at AT TIME ZONE 'UTC')::date, sign * count(*)
        FROM touches WHERE contact_id = r.id GROUP BY 4
        ON CONFLICT (team_key, owner_id, stage, day) DO UPDATE SET n = t.n + excluded.n;
        INSERT INTO rollup_touch_hours AS t (team_key, hour, owner_id, stage, type, n)
        SELECT coalesce(r.team_id, 0), to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24'),
               r.owner_id, r.stage, type, sign * count(*)
        FROM touches WHERE contact_id = r.id GROUP BY 2, 5
        ON CONFLICT (team_key, hour, owner_id, stage, type) DO UPDATE SET n = t.n + excluded.n;
        INSERT INTO rollup_cards AS t (kind, team_key, owner_id, stage, day, n)
        SELECT 'touched', coalesce(r.team_id, 0), r.owner_id, r.stage, day, sign
        FROM rollup_last_touch WHERE contact_id = r.id
        ON CONFLICT (kind, team_key, owner_id, stage, day) DO UPDATE SET n = t.n + excluded.n;
    END
    $$ LANGUAGE plpgsql
    """,
    trigger_function(
        "rollup_card_move_trigger",
        [
            "PERFORM rollup_card_touches(OLD, -1);",
            "IF TG_OP = 'DELETE' THEN",
            "    DELETE FROM rollup_last_touch WHERE contact_id = OLD.id;",
            "    RETURN OLD;",
            "END IF;",
            "PERFORM rollup_card_touches(NEW, 1);",
        ],
        INDENT,
    ),
    "CREATE TRIGGER rollup_touches_change AFTER INSERT OR DELETE ON touches "
    "FOR EACH ROW EXECUTE FUNCTION rollup_touches_trigger()",
    "CREATE TRIGGER rollup_touches_update AFTER UPDATE ON touches FOR EACH ROW WHEN ("
    "OLD.contact_id IS DISTINCT FROM NEW.contact_id OR "
    "OLD.occurred_at IS DISTINCT FROM NEW.occurred_at OR OLD.type IS DISTINCT FROM NEW.type) "
    "EXECUTE FUNCTION rollup_touches_trigger()",
    "CREATE TRIGGER rollup_touches_card_move AFTER UPDATE ON contacts FOR EACH ROW WHEN ("
    "OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.team_id IS DISTINCT FROM NEW.team_id "
    "OR OLD.stage IS DISTINCT FROM NEW.stage) EXECUTE FUNCTION rollup_card_move_trigger()",
    # before the cascade deletes its touches (whose triggers then find no card)
    "CREATE TRIGGER rollup_touches_card_delete BEFORE DELETE ON contacts "
    "FOR EACH ROW EXECUTE FUNCTION rollup_card_move_trigger()",
)
PG_DOWN = (
    "DROP TRIGGER IF EXISTS rollup_touches_card_delete ON contacts",
    "DROP TRIGGER IF EXISTS rollup_touches_card_move ON contacts",
    "DROP TRIGGER IF EXISTS rollup_touches_update ON touches",
    "DROP TRIGGER IF EXISTS rollup_touches_change ON touches",
    "DROP FUNCTION IF EXISTS rollup_card_move_trigger()",
    "DROP FUNCTION IF EXISTS rollup_card_touches(contacts, integer)",
    "DROP FUNCTION IF EXISTS rollup_touches_trigger()",
    "DROP FUNCTION IF EXISTS rollup_touch_add(integer, timestamptz, text, integer)",
    "DROP FUNCTION IF EXISTS rollup_touch_refresh(integer)",
    "DROP TRIGGER IF EXISTS rollup_cards_update ON contacts",
    "DROP TRIGGER IF EXISTS rollup_cards_change ON contacts",
    "DROP FUNCTION IF EXISTS rollup_cards_trigger()",
    "DROP FUNCTION IF EXISTS rollup_cards_add(contacts, integer)",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS rollup_touches_card_delete",
    "DROP TRIGGER IF EXISTS rollup_touches_card_move",
    "DROP TRIGGER IF EXISTS rollup_touches_update",
    "DROP TRIGGER IF EXISTS rollup_touches_delete",
    "DROP TRIGGER IF EXISTS rollup_touches_insert",
    "DROP TRIGGER IF EXISTS rollup_cards_update",
    "DROP TRIGGER IF EXISTS rollup_cards_delete",
    "DROP TRIGGER IF EXISTS rollup_cards_insert",
)

TABLES = (
    Table(
        "rollup_cards",
        ("kind", sa.String(8), KEY),
        *TEAM_DAY_OWNER,
        ("stage", sa.String(32), KEY),
        ("n", sa.Integer),
        indexes=[("ix_rollup_cards_owner", ["kind", "owner_id", "day"])],
    ),
    Table(
        "rollup_touches",
        *TEAM_DAY_OWNER,
        ("stage", sa.String(32), KEY),
        ("n", sa.Integer),
        indexes=[("ix_rollup_touches_owner", ["owner_id", "day"])],
    ),
    Table(
        "rollup_touch_hours",
        ("team_key", sa.Integer, KEY),
        ("hour", sa.String(13), KEY),
        ("owner_id", sa.Integer, KEY),
        ("stage", sa.String(32), KEY),
        ("type", sa.String(24), KEY),
        ("n", sa.Integer),
        indexes=[("ix_rollup_touch_hours_owner", ["owner_id", "hour"])],
    ),
    Table(
        "rollup_last_touch",
        ("contact_id", sa.Integer, KEY),
        ("day", sa.Date),
        indexes=[("ix_rollup_last_touch_day", ["day", "contact_id"])],
    ),
)


def upgrade() -> None:
    from services.rollups import rebuild_sql

    create_tables(*TABLES)
    for name, column in INDEXES:
        op.create_index(name, "contacts", [column])
    for name, columns in SURVEY_INDEXES:
        op.create_index(name, "surveys", columns)
    dialect = op.get_bind().dialect.name
    for sql in _sqlite_up() if dialect == "sqlite" else PG_UP + PG_TOUCHES:
        op.execute(sql)
    for sql in rebuild_sql(dialect):
        op.execute(sql)


def downgrade() -> None:
    for sql in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN:
        op.execute(sql)
    for name, _column in reversed(INDEXES):
        op.drop_index(name, table_name="contacts")
    for name, _columns in reversed(SURVEY_INDEXES):
        op.drop_index(name, table_name="surveys")
    drop_tables(*TABLES, indexes=False)
