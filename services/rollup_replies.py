"""Reply speed from rollups: every inbound touch's first reply, counted per day and delay band.

``rollup_replies`` (storage.models.RollupReply) holds one row per inbound touch: its card's
current owner and team, its time, the time of the first outbound touch with the same card at or
after it (``reply_at``; NULL: none yet), the delay in whole seconds and the delay's band
(``BANDS``; -1: no reply). ``rollup_reply_days`` counts the rows per owner, team, UTC day and
band. Triggers on touches and contacts (migration 0015) recompute the rows a write can change
— an outbound touch at ``t`` answers the requests before ``t`` still waiting at ``t`` — in the
writing transaction.

The measure is then: counts per band summed over the period's whole days (the partial days at
its ends read live), the share within the window from the bands below it (the band the window
falls in read live), and the exact median by reading only the band the middle falls in.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, literal_column, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RollupReply, RollupReplyDays
from storage.plpgsql import any_changed, sqlite_on_update


def _bands() -> tuple[int, ...]:
    """Each second under a minute, then bands 10% wide up to a year (migration 0018; 0015 had
    32 bands, and the one the median fell in could hold a fifth of the period's requests)."""
    out = list(range(61))
    while out[-1] < 31_536_000:
        out.append(max(out[-1] + 1, round(out[-1] * 1.1)))
    return tuple(out)


# the delay bands' lower bounds in seconds: band i holds delays in [BANDS[i], BANDS[i + 1])
BANDS = _bands()
UNANSWERED = -1
LIMIT = 2000  # replies after "now" that the rollup corrects for (more: counted directly)


# ------------------------------------------------------------------------------ building
def _delay(dialect: str, earlier: str, later: str) -> str:
    """As services.metrics.scope.seconds_between writes it."""
    if dialect == "postgresql":
        return f"round(extract(epoch FROM {later} - {earlier}))"
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0)"


def _band(delay: str) -> str:
    whens = " ".join(f"WHEN {delay} < {hi} THEN {i}" for i, hi in enumerate(BANDS[1:]))
    return f"CASE WHEN {delay} IS NULL THEN {UNANSWERED} {whens} ELSE {len(BANDS) - 1} END"


def _day(dialect: str, col: str) -> str:
    if dialect == "sqlite":
        return f"substr({col}, 1, 10)"
    return f"({col} AT TIME ZONE 'UTC')::date"


def _days(dialect: str, where: str, sign: str) -> str:
    table = "rollup_reply_days" if dialect == "sqlite" else "rollup_reply_days AS d"
    n = "n" if dialect == "sqlite" else "d.n"
    return (
        f"INSERT INTO {table} (team_key, owner_id, day, band, n) "
        f"SELECT team_key, owner_id, {_day(dialect, 'at')}, band, {sign}count(*) "
        f"FROM rollup_replies WHERE {where} GROUP BY team_key, owner_id, "
        f"{_day(dialect, 'at')}, band "
        f"ON CONFLICT (team_key, day, owner_id, band) DO UPDATE SET n = {n} + excluded.n"
    )


def _insert(dialect: str, where: str) -> str:
    """Insert the rows of the inbound touches ``where`` (on touches AS t, contacts AS c) that
    have none."""
    reply = (
        "(SELECT min(o.occurred_at) FROM touches AS o WHERE o.contact_id = t.contact_id "
        "AND o.direction = 'out' AND o.occurred_at >= t.occurred_at)"
    )
    delay = _delay(dialect, "x.at", "x.reply_at")
    # OFFSET 0 keeps each subquery whole: flattened, both backends copied the reply's
    # correlated subquery into every branch of the band's CASE (a lookup per band per row)
    fence = " LIMIT -1 OFFSET 0" if dialect == "sqlite" else " OFFSET 0"
    return (
        "INSERT INTO rollup_replies (touch_id, contact_id, team_key, owner_id, at, reply_at, "
        "delay, band) SELECT y.id, y.contact_id, y.team_key, y.owner_id, y.at, y.reply_at, "
        f"y.delay, {_band('y.delay')} FROM (SELECT x.*, {delay} AS delay FROM (SELECT t.id, "
        "t.contact_id, coalesce(c.team_id, 0) AS team_key, c.owner_id, t.occurred_at AS at, "
        f"{reply} AS reply_at FROM touches AS t JOIN contacts AS c ON c.id = t.contact_id "
        f"WHERE t.direction = 'in' AND {where} AND NOT EXISTS (SELECT 1 FROM rollup_replies "
        f"AS r WHERE r.touch_id = t.id){fence}) AS x{fence}) AS y"
    )


def band_sql(delay: str) -> str:
    """The band of ``delay`` (an SQL expression; NULL: no reply)."""
    return _band(delay)


def days_sql(dialect: str) -> str:
    """Add every row of ``rollup_replies`` to the (emptied) day counts."""
    return _days(dialect, "1 = 1", "")


def refresh_sql(dialect: str, card: str, moment: str | None) -> list[str]:
    """Recompute the rows of card ``card`` that a touch at ``moment`` can change (the
    requests at or before it not answered before it); every row of the card when None."""
    rows = f"contact_id = {card}"
    if moment is not None:
        rows += f" AND at <= {moment} AND (reply_at IS NULL OR reply_at >= {moment})"
    where = f"t.contact_id = {card}"
    if moment is not None:
        where += f" AND t.occurred_at <= {moment}"
    return [
        _days(dialect, rows, "-"),
        f"DELETE FROM rollup_replies WHERE {rows}",
        _insert(dialect, where),
        _days(dialect, rows, ""),
    ]


def rebuild_sql(dialect: str) -> list[str]:
    return [
        "DELETE FROM rollup_reply_days",
        "DELETE FROM rollup_replies",
        _insert(dialect, "1 = 1"),
        _days(dialect, "1 = 1", ""),
    ]


TOUCH_COLUMNS = ("contact_id", "occurred_at", "direction")
CARD_COLUMNS = ("owner_id", "team_id")
SQLITE_TRIGGERS = (
    "rollup_replies_touch_insert",
    "rollup_replies_touch_delete",
    "rollup_replies_touch_update",
    "rollup_replies_card_update",
)


def _body(*refreshes: tuple[str, str | None]) -> str:
    return " ".join(s + ";" for card, t in refreshes for s in refresh_sql("sqlite", card, t))


def sqlite_triggers() -> list[str]:
    return [
        "CREATE TRIGGER rollup_replies_touch_insert AFTER INSERT ON touches BEGIN "
        f"{_body(('new.contact_id', 'new.occurred_at'))} END",
        "CREATE TRIGGER rollup_replies_touch_delete AFTER DELETE ON touches BEGIN "
        f"{_body(('old.contact_id', 'old.occurred_at'))} END",
        "CREATE TRIGGER rollup_replies_touch_update "
        f"{sqlite_on_update('touches', TOUCH_COLUMNS)} BEGIN "
        f"{_body(('old.contact_id', 'old.occurred_at'), ('new.contact_id', 'new.occurred_at'))}"
        " END",
        "CREATE TRIGGER rollup_replies_card_update "
        f"{sqlite_on_update('contacts', CARD_COLUMNS)} BEGIN {_body(('new.id', None))} END",
    ]


def pg_up() -> list[str]:
    some = " ".join(s + ";" for s in refresh_sql("postgresql", "p_card", "p_at"))
    every = " ".join(s + ";" for s in refresh_sql("postgresql", "p_card", None))
    touch_changed = any_changed(TOUCH_COLUMNS, "postgresql")
    card_changed = any_changed(CARD_COLUMNS, "postgresql")
    return [
        "CREATE FUNCTION rollup_replies_refresh(p_card integer, p_at timestamptz) "
        "RETURNS void AS $$ BEGIN IF p_at IS NULL THEN "
        f"{every} ELSE {some} END IF; END $$ LANGUAGE plpgsql",
        """
        CREATE FUNCTION rollup_replies_touch_trigger() RETURNS trigger AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                PERFORM rollup_replies_refresh(OLD.contact_id, OLD.occurred_at);
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') THEN
                PERFORM rollup_replies_refresh(NEW.contact_id, NEW.occurred_at);
            END IF;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE FUNCTION rollup_replies_card_trigger() RETURNS trigger AS $$
        BEGIN
            PERFORM rollup_replies_refresh(NEW.id, NULL);
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,
        "CREATE TRIGGER rollup_replies_touch_change AFTER INSERT OR DELETE ON touches "
        "FOR EACH ROW EXECUTE FUNCTION rollup_replies_touch_trigger()",
        "CREATE TRIGGER rollup_replies_touch_update AFTER UPDATE ON touches FOR EACH ROW "
        f"WHEN ({touch_changed}) EXECUTE FUNCTION rollup_replies_touch_trigger()",
        "CREATE TRIGGER rollup_replies_card_update AFTER UPDATE ON contacts FOR EACH ROW "
        f"WHEN ({card_changed}) EXECUTE FUNCTION rollup_replies_card_trigger()",
    ]


PG_DOWN = (
    "DROP TRIGGER IF EXISTS rollup_replies_card_update ON contacts",
    "DROP TRIGGER IF EXISTS rollup_replies_touch_update ON touches",
    "DROP TRIGGER IF EXISTS rollup_replies_touch_change ON touches",
    "DROP FUNCTION IF EXISTS rollup_replies_card_trigger()",
    "DROP FUNCTION IF EXISTS rollup_replies_touch_trigger()",
    "DROP FUNCTION IF EXISTS rollup_replies_refresh(integer, timestamptz)",
)


# ------------------------------------------------------------------------------- reading
def _scope(team_id: int | None, rep_id: int | None) -> tuple[Any, Any, str]:
    if rep_id is not None:
        return RollupReply.owner_id == rep_id, RollupReplyDays.owner_id == rep_id, "owner"
    if team_id is not None:
        return RollupReply.team_key == team_id, RollupReplyDays.team_key == team_id, "team"
    return true(), true(), "at"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


async def reply_figures(
    session: AsyncSession,
    *,
    team_id: int | None,
    rep_id: int | None,
    start: datetime,
    end: datetime,
    now: datetime,
    window_seconds: float,
) -> tuple[int, int, int, list[float], int] | None:
    """(inbound, answered by ``now``, answered within the window, the middle delay(s), still
    open) for the inbound touches in [start, end), as services.metrics.reply_speed counts them;
    None when more than LIMIT of them were answered only after ``now`` (the caller counts
    directly). Still open: unanswered as of ``now`` and younger than the window."""
    in_rows, in_days, index = _scope(team_id, rep_id)
    hint = f"INDEXED BY ix_rollup_replies_{index}"
    bands: dict[int, int] = defaultdict(int)
    first = start.astimezone(UTC).date()
    if _day_start(first) < start:
        first += timedelta(days=1)
    stop = end.astimezone(UTC).date()
    live = [(start, end)]
    parts: list[Any] = []
    if first < stop:
        live = [(start, _day_start(first)), (_day_start(stop), end)]
        parts.append(
            select(
                literal_column("0").label("late"), RollupReplyDays.band, func.sum(RollupReplyDays.n)
            )
            .where(in_days, RollupReplyDays.day >= first, RollupReplyDays.day < stop)
            .group_by(RollupReplyDays.band)
        )
    for a, b in live:
        if a < b:
            parts.append(
                select(literal_column("0").label("late"), RollupReply.band, func.count())
                .with_hint(RollupReply, hint, "sqlite")
                .where(in_rows, RollupReply.at >= a, RollupReply.at < b)
                .group_by(RollupReply.band)
            )
    # replies after now do not count yet: those requests are unanswered as of now
    period = and_(in_rows, RollupReply.at >= start, RollupReply.at < end)
    parts.append(
        select(literal_column("1").label("late"), RollupReply.band, func.count())
        .with_hint(RollupReply, "INDEXED BY ix_rollup_replies_reply_at", "sqlite")
        .where(RollupReply.reply_at > now, period)
        .group_by(RollupReply.band)
    )
    late = 0
    for is_late, band, n in (await session.execute(union_all(*parts))).all():
        if is_late:
            late += int(n or 0)
            bands[band] -= int(n or 0)
            bands[UNANSWERED] += int(n or 0)
        else:
            bands[band] += int(n or 0)
    if late > LIMIT:
        return None
    inbound = sum(bands.values())
    answered = inbound - bands[UNANSWERED]

    async def nth(band: int, offset: int, upto: float | None = None) -> Any:
        """The ``offset``-th smallest delay of the band in the period (or, with ``upto``, how
        many of the band's delays are at most ``upto``); a band one second wide holds one
        delay, read without its rows."""
        if upto is None and band + 1 < len(BANDS) and BANDS[band + 1] - BANDS[band] == 1:
            return BANDS[band]
        cond = [period, RollupReply.band == band, RollupReply.reply_at <= now]
        if upto is not None:
            return await session.scalar(
                select(func.count())
                .select_from(RollupReply)
                .with_hint(RollupReply, hint + "_band", "sqlite")
                .where(*cond, RollupReply.delay <= upto)
            )
        return await session.scalar(
            select(RollupReply.delay)
            .with_hint(RollupReply, hint + "_band", "sqlite")
            .where(*cond)
            .order_by(RollupReply.delay)
            .offset(offset)
            .limit(1)
        )

    async def _still_open() -> int:
        """Unanswered as of now (no reply, or one after now) and young enough to be answered
        within the window still: only the window's last rows are read."""
        lo = max(start, now - timedelta(seconds=window_seconds))
        if lo >= end or answered == inbound:
            return 0
        return int(
            await session.scalar(
                select(func.count())
                .select_from(RollupReply)
                .with_hint(RollupReply, hint, "sqlite")
                .where(
                    in_rows,
                    RollupReply.at >= lo,
                    RollupReply.at < end,
                    (RollupReply.band == UNANSWERED) | (RollupReply.reply_at > now),
                )
            )
            or 0
        )

    within = 0
    for band in range(len(BANDS)):
        if not bands[band]:
            continue
        top = BANDS[band + 1] - 1 if band + 1 < len(BANDS) else None
        if top is not None and top <= window_seconds:
            within += bands[band]
        elif BANDS[band] <= window_seconds:
            within += int(await nth(band, 0, upto=window_seconds) or 0)
    middles: list[float] = []
    if answered:
        for rank in sorted({(answered + 1) // 2, answered // 2 + 1}):
            seen = 0
            for band in range(len(BANDS)):
                if seen + bands[band] >= rank:
                    middles.append(float(await nth(band, rank - seen - 1)))
                    break
                seen += bands[band]
    return inbound, answered, within, middles, await _still_open()
