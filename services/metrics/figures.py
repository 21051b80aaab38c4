"""The digest's figures, counted in SQL: touches by type and by rep, new cards by source, next
steps due and done, stage moves, overdue / cold / stale cards, missed requests, open cases, and
the per-rep (or per-team) breakdown of all of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.enums import STAGE_ORDER, Direction, Status
from core.nps import OPEN_CASES
from services import duework, followups, rollup_moves, rollups
from services.metrics.scope import (
    MetricScope,
    active,
    as_int,
    between,
    by_time,
    cadence_for,
    cold_condition,
    count_if,
    on_sqlite,
    stale_condition,
)
from storage.models import Contact, ContactEvent, DueWork, NpsCase, Touch

OPEN_CASE = OPEN_CASES  # the name the digest reads


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
    direct: bool = False,
) -> dict[tuple[str, Any], int]:
    """Touches in [start, end) by (type, group): one reading serves both the digest's types
    and its per-rep (or per-team) lines — whole hours from the rollup, the ends live
    (services.rollups.touch_counts). Memoised on the session for the same arguments, since the
    digest asks twice. ``direct`` (:data:`touch_counts_direct`): counted over the touches — the
    definition, which the rollup's answers must equal."""
    if direct:
        key = _group_col(by)
        rows = await session.execute(
            select(Touch.type, key, func.count(Touch.id))
            .join(Contact, Contact.id == Touch.contact_id)
            .where(by_time(session, scope), between(Touch.occurred_at, start, end))
            .group_by(Touch.type, key)
        )
        return {(t, k): as_int(n) for t, k, n in rows.all()}
    memo_key = ("touch_counts", scope, start, end, by)
    memo = session.info.setdefault("metrics_memo", {})
    if memo_key in memo:
        return memo[memo_key]
    memo[memo_key] = found = await rollups.touch_counts(
        session, team_id=scope.team_id, rep_id=scope.rep_id, start=start, end=end, by=by
    )
    return found


touch_counts_direct = partial(touch_counts, direct=True)  # the definition (see touch_counts)


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
    """A card the rep archived since it was added is no new contact in the digest (issue 14: a
    slip or a duplicate put away); one whose data was erased (/forget, which archives it) still
    is: what the metrics count stays when a person is forgotten."""
    return or_(Contact.archived_at.is_(None), Contact.forgotten_at.is_not(None))


async def new_by_source(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> list[tuple[str | None, int]]:
    """Contacts created in [start, end) by source (None: no source given), most first; those
    archived since are left out, those forgotten since are not (:func:`not_archived`)."""
    n = func.count(Contact.id)
    rows = await session.execute(
        select(Contact.source, n)
        .where(scope.contacts(), between(Contact.created_at, start, end), not_archived())
        .group_by(Contact.source)
        .order_by(n.desc(), Contact.source)
    )
    return [(s, as_int(c)) for s, c in rows.all()]


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
    return Steps(as_int(row[0]), as_int(row[1]))


@dataclass(frozen=True)
class Moves:
    stages: list[tuple[str, int]]  # cards moved into each stage, in the method's order
    statuses: list[tuple[str, int]]  # cards whose status changed to each status


async def moves(session: AsyncSession, scope: MetricScope, start: datetime, end: datetime) -> Moves:
    """As :func:`moves_direct` counts them, from the hourly rollup (services.rollup_moves)."""
    found = await rollup_moves.move_counts(
        session, team_id=scope.team_id, rep_id=scope.rep_id, start=start, end=end
    )
    return _moves(found)


async def moves_direct(
    session: AsyncSession, scope: MetricScope, start: datetime, end: datetime
) -> Moves:
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
    return _moves({(f, v): as_int(n) for f, v, n in rows.all()})


def _moves(found: dict[tuple[str, Any], int]) -> Moves:
    found = {k: n for k, n in found.items() if n}
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
    direct: bool = False,
) -> dict[Any, CardCounts]:
    """Overdue next steps, cards going cold and cards with stale data, now — totals (key 0) or
    per rep / team: from the per-day rollup plus the boundary days (services.rollups), without
    reading every card of the scope. ``direct`` (:data:`card_counts_direct`): one pass over the
    scope's cards — the definition, which the rollup's answers must equal."""
    if direct:
        cold = await cold_condition(session, scope, now=now, settings_cadence=settings_cadence)
        key = _group_col(by)
        stmt = (
            select(
                key,
                count_if(and_(active(), Contact.next_step_due < now)),
                count_if(cold),
                count_if(stale_condition(now, stale_days)),
            )
            .where(scope.contacts(), Contact.archived_at.is_(None))
            .group_by(key)
        )
        rows = await session.execute(stmt)
        return {k: CardCounts(as_int(a), as_int(b), as_int(c)) for k, a, b, c in rows}
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


card_counts_direct = partial(card_counts, direct=True)  # the definition (see card_counts)


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
    return as_int(await session.scalar(select(func.count()).select_from(rows)))


# an inbound request's alert row in these states: the request may still wait (a failed alert's
# request too); whether it does is told by its touch (no outbound touch since)
_MAY_WAIT = (duework.PENDING, duework.CLAIMED, duework.SENT, duework.FAILED)


def waiting_inbound_rows(scope: MetricScope, *, unindexed: bool = False) -> Any:
    """Inbound requests waiting for a reply now, whatever the period: the owner's alert row of a
    request on a live card of the scope, with no outbound touch with the contact since the
    request (``contact_id``, ``ref_id`` — the request's touch — and ``at``, when it came).
    Not a measure of reply speed (services.metrics.replies): the state of the queue."""
    answer = aliased(Touch)
    # the first reply's id, through the (contact_id, occurred_at) index from the request on
    reply = (
        select(answer.id)
        .where(
            answer.contact_id == Touch.contact_id,
            answer.direction == Direction.OUT.value,
            answer.occurred_at >= Touch.occurred_at,
            answer.id != Touch.id,
        )
        .order_by(answer.occurred_at)
        .limit(1)
        .correlate(Touch)
        .scalar_subquery()
    )
    return (
        select(
            DueWork.contact_id.label("contact_id"),
            DueWork.ref_id.label("ref_id"),
            Touch.occurred_at.label("at"),
        )
        .join(Contact, Contact.id == DueWork.contact_id)
        .join(Touch, Touch.id == DueWork.ref_id)
        .where(
            scope.contacts(unindexed=unindexed),
            Contact.archived_at.is_(None),
            DueWork.kind == followups.INBOUND_REP,
            DueWork.status.in_(_MAY_WAIT),
            reply.is_(None),
        )
    )


async def waiting_inbound(session: AsyncSession, scope: MetricScope) -> int:
    """How many contacts wait for a reply now (a contact once, however many requests)."""
    rows = waiting_inbound_rows(scope, unindexed=on_sqlite(session)).subquery()
    return as_int(await session.scalar(select(func.count(func.distinct(rows.c.contact_id)))))


async def open_cases(session: AsyncSession, scope: MetricScope) -> int:
    """Detractor cases not resolved yet."""
    return as_int(
        await session.scalar(
            select(func.count(NpsCase.id)).where(scope.cases(), NpsCase.status.in_(OPEN_CASES))
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
        k: as_int(v)
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
        k: as_int(v)
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
        out.steps_due[k], out.steps_done[k] = as_int(due), as_int(done)
    return out
