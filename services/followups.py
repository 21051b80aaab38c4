"""Follow-ups: reminders for next steps, going-cold and stale-data checks, inbound reply SLA.

Everything here only writes due work into the database; the scheduler's tick delivers it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cadence import effective_cadence
from core.enums import Direction, Status
from core.workhours import WorkHours, add_working_time, shift_into
from services import contacts as contacts_svc
from services import duework
from storage.models import Contact, Team, Touch, User
from storage.uow import transactional, writing

REMINDER = "reminder"
COLD = "cold"
STALE = "stale"
INBOUND_REP = "inbound_rep"
INBOUND_MGR = "inbound_mgr"
NOTICE = "notice"
FOLLOWUP_KINDS = (REMINDER, COLD, STALE, INBOUND_REP, INBOUND_MGR, NOTICE)


def user_tz(user: User, default_tz: str) -> str:
    return user.timezone or default_tz


def user_hours(user: User) -> WorkHours:
    return WorkHours.decode(user.work_hours)


def _ts(dt: datetime | None) -> int:
    return int(dt.timestamp()) if dt else 0


@transactional
async def plan_reminder(
    session: AsyncSession, contact: Contact, *, default_tz: str, now: datetime
) -> None:
    """One pending reminder per contact: the next step's due time, inside the owner's hours."""
    await duework.cancel(session, kinds=[REMINDER], contact_id=contact.id)
    if contact.next_step_due is None or contact.archived_at is not None:
        return
    owner = await session.get(User, contact.owner_id)
    if owner is None:
        return
    due = shift_into(contact.next_step_due, user_tz(owner, default_tz), user_hours(owner))
    await duework.schedule(
        session,
        kind=REMINDER,
        key=f"rem:{contact.id}:{_ts(contact.next_step_due)}:{_ts(now)}",
        chat_id=owner.tg_id,
        user_id=owner.id,
        contact_id=contact.id,
        due_at=due,
        now=now,
        payload={"step_due": contact.next_step_due.isoformat()},
    )


@transactional
async def set_next_step(
    session: AsyncSession,
    contact: Contact,
    *,
    actor: User,
    text: str | None,
    due: datetime | None,
    reason: str | None,
    now: datetime,
    default_tz: str,
) -> None:
    await contacts_svc.set_next_step(
        session, contact, actor=actor, text=text, due=due, reason=reason, now=now
    )
    await plan_reminder(session, contact, default_tz=default_tz, now=now)
    await duework.cancel(session, kinds=[COLD], contact_id=contact.id, status=duework.DONE)


@transactional
async def log_touch(
    session: AsyncSession,
    contact: Contact,
    *,
    author: User,
    type_: str,
    direction: str,
    summary: str,
    now: datetime,
    default_tz: str,
    inbound_reply_hours: float,
) -> Touch:
    """A touch settles the pending reminder and resets the cold clock; an inbound one starts
    the reply SLA, an outbound one answers it."""
    touch = await contacts_svc.log_touch(
        session, contact, author=author, type_=type_, direction=direction, summary=summary, now=now
    )
    await duework.cancel(
        session, kinds=[REMINDER, COLD], contact_id=contact.id, status=duework.DONE
    )
    if direction == Direction.OUT.value:
        await duework.cancel(
            session,
            kinds=[INBOUND_REP, INBOUND_MGR],
            contact_id=contact.id,
            status=duework.DONE,
            include_sent=True,
        )
    else:
        await plan_inbound_sla(
            session, contact, touch, now=now, default_tz=default_tz, hours=inbound_reply_hours
        )
    return touch


@transactional
async def plan_inbound_sla(
    session: AsyncSession,
    contact: Contact,
    touch: Touch,
    *,
    now: datetime,
    default_tz: str,
    hours: float,
) -> None:
    owner = await session.get(User, contact.owner_id)
    if owner is None:
        return
    tz, wh = user_tz(owner, default_tz), user_hours(owner)
    window = timedelta(hours=hours)
    first = add_working_time(touch.occurred_at, tz, wh, window)
    second = add_working_time(first, tz, wh, window)
    await duework.schedule(
        session,
        kind=INBOUND_REP,
        key=f"inb:{touch.id}",
        chat_id=owner.tg_id,
        user_id=owner.id,
        contact_id=contact.id,
        ref_id=touch.id,
        due_at=first,
        now=now,
    )
    manager = await _manager_of(session, owner)
    if manager is not None:
        await duework.schedule(
            session,
            kind=INBOUND_MGR,
            key=f"inbm:{touch.id}",
            chat_id=manager.tg_id,
            user_id=manager.id,
            contact_id=contact.id,
            ref_id=touch.id,
            due_at=second,
            now=now,
            payload={"rep_id": owner.id},
        )


async def _manager_of(session: AsyncSession, user: User) -> User | None:
    if user.team_id is None:
        return None
    return await session.scalar(
        select(User)
        .where(User.team_id == user.team_id, User.role == "manager", User.id != user.id)
        .order_by(User.id)
        .limit(1)
    )


@transactional
async def notify_manager_unreachable(session: AsyncSession, user: User, *, now: datetime) -> bool:
    """A rep who blocked the bot misses reminders: their manager is told once a day."""
    manager = await _manager_of(session, user)
    if manager is None:
        return False
    return await duework.schedule(
        session,
        kind=NOTICE,
        key=f"unreach:{user.id}:{now.date().isoformat()}",
        chat_id=manager.tg_id,
        user_id=manager.id,
        ref_id=user.id,
        due_at=now,
        now=now,
        payload={"what": "unreachable"},
    )


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
                key=lambda c: f"cold:{c.id}:{_ts(c.last_touch_at or c.created_at)}",
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
        key=lambda c: f"stale:{c.id}:{_ts(c.verified_at)}",
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


@transactional
async def contact_wrote(
    session: AsyncSession,
    *,
    tg_id: int,
    text: str,
    now: datetime,
    default_tz: str,
    inbound_reply_hours: float,
) -> int:
    """A person on someone's contact list writes to the bot: an inbound touch on each card that
    carries their Telegram id (it settles the pending reminder and starts the reply SLA), and a
    notice to the card's owner. Returns the number of cards touched."""
    cards = list(
        await session.scalars(
            select(Contact).where(Contact.tg_user_id == tg_id, Contact.archived_at.is_(None))
        )
    )
    for contact in cards:
        owner = await session.get(User, contact.owner_id)
        if owner is None:
            continue
        touch = await log_touch(
            session,
            contact,
            author=owner,
            type_="message",
            direction=Direction.IN.value,
            summary=text[:4000],
            now=now,
            default_tz=default_tz,
            inbound_reply_hours=inbound_reply_hours,
        )
        await duework.schedule(
            session,
            kind=NOTICE,
            key=f"wrote:{touch.id}",
            chat_id=owner.tg_id,
            user_id=owner.id,
            contact_id=contact.id,
            ref_id=touch.id,
            due_at=now,
            now=now,
            payload={"what": "contact_wrote"},
        )
    return len(cards)
