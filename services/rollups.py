"""Rollups: the digest's and /stats' figures read from per-day counts instead of every card.

``rollup_cards`` (storage.models.RollupCards) counts the active cards per owner, team, stage and
UTC day of their next step's due time (``due``), of their last touch or creation when they have
no next step (``quiet``) and of their last verification (``verified``). Database triggers on
``contacts`` keep it (migration 0010), so it is right after every write, bulk imports included.

A count "now" is then the sum of the whole days before the boundary's day, from the rollup, plus
a live count of the cards in the boundary's own day up to the boundary (one day of cards, read
through the column's index). The answers are those of the direct queries in services/metrics.py
(tests/test_rollups.py compares them on generated data).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.cadence import Cadence
from core.enums import Status
from storage.conditions import team_cadences
from storage.models import (
    Contact,
    RollupCards,
    RollupLastTouch,
    RollupTouches,
    RollupTouchHours,
    Touch,
)


# ------------------------------------------------------------------------------ building
def _day_sql(dialect: str, col: str) -> str:
    if dialect == "sqlite":
        return f"substr({col}, 1, 10)"
    return f"({col} AT TIME ZONE 'UTC')::date"


def hour_sql(dialect: str, col: str) -> str:
    if dialect == "sqlite":
        return f"substr({col}, 1, 13)"
    return f"to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"


def rebuild_sql(dialect: str) -> list[str]:
    """Statements that fill the rollups from the cards and touches (migration 0010, repairs,
    benches that bulk-load with triggers off)."""
    active = "archived_at IS NULL AND status != 'lost'"
    quiet_or_due = _day_sql(dialect, "coalesce(next_step_due, last_touch_at, created_at)")
    cards = "INSERT INTO rollup_cards (kind, team_key, owner_id, stage, day, n) "
    return [
        "DELETE FROM rollup_cards",
        "DELETE FROM rollup_touches",
        "DELETE FROM rollup_last_touch",
        "DELETE FROM rollup_touch_hours",
        cards + "SELECT CASE WHEN next_step_due IS NOT NULL THEN 'due' ELSE 'quiet' END, "
        f"coalesce(team_id, 0), owner_id, stage, {quiet_or_due}, count(*) "
        f"FROM contacts WHERE {active} GROUP BY 1, 2, 3, 4, 5",
        cards + "SELECT 'verified', coalesce(team_id, 0), owner_id, stage, "
        f"{_day_sql(dialect, 'verified_at')}, count(*) "
        f"FROM contacts WHERE {active} GROUP BY 2, 3, 4, 5",
        "INSERT INTO rollup_touches (team_key, owner_id, stage, day, n) "
        f"SELECT coalesce(c.team_id, 0), c.owner_id, c.stage, {_day_sql(dialect, 't.occurred_at')}, "
        "count(*) FROM touches AS t JOIN contacts AS c ON c.id = t.contact_id GROUP BY 1, 2, 3, 4",
        "INSERT INTO rollup_touch_hours (team_key, hour, owner_id, stage, type, n) "
        f"SELECT coalesce(c.team_id, 0), {hour_sql(dialect, 't.occurred_at')}, c.owner_id, "
        "c.stage, t.type, count(*) FROM touches AS t JOIN contacts AS c ON c.id = t.contact_id "
        "GROUP BY 1, 2, 3, 4, 5",
        "INSERT INTO rollup_last_touch (contact_id, day) "
        f"SELECT contact_id, {_day_sql(dialect, 'max(occurred_at)')} FROM touches "
        "WHERE contact_id IN (SELECT id FROM contacts) GROUP BY contact_id",
        cards + "SELECT 'touched', coalesce(c.team_id, 0), c.owner_id, c.stage, lt.day, count(*) "
        "FROM rollup_last_touch AS lt JOIN contacts AS c ON c.id = lt.contact_id "
        "GROUP BY 2, 3, 4, 5",
    ]


# ------------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Counts:
    overdue: int = 0
    cold: int = 0
    stale: int = 0


def _day_start(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date(), time(), UTC)


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _scope_rollup(team_id: int | None, rep_id: int | None) -> ColumnElement[bool]:
    if rep_id is not None:
        return RollupCards.owner_id == rep_id
    if team_id is not None:
        return RollupCards.team_key == team_id
    return true()


def _scope_cards(team_id: int | None, rep_id: int | None) -> ColumnElement[bool]:
    """Written ``col + 0``: the boundary day's cards are found through the time's index."""
    if rep_id is not None:
        return Contact.owner_id + 0 == rep_id
    if team_id is not None:
        return Contact.team_id + 0 == team_id
    return true()


def _active() -> ColumnElement[bool]:
    """Not archived, not lost (written so that no index on these columns is chosen instead of
    the boundary's time index)."""
    return and_(_is_null(Contact.archived_at), Contact.status != Status.LOST.value)


def _is_null(col: Any) -> ColumnElement[bool]:
    return func.coalesce(col, col).is_(None)


def _group(by: str | None, owner: Any, team_key: Any) -> Any:
    if by == "owner":
        return owner
    if by == "team":
        return None if not team_key else team_key
    return 0


async def _before(
    session: AsyncSession, scope: ColumnElement[bool], kind: str, day: date
) -> list[tuple[int, int, str, int]]:
    """(owner, team_key, stage, n): the rollup's whole days before ``day``.

    Grouped by ``owner_id + 0``: grouped by the plain column, SQLite (no statistics) reads the
    (kind, owner, day) index for kind alone and looks every row up for its count — at 1M cards
    a team's "verified" days took 107 ms instead of 32 through the key (kind, team, day)."""
    owner = RollupCards.owner_id + 0
    rows = await session.execute(
        select(owner, RollupCards.team_key, RollupCards.stage, func.sum(RollupCards.n))
        .where(RollupCards.kind == kind, scope, RollupCards.day < day)
        .group_by(owner, RollupCards.team_key, RollupCards.stage)
    )
    return [(o, t, s, int(n or 0)) for o, t, s, n in rows.all()]


async def _live(
    session: AsyncSession, scope: ColumnElement[bool], cond: ColumnElement[bool], index: str
) -> list[tuple[int, int, str, int]]:
    """(owner, team_key, stage, n): the cards of the boundary day, counted directly through
    the time's ``index`` (named to SQLite, whose planner would otherwise, with ANALYZE's
    statistics, skip-scan an index on the scope and read every card)."""
    team_key = func.coalesce(Contact.team_id, 0)
    rows = await session.execute(
        select(Contact.owner_id, team_key, Contact.stage, func.count())
        .with_hint(Contact, f"INDEXED BY {index}", "sqlite")
        .where(scope, _active(), cond)
        .group_by(Contact.owner_id, team_key, Contact.stage)
    )
    return [(o, t, s, int(n or 0)) for o, t, s, n in rows.all()]


async def card_counts(
    session: AsyncSession,
    *,
    team_id: int | None,
    rep_id: int | None,
    now: datetime,
    cadence: Cadence | None,
    settings_cadence: str,
    stale_days: int,
    by: str | None = None,
) -> dict[Any, Counts]:
    """Overdue next steps, cards going cold and cards with stale data now, as
    services.metrics.card_counts_direct defines them, from the rollup plus the boundary days.

    ``cadence``: the scope's stage cadence (a team or a rep); None for everyone, where each
    team's own cadence applies to its cards."""
    in_rollup = _scope_rollup(team_id, rep_id)
    in_cards = _scope_cards(team_id, rep_id)
    overdue: dict[Any, int] = defaultdict(int)
    cold: dict[Any, int] = defaultdict(int)
    stale: dict[Any, int] = defaultdict(int)

    def add(target: dict[Any, int], rows: Iterable[tuple[int, int, str, int]], keep: Any) -> None:
        for owner, team_key, stage, n in rows:
            if keep(team_key, stage):
                target[_group(by, owner, team_key)] += n

    def every(_team: int, _stage: str) -> bool:
        return True

    # overdue: a next step due before now
    add(overdue, await _before(session, in_rollup, "due", _utc_day(now)), every)
    day0 = _day_start(now)
    window = and_(Contact.next_step_due >= day0, Contact.next_step_due < now)
    add(overdue, await _live(session, in_cards, window, "ix_contacts_next_step_due"), every)

    # stale: verified before now − stale_days
    cutoff = now - timedelta(days=stale_days)
    add(stale, await _before(session, in_rollup, "verified", _utc_day(cutoff)), every)
    window = and_(Contact.verified_at >= _day_start(cutoff), Contact.verified_at < cutoff)
    add(stale, await _live(session, in_cards, window, "ix_contacts_verified_at"), every)

    # going cold: no next step, quiet for longer than the stage's cadence (the team's own)
    if cadence is not None:
        default, per_team = cadence, {}
    else:
        default, per_team = await team_cadences(session, settings_cadence)

    def days_for(team_key: int, stage: str) -> int | None:
        return per_team.get(team_key, default).get(stage)

    spans = sorted({d for c in (default, *per_team.values()) for d in c.values() if d})
    if spans:
        # the whole days before every boundary in one pass, the few days between them apart
        lowest, highest = _utc_day(now - timedelta(days=spans[-1])), _utc_day(now)
        for owner, team_key, stage, n in await _before(session, in_rollup, "quiet", lowest):
            if days_for(team_key, stage):
                cold[_group(by, owner, team_key)] += n
        rows = await session.execute(
            select(
                RollupCards.owner_id,
                RollupCards.team_key,
                RollupCards.stage,
                RollupCards.day,
                RollupCards.n,
            ).where(
                RollupCards.kind == "quiet",
                in_rollup,
                RollupCards.day >= lowest,
                RollupCards.day < highest,
            )
        )
        for owner, team_key, stage, day, n in rows.all():
            days = days_for(team_key, stage)
            if days and _as_date(day) < _utc_day(now - timedelta(days=days)):
                cold[_group(by, owner, team_key)] += n
    for days in spans:
        boundary = now - timedelta(days=days)

        def keep(team_key: int, stage: str, days: int = days) -> bool:
            return days_for(team_key, stage) == days

        # coalesce(last touch, created) in [the boundary's day, the boundary): the touched
        # cards through the last touch's index, the untouched through creation's
        last, created, day0 = Contact.last_touch_at, Contact.created_at, _day_start(boundary)
        no_step = _is_null(Contact.next_step_due)
        touched = and_(no_step, last >= day0, last < boundary)
        add(cold, await _live(session, in_cards, touched, "ix_contacts_last_touch_at"), keep)
        untouched = and_(no_step, _is_null(last), created >= day0, created < boundary)
        add(cold, await _live(session, in_cards, untouched, "ix_contacts_created_at"), keep)
    keys = set(overdue) | set(cold) | set(stale)
    return {k: Counts(overdue[k], cold[k], stale[k]) for k in keys}


async def freshness(
    session: AsyncSession,
    *,
    team_id: int | None,
    rep_id: int | None,
    now: datetime,
    stale_days: int,
) -> tuple[int, int]:
    """(active cards, verified within ``stale_days`` of now), as services.metrics.freshness."""
    in_rollup = _scope_rollup(team_id, rep_id)
    cutoff = now - timedelta(days=stale_days)
    before = case((RollupCards.day < _utc_day(cutoff), RollupCards.n), else_=0)
    row = (
        await session.execute(
            select(func.sum(RollupCards.n), func.sum(before)).where(
                RollupCards.kind == "verified", in_rollup
            )
        )
    ).one()
    active, stale = int(row[0] or 0), int(row[1] or 0)  # one pass over the days
    window = and_(Contact.verified_at >= _day_start(cutoff), Contact.verified_at < cutoff)
    live = await _live(session, _scope_cards(team_id, rep_id), window, "ix_contacts_verified_at")
    stale += sum(n for *_, n in live)
    return active, active - stale


# ------------------------------------------------------------------------ touches, reach
LATER_LIMIT = 2000  # touches after a period's end that the rollups correct for


def _whole_days(start: datetime, end: datetime) -> tuple[date, date] | None:
    """The whole UTC days inside [start, end) as [first, stop); None if there are none."""
    first = _utc_day(start) + timedelta(days=1)
    stop = _utc_day(end)
    return (first, stop) if first < stop else None


async def touches_by_stage(
    session: AsyncSession,
    *,
    team_id: int | None,
    rep_id: int | None,
    start: datetime,
    end: datetime,
) -> dict[str, tuple[int, int]] | None:
    """{stage: (touches, distinct contacts touched)} in [start, end), by the card's current
    stage, as services.metrics.touch_frequency counts them: whole days from the rollups, the two
    partial days at the ends live. None when the rollups can't answer: a period without a whole
    day, or more than LATER_LIMIT touches at or after ``end`` (a period well in the past: "touched
    in the period" is "last touched since ``start``" less the cards touched only after it, and
    correcting for many costs what the direct count does); the caller then counts directly."""
    days = _whole_days(start, end)
    if days is None:
        return None
    later = await session.scalar(
        select(func.count()).select_from(
            select(Touch.id).where(Touch.occurred_at >= end).limit(LATER_LIMIT + 1).subquery()
        )
    )
    if later and later > LATER_LIMIT:
        return None  # a period well in the past: the touches after it would cost more
    first, stop = days
    in_cards = _scope_cards(team_id, rep_id)
    touches: dict[str, int] = defaultdict(int)
    contacts: dict[str, int] = defaultdict(int)
    rows = await session.execute(
        select(RollupTouches.stage, func.sum(RollupTouches.n))
        .where(
            _scope_touch_rollup(team_id, rep_id),
            RollupTouches.day >= first,
            RollupTouches.day < stop,
        )
        .group_by(RollupTouches.stage)
    )
    for stage, n in rows.all():
        touches[stage] += int(n or 0)
    head_end = datetime.combine(first, time(), UTC)
    for lo, hi in ((start, head_end), (datetime.combine(stop, time(), UTC), end)):
        # the partial days: their whole hours from the hourly rollup, the rest live
        for stage, n in (await _stage_touches(session, team_id, rep_id, lo, hi)).items():
            touches[stage] += n
    # a card was touched in the period when its latest touch is on or after start
    rows = await session.execute(
        select(RollupCards.stage, func.sum(RollupCards.n))
        .where(RollupCards.kind == "touched", _scope_rollup(team_id, rep_id))
        .where(RollupCards.day >= first)
        .group_by(RollupCards.stage)
    )
    for stage, n in rows.all():
        contacts[stage] += int(n or 0)
    # the cards last touched on start's own day, touched on it at or after start: driven by
    # those cards (the last touch's day index), not by that day's touches (ten times as many)
    on_head_day = (
        select(Touch.id)
        .where(
            Touch.contact_id == RollupLastTouch.contact_id,
            Touch.occurred_at >= start,
            Touch.occurred_at < head_end,
        )
        .correlate(RollupLastTouch)
        .exists()
    )
    rows = await session.execute(
        select(Contact.stage, func.count())
        .select_from(RollupLastTouch)
        .with_hint(RollupLastTouch, "INDEXED BY ix_rollup_last_touch_day", "sqlite")
        .join(Contact, Contact.id == RollupLastTouch.contact_id)
        .where(in_cards, RollupLastTouch.day == _utc_day(start), on_head_day)
        .group_by(Contact.stage)
    )
    for stage, n in rows.all():
        contacts[stage] += int(n or 0)
    if later:
        # a card touched after the period is in the histogram by that touch: it was reached
        # only if it was also touched in the period
        after = select(Touch.contact_id).where(Touch.occurred_at >= end)
        inside = (
            select(Touch.id)
            .where(
                Touch.contact_id == Contact.id,
                Touch.occurred_at >= start,
                Touch.occurred_at < end,
            )
            .correlate(Contact)
            .exists()
        )
        rows = await session.execute(
            select(Contact.stage, func.count(Contact.id))
            .where(_scope_cards(team_id, rep_id), Contact.id.in_(after), ~inside)
            .group_by(Contact.stage)
        )
        for stage, n in rows.all():
            contacts[stage] -= int(n or 0)
    return {s: (touches[s], contacts[s]) for s in set(touches) | set(contacts)}


def _scope_touch_rollup(team_id: int | None, rep_id: int | None) -> ColumnElement[bool]:
    if rep_id is not None:
        return RollupTouches.owner_id == rep_id
    if team_id is not None:
        return RollupTouches.team_key == team_id
    return true()


# ------------------------------------------------------------------- touches by the hour
def _hour_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H")


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def touch_counts(
    session: AsyncSession,
    *,
    team_id: int | None,
    rep_id: int | None,
    start: datetime,
    end: datetime,
    by: str | None,
) -> dict[tuple[str, Any], int]:
    """{(type, group): touches} in [start, end), as services.metrics.touch_counts counts them:
    the whole hours from ``rollup_touch_hours``, the two partial hours at the ends live."""
    first = hour_start(start)
    if first < start:
        first += timedelta(hours=1)
    stop = hour_start(end)
    found: dict[tuple[str, Any], int] = defaultdict(int)
    if first >= stop:
        edges = [(start, end)]
    else:
        edges = [(start, first), (stop, end)]
        scope = _scope_hours(team_id, rep_id)
        rows = await session.execute(
            select(
                RollupTouchHours.type,
                RollupTouchHours.owner_id,
                RollupTouchHours.team_key,
                func.sum(RollupTouchHours.n),
            )
            .where(
                scope,
                RollupTouchHours.hour >= _hour_key(first),
                RollupTouchHours.hour < _hour_key(stop),
            )
            .group_by(RollupTouchHours.type, RollupTouchHours.owner_id, RollupTouchHours.team_key)
        )
        for kind, owner, team_key, n in rows.all():
            found[(kind, _group(by, owner, team_key))] += int(n or 0)
    team_key = func.coalesce(Contact.team_id, 0)
    for lo, hi in edges:
        if lo >= hi:
            continue
        rows = await session.execute(
            select(Touch.type, Contact.owner_id, team_key, func.count(Touch.id))
            .join(Contact, Contact.id == Touch.contact_id)
            .with_hint(Touch, "INDEXED BY ix_touches_time_direction", "sqlite")
            .where(_scope_cards(team_id, rep_id), Touch.occurred_at >= lo, Touch.occurred_at < hi)
            .group_by(Touch.type, Contact.owner_id, team_key)
        )
        for kind, owner, tk, n in rows.all():
            found[(kind, _group(by, owner, tk))] += int(n or 0)
    return {k: n for k, n in found.items() if n}


async def _stage_touches(
    session: AsyncSession, team_id: int | None, rep_id: int | None, lo: datetime, hi: datetime
) -> dict[str, int]:
    """{stage: touches} in [lo, hi) (within a day): whole hours from ``rollup_touch_hours``,
    the partial hours at the ends live."""
    found: dict[str, int] = defaultdict(int)
    if lo >= hi:
        return found
    first = hour_start(lo)
    if first < lo:
        first += timedelta(hours=1)
    stop = hour_start(hi)
    edges = [(lo, hi)] if first >= stop else [(lo, first), (stop, hi)]
    if first < stop:
        rows = await session.execute(
            select(RollupTouchHours.stage, func.sum(RollupTouchHours.n))
            .where(
                _scope_hours(team_id, rep_id),
                RollupTouchHours.hour >= _hour_key(first),
                RollupTouchHours.hour < _hour_key(stop),
            )
            .group_by(RollupTouchHours.stage)
        )
        for stage, n in rows.all():
            found[stage] += int(n or 0)
    for a, b in edges:
        if a >= b:
            continue
        rows = await session.execute(
            select(Contact.stage, func.count(Touch.id))
            .join(Contact, Contact.id == Touch.contact_id)
            .with_hint(Touch, "INDEXED BY ix_touches_time_direction", "sqlite")
            .where(_scope_cards(team_id, rep_id), Touch.occurred_at >= a, Touch.occurred_at < b)
            .group_by(Contact.stage)
        )
        for stage, n in rows.all():
            found[stage] += int(n or 0)
    return found


def _scope_hours(team_id: int | None, rep_id: int | None) -> ColumnElement[bool]:
    if rep_id is not None:
        return RollupTouchHours.owner_id == rep_id
    if team_id is not None:
        return RollupTouchHours.team_key == team_id
    return true()
