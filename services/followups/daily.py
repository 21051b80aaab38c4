"""Daily checks: cards going cold and cards with stale data get one check each, written in short
batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.roles import STAFF
from core.workhours import shift_into
from services import duework
from services.followups.rules import (
    COLD,
    STALE,
    ts,
    user_hours,
    user_tz,
)
from storage import conditions
from storage.models import Contact, User
from storage.uow import writing


async def scan(
    session: AsyncSession, *, now: datetime, settings_cadence: str, stale_days: int, default_tz: str
) -> dict[str, int]:
    """Daily work: contacts going cold and cards with stale data get one check each."""
    counts = {"cold": 0, "stale": 0}
    owners: dict[int, User] = {}

    async def owner_of(c: Contact) -> User | None:
        if c.owner_id not in owners:
            u = await session.get(User, c.owner_id)
            if u is None:
                return None
            owners[c.owner_id] = u
        return owners[c.owner_id]

    default, per_team = await conditions.team_cadences(session, settings_cadence)
    checks = (
        (
            COLD,
            conditions.going_cold(default, now, per_team=per_team),
            lambda c: f"cold:{c.id}:{ts(c.last_touch_at or c.created_at)}",
        ),
        (STALE, conditions.stale(now, stale_days), lambda c: f"stale:{c.id}:{ts(c.verified_at)}"),
    )
    for kind, cond, key in checks:
        counts[kind] = await _schedule_each(
            session,
            select(Contact).where(conditions.active(), cond).order_by(Contact.id),
            now,
            default_tz,
            owner_of,
            kind=kind,
            key=key,
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
                if owner is None or owner.role not in STAFF:
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
