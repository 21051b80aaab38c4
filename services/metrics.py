"""The method's measures and the digest's figures, counted in SQL.

Every function takes a session, a scope (a team, one rep, or everyone) and a period [start, end)
and returns a few numbers: the database aggregates; nothing here loops over rows. The arithmetic
on the results (NPS, shares, medians, rounding) lives in core/metrics.py.

Definitions follow /work/shared/domain.md; where the domain leaves a choice, the docstring says
which one was made.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    distinct,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core import metrics as m
from core.cadence import Cadence, effective_cadence
from core.enums import STAGE_ORDER, Direction, Source, Status, TouchType
from services import duework, followups, rollups
from storage.models import Contact, ContactEvent, DueWork, NpsCase, Survey, Team, Touch, User

LEAD_OR_LATER = (Status.LEAD.value, Status.CLIENT.value, Status.PARTNER.value)
OPEN_CASE = ("open", "taken", "contacted")


# ------------------------------------------------------------------------------------ scope
@dataclass(frozen=True)
class MetricScope:
    """A team (``team_id``), one rep (``rep_id``), or everyone (neither)."""

    team_id: int | None = None
    rep_id: int | None = None

    @classmethod
    def team(cls, team_id: int) -> MetricScope:
        return cls(team_id=team_id)

    @classmethod
    def rep(cls, rep_id: int) -> MetricScope:
        return cls(rep_id=rep_id)

    @classmethod
    def everyone(cls) -> MetricScope:
        return cls()

    def contacts(self, c: Any = Contact, *, unindexed: bool = False) -> ColumnElement[bool]:
        """The scope's cards. ``unindexed`` (see ``by_time``) writes the test as ``col + 0`` so
        that no index on the column can drive the query."""
        for col, value in ((c.owner_id, self.rep_id), (c.team_id, self.team_id)):
            if value is not None:
                return (col + 0 if unindexed else col) == value
        return true()

    def surveys(self) -> ColumnElement[bool]:
        if self.rep_id is not None:
            return Survey.rep_id == self.rep_id
        if self.team_id is not None:
            return Survey.team_id == self.team_id
        return true()

    def cases(self) -> ColumnElement[bool]:
        if self.rep_id is not None:
            return NpsCase.rep_id == self.rep_id
        if self.team_id is not None:
            return NpsCase.team_id == self.team_id
        return true()


def between(col: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(col >= start, col < end)


def _n(value: Any) -> int:
    return int(value or 0)


def _count_if(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def by_time(session: AsyncSession, scope: MetricScope) -> ColumnElement[bool]:
    """The scope's condition for a query that another table should drive: a short period of
    touches, events or due work (through their time indexes), or a list of card ids, each
    joined to its card by primary key.

    SQLite keeps no statistics (the bot never runs ANALYZE), so it guesses that "team_id = ?"
    picks a handful of cards and drives the join from that index: a probe for every card of a
    100,000-card team. Written unindexed, the test leaves SQLite the selective index.
    PostgreSQL plans from its statistics and gets the plain condition."""
    return scope.contacts(unindexed=on_sqlite(session))


def on_sqlite(session: AsyncSession) -> bool:
    return _dialect(session) == "sqlite"


def seconds_between(session: AsyncSession, earlier: Any, later: Any) -> Any:
    """later − earlier in whole seconds, on either backend."""
    if _dialect(session) == "postgresql":
        return func.round(func.extract("epoch", later - earlier))
    return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0)


def active() -> ColumnElement[bool]:
    """A card in play: not archived, not lost."""
    return and_(Contact.archived_at.is_(None), Contact.status != Status.LOST.value)


async def cadence_for(session: AsyncSession, scope: MetricScope, settings_cadence: str) -> Cadence:
    """The stage cadence that applies to the scope's team (the settings' for everyone)."""
    team_id = scope.team_id
    if scope.rep_id is not None:
        team_id = await session.scalar(select(User.team_id).where(User.id == scope.rep_id))
    team_cadence = (
        await session.scalar(select(Team.cadence).where(Team.id == team_id)) if team_id else None
    )
    return effective_cadence(settings_cadence, team_cadence)


async def cold_condition(
    session: AsyncSession, scope: MetricScope, *, now: datetime, settings_cadence: str
) -> ColumnElement[bool]:
    """Going cold, as followups.scan and /today define it: an active card with no next step and
    no touch (or creation) within its stage's cadence — each team's own cadence for everyone."""
    last = func.coalesce(Contact.last_touch_at, Contact.created_at)

    def for_cadence(cadence: Cadence) -> list[ColumnElement[bool]]:
        return [
            and_(Contact.stage == stage, last < now - timedelta(days=days))
            for stage, days in cadence.items()
        ]

    if scope.team_id is not None or scope.rep_id is not None:
        conds = for_cadence(await cadence_for(session, scope, settings_cadence))
    else:
        teams = (await session.execute(select(Team.id, Team.cadence))).all()
        groups: dict[str | None, list[int]] = {}
        for team_id, cadence_text in teams:
            groups.setdefault(cadence_text, []).append(team_id)
        conds = []
        default = for_cadence(effective_cadence(settings_cadence, None))
        custom_ids = [t for text, ids in groups.items() if text for t in ids]
        outside = Contact.team_id.is_(None)
        if custom_ids:
            outside = or_(outside, Contact.team_id.not_in(custom_ids))
        conds.append(and_(outside, or_(*default) if default else false()))
        for text, ids in groups.items():
            if not text:
                continue
            own = for_cadence(effective_cadence(settings_cadence, text))
            conds.append(and_(Contact.team_id.in_(ids), or_(*own) if own else false()))
    if not conds:
        return false()
    return and_(active(), Contact.next_step_due.is_(None), or_(*conds))


def stale_condition(now: datetime, stale_days: int) -> ColumnElement[bool]:
    """Stale data, as followups.scan defines it: an active card not verified within the window."""
    return and_(active(), Contact.verified_at < now - timedelta(days=stale_days))


# ---------------------------------------------------------------------------- status history
def _first_status_old_value() -> Any:
    """The status a card was created with: the old value of its first status change."""
    ev = aliased(ContactEvent)
    return (
        select(ev.old_value)
        .where(ev.contact_id == Contact.id, ev.field == "status")
        .order_by(ev.at, ev.id)
        .limit(1)
        .scalar_subquery()
    )


def initial_status() -> Any:
    """The card's status at creation (its current status when it never changed)."""
    return func.coalesce(_first_status_old_value(), Contact.status)


def reached_status_by(values: Iterable[str], end: datetime) -> ColumnElement[bool]:
    """The card held one of ``values`` at some moment before ``end``: created with it, or moved
    into it by a status change before ``end``. (For a card created before ``end``.)"""
    values = list(values)
    ev = aliased(ContactEvent)
    moved = (
        exists()
        .where(
            ev.contact_id == Contact.id,
            ev.field == "status",
            ev.new_value.in_(values),
            ev.at < end,
        )
        .correlate(Contact)
    )
    return or_(moved, initial_status().in_(values))


# ---------------------------------------------------------------------------- the measures
async def reach(session: AsyncSession, scope: MetricScope, start: datetime, end: datetime) -> int:
    """Distinct contacts with at least one touch in [start, end) (from the rollups when they
    can answer: a card has one stage, so the reached cards per stage add up to the reach)."""
    counts = await rollups.touches_by_stage(
        session, team_id=scope.team_id, rep_id=scope.rep_id, start=start, end=end
    )
    if counts is not None:
        return sum(c for _, c in counts.values())
    return await reach_direct(session, scope, start, end)


async def reach_direct(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> int:
    """Distinct contacts with at least one touch in [start, end), counted over the touches."""
    stmt = (
        select(func.count(distinct(Touch.contact_id)))
        .join(Contact, Contact.id == Touch.contact_id)
        .where(scope.contacts(), between(Touch.occurred_at, start, end))
    )
    return _n(await session.scalar(stmt))


@dataclass(frozen=True)
class StageFrequency:
    stage: str
    touches: int
    contacts: int  # reached contacts now at this stage
    expected: Fraction | None  # period_days / cadence_days (None: the stage has no cadence)

    @property
    def per_contact(self) -> Fraction | None:
        return m.ratio(self.touches, self.contacts)


async def touch_frequency(
    session: AsyncSession,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    *,
    cadence: Cadence,
) -> list[StageFrequency]:
    """Touches per reached contact in [start, end), by the contact's current stage, against the
    expected count period_days / cadence_days. Every stage is listed, in the method's order.

    Driven by the scope's cards (the (team_id, status, stage) index covers them), each probing
    its touches in the period through (contact_id, occurred_at): over 30 days and more that
    beats walking the period's touches and looking each card up.

    Read from the rollups (services.rollups.touches_by_stage) when they can answer; the
    direct count is :func:`stage_counts_direct`."""
    counts = await rollups.touches_by_stage(
        session, team_id=scope.team_id, rep_id=scope.rep_id, start=start, end=end
    )
    if counts is None:
        counts = await stage_counts_direct(session, scope, start, end)
    days = m.period_days(start, end)
    return [
        StageFrequency(
            s.value,
            *counts.get(s.value, (0, 0)),
            m.expected_touches(days, cadence.get(s.value)),
        )
        for s in STAGE_ORDER
    ]


async def stage_counts_direct(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> dict[str, tuple[int, int]]:
    """{stage: (touches, distinct contacts)} in [start, end), counted over the touches."""
    stmt = (
        select(Contact.stage, func.count(Touch.id), func.count(distinct(Touch.contact_id)))
        .select_from(Contact)
        .join(Touch, Touch.contact_id == Contact.id)
        .where(scope.contacts(), between(Touch.occurred_at, start, end))
        .group_by(Contact.stage)
    )
    return {stage: (_n(t), _n(c)) for stage, t, c in (await session.execute(stmt)).all()}


@dataclass(frozen=True)
class Conversion:
    cohort: int  # contacts created in the period
    lead: int  # ... that reached lead, client or partner by the end
    client: int  # ... that reached client by the end
    meeting: int  # ... with at least one meeting touch before the end


async def conversion(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> Conversion:
    """The cohort of contacts created in [start, end): how many reached lead or later (lead,
    client, partner), how many reached client, and how many had a meeting, all by ``end``.
    "Reached" uses the status history, so a lead that was lost since still counts."""
    meeting = (
        exists()
        .where(
            Touch.contact_id == Contact.id,
            Touch.type == TouchType.MEETING.value,
            Touch.occurred_at < end,
        )
        .correlate(Contact)
    )
    stmt = select(
        func.count(Contact.id),
        _count_if(reached_status_by(LEAD_OR_LATER, end)),
        _count_if(reached_status_by([Status.CLIENT.value], end)),
        _count_if(meeting),
    ).where(scope.contacts(), between(Contact.created_at, start, end))
    row = (await session.execute(stmt)).one()
    return Conversion(*(_n(v) for v in row))


@dataclass(frozen=True)
class ReferralShare:
    new: int
    new_referral: int
    clients: int  # contacts whose status became client in the period
    clients_referral: int


async def referral_share(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> ReferralShare:
    """New contacts with source = referral / all new contacts in [start, end); the same for the
    contacts that became clients in the period (a status change to client in the period, or a
    card created in the period as a client)."""
    referral = Contact.source == Source.REFERRAL.value
    new = (
        await session.execute(
            select(func.count(Contact.id), _count_if(referral)).where(
                scope.contacts(), between(Contact.created_at, start, end)
            )
        )
    ).one()
    became = select(ContactEvent.contact_id.label("id")).where(
        ContactEvent.field == "status",
        ContactEvent.new_value == Status.CLIENT.value,
        between(ContactEvent.at, start, end),
    )
    created_as_client = select(Contact.id.label("id")).where(
        scope.contacts(),
        between(Contact.created_at, start, end),
        initial_status() == Status.CLIENT.value,
    )
    ids = union(became, created_as_client).subquery()
    clients = (
        await session.execute(
            select(func.count(Contact.id), _count_if(referral)).where(
                by_time(session, scope), Contact.id.in_(select(ids.c.id))
            )
        )
    ).one()
    return ReferralShare(_n(new[0]), _n(new[1]), _n(clients[0]), _n(clients[1]))


@dataclass(frozen=True)
class Retention:
    clients: int  # clients at the start of the period
    retained: int  # ... with at least one touch (any type, service included) in the period


async def retention(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> Retention:
    """Of the contacts that were clients at ``start`` (from the status history), how many had a
    touch of any type in [start, end).

    A card's status at ``start`` is the old value of its first status change at or after
    ``start``, or its current status when it has not changed since. So the candidates are the
    current clients and the cards that left client status since ``start`` (a union of two
    index lookups), not every card of the scope with its history probed."""
    ev = aliased(ContactEvent)
    since_start = and_(ev.contact_id == Contact.id, ev.field == "status", ev.at >= start)
    status_at_start = func.coalesce(
        select(ev.old_value)
        .where(since_start)
        .order_by(ev.at, ev.id)
        .limit(1)
        .correlate(Contact)
        .scalar_subquery(),
        Contact.status,
    )
    candidates = union(
        select(Contact.id.label("id")).where(
            scope.contacts(), Contact.status == Status.CLIENT.value
        ),
        select(ContactEvent.contact_id.label("id")).where(
            ContactEvent.field == "status",
            ContactEvent.old_value == Status.CLIENT.value,
            ContactEvent.at >= start,
        ),
    ).subquery()
    touched = (
        exists()
        .where(Touch.contact_id == Contact.id, between(Touch.occurred_at, start, end))
        .correlate(Contact)
    )
    stmt = select(func.count(Contact.id), _count_if(touched)).where(
        Contact.id.in_(select(candidates.c.id)),
        by_time(session, scope),  # the candidates drive, by primary key
        Contact.created_at < start,
        status_at_start == Status.CLIENT.value,
    )
    row = (await session.execute(stmt)).one()
    return Retention(_n(row[0]), _n(row[1]))


@dataclass(frozen=True)
class NpsFigures:
    answers: int
    promoters: int
    detractors: int
    delivered: int = 0

    @property
    def passives(self) -> int:
        return self.answers - self.promoters - self.detractors

    @property
    def score(self) -> int | None:
        return m.nps(self.promoters, self.detractors, self.answers)


async def nps(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> NpsFigures:
    """Answers received in [start, end): promoters (9–10) and detractors (0–6); and the surveys
    delivered in [start, end). Response rate = answers / delivered, each counted by its own
    timestamp as the domain defines it (so a survey delivered before the period and answered in
    it counts as an answer only)."""
    answered = and_(Survey.score.is_not(None), between(Survey.answered_at, start, end))
    row = (
        await session.execute(
            select(
                func.count(Survey.id),
                _count_if(Survey.score >= m.PROMOTER_MIN),
                _count_if(Survey.score <= m.DETRACTOR_MAX),
            ).where(scope.surveys(), answered)
        )
    ).one()
    delivered = await session.scalar(
        select(func.count(Survey.id)).where(
            scope.surveys(), between(Survey.delivered_at, start, end)
        )
    )
    return NpsFigures(_n(row[0]), _n(row[1]), _n(row[2]), _n(delivered))


@dataclass(frozen=True)
class WeekNps:
    start: datetime
    figures: NpsFigures


async def nps_by_week(
    session: AsyncSession, scope: MetricScope, *, end: datetime, weeks: int = 8
) -> list[WeekNps]:
    """NPS per 7-day week ending at ``end`` (oldest first), in one grouped query."""
    starts = [end - timedelta(days=7 * (weeks - i)) for i in range(weeks)]
    bucket = case(
        *[(Survey.answered_at >= s, i) for i, s in reversed(list(enumerate(starts)))],
        else_=-1,
    ).label("week")
    stmt = (
        select(
            bucket,
            func.count(Survey.id),
            _count_if(Survey.score >= m.PROMOTER_MIN),
            _count_if(Survey.score <= m.DETRACTOR_MAX),
        )
        .where(
            scope.surveys(), Survey.score.is_not(None), between(Survey.answered_at, starts[0], end)
        )
        .group_by(bucket)
    )
    found = {int(w): NpsFigures(_n(a), _n(p), _n(d)) for w, a, p, d in await session.execute(stmt)}
    return [WeekNps(s, found.get(i, NpsFigures(0, 0, 0))) for i, s in enumerate(starts)]


@dataclass(frozen=True)
class ReplySpeed:
    inbound: int  # inbound touches in the period
    answered: int  # ... followed by an outbound touch with the same contact
    within: int  # ... answered within the reply window
    median_seconds: float | None  # over the answered ones
    window_hours: float


async def reply_speed(
    session: AsyncSession,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    window_hours: float,
) -> ReplySpeed:
    """For inbound touches in [start, end): the time to the next outbound touch with the same
    contact (up to ``now``). The median is over the answered ones; the share within the window
    is over all of them (an unanswered request is not within it). The window is
    ``settings.inbound_reply_hours`` in plain hours, not working hours."""
    out = aliased(Touch)
    # ORDER BY … LIMIT 1 rather than MIN(): the (contact_id, occurred_at) index is walked from
    # the request on and stops at the first outbound touch, even on a card with thousands
    reply_at = (
        select(out.occurred_at)
        .where(
            out.contact_id == Touch.contact_id,
            out.direction == Direction.OUT.value,
            out.occurred_at >= Touch.occurred_at,
            out.occurred_at <= now,
        )
        .order_by(out.occurred_at)
        .limit(1)
        .correlate(Touch)
        .scalar_subquery()
    )
    inbound = (
        select(Touch.occurred_at.label("at"), reply_at.label("reply_at"))
        .join(Contact, Contact.id == Touch.contact_id)
        .where(
            by_time(session, scope),
            Touch.direction == Direction.IN.value,
            between(Touch.occurred_at, start, end),
        )
        .cte("inbound")
    )
    delay = seconds_between(session, inbound.c.at, inbound.c.reply_at)
    window = window_hours * 3600
    ranked = (
        select(
            delay.label("d"),
            func.row_number().over(order_by=delay).label("rn"),
            func.count().over().label("n"),
        )
        .where(inbound.c.reply_at.is_not(None))
        .subquery()
    )
    # the middle row, or the two middle rows of an even count
    middle = (
        select(ranked.c.d)
        .where(or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == ranked.c.n // 2 + 1))
        .subquery()
    )
    # one statement: the inbound requests are collected once (a CTE used several times is
    # materialised by both backends)
    row = (
        await session.execute(
            select(
                select(func.count()).select_from(inbound).scalar_subquery(),
                select(func.count(inbound.c.reply_at)).scalar_subquery(),
                select(
                    _count_if(and_(inbound.c.reply_at.is_not(None), delay <= window))
                ).scalar_subquery(),
                select(func.min(middle.c.d)).scalar_subquery(),
                select(func.max(middle.c.d)).scalar_subquery(),
            )
        )
    ).one()
    middles = [float(v) for v in row[3:] if v is not None]
    return ReplySpeed(_n(row[0]), _n(row[1]), _n(row[2]), m.median(middles), window_hours)


@dataclass(frozen=True)
class Freshness:
    active: int
    fresh: int  # verified within the staleness window


async def freshness(
    session: AsyncSession, scope: MetricScope, *, now: datetime, stale_days: int
) -> Freshness:
    """Active cards (not archived, not lost) and those verified within ``stale_days`` of now
    (from the rollup; :func:`freshness_direct` counts the cards)."""
    active_n, fresh = await rollups.freshness(
        session, team_id=scope.team_id, rep_id=scope.rep_id, now=now, stale_days=stale_days
    )
    return Freshness(active_n, fresh)


async def freshness_direct(
    session: AsyncSession, scope: MetricScope, *, now: datetime, stale_days: int
) -> Freshness:
    """Active cards (not archived, not lost) and those verified within ``stale_days`` of now."""
    cutoff = now - timedelta(days=stale_days)
    row = (
        await session.execute(
            select(func.count(Contact.id), _count_if(Contact.verified_at >= cutoff)).where(
                scope.contacts(), active()
            )
        )
    ).one()
    return Freshness(_n(row[0]), _n(row[1]))


@dataclass
class Stats:
    start: datetime
    end: datetime
    reach: int
    frequency: list[StageFrequency]
    conversion: Conversion
    referral: ReferralShare
    retention: Retention
    nps: NpsFigures
    reply: ReplySpeed
    freshness: Freshness


async def stats(
    session: AsyncSession,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    settings_cadence: str,
    stale_days: int,
    reply_hours: float,
) -> Stats:
    """All the method's measures for /stats."""
    cadence = await cadence_for(session, scope, settings_cadence)
    frequency = await touch_frequency(session, scope, start, end, cadence=cadence)
    return Stats(
        start=start,
        end=end,
        # a card has one stage, so the reached cards per stage add up to the reach (the same
        # figure as reach(), without scanning the period's touches twice)
        reach=sum(f.contacts for f in frequency),
        frequency=frequency,
        conversion=await conversion(session, scope, start, end),
        referral=await referral_share(session, scope, start, end),
        retention=await retention(session, scope, start, end),
        nps=await nps(session, scope, start, end),
        reply=await reply_speed(session, scope, start, end, now=now, window_hours=reply_hours),
        freshness=await freshness(session, scope, now=now, stale_days=stale_days),
    )


async def funnel_by_stage(session: AsyncSession, scope: MetricScope) -> list[tuple[str, int]]:
    """Active cards by their current stage, in the method's order."""
    rows = await session.execute(
        select(Contact.stage, func.count(Contact.id))
        .where(scope.contacts(), active())
        .group_by(Contact.stage)
    )
    found = {stage: _n(n) for stage, n in rows.all()}
    return [(s.value, found.get(s.value, 0)) for s in STAGE_ORDER]


# --------------------------------------------------------------------------- digest figures
# A breakdown key: None (totals), "owner" (per rep) or "team" (per team, for an admin).
def _group_col(by: str | None) -> Any:
    if by == "owner":
        return Contact.owner_id
    if by == "team":
        return Contact.team_id
    return literal(0)


async def touch_counts(
    session: AsyncSession,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    *,
    by: str | None = None,
) -> dict[tuple[str, Any], int]:
    """Touches in [start, end) by (type, group): one reading serves both the digest's types
    and its per-rep (or per-team) lines — whole hours from the rollup, the ends live
    (services.rollups.touch_counts; :func:`touch_counts_direct` counts the touches). Memoised
    on the session for the same arguments, since the digest asks twice."""
    memo_key = ("touch_counts", scope, start, end, by)
    memo = session.info.setdefault("metrics_memo", {})
    if memo_key in memo:
        return memo[memo_key]
    memo[memo_key] = found = await rollups.touch_counts(
        session, team_id=scope.team_id, rep_id=scope.rep_id, start=start, end=end, by=by
    )
    return found


async def touch_counts_direct(
    session: AsyncSession,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    *,
    by: str | None = None,
) -> dict[tuple[str, Any], int]:
    """{(type, group): touches} in [start, end), counted over the touches."""
    key = _group_col(by)
    rows = await session.execute(
        select(Touch.type, key, func.count(Touch.id))
        .join(Contact, Contact.id == Touch.contact_id)
        .where(by_time(session, scope), between(Touch.occurred_at, start, end))
        .group_by(Touch.type, key)
    )
    return {(t, k): _n(n) for t, k, n in rows.all()}


def forget_memo(session: AsyncSession) -> None:
    session.info.pop("metrics_memo", None)


async def touches_by_type(
    session: AsyncSession,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    *,
    by: str | None = None,
) -> list[tuple[str, int]]:
    """Touches in [start, end) by type, most frequent first (``by``: read from the same pass
    as the per-rep or per-team counts)."""
    totals: dict[str, int] = {}
    for (t, _k), n in (await touch_counts(session, scope, start, end, by=by)).items():
        totals[t] = totals.get(t, 0) + n
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def not_archived() -> ColumnElement[bool]:
    """A card archived since it was added is no new contact (the digest's "new")."""
    return Contact.archived_at.is_(None)


async def new_by_source(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> list[tuple[str | None, int]]:
    """Contacts created in [start, end) and not archived, by source (None: no source given),
    most first."""
    n = func.count(Contact.id)
    rows = await session.execute(
        select(Contact.source, n)
        .where(scope.contacts(), between(Contact.created_at, start, end), not_archived())
        .group_by(Contact.source)
        .order_by(n.desc(), Contact.source)
    )
    return [(s, _n(c)) for s, c in rows.all()]


@dataclass(frozen=True)
class Steps:
    due: int
    done: int


def step_rows(
    scope: MetricScope, start: datetime, end: datetime, *, unindexed: bool = False
) -> Any:
    """Next steps that fell due in [start, end), one row per contact, with ``done`` and
    ``due_at`` (the earliest due time in the period).

    A next step is *due* in the period when its reminder (due work of kind 'reminder') has its
    due time in [start, end) and either was delivered ('sent') or was settled by a touch
    ('done'); steps moved or cancelled before they came due don't count, and a step snoozed
    several times counts once per contact. It is *done* when a touch settled the reminder
    (status 'done': the touch was logged before the reminder went out) or the contact has a
    touch logged at or after the due time and before ``end``. (``unindexed``: see by_time.)
    """
    after_due = (
        exists()
        .where(
            Touch.contact_id == DueWork.contact_id,
            Touch.occurred_at >= DueWork.due_at,
            Touch.occurred_at < end,
        )
        .correlate(DueWork)
    )
    done = or_(DueWork.status == duework.DONE, after_due)
    return (
        select(
            DueWork.contact_id.label("contact_id"),
            func.max(case((done, 1), else_=0)).label("done"),
            func.min(DueWork.due_at).label("due_at"),
        )
        .join(Contact, Contact.id == DueWork.contact_id)
        .where(
            scope.contacts(unindexed=unindexed),
            DueWork.kind == followups.REMINDER,
            DueWork.status.in_([duework.SENT, duework.DONE]),
            between(DueWork.due_at, start, end),
        )
        .group_by(DueWork.contact_id)
    )


async def steps(session: AsyncSession, scope: MetricScope, start: datetime, end: datetime) -> Steps:
    """Next steps due in the period versus done (see ``step_rows`` for the definitions)."""
    rows = step_rows(scope, start, end, unindexed=on_sqlite(session)).subquery()
    row = (await session.execute(select(func.count(), func.sum(rows.c.done)))).one()
    return Steps(_n(row[0]), _n(row[1]))


@dataclass(frozen=True)
class Moves:
    stages: list[tuple[str, int]]  # cards moved into each stage, in the method's order
    statuses: list[tuple[str, int]]  # cards whose status changed to each status


async def moves(session: AsyncSession, scope: MetricScope, start: datetime, end: datetime) -> Moves:
    """Stage moves and status changes in [start, end), counted by the new value."""
    rows = await session.execute(
        select(ContactEvent.field, ContactEvent.new_value, func.count(ContactEvent.id))
        .join(Contact, Contact.id == ContactEvent.contact_id)
        .where(
            by_time(session, scope),
            ContactEvent.field.in_(["stage", "status"]),
            between(ContactEvent.at, start, end),
        )
        .group_by(ContactEvent.field, ContactEvent.new_value)
    )
    found = {(f, v): _n(n) for f, v, n in rows.all()}
    stages = [
        (s.value, found[("stage", s.value)]) for s in STAGE_ORDER if ("stage", s.value) in found
    ]
    statuses = [
        (s.value, found[("status", s.value)]) for s in Status if ("status", s.value) in found
    ]
    return Moves(stages, statuses)


@dataclass(frozen=True)
class CardCounts:
    overdue: int
    cold: int
    stale: int

    @classmethod
    def total(cls, parts: Iterable[CardCounts]) -> CardCounts:
        """The sum of per-rep (or per-team) counts: every group of the scope's cards."""
        parts = list(parts)
        return cls(
            sum(p.overdue for p in parts), sum(p.cold for p in parts), sum(p.stale for p in parts)
        )


async def card_counts(
    session: AsyncSession,
    scope: MetricScope,
    *,
    now: datetime,
    settings_cadence: str,
    stale_days: int,
    by: str | None = None,
) -> dict[Any, CardCounts]:
    """Overdue next steps, cards going cold and cards with stale data, now — totals (key 0) or
    per rep / team: from the per-day rollup plus the boundary days (services.rollups), the same
    answers as :func:`card_counts_direct` without reading every card of the scope."""
    everyone = scope.team_id is None and scope.rep_id is None
    cadence = None if everyone else await cadence_for(session, scope, settings_cadence)
    found = await rollups.card_counts(
        session,
        team_id=scope.team_id,
        rep_id=scope.rep_id,
        now=now,
        cadence=cadence,
        settings_cadence=settings_cadence,
        stale_days=stale_days,
        by=by,
    )
    return {k: CardCounts(c.overdue, c.cold, c.stale) for k, c in found.items()}


async def card_counts_direct(
    session: AsyncSession,
    scope: MetricScope,
    *,
    now: datetime,
    settings_cadence: str,
    stale_days: int,
    by: str | None = None,
) -> dict[Any, CardCounts]:
    """Overdue next steps, cards going cold and cards with stale data, now — one pass over the
    scope's cards, totals (key 0) or per rep / team. (The definition; card_counts answers from
    the rollup.)"""
    cold = await cold_condition(session, scope, now=now, settings_cadence=settings_cadence)
    key = _group_col(by)
    stmt = (
        select(
            key,
            _count_if(and_(active(), Contact.next_step_due < now)),
            _count_if(cold),
            _count_if(stale_condition(now, stale_days)),
        )
        .where(scope.contacts(), Contact.archived_at.is_(None))
        .group_by(key)
    )
    return {k: CardCounts(_n(a), _n(b), _n(c)) for k, a, b, c in await session.execute(stmt)}


def missed_inbound_rows(
    scope: MetricScope, start: datetime, end: datetime, *, unindexed: bool = False
) -> Any:
    """Inbound requests that missed their reply window: the rep's SLA alert (due work of kind
    'inbound_rep') went out in [start, end) — it is only sent when no reply came in time.
    (``unindexed``: see by_time.)"""
    return (
        select(DueWork.contact_id, DueWork.ref_id, DueWork.sent_at)
        .join(Contact, Contact.id == DueWork.contact_id)
        .where(
            scope.contacts(unindexed=unindexed),
            DueWork.kind == followups.INBOUND_REP,
            DueWork.sent_at.is_not(None),
            between(DueWork.sent_at, start, end),
        )
    )


async def missed_inbound(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> int:
    rows = missed_inbound_rows(scope, start, end, unindexed=on_sqlite(session)).subquery()
    return _n(await session.scalar(select(func.count()).select_from(rows)))


async def open_cases(session: AsyncSession, scope: MetricScope) -> int:
    """Detractor cases not resolved yet."""
    return _n(
        await session.scalar(
            select(func.count(NpsCase.id)).where(scope.cases(), NpsCase.status.in_(OPEN_CASE))
        )
    )


@dataclass
class Breakdown:
    """One line per rep (or team): the digest's figures for the period and now."""

    touches: dict[Any, int] = field(default_factory=dict)
    new: dict[Any, int] = field(default_factory=dict)
    cards: dict[Any, CardCounts] = field(default_factory=dict)
    missed: dict[Any, int] = field(default_factory=dict)
    steps_due: dict[Any, int] = field(default_factory=dict)
    steps_done: dict[Any, int] = field(default_factory=dict)


async def breakdown(
    session: AsyncSession,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    by: str,
    settings_cadence: str,
    stale_days: int,
) -> Breakdown:
    """The digest's figures grouped by rep (``by="owner"``) or team (``by="team"``): a handful
    of grouped queries, not one query per rep."""
    key = _group_col(by)
    out = Breakdown()
    for (_type, k), n in (await touch_counts(session, scope, start, end, by=by)).items():
        out.touches[k] = out.touches.get(k, 0) + n
    out.new = {
        k: _n(v)
        for k, v in await session.execute(
            select(key, func.count(Contact.id))
            .where(scope.contacts(), between(Contact.created_at, start, end), not_archived())
            .group_by(key)
        )
    }
    out.cards = await card_counts(
        session,
        scope,
        now=now,
        settings_cadence=settings_cadence,
        stale_days=stale_days,
        by=by,
    )
    unindexed = on_sqlite(session)
    missed = (
        missed_inbound_rows(scope, start, end, unindexed=unindexed)
        .add_columns(key.label("k"))
        .subquery()
    )
    out.missed = {
        k: _n(v)
        for k, v in await session.execute(select(missed.c.k, func.count()).group_by(missed.c.k))
    }
    steps_q = (
        step_rows(scope, start, end, unindexed=unindexed)
        .add_columns(key.label("k"))
        .group_by(key)
        .subquery()
    )
    for k, due, done in await session.execute(
        select(steps_q.c.k, func.count(), func.sum(steps_q.c.done)).group_by(steps_q.c.k)
    ):
        out.steps_due[k], out.steps_done[k] = _n(due), _n(done)
    return out
