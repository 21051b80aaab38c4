"""/today: overdue, due today, going cold, inbound waiting for a reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import duework, followups
from services.scope import Scope
from storage import conditions
from storage.models import Contact, DueWork, Touch

LIMIT = 50


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


async def build(
    session: AsyncSession,
    scope: Scope,
    *,
    now: datetime,
    end_of_day: datetime,
    settings_cadence: str,
) -> Day:
    day = Day()
    # a step the rep set is theirs to do whatever the card's status, a lost one's too: its
    # reminder comes, so /today lists it (it said "Nothing is due" while the card was overdue)
    live = select(Contact).where(scope.condition(), Contact.archived_at.is_(None))
    for c in await session.scalars(
        live.where(Contact.next_step_due < now).order_by(Contact.next_step_due).limit(LIMIT)
    ):
        day.overdue.append(Item(c, c.next_step_due))
    for c in await session.scalars(
        live.where(Contact.next_step_due >= now, Contact.next_step_due < end_of_day)
        .order_by(Contact.next_step_due)
        .limit(LIMIT)
    ):
        day.due_today.append(Item(c, c.next_step_due))
    if scope.team_id is not None:
        cold = conditions.going_cold(
            await conditions.team_cadence(session, scope.team_id, settings_cadence), now
        )
    else:
        default, per_team = await conditions.team_cadences(session, settings_cadence)
        cold = conditions.going_cold(default, now, per_team=per_team)
    active = select(Contact).where(scope.condition(), conditions.active())
    for c in await session.scalars(
        active.where(cold).order_by(conditions.quiet_since()).limit(LIMIT)
    ):
        day.cold.append(Item(c, c.last_touch_at))
    inbound = (
        select(Contact, Touch.occurred_at)
        .join(DueWork, DueWork.contact_id == Contact.id)
        .join(Touch, Touch.id == DueWork.ref_id)
        .where(
            scope.condition(),
            DueWork.kind == followups.INBOUND_REP,
            DueWork.status.in_([duework.PENDING, duework.CLAIMED, duework.SENT]),
        )
        .order_by(Touch.occurred_at)
        .limit(LIMIT)
    )
    seen: set[int] = set()
    for c, at in (await session.execute(inbound)).all():
        if c.id not in seen:  # a card waits once, since its earliest request (older data)
            seen.add(c.id)
            day.inbound.append(Item(c, at))
    return day
