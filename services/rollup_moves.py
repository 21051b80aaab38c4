"""The digest's stage moves and status changes from a rollup: hours, not the period's events.

``rollup_move_hours`` (storage.models.RollupMoveHours) counts the ``stage`` and ``status``
events per UTC hour ('YYYY-MM-DD HH'), field and new value, under the card's current owner and
team (``team_key`` 0: none) — as services.metrics.moves_direct counts them, joined to the card.
Database triggers (migration 0019) keep it in the writing transaction: an event added, removed
or changed (a merge moves a card's events to another card) adds or takes away one row's count;
a card that changes hands takes its events along; a deleted card's events are taken away
before the cascade deletes them (whose triggers then find no card). A NULL new value is kept
as ''.

The digest's period (since the last digest) is whole hours but for its two ends, read live
through the events' time index.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.rollups import hour_sql, hour_start
from storage.models import Contact, ContactEvent, RollupMoveHours
from storage.plpgsql import any_changed, sqlite_on_update

FIELDS = "('stage', 'status')"
UPSERT = "ON CONFLICT (team_key, hour, owner_id, field, value) DO UPDATE SET n = {n} + excluded.n"


# ------------------------------------------------------------------------------ building
def _table(dialect: str) -> tuple[str, str]:
    if dialect == "sqlite":
        return "rollup_move_hours", UPSERT.format(n="n")
    return "rollup_move_hours AS m", UPSERT.format(n="m.n")


def _event(dialect: str, row: str, sign: str) -> str:
    """Count event ``row`` (new/old) with ``sign`` under its card's current keys, if it is a
    move and its card exists."""
    table, upsert = _table(dialect)
    return (
        f"INSERT INTO {table} (team_key, hour, owner_id, field, value, n) "
        f"SELECT coalesce(c.team_id, 0), {hour_sql(dialect, f'{row}.at')}, c.owner_id, "
        f"{row}.field, coalesce({row}.new_value, ''), {sign}1 FROM contacts AS c "
        f"WHERE c.id = {row}.contact_id AND {row}.field IN {FIELDS} {upsert}"
    )


def _card(dialect: str, row: str, sign: str) -> str:
    """Add (sign "") or take away (sign "-") card ``row``'s moves under its keys in ``row``."""
    table, upsert = _table(dialect)
    hour = hour_sql(dialect, "e.at")
    return (
        f"INSERT INTO {table} (team_key, hour, owner_id, field, value, n) "
        f"SELECT coalesce({row}.team_id, 0), {hour}, {row}.owner_id, e.field, "
        f"coalesce(e.new_value, ''), {sign}count(*) FROM contact_events AS e "
        f"WHERE e.contact_id = {row}.id AND e.field IN {FIELDS} "
        f"GROUP BY {hour}, e.field, coalesce(e.new_value, '') {upsert}"
    )


def rebuild_sql(dialect: str) -> list[str]:
    """Fill the rollup from scratch (migration 0019, repairs, benches)."""
    hour = hour_sql(dialect, "e.at")
    return [
        "DELETE FROM rollup_move_hours",
        "INSERT INTO rollup_move_hours (team_key, hour, owner_id, field, value, n) "
        f"SELECT coalesce(c.team_id, 0), {hour}, c.owner_id, e.field, "
        "coalesce(e.new_value, ''), count(*) FROM contact_events AS e "
        f"JOIN contacts AS c ON c.id = e.contact_id WHERE e.field IN {FIELDS} "
        f"GROUP BY coalesce(c.team_id, 0), {hour}, c.owner_id, e.field, "
        "coalesce(e.new_value, '')",
    ]


EVENT_COLUMNS = ("contact_id", "field", "new_value", "at")
CARD_COLUMNS = ("owner_id", "team_id")
SQLITE_TRIGGERS = (
    "rollup_moves_event_insert",
    "rollup_moves_event_delete",
    "rollup_moves_event_update",
    "rollup_moves_card_move",
    "rollup_moves_card_delete",
)


def sqlite_triggers() -> list[str]:
    return [
        "CREATE TRIGGER rollup_moves_event_insert AFTER INSERT ON contact_events "
        f"WHEN new.field IN {FIELDS} BEGIN {_event('sqlite', 'new', '')}; END",
        "CREATE TRIGGER rollup_moves_event_delete AFTER DELETE ON contact_events "
        f"WHEN old.field IN {FIELDS} BEGIN {_event('sqlite', 'old', '-')}; END",
        "CREATE TRIGGER rollup_moves_event_update "
        f"{sqlite_on_update('contact_events', EVENT_COLUMNS)} BEGIN {_event('sqlite', 'old', '-')}; "
        f"{_event('sqlite', 'new', '')}; END",
        "CREATE TRIGGER rollup_moves_card_move "
        f"{sqlite_on_update('contacts', CARD_COLUMNS)} BEGIN {_card('sqlite', 'old', '-')}; "
        f"{_card('sqlite', 'new', '')}; END",
        # before the cascade deletes its events (whose triggers then find no card)
        "CREATE TRIGGER rollup_moves_card_delete BEFORE DELETE ON contacts BEGIN "
        f"{_card('sqlite', 'old', '-')}; END",
    ]


def pg_up() -> list[str]:
    ev_changed = any_changed(EVENT_COLUMNS, "postgresql")
    card_changed = any_changed(CARD_COLUMNS, "postgresql")
    return [
        "CREATE FUNCTION rollup_moves_event_trigger() RETURNS trigger AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_event('postgresql', 'OLD', '-')}; END IF; "
        f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_event('postgresql', 'NEW', '')}; END IF; "
        "RETURN NULL; END $$ LANGUAGE plpgsql",
        "CREATE FUNCTION rollup_moves_card_trigger() RETURNS trigger AS $$ BEGIN "
        f"{_card('postgresql', 'OLD', '-')}; "
        f"IF TG_OP = 'UPDATE' THEN {_card('postgresql', 'NEW', '')}; RETURN NULL; END IF; "
        "RETURN OLD; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER rollup_moves_event_change AFTER INSERT OR DELETE ON contact_events "
        "FOR EACH ROW EXECUTE FUNCTION rollup_moves_event_trigger()",
        "CREATE TRIGGER rollup_moves_event_update AFTER UPDATE ON contact_events FOR EACH ROW "
        f"WHEN ({ev_changed}) EXECUTE FUNCTION rollup_moves_event_trigger()",
        "CREATE TRIGGER rollup_moves_card_move AFTER UPDATE ON contacts FOR EACH ROW "
        f"WHEN ({card_changed}) EXECUTE FUNCTION rollup_moves_card_trigger()",
        # before the cascade deletes its events (whose triggers then find no card)
        "CREATE TRIGGER rollup_moves_card_delete BEFORE DELETE ON contacts FOR EACH ROW "
        "EXECUTE FUNCTION rollup_moves_card_trigger()",
    ]


PG_DOWN = (
    "DROP TRIGGER IF EXISTS rollup_moves_card_delete ON contacts",
    "DROP TRIGGER IF EXISTS rollup_moves_card_move ON contacts",
    "DROP TRIGGER IF EXISTS rollup_moves_event_update ON contact_events",
    "DROP TRIGGER IF EXISTS rollup_moves_event_change ON contact_events",
    "DROP FUNCTION IF EXISTS rollup_moves_card_trigger()",
    "DROP FUNCTION IF EXISTS rollup_moves_event_trigger()",
)


# ------------------------------------------------------------------------------- reading
def _scope(team_id: int | None, rep_id: int | None) -> tuple[Any, ColumnElement[bool]]:
    """(condition on the rollup, on the cards — written ``col + 0`` so that the events' time
    index drives the live part)."""
    if rep_id is not None:
        return RollupMoveHours.owner_id == rep_id, Contact.owner_id + 0 == rep_id
    if team_id is not None:
        return RollupMoveHours.team_key == team_id, Contact.team_id + 0 == team_id
    return true(), true()


async def move_counts(
    session: AsyncSession,
    *,
    team_id: int | None,
    rep_id: int | None,
    start: datetime,
    end: datetime,
) -> dict[tuple[str, str], int]:
    """{(field, new value): events} of kind stage/status in [start, end), in one statement:
    the whole hours from the rollup, the partial hours at the ends through the time index."""
    in_rollup, in_cards = _scope(team_id, rep_id)
    first = hour_start(start)
    if first < start:
        first += timedelta(hours=1)
    stop = hour_start(end)
    edges = [(start, end)]
    parts: list[Any] = []
    if first < stop:
        edges = [(start, first), (stop, end)]
        parts.append(
            select(RollupMoveHours.field, RollupMoveHours.value, func.sum(RollupMoveHours.n))
            .where(
                in_rollup,
                RollupMoveHours.hour >= first.strftime("%Y-%m-%d %H"),
                RollupMoveHours.hour < stop.strftime("%Y-%m-%d %H"),
            )
            .group_by(RollupMoveHours.field, RollupMoveHours.value)
        )
    for lo, hi in edges:
        if lo < hi:
            parts.append(
                select(ContactEvent.field, ContactEvent.new_value, func.count(ContactEvent.id))
                .join(Contact, Contact.id == ContactEvent.contact_id)
                .with_hint(ContactEvent, "INDEXED BY ix_contact_events_time", "sqlite")
                .where(
                    in_cards,
                    ContactEvent.field.in_(["stage", "status"]),
                    ContactEvent.at >= lo,
                    ContactEvent.at < hi,
                )
                .group_by(ContactEvent.field, ContactEvent.new_value)
            )
    found: dict[tuple[str, str], int] = defaultdict(int)
    stmt = union_all(*parts) if len(parts) > 1 else parts[0]
    for field, value, n in (await session.execute(stmt)).all():
        found[(field, value or "")] += int(n or 0)
    return dict(found)
