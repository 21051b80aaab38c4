"""/today: overdue, due today, going cold, inbound waiting for a reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import duework, followups
from services.scope import Scope
from storage import conditions
from storage.models import Contact, DueWork, Touch

LIMIT = 10  # cards a section lists (views.today shows them); its count is of all of them


@dataclass
class Item:
    contact: Contact
    when: datetime | None = None


@dataclass
class Day:
    overdue: list[Item] = field(default_factory=list)
    due_today: list[Item] = field(default_factory=list)
    cold: list[Item] = field(default_factory=list)
    inbound: list[Item] = field(default_factory=list)
    # how many cards each section has in all (its list holds the first LIMIT)
    counts: dict[str, int] = field(default_factory=dict)
    user_id: int | None = None  # whose day it is


def end_of_day(now: datetime, tz: str) -> datetime:
    """The next midnight in the time zone ``tz``: what is due before it is due today."""
    zone = ZoneInfo(tz)
    return datetime.combine(
        now.astimezone(zone).date() + timedelta(days=1), datetime.min.time(), zone
    )


async def build(
    session: AsyncSession,
    scope: Scope,
    *,
    now: datetime,
    end_of_day: datetime,
    settings_cadence: str,
) -> Day:
    day = Day(user_id=scope.user_id)

    async def section(where: list[Any], order: Any) -> tuple[list[Contact], int]:
        rows = await session.scalars(select(Contact).where(*where).order_by(order).limit(LIMIT))
        found = list(rows)
        if len(found) < LIMIT:
            return found, len(found)
        return found, int(await session.scalar(select(func.count(Contact.id)).where(*where)) or 0)

    # a step the rep set is theirs to do whatever the card's status, a lost one's too: its
    # reminder comes, so /today lists it (it said "Nothing is due" while the card was overdue)
    live = [scope.condition(), Contact.archived_at.is_(None)]
    found, day.counts["overdue"] = await section(
        [*live, Contact.next_step_due < now], Contact.next_step_due
    )
    day.overdue = [Item(c, c.next_step_due) for c in found]
    found, day.counts["today"] = await section(
        [*live, Contact.next_step_due >= now, Contact.next_step_due < end_of_day],
        Contact.next_step_due,
    )
    day.due_today = [Item(c, c.next_step_due) for c in found]
    if scope.team_id is not None:
        cold = conditions.going_cold(
            await conditions.team_cadence(session, scope.team_id, settings_cadence), now
        )
    else:
        default, per_team = await conditions.team_cadences(session, settings_cadence)
        cold = conditions.going_cold(default, now, per_team=per_team)
    found, day.counts["cold"] = await section(
        [scope.condition(), conditions.active(), cold], conditions.quiet_since()
    )
    day.cold = [Item(c, c.last_touch_at) for c in found]
    day.inbound, day.counts["inbound"] = await _inbound(session, scope)
    return day


async def _inbound(session: AsyncSession, scope: Scope) -> tuple[list[Item], int]:
    """Cards with a request waiting for the owner's reply, each once, since its earliest
    request (older data may hold several)."""
    waiting: list[ColumnElement[bool]] = [
        scope.condition(),
        DueWork.kind == followups.INBOUND_REP,
        DueWork.status.in_([duework.PENDING, duework.CLAIMED, duework.SENT]),
    ]
    since = func.min(Touch.occurred_at)
    rows = await session.execute(
        select(Contact, since)
        .join(DueWork, DueWork.contact_id == Contact.id)
        .join(Touch, Touch.id == DueWork.ref_id)
        .where(*waiting)
        .group_by(Contact.id)
        .order_by(since, Contact.id)
        .limit(LIMIT)
    )
    items = [Item(c, at) for c, at in rows.all()]
    if len(items) < LIMIT:
        return items, len(items)
    total = await session.scalar(
        select(func.count(distinct(Contact.id)))
        .join(DueWork, DueWork.contact_id == Contact.id)
        .join(Touch, Touch.id == DueWork.ref_id)
        .where(*waiting)
    )
    return items, int(total or 0)
