"""/today: overdue, due today, going cold, inbound waiting for a reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cadence import effective_cadence
from core.enums import Status
from services import duework, followups
from services.contacts import Scope
from storage.models import Contact, DueWork, Team, Touch

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
    active = select(Contact).where(
        scope.condition(), Contact.archived_at.is_(None), Contact.status != Status.LOST.value
    )
    for c in await session.scalars(
        active.where(Contact.next_step_due < now).order_by(Contact.next_step_due).limit(LIMIT)
    ):
        day.overdue.append(Item(c, c.next_step_due))
    for c in await session.scalars(
        active.where(Contact.next_step_due >= now, Contact.next_step_due < end_of_day)
        .order_by(Contact.next_step_due)
        .limit(LIMIT)
    ):
        day.due_today.append(Item(c, c.next_step_due))
    team_cadence = None
    if scope.team_id is not None:
        team = await session.get(Team, scope.team_id)
        team_cadence = team.cadence if team else None
    cadence = effective_cadence(settings_cadence, team_cadence)
    last = func.coalesce(Contact.last_touch_at, Contact.created_at)
    cold_conds = [
        (Contact.stage == stage) & (last < now - timedelta(days=days))
        for stage, days in cadence.items()
    ]
    if cold_conds:
        for c in await session.scalars(
            active.where(Contact.next_step_due.is_(None), or_(*cold_conds))
            .order_by(last)
            .limit(LIMIT)
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
    for c, at in (await session.execute(inbound)).all():
        day.inbound.append(Item(c, at))
    return day
