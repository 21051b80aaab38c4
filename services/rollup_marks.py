"""Per-card marks: conversion, referral share and retention read days, not cards and events.

Every card has a few *marks* in ``rollup_marks`` (storage.models.RollupMark): moments that the
cohort measures count, each under the card's current owner and team, with an ``aux`` moment
that the rare corrections use. ``rollup_mark_days`` counts them per kind, owner, team and UTC
day. Database triggers (migration 0015) recompute a card's marks whenever its card, its status
history or its touches change, in the writing transaction, so the counts never drift.

=========== ================================ =============================================
kind        at                               aux
=========== ================================ =============================================
new         creation                         —
new_ref     creation (source = referral)     —
new_lead    creation (reached lead or later) when it first did (created so, or an event)
new_cli     creation (reached client)        when it first did
new_meet    creation (has a meeting touch)   its first meeting
arrive      each arrival at client status    the card's previous arrival (none: NULL)
arr_ref     the same, for referral cards     the same
cl_open     start of a client interval       —
cl_close    its end (closed intervals only)  —
cl_open_t   max(start, last touch)           —
cl_close_t  max(end, last touch)             —
=========== ================================ =============================================

A client interval is (lo, hi] in which the card's status at a moment, as
services.metrics.retention reads it (the old value of the first status change at or after the
moment, else the current status), is client; its start is raised to the card's creation.
Clients at ``s`` = #cl_open before s − #cl_close before s; of those, touched since ``s``:
#cl_open − #cl_open_t − #cl_close + #cl_close_t, all before s (a card not touched since s has
max(bound, last touch) < s exactly when bound < s).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RollupMark, RollupMarkDays
from storage.plpgsql import any_changed, per_contact, trigger_function

# ------------------------------------------------------------------------------ building
KINDS = (
    "new",
    "new_ref",
    "new_lead",
    "new_cli",
    "new_meet",
    "arrive",
    "arr_ref",
    "cl_open",
    "cl_close",
    "cl_open_t",
    "cl_close_t",
)
LEAD_OR_LATER = "('lead', 'client', 'partner')"
MARK_COLUMNS = "INSERT INTO rollup_marks (contact_id, kind, seq, team_key, owner_id, at, aux) "


def _day(dialect: str, col: str) -> str:
    if dialect == "sqlite":
        return f"substr({col}, 1, 10)"
    return f"({col} AT TIME ZONE 'UTC')::date"


def _later(a: str, b: str) -> str:
    """The later of two moments, either of which may be NULL (then the other)."""
    return f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} >= {b} THEN {a} ELSE {b} END"


def _earlier(a: str, b: str) -> str:
    return f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} <= {b} THEN {a} ELSE {b} END"


INITIAL = (
    "coalesce((SELECT e.old_value FROM contact_events AS e WHERE e.contact_id = c.id "
    "AND e.field = 'status' ORDER BY e.at, e.id LIMIT 1), c.status)"
)


def _first_reached(values: str) -> str:
    """When card ``c`` first held one of ``values``: created with it, or a status change."""
    return _earlier(
        f"CASE WHEN {INITIAL} IN {values} THEN c.created_at END",
        "(SELECT min(e.at) FROM contact_events AS e WHERE e.contact_id = c.id "
        f"AND e.field = 'status' AND e.new_value IN {values})",
    )


def _days(dialect: str, where: str, sign: str) -> str:
    """Add (sign "") or take away (sign "-") the marks ``where`` to/from the day counts."""
    table = "rollup_mark_days" if dialect == "sqlite" else "rollup_mark_days AS d"
    n = "n" if dialect == "sqlite" else "d.n"
    return (
        f"INSERT INTO {table} (kind, team_key, owner_id, day, n) "
        f"SELECT kind, team_key, owner_id, {_day(dialect, 'at')}, {sign}count(*) "
        f"FROM rollup_marks WHERE {where} GROUP BY kind, team_key, owner_id, "
        f"{_day(dialect, 'at')} "
        f"ON CONFLICT (kind, team_key, day, owner_id) DO UPDATE SET n = {n} + excluded.n"
    )


def _marks(card: Callable[[str], str]) -> list[str]:
    """INSERTs of the marks of the cards ``card(column)`` selects."""
    c = card("c.id")
    own = "coalesce(c.team_id, 0), c.owner_id"
    out = [
        f"{MARK_COLUMNS}SELECT c.id, 'new', 0, {own}, c.created_at, NULL "
        f"FROM contacts AS c WHERE {c}",
        f"{MARK_COLUMNS}SELECT c.id, 'new_ref', 0, {own}, c.created_at, NULL "
        f"FROM contacts AS c WHERE {c} AND c.source = 'referral'",
    ]
    meeting = (
        "(SELECT min(t.occurred_at) FROM touches AS t WHERE t.contact_id = c.id "
        "AND t.type = 'meeting')"
    )
    for kind, first in (
        ("new_lead", _first_reached(LEAD_OR_LATER)),
        ("new_cli", _first_reached("('client')")),
        ("new_meet", meeting),
    ):
        out.append(
            f"{MARK_COLUMNS}SELECT x.id, '{kind}', 0, x.team_key, x.owner_id, x.created_at, "
            f"x.first FROM (SELECT c.id, coalesce(c.team_id, 0) AS team_key, c.owner_id, "
            f"c.created_at, {first} AS first FROM contacts AS c WHERE {c}) AS x "
            "WHERE x.first IS NOT NULL"
        )
    # arrivals at client status: created so (first), then each status change to client
    arrivals = (
        "(SELECT c.id AS card, coalesce(c.team_id, 0) AS team_key, c.owner_id, c.source, "
        f"c.created_at AS at, 0 AS o FROM contacts AS c WHERE {c} AND {INITIAL} = 'client' "
        "UNION ALL SELECT c.id, coalesce(c.team_id, 0), c.owner_id, c.source, e.at, e.id "
        f"FROM contacts AS c JOIN contact_events AS e ON e.contact_id = c.id WHERE {c} "
        "AND e.field = 'status' AND e.new_value = 'client') AS a"
    )
    for kind, cond in (("arrive", "1 = 1"), ("arr_ref", "a.source = 'referral'")):
        out.append(
            f"{MARK_COLUMNS}SELECT a.card, '{kind}', "
            "row_number() OVER (PARTITION BY a.card ORDER BY a.at, a.o), a.team_key, "
            "a.owner_id, a.at, lag(a.at) OVER (PARTITION BY a.card ORDER BY a.at, a.o) "
            f"FROM {arrivals} WHERE {cond}"
        )
    # client intervals (lo, hi]: before each status change away from client, and the
    # current status when it is client; lo raised to the creation
    changes = (
        "(SELECT e.contact_id AS card, e.id AS seq, e.old_value AS old, e.at AS hi, "
        "lag(e.at) OVER (PARTITION BY e.contact_id ORDER BY e.at, e.id) AS lo "
        f"FROM contact_events AS e WHERE {card('e.contact_id')} AND e.field = 'status') AS h"
    )
    raw = (
        "(SELECT h.card, h.seq, h.lo, h.hi FROM " + changes + " WHERE h.old = 'client' "
        "UNION ALL SELECT c.id, 0, (SELECT max(e.at) FROM contact_events AS e "
        "WHERE e.contact_id = c.id AND e.field = 'status'), NULL "
        f"FROM contacts AS c WHERE {c} AND c.status = 'client') AS r"
    )
    lo = _later("r.lo", "c.created_at")
    intervals = (
        "(SELECT r.card, r.seq, coalesce(c.team_id, 0) AS team_key, c.owner_id, "
        f"{lo} AS lo, r.hi, (SELECT max(t.occurred_at) FROM touches AS t "
        f"WHERE t.contact_id = r.card) AS lt FROM {raw} JOIN contacts AS c ON c.id = r.card) AS i"
    )
    keep = "(i.hi IS NULL OR i.lo < i.hi)"
    for kind, at, cond in (
        ("cl_open", "i.lo", keep),
        ("cl_close", "i.hi", f"{keep} AND i.hi IS NOT NULL"),
        ("cl_open_t", _later("i.lt", "i.lo"), keep),
        ("cl_close_t", _later("i.lt", "i.hi"), f"{keep} AND i.hi IS NOT NULL"),
    ):
        out.append(
            f"{MARK_COLUMNS}SELECT i.card, '{kind}', i.seq, i.team_key, i.owner_id, {at}, "
            f"NULL FROM {intervals} WHERE {cond}"
        )
    return out


def refresh_sql(dialect: str, card: str) -> list[str]:
    """Recompute the marks (and their day counts) of card ``card`` (an SQL expression)."""
    return [
        _days(dialect, f"contact_id = {card}", "-"),
        f"DELETE FROM rollup_marks WHERE contact_id = {card}",
        *_marks(lambda col: f"{col} = {card}"),
        _days(dialect, f"contact_id = {card}", ""),
    ]


def rebuild_sql(dialect: str) -> list[str]:
    """Fill the marks and their day counts from scratch (migration 0015, repairs, benches)."""
    return [
        "DELETE FROM rollup_mark_days",
        "DELETE FROM rollup_marks",
        *_marks(lambda col: f"{col} IS NOT NULL"),
        _days(dialect, "1 = 1", ""),
    ]


# ------------------------------------------------------------------------------ triggers
CARD_COLUMNS = ("owner_id", "team_id", "status", "created_at", "source")
EVENT_COLUMNS = ("contact_id", "field", "old_value", "new_value", "at")
TOUCH_COLUMNS = ("contact_id", "occurred_at", "type")


def _sqlite_body(*cards: str) -> str:
    return " ".join(s + ";" for card in cards for s in refresh_sql("sqlite", card))


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"old.{c} {distinct} new.{c}" for c in columns)


def sqlite_triggers() -> list[str]:
    card_cols = ", ".join(CARD_COLUMNS)
    event_cols = ", ".join(EVENT_COLUMNS)
    touch_cols = ", ".join(TOUCH_COLUMNS)
    status = "old.field = 'status' OR new.field = 'status'"
    return [
        "CREATE TRIGGER rollup_marks_card_insert AFTER INSERT ON contacts "
        f"BEGIN {_sqlite_body('new.id')} END",
        f"CREATE TRIGGER rollup_marks_card_update AFTER UPDATE OF {card_cols} ON contacts "
        f"WHEN {_changed(CARD_COLUMNS, 'IS NOT')} BEGIN {_sqlite_body('new.id')} END",
        "CREATE TRIGGER rollup_marks_card_delete AFTER DELETE ON contacts "
        f"BEGIN {_sqlite_body('old.id')} END",
        "CREATE TRIGGER rollup_marks_event_insert AFTER INSERT ON contact_events "
        f"WHEN new.field = 'status' BEGIN {_sqlite_body('new.contact_id')} END",
        "CREATE TRIGGER rollup_marks_event_delete AFTER DELETE ON contact_events "
        f"WHEN old.field = 'status' BEGIN {_sqlite_body('old.contact_id')} END",
        f"CREATE TRIGGER rollup_marks_event_update AFTER UPDATE OF {event_cols} "
        f"ON contact_events WHEN ({status}) AND ({_changed(EVENT_COLUMNS, 'IS NOT')}) "
        f"BEGIN {_sqlite_body('old.contact_id', 'new.contact_id')} END",
        "CREATE TRIGGER rollup_marks_touch_insert AFTER INSERT ON touches "
        f"BEGIN {_sqlite_body('new.contact_id')} END",
        "CREATE TRIGGER rollup_marks_touch_delete AFTER DELETE ON touches "
        f"BEGIN {_sqlite_body('old.contact_id')} END",
        f"CREATE TRIGGER rollup_marks_touch_update AFTER UPDATE OF {touch_cols} ON touches "
        f"WHEN {_changed(TOUCH_COLUMNS, 'IS NOT')} "
        f"BEGIN {_sqlite_body('old.contact_id', 'new.contact_id')} END",
    ]


SQLITE_TRIGGERS = (
    "rollup_marks_card_insert",
    "rollup_marks_card_update",
    "rollup_marks_card_delete",
    "rollup_marks_event_insert",
    "rollup_marks_event_delete",
    "rollup_marks_event_update",
    "rollup_marks_touch_insert",
    "rollup_marks_touch_delete",
    "rollup_marks_touch_update",
)


# the text of migration 0015's PL/pgSQL functions as PostgreSQL keeps it (storage.plpgsql)
INDENT = " " * 8


def pg_up() -> list[str]:
    body = " ".join(s + ";" for s in refresh_sql("postgresql", "p_card"))
    return [
        "CREATE FUNCTION rollup_marks_refresh(p_card integer) RETURNS void AS $$ "
        f"BEGIN {body} END $$ LANGUAGE plpgsql",
        trigger_function(
            "rollup_marks_card_trigger",
            [
                "IF TG_OP = 'DELETE' THEN",
                "    PERFORM rollup_marks_refresh(OLD.id);",
                "ELSE",
                "    PERFORM rollup_marks_refresh(NEW.id);",
                "END IF;",
            ],
            INDENT,
        ),
        trigger_function("rollup_marks_row_trigger", per_contact("rollup_marks_refresh"), INDENT),
        "CREATE TRIGGER rollup_marks_card_change AFTER INSERT OR DELETE ON contacts "
        "FOR EACH ROW EXECUTE FUNCTION rollup_marks_card_trigger()",
        "CREATE TRIGGER rollup_marks_card_update AFTER UPDATE ON contacts FOR EACH ROW WHEN ("
        + any_changed(CARD_COLUMNS, "postgresql")
        + ") EXECUTE FUNCTION rollup_marks_card_trigger()",
        "CREATE TRIGGER rollup_marks_event_insert AFTER INSERT ON contact_events FOR EACH ROW "
        "WHEN (NEW.field = 'status') EXECUTE FUNCTION rollup_marks_row_trigger()",
        "CREATE TRIGGER rollup_marks_event_delete AFTER DELETE ON contact_events FOR EACH ROW "
        "WHEN (OLD.field = 'status') EXECUTE FUNCTION rollup_marks_row_trigger()",
        "CREATE TRIGGER rollup_marks_event_update AFTER UPDATE ON contact_events FOR EACH ROW "
        f"WHEN ((OLD.field = 'status' OR NEW.field = 'status') AND ({any_changed(EVENT_COLUMNS, 'postgresql')})) "
        "EXECUTE FUNCTION rollup_marks_row_trigger()",
        "CREATE TRIGGER rollup_marks_touch_change AFTER INSERT OR DELETE ON touches "
        "FOR EACH ROW EXECUTE FUNCTION rollup_marks_row_trigger()",
        "CREATE TRIGGER rollup_marks_touch_update AFTER UPDATE ON touches FOR EACH ROW "
        f"WHEN ({any_changed(TOUCH_COLUMNS, 'postgresql')}) EXECUTE FUNCTION rollup_marks_row_trigger()",
    ]


PG_DOWN = (
    "DROP TRIGGER IF EXISTS rollup_marks_touch_update ON touches",
    "DROP TRIGGER IF EXISTS rollup_marks_touch_change ON touches",
    "DROP TRIGGER IF EXISTS rollup_marks_event_update ON contact_events",
    "DROP TRIGGER IF EXISTS rollup_marks_event_delete ON contact_events",
    "DROP TRIGGER IF EXISTS rollup_marks_event_insert ON contact_events",
    "DROP TRIGGER IF EXISTS rollup_marks_card_update ON contacts",
    "DROP TRIGGER IF EXISTS rollup_marks_card_change ON contacts",
    "DROP FUNCTION IF EXISTS rollup_marks_row_trigger()",
    "DROP FUNCTION IF EXISTS rollup_marks_card_trigger()",
    "DROP FUNCTION IF EXISTS rollup_marks_refresh(integer)",
)


# ------------------------------------------------------------------------------- reading
def _scope(team_id: int | None, rep_id: int | None) -> tuple[Any, Any, str]:
    """(condition on the marks, on the day counts, the marks' index for a time range)."""
    if rep_id is not None:
        return RollupMark.owner_id == rep_id, RollupMarkDays.owner_id == rep_id, "owner_at"
    if team_id is not None:
        return RollupMark.team_key == team_id, RollupMarkDays.team_key == team_id, "team_at"
    return true(), true(), "at"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _parts(
    team_id: int | None,
    rep_id: int | None,
    kinds: Iterable[str],
    lo: datetime | None,
    hi: datetime,
) -> list[Any]:
    """Selects of (kind, n) that add up to the marks with lo <= at < hi (``lo`` None: every
    mark before ``hi``): the whole UTC days from ``rollup_mark_days``, the partial days at the
    ends from ``rollup_marks`` through its (kind, scope, at) index."""
    kinds = list(kinds)
    in_marks, in_days, index = _scope(team_id, rep_id)
    stop = hi.astimezone(UTC).date()
    first: date | None = None
    whole = True
    if lo is None:
        live = [(_day_start(stop), hi)]
    else:
        first = lo.astimezone(UTC).date()
        if _day_start(first) < lo:
            first += timedelta(days=1)
        if first < stop:
            live = [(lo, _day_start(first)), (_day_start(stop), hi)]
        else:
            live, whole = [(lo, hi)], False
    parts: list[Any] = []
    if whole:
        cond: list[ColumnElement[bool]] = [RollupMarkDays.kind.in_(kinds), in_days]
        cond.append(RollupMarkDays.day < stop)
        if first is not None:
            cond.append(RollupMarkDays.day >= first)
        parts.append(
            select(RollupMarkDays.kind, func.sum(RollupMarkDays.n).label("n"))
            .where(*cond)
            .group_by(RollupMarkDays.kind)
        )
    for a, b in live:
        if a < b:
            parts.append(
                select(RollupMark.kind, func.count().label("n"))
                .with_hint(RollupMark, f"INDEXED BY ix_rollup_marks_{index}", "sqlite")
                .where(RollupMark.kind.in_(kinds), in_marks, RollupMark.at >= a, RollupMark.at < b)
                .group_by(RollupMark.kind)
            )
    return parts


def _aux_since(
    team_id: int | None,
    rep_id: int | None,
    kinds: list[str],
    since: datetime,
    lo: datetime,
    hi: datetime,
) -> Any:
    """A select of (kind, −n): the marks with lo <= at < hi whose aux is at or after
    ``since``, read through the (kind, aux) index — the few cards that changed after a
    period's end (or arrived at client twice in it)."""
    in_marks, _days_cond, _index = _scope(team_id, rep_id)
    return (
        select(RollupMark.kind, (-func.count()).label("n"))
        .with_hint(RollupMark, "INDEXED BY ix_rollup_marks_aux", "sqlite")
        .where(
            RollupMark.kind.in_(kinds),
            RollupMark.aux >= since,
            in_marks,
            RollupMark.at >= lo,
            RollupMark.at < hi,
        )
        .group_by(RollupMark.kind)
    )


async def _sum(session: AsyncSession, parts: list[Any], kinds: Iterable[str]) -> dict[str, int]:
    """The parts' (kind, n) added up, read in one statement."""
    found: dict[str, int] = defaultdict(int)
    rows = await session.execute(union_all(*parts)) if len(parts) > 1 else None
    for kind, n in (rows or await session.execute(parts[0])).all():
        found[kind] += int(n or 0)
    return {k: found.get(k, 0) for k in kinds}


async def counts(
    session: AsyncSession,
    *,
    team_id: int | None,
    rep_id: int | None,
    kinds: Iterable[str],
    lo: datetime | None,
    hi: datetime,
) -> dict[str, int]:
    """{kind: marks with lo <= at < hi} (``lo`` None: every mark before ``hi``)."""
    kinds = list(kinds)
    return await _sum(session, _parts(team_id, rep_id, kinds, lo, hi), kinds)


async def cohort(
    session: AsyncSession,
    *,
    team_id: int | None,
    rep_id: int | None,
    start: datetime,
    end: datetime,
) -> dict[str, int]:
    """The cards created in [start, end): ``new``, ``new_ref`` (referral), ``new_lead``,
    ``new_cli``, ``new_meet`` (reached lead or later / client / had a meeting, by ``end``); and
    the cards that arrived at client status in the period: ``arrive``, ``arr_ref``. One
    statement."""
    kinds = ("new", "new_ref", "new_lead", "new_cli", "new_meet", "arrive", "arr_ref")
    parts = _parts(team_id, rep_id, kinds, start, end)
    # reached only after the period's end: not by its end
    reached = ["new_lead", "new_cli", "new_meet"]
    parts.append(_aux_since(team_id, rep_id, reached, end, start, end))
    # a card that arrived twice in the period counts once: its repeat arrivals have their
    # previous arrival in the period too
    parts.append(_aux_since(team_id, rep_id, ["arrive", "arr_ref"], start, start, end))
    return await _sum(session, parts, kinds)


async def clients_at(
    session: AsyncSession, *, team_id: int | None, rep_id: int | None, start: datetime
) -> tuple[int, int]:
    """(cards that were clients at ``start``, those of them touched at or after ``start``)."""
    b = await counts(
        session,
        team_id=team_id,
        rep_id=rep_id,
        kinds=("cl_open", "cl_close", "cl_open_t", "cl_close_t"),
        lo=None,
        hi=start,
    )
    clients = b["cl_open"] - b["cl_close"]
    touched = b["cl_open"] - b["cl_open_t"] - b["cl_close"] + b["cl_close_t"]
    return clients, touched
