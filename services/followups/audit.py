"""The audit: every breach of the invariant (package docstring), as readable lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import Status
from core.workhours import is_working_time
from services import duework
from services.followups.rules import (
    CARD_KINDS,
    COLD,
    INBOUND_MGR,
    INBOUND_REP,
    REMINDER,
    STALE,
    Rules,
    payload_of,
    reminder_due,
    right_due,
    sla_times,
    step_stamp,
    user_hours,
    user_tz,
)
from services.followups.sync import (
    is_answered,
    manager_of,
    reminded,
)
from storage.models import Contact, DueWork, Touch, User


async def audit(
    session: AsyncSession,
    *,
    now: datetime,
    rules: Rules,
    contact_ids: Iterable[int] | None = None,
) -> list[str]:
    """Every breach of the invariant (module docstring), as readable lines; [] when all is right.

    Read-only; the tests run it after every step, and it is cheap enough to run on a sample.
    """
    stmt = select(Contact).order_by(Contact.id)
    if contact_ids is not None:
        stmt = stmt.where(Contact.id.in_(list(contact_ids)))
    problems: list[str] = []
    owners: dict[int, User | None] = {}
    for c in await session.scalars(stmt):
        if c.owner_id not in owners:
            owners[c.owner_id] = await session.get(User, c.owner_id)
        owner = owners[c.owner_id]
        rows = list(
            await session.scalars(
                select(DueWork)
                .where(DueWork.contact_id == c.id, DueWork.kind.in_(CARD_KINDS))
                .order_by(DueWork.id)
            )
        )
        problems += [
            f"card {c.id}: {p}" for p in await _audit_card(session, c, owner, rows, now, rules)
        ]
    return problems


async def _audit_card(
    session: AsyncSession,
    c: Contact,
    owner: User | None,
    rows: list[DueWork],
    now: datetime,
    rules: Rules,
) -> list[str]:
    out: list[str] = []
    pending = {
        k: [r for r in rows if r.kind == k and r.status == duework.PENDING] for k in CARD_KINDS
    }
    reminders = pending[REMINDER]
    due = reminder_due(c, owner, rules.default_tz, now) if owner is not None else None
    if due is None:
        if reminders:
            out.append(f"{len(reminders)} pending reminder(s) without an open step on a live card")
    elif len(reminders) > 1:
        out.append(f"{len(reminders)} pending reminders")
    elif reminders:
        (r,) = reminders
        step_due = c.next_step_due.isoformat() if c.next_step_due else None
        assert owner is not None and c.next_step_due is not None
        if not right_due(r.due_at, c.next_step_due, owner, rules.default_tz, now):
            out.append(f"reminder due {r.due_at.isoformat()}, should be {due.isoformat()}")
        if owner is not None and (r.user_id, r.chat_id) != (owner.id, owner.tg_id):
            out.append("reminder addressed to someone else than the owner")
        if payload_of(r).get("step_due") != step_due:
            out.append("reminder for another step")
    else:
        assert owner is not None
        step_due = c.next_step_due.isoformat() if c.next_step_due else None
        claimed = [r for r in rows if r.kind == REMINDER and r.status == duework.CLAIMED]
        stamp = step_stamp(c.next_step)
        if not claimed and not await reminded(session, c.id, owner.id, step_due, stamp):
            out.append("an open step without a reminder")
    live = c.archived_at is None and c.status != Status.LOST.value
    if owner is None:
        return out
    tz, hours = user_tz(owner, rules.default_tz), user_hours(owner)
    for kind in (COLD, STALE):
        if len(pending[kind]) > 1:
            out.append(f"{len(pending[kind])} pending {kind} checks")
        for r in pending[kind]:
            if not live:
                out.append(f"a pending {kind} check on an archived or lost card")
            if kind == COLD and c.next_step_due is not None:
                out.append("a pending cold check on a card with an open step")
            if kind == COLD and c.last_touch_at is not None and c.last_touch_at >= r.created_at:
                out.append("a pending cold check on a card touched since")
            if kind == STALE and rules.stale_days is not None:
                if c.verified_at >= now - timedelta(days=rules.stale_days):
                    out.append("a pending stale check on a card verified since")
            if r.user_id != owner.id:
                out.append(f"a {kind} check addressed to someone else than the owner")
            if not is_working_time(r.due_at, tz, hours):
                out.append(f"a {kind} check due outside the owner's working hours")
    for r in pending[INBOUND_REP] + pending[INBOUND_MGR]:
        touch = await session.get(Touch, r.ref_id) if r.ref_id else None
        if c.archived_at is not None:
            out.append("a pending inbound alert on an archived card")
        if touch is None or await is_answered(session, c.id, touch):
            out.append("a pending inbound alert for an answered request")
            continue
        if r.kind == INBOUND_REP and r.user_id != owner.id:
            out.append("an inbound alert addressed to someone else than the owner")
        if r.kind == INBOUND_MGR:
            manager = await manager_of(session, owner, rules.admin_ids)
            if manager is None or r.user_id != manager.id:
                out.append("an inbound alert addressed to someone else than the owner's manager")
        if rules.inbound_reply_hours is not None:
            first, second = sla_times(touch.occurred_at, tz, hours, rules.inbound_reply_hours)
            if r.due_at != (first if r.kind == INBOUND_REP else second):
                out.append(f"an inbound alert due {r.due_at.isoformat()} off its window")
    return out
