"""The method's measures (/stats), counted in SQL.

Every function takes a session, a scope (a team, one rep, or everyone) and a period [start, end)
and returns a few numbers: the database aggregates; nothing here loops over rows. The arithmetic
on the results (NPS, shares, medians, rounding) lives in core/metrics.py.

Definitions follow /work/shared/domain.md; where the domain leaves a choice, the docstring says
which one was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import and_, case, distinct, exists, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core import metrics as m
from core.cadence import Cadence
from core.enums import STAGE_ORDER, Source, Status, TouchType
from services import rollup_marks, rollups
from services.metrics.replies import ReplySpeed, reply_speed
from services.metrics.scope import (
    MetricScope,
    active,
    as_int,
    between,
    by_time,
    cadence_for,
    count_if,
    initial_status,
    reached_status_by,
)
from storage.models import Contact, ContactEvent, Survey, Touch

LEAD_OR_LATER = (Status.LEAD.value, Status.CLIENT.value, Status.PARTNER.value)


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
    return as_int(await session.scalar(stmt))


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
    return {stage: (as_int(t), as_int(c)) for stage, t, c in (await session.execute(stmt)).all()}


@dataclass(frozen=True)
class Conversion:
    cohort: int  # contacts created in the period
    lead: int  # ... that reached lead, client or partner by the end
    client: int  # ... that reached client by the end
    meeting: int  # ... with at least one meeting touch before the end


async def conversion(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> Conversion:
    """As :func:`conversion_direct` defines it, from the per-card marks (services.rollup_marks:
    sums over creation days, less the few cards that got there after ``end``)."""
    c = await _cohort(session, scope, start, end)
    return Conversion(c["new"], c["new_lead"], c["new_cli"], c["new_meet"])


async def _cohort(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> dict[str, int]:
    return await rollup_marks.cohort(
        session, team_id=scope.team_id, rep_id=scope.rep_id, start=start, end=end
    )


async def conversion_direct(
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
        count_if(reached_status_by(LEAD_OR_LATER, end)),
        count_if(reached_status_by([Status.CLIENT.value], end)),
        count_if(meeting),
    ).where(scope.contacts(), between(Contact.created_at, start, end))
    row = (await session.execute(stmt)).one()
    return Conversion(*(as_int(v) for v in row))


@dataclass(frozen=True)
class ReferralShare:
    new: int
    new_referral: int
    clients: int  # contacts whose status became client in the period
    clients_referral: int


async def referral_share(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> ReferralShare:
    """As :func:`referral_share_direct` defines it, from the per-card marks."""
    c = await _cohort(session, scope, start, end)
    return ReferralShare(c["new"], c["new_ref"], c["arrive"], c["arr_ref"])


async def referral_share_direct(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> ReferralShare:
    """New contacts with source = referral / all new contacts in [start, end); the same for the
    contacts that became clients in the period (a status change to client in the period, or a
    card created in the period as a client)."""
    referral = Contact.source == Source.REFERRAL.value
    new = (
        await session.execute(
            select(func.count(Contact.id), count_if(referral)).where(
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
            select(func.count(Contact.id), count_if(referral)).where(
                by_time(session, scope), Contact.id.in_(select(ids.c.id))
            )
        )
    ).one()
    return ReferralShare(as_int(new[0]), as_int(new[1]), as_int(clients[0]), as_int(clients[1]))


@dataclass(frozen=True)
class Retention:
    clients: int  # clients at the start of the period
    retained: int  # ... with at least one touch (any type, service included) in the period


async def retention(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> Retention:
    """As :func:`retention_direct` defines it, from the client intervals among the per-card
    marks (services.rollup_marks.clients_at): clients at ``start`` and those touched since.
    A card touched only after ``end`` is not retained: when there are a few touches after
    ``end``, their cards are checked directly; with many (a period well in the past), the whole
    measure is counted directly."""
    later = await session.scalar(
        select(func.count()).select_from(
            select(Touch.id)
            .where(Touch.occurred_at >= end)
            .limit(rollups.LATER_LIMIT + 1)
            .subquery()
        )
    )
    if later and later > rollups.LATER_LIMIT:
        return await retention_direct(session, scope, start, end)
    clients, touched = await rollup_marks.clients_at(
        session, team_id=scope.team_id, rep_id=scope.rep_id, start=start
    )
    if later:
        # counted as touched since start, but touched only after the end
        wrong = await _retention_row(session, scope, start, end, after=end)
        touched -= wrong.clients - wrong.retained
    return Retention(clients, touched)


async def retention_direct(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> Retention:
    """Of the contacts that were clients at ``start`` (from the status history), how many had a
    touch of any type in [start, end).

    A card's status at ``start`` is the old value of its first status change at or after
    ``start``, or its current status when it has not changed since. So the candidates are the
    current clients and the cards that left client status since ``start`` (a union of two
    index lookups), not every card of the scope with its history probed."""
    return await _retention_row(session, scope, start, end)


async def _retention_row(
    session: AsyncSession,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    *,
    after: datetime | None = None,
) -> Retention:
    """The direct count; with ``after``, over the few cards touched at or after it only (found
    through the time's index — a DISTINCT walked the whole (card, time) index)."""
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
    if after is not None:
        hint = "INDEXED BY ix_touches_time_direction"
        ids = select(Touch.contact_id.label("id")).with_hint(Touch, hint, "sqlite")
        candidates = ids.where(Touch.occurred_at >= after).subquery()
    else:
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
    stmt = select(func.count(Contact.id), count_if(touched)).where(
        Contact.id.in_(select(candidates.c[0])),
        by_time(session, scope),  # the candidates drive, by primary key
        Contact.created_at < start,
        status_at_start == Status.CLIENT.value,
    )
    row = (await session.execute(stmt)).one()
    return Retention(as_int(row[0]), as_int(row[1]))


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
                count_if(Survey.score >= m.PROMOTER_MIN),
                count_if(Survey.score <= m.DETRACTOR_MAX),
            ).where(scope.surveys(), answered)
        )
    ).one()
    delivered = await session.scalar(
        select(func.count(Survey.id)).where(
            scope.surveys(), between(Survey.delivered_at, start, end)
        )
    )
    return NpsFigures(as_int(row[0]), as_int(row[1]), as_int(row[2]), as_int(delivered))


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
            count_if(Survey.score >= m.PROMOTER_MIN),
            count_if(Survey.score <= m.DETRACTOR_MAX),
        )
        .where(
            scope.surveys(), Survey.score.is_not(None), between(Survey.answered_at, starts[0], end)
        )
        .group_by(bucket)
    )
    found = {
        int(w): NpsFigures(as_int(a), as_int(p), as_int(d))
        for w, a, p, d in await session.execute(stmt)
    }
    return [WeekNps(s, found.get(i, NpsFigures(0, 0, 0))) for i, s in enumerate(starts)]


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
            select(func.count(Contact.id), count_if(Contact.verified_at >= cutoff)).where(
                scope.contacts(), active()
            )
        )
    ).one()
    return Freshness(as_int(row[0]), as_int(row[1]))


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
    c = await _cohort(session, scope, start, end)
    return Stats(
        start=start,
        end=end,
        # a card has one stage, so the reached cards per stage add up to the reach (the same
        # figure as reach(), without scanning the period's touches twice)
        reach=sum(f.contacts for f in frequency),
        frequency=frequency,
        # conversion and referral share from one reading of the marks
        conversion=Conversion(c["new"], c["new_lead"], c["new_cli"], c["new_meet"]),
        referral=ReferralShare(c["new"], c["new_ref"], c["arrive"], c["arr_ref"]),
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
    found = {stage: as_int(n) for stage, n in rows.all()}
    return [(s.value, found.get(s.value, 0)) for s in STAGE_ORDER]
