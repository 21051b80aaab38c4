"""Daily checks: cards going cold and cards with stale data get one check each, written in short
batches."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cadence import effective_cadence
from core.enums import Status
from core.workhours import shift_into
from services import duework
from services.followups.rules import (
    COLD,
    STALE,
    ts,
    user_hours,
    user_tz,
)
from storage.models import Contact, Team, User
from storage.uow import writing


async def scan(
    session: AsyncSession, *, now: datetime, settings_cadence: str, stale_days: int, default_tz: str
) -> dict[str, int]:
    """Daily work: contacts going cold and cards with stale data get one check each."""
    counts = {"cold": 0, "stale": 0}
    teams = {t.id: t.cadence for t in await session.scalars(select(Team))}
    owners: dict[int, User] = {}

    async def owner_of(c: Contact) -> User | None:
        if c.owner_id not in owners:
            u = await session.get(User, c.owner_id)
            if u is None:
                return None
            owners[c.owner_id] = u
        return owners[c.owner_id]

    groups: dict[str | None, list[int | None]] = {}
    for team_id, cadence in teams.items():
        groups.setdefault(cadence, []).append(team_id)
    groups.setdefault(None, []).append(None)
    for team_cadence, team_ids in groups.items():
        cadence = effective_cadence(settings_cadence, team_cadence)
        in_teams = Contact.team_id.in_([t for t in team_ids if t is not None])
        team_cond = in_teams if None not in team_ids else (in_teams | Contact.team_id.is_(None))
        for stage, days in cadence.items():
            cutoff = now - timedelta(days=days)
            last = func.coalesce(Contact.last_touch_at, Contact.created_at)
            stmt = (
                select(Contact)
                .where(
                    team_cond,
                    Contact.stage == stage,
                    Contact.archived_at.is_(None),
                    Contact.status != Status.LOST.value,
                    Contact.next_step_due.is_(None),
                    last < cutoff,
                )
                .order_by(Contact.id)
            )
            counts["cold"] += await _schedule_each(
                session,
                stmt,
                now,
                default_tz,
                owner_of,
                kind=COLD,
                key=lambda c: f"cold:{c.id}:{ts(c.last_touch_at or c.created_at)}",
            )
    stale_cutoff = now - timedelta(days=stale_days)
    stmt = (
        select(Contact)
        .where(
            Contact.archived_at.is_(None),
            Contact.status != Status.LOST.value,
            Contact.verified_at < stale_cutoff,
        )
        .order_by(Contact.id)
    )
    counts["stale"] = await _schedule_each(
        session,
        stmt,
        now,
        default_tz,
        owner_of,
        kind=STALE,
        key=lambda c: f"stale:{c.id}:{ts(c.verified_at)}",
    )
    return counts


async def _schedule_each(
    session: AsyncSession,
    stmt: Any,
    now: datetime,
    default_tz: str,
    owner_of: Any,
    *,
    kind: str,
    key: Any,
    batch: int = 1000,
) -> int:
    added = 0
    last_id = 0
    while True:
        rows = list(await session.scalars(stmt.where(Contact.id > last_id).limit(batch)))
        if not rows:
            return added
        async with writing(session):  # one short write per batch, never one long one
            for c in rows:
                owner = await owner_of(c)
                if owner is None or owner.role not in ("rep", "manager", "admin"):
                    continue
                due = shift_into(now, user_tz(owner, default_tz), user_hours(owner))
                if await duework.schedule(
                    session,
                    kind=kind,
                    key=key(c),
                    chat_id=owner.tg_id,
                    user_id=owner.id,
                    contact_id=c.id,
                    due_at=due,
                    now=now,
                ):
                    added += 1
        last_id = rows[-1].id
