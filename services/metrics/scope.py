"""The scope of a measure (a team, one rep, everyone) and the SQL pieces the measures share:
periods, dialect helpers, "active", "going cold", "stale" and the status history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.cadence import Cadence
from storage import conditions
from storage.conditions import active
from storage.models import Contact, ContactEvent, NpsCase, Survey, User


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


def as_int(value: Any) -> int:
    return int(value or 0)


def count_if(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def dialect(session: AsyncSession) -> str:
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
    return dialect(session) == "sqlite"


def seconds_between(session: AsyncSession, earlier: Any, later: Any) -> Any:
    """later − earlier in whole seconds, on either backend."""
    if dialect(session) == "postgresql":
        return func.round(func.extract("epoch", later - earlier))
    return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0)


async def cadence_for(session: AsyncSession, scope: MetricScope, settings_cadence: str) -> Cadence:
    """The stage cadence that applies to the scope's team (the settings' for everyone)."""
    team_id = scope.team_id
    if scope.rep_id is not None:
        team_id = await session.scalar(select(User.team_id).where(User.id == scope.rep_id))
    return await conditions.team_cadence(session, team_id, settings_cadence)


async def cold_condition(
    session: AsyncSession, scope: MetricScope, *, now: datetime, settings_cadence: str
) -> ColumnElement[bool]:
    """Live cards going cold (storage.conditions.going_cold) — for everyone, each team's cards by
    its own cadence."""
    if scope.team_id is not None or scope.rep_id is not None:
        cold = conditions.going_cold(await cadence_for(session, scope, settings_cadence), now)
    else:
        default, per_team = await conditions.team_cadences(session, settings_cadence)
        cold = conditions.going_cold(default, now, per_team=per_team)
    return and_(active(), cold)


def stale_condition(now: datetime, stale_days: int) -> ColumnElement[bool]:
    """Live cards with stale data (storage.conditions.stale)."""
    return and_(active(), conditions.stale(now, stale_days))


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
