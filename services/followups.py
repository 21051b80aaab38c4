"""Follow-ups: the due work a card implies, kept right in one place.

The invariant, enforced by :func:`sync_due_work` (and its "at most one" half by the partial
unique index ``ux_due_work_one_pending_reminder``):

- **Reminder.** A live card (not archived) with an open next step has exactly one reminder for
  that step: pending — at the step's time moved into the owner's working hours
  (``core.workhours.shift_into``, in the owner's time zone), addressed to the owner — until it is
  delivered, and then delivered once. Nothing is pending for a card without an open step, or
  archived.
- **Going cold.** A pending check exists only while the card is going cold: live, not lost, no
  open step, no touch since the check was planned, and (when the rhythm is known) no touch within
  its stage's rhythm.
- **Stale data.** A pending check exists only while the card is live, not lost and (when the
  window is known) not verified within ``STALE_AFTER_DAYS``.
- **Inbound reply.** A pending alert exists only while the inbound request is unanswered on a
  live card; the first goes to the owner after ``INBOUND_REPLY_HOURS`` of the owner's working
  time, the second to the owner's manager after twice that.
- Every pending check and alert is addressed to the card's current owner (the manager's alert to
  the owner's manager) and falls inside the owner's working hours.

Every path that changes what a card implies — a touch, a next step, snooze, reschedule, done, an
edit, import, merge, "service delivered", archive, restore, a new owner, the owner's time zone or
working hours — ends in :func:`sync_due_work`. Everything here only writes due work into the
database; the scheduler's tick delivers it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.cadence import effective_cadence, is_going_cold
from core.enums import Direction, Status, TouchType
from core.tokens import new_token
from core.workhours import WorkHours, add_working_time, is_working_time, shift_into
from services import contacts as contacts_svc
from services import duework
from storage.models import PENDING_REMINDER, Contact, DueWork, Team, Touch, User
from storage.uow import transactional, writing

REMINDER = "reminder"
COLD = "cold"
STALE = "stale"
INBOUND_REP = "inbound_rep"
INBOUND_MGR = "inbound_mgr"
NOTICE = "notice"
FOLLOWUP_KINDS = (REMINDER, COLD, STALE, INBOUND_REP, INBOUND_MGR, NOTICE)
CARD_KINDS = (REMINDER, COLD, STALE, INBOUND_REP, INBOUND_MGR)  # what a card implies
OPEN = (duework.PENDING, duework.CLAIMED)
# a reminder in one of these states reached (or is reaching) its owner: not planned again
DELIVERED = (duework.SENT, duework.FAILED, duework.CLAIMED)


@dataclass(frozen=True)
class Rules:
    """The settings the due work depends on. ``None`` means "not known here": the checks that
    need it leave their rows alone rather than judge them by a default."""

    default_tz: str = "UTC"
    cadence: str | None = None
    stale_days: int | None = None
    inbound_reply_hours: float | None = None

    @classmethod
    def of(cls, settings: Any) -> Rules:
        """From the bot's settings (anything with the same attribute names)."""
        return cls(
            default_tz=settings.default_timezone,
            cadence=settings.cadence_days,
            stale_days=settings.stale_after_days,
            inbound_reply_hours=settings.inbound_reply_hours,
        )


def user_tz(user: User, default_tz: str) -> str:
    return user.timezone or default_tz


def user_hours(user: User) -> WorkHours:
    return WorkHours.decode(user.work_hours)


def _ts(dt: datetime | None) -> int:
    return int(dt.timestamp()) if dt else 0


def step_stamp(step: str | None) -> int:
    """A short fingerprint of a step's text: reminder buttons carry it, so a tap on an old
    reminder cannot act on a different step planned since."""
    return zlib.crc32((step or "").encode()) or 1


def reminder_due(contact: Contact, owner: User, default_tz: str, now: datetime) -> datetime | None:
    """When the card's reminder is due (None: no reminder is due for it): the step's time moved
    into the owner's working hours — or, for a step already past, the owner's next working
    moment from now (an overdue step planned at 3 a.m. waits for the morning)."""
    if contact.archived_at is not None or contact.next_step_due is None:
        return None
    tz, hours = user_tz(owner, default_tz), user_hours(owner)
    return shift_into(max(contact.next_step_due, now), tz, hours)


def _right_due(
    due: datetime, step_due: datetime, owner: User, default_tz: str, now: datetime
) -> bool:
    """Whether a pending reminder's time is right for its step (see :func:`reminder_due`): the
    step's time in working hours, or — the step being past when it was planned — a working
    moment after it."""
    tz, hours = user_tz(owner, default_tz), user_hours(owner)
    base = shift_into(step_due, tz, hours)
    if due == base:
        return True
    return base <= now and due > base and is_working_time(due, tz, hours)


def _payload(row: DueWork) -> dict[str, Any]:
    return json.loads(row.payload) if row.payload else {}


# ------------------------------------------------------------------------------ the one place
@transactional
async def sync_due_work(
    session: AsyncSession,
    contact: Contact,
    *,
    now: datetime,
    rules: Rules,
    renew: bool = False,
) -> None:
    """Make the card's due work right (see the module's docstring), in the caller's unit of work.

    ``renew``: the step was just chosen by someone (set, snoozed, rescheduled): it gets a
    reminder even if the same moment was already reminded of. Other paths only re-plan: a step
    whose reminder reached its owner is not reminded of again.
    """
    locked = await _lock(session, contact)
    if locked is None:
        return  # merged away meanwhile
    contact = locked
    owner = await session.get(User, contact.owner_id)
    rows = list(
        await session.scalars(
            select(DueWork)
            .where(
                DueWork.contact_id == contact.id,
                DueWork.kind.in_(CARD_KINDS),
                DueWork.status.in_(OPEN),
            )
            .order_by(DueWork.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    of = {k: [r for r in rows if r.kind == k] for k in CARD_KINDS}
    await _sync_reminder(session, contact, owner, of[REMINDER], now=now, rules=rules, renew=renew)
    if owner is None:
        return
    await _sync_cold(session, contact, owner, of[COLD], now=now, rules=rules)
    await _sync_stale(session, contact, owner, of[STALE], now=now, rules=rules)
    await _sync_inbound(session, contact, owner, of[INBOUND_REP] + of[INBOUND_MGR], rules=rules)
    await session.flush()


async def _lock(session: AsyncSession, contact: Contact) -> Contact | None:
    """The card's row, locked for this unit of work (PostgreSQL; SQLite's writer lock already
    serialises) and read afresh: concurrent taps apply one after another."""
    await session.flush()
    return await session.scalar(
        select(Contact)
        .where(Contact.id == contact.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _touched_since(session: AsyncSession, contact_id: int, since: datetime) -> bool:
    found = await session.scalar(
        select(Touch.id).where(Touch.contact_id == contact_id, Touch.occurred_at >= since).limit(1)
    )
    return found is not None


async def _sync_reminder(
    session: AsyncSession,
    contact: Contact,
    owner: User | None,
    rows: list[DueWork],
    *,
    now: datetime,
    rules: Rules,
    renew: bool,
) -> None:
    due = reminder_due(contact, owner, rules.default_tz, now) if owner is not None else None
    pending = [r for r in rows if r.status == duework.PENDING]
    claimed = [r for r in rows if r.status == duework.CLAIMED]
    stamp = step_stamp(contact.next_step)
    step_due = contact.next_step_due.isoformat() if contact.next_step_due else None

    def same_step(row: DueWork) -> bool:
        payload = _payload(row)
        if "step" not in payload:  # planned before steps carried a stamp
            return payload.get("step_due") == step_due
        return payload["step"] == stamp

    async def settle(row: DueWork) -> None:
        # a step replaced or dropped after a touch was acted on (the digest counts it done)
        replaced = contact.next_step_due is None or not same_step(row)
        touched = replaced and await _touched_since(session, contact.id, row.created_at)
        row.status = duework.DONE if touched else duework.CANCELLED

    if due is None or owner is None:
        for row in pending:
            await settle(row)
        return  # a claimed one is dropped by the renderer, which checks the card again
    in_flight = False
    for row in claimed:
        payload = _payload(row)
        if (
            payload.get("step_due") == step_due
            and row.user_id == owner.id
            and not payload.get("merged")
        ):
            in_flight = True  # being delivered right now, for this very step
        else:
            row.status = duework.CANCELLED  # obsolete: its worker can no longer close or retry it
    keep: DueWork | None = None
    for row in pending:
        if keep is None and not in_flight and same_step(row):
            keep = row  # the same step, moved: the row moves with it
        else:
            await settle(row)
    if in_flight:
        return
    payload = {"step_due": step_due, "step": stamp}
    if keep is not None:
        keep.due_at, keep.chat_id, keep.user_id = due, owner.tg_id, owner.id
        keep.payload, keep.attempts, keep.late = json.dumps(payload), 0, False
        return
    if not renew and await _reminded(session, contact.id, owner.id, step_due, stamp):
        return
    await session.flush()
    await _upsert_reminder(session, contact, owner, due=due, payload=payload, now=now)


async def _reminded(
    session: AsyncSession, contact_id: int, owner_id: int, step_due: str | None, stamp: int
) -> bool:
    """Whether the newest reminder of this step (its time and text) for this owner reached them
    (or is reaching them)."""
    rows = await session.execute(
        select(DueWork.status, DueWork.payload)
        .where(
            DueWork.contact_id == contact_id,
            DueWork.kind == REMINDER,
            DueWork.user_id == owner_id,
        )
        .order_by(DueWork.id.desc())
    )
    for status, payload in rows:
        data = json.loads(payload) if payload else {}
        if data.get("merged"):
            continue  # a step that did not survive a merge
        if data.get("step_due") == step_due and data.get("step", stamp) == stamp:
            return status in DELIVERED
    return False


async def _upsert_reminder(
    session: AsyncSession,
    contact: Contact,
    owner: User,
    *,
    due: datetime,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Insert the card's pending reminder, or move the one a concurrent unit of work inserted
    first: an upsert on the partial unique index, so two writers end with one row."""
    values = {
        "kind": REMINDER,
        "key": f"rem:{contact.id}:{_ts(contact.next_step_due)}:{new_token(6)}",
        "chat_id": owner.tg_id,
        "user_id": owner.id,
        "contact_id": contact.id,
        "ref_id": None,
        "payload": json.dumps(payload),
        "due_at": due,
        "status": duework.PENDING,
        "attempts": 0,
        "late": False,
        "created_at": now,
    }
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(DueWork).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DueWork.contact_id],
        index_where=text(PENDING_REMINDER),
        set_={
            "due_at": stmt.excluded.due_at,
            "chat_id": stmt.excluded.chat_id,
            "user_id": stmt.excluded.user_id,
            "payload": stmt.excluded.payload,
            "attempts": 0,
            "late": False,
        },
    )
    await session.execute(stmt)


def _readdress(row: DueWork, person: User, tz: str, hours: WorkHours) -> None:
    row.chat_id, row.user_id = person.tg_id, person.id
    if not is_working_time(row.due_at, tz, hours):
        row.due_at = shift_into(row.due_at, tz, hours)


async def _sync_cold(
    session: AsyncSession,
    contact: Contact,
    owner: User,
    rows: list[DueWork],
    *,
    now: datetime,
    rules: Rules,
) -> None:
    pending = [r for r in rows if r.status == duework.PENDING]
    if not pending:
        return
    right = (
        contact.archived_at is None
        and contact.status != Status.LOST.value
        and contact.next_step_due is None
    )
    if right and rules.cadence is not None:
        team = await session.get(Team, contact.team_id) if contact.team_id else None
        right = is_going_cold(
            stage=contact.stage,
            last_touch_at=contact.last_touch_at,
            created_at=contact.created_at,
            next_step_due=contact.next_step_due,
            now=now,
            cadence=effective_cadence(rules.cadence, team.cadence if team else None),
        )
    tz, hours = user_tz(owner, rules.default_tz), user_hours(owner)
    for i, row in enumerate(pending):
        touched = contact.last_touch_at is not None and contact.last_touch_at >= row.created_at
        if not right or touched or i > 0:
            row.status = duework.DONE  # touched, planned, archived or lost: the check is void
        else:
            _readdress(row, owner, tz, hours)


async def _sync_stale(
    session: AsyncSession,
    contact: Contact,
    owner: User,
    rows: list[DueWork],
    *,
    now: datetime,
    rules: Rules,
) -> None:
    pending = [r for r in rows if r.status == duework.PENDING]
    if not pending:
        return
    right = contact.archived_at is None and contact.status != Status.LOST.value
    if right and rules.stale_days is not None:
        right = contact.verified_at < now - timedelta(days=rules.stale_days)
    tz, hours = user_tz(owner, rules.default_tz), user_hours(owner)
    for i, row in enumerate(pending):
        if not right or i > 0:
            row.status = duework.DONE
        else:
            _readdress(row, owner, tz, hours)


async def _sync_inbound(
    session: AsyncSession,
    contact: Contact,
    owner: User,
    rows: list[DueWork],
    *,
    rules: Rules,
) -> None:
    pending = [r for r in rows if r.status == duework.PENDING]
    if not pending:
        return
    manager = await _manager_of(session, owner)
    tz, hours = user_tz(owner, rules.default_tz), user_hours(owner)
    for row in pending:
        touch = await session.get(Touch, row.ref_id) if row.ref_id else None
        answered = touch is None or await _answered(session, contact.id, touch)
        if contact.archived_at is not None or answered:
            row.status = duework.DONE
            continue
        assert touch is not None
        person = owner if row.kind == INBOUND_REP else manager
        if person is None:
            row.status = duework.CANCELLED  # no manager to alert any more
            continue
        row.chat_id, row.user_id = person.tg_id, person.id
        if row.kind == INBOUND_MGR:
            row.payload = json.dumps({"rep_id": owner.id})
        if rules.inbound_reply_hours is not None:
            first, second = _sla(touch.occurred_at, tz, hours, rules.inbound_reply_hours)
            row.due_at = first if row.kind == INBOUND_REP else second


async def _answered(session: AsyncSession, contact_id: int, touch: Touch) -> bool:
    found = await session.scalar(
        select(Touch.id)
        .where(
            Touch.contact_id == contact_id,
            Touch.direction == Direction.OUT.value,
            Touch.occurred_at >= touch.occurred_at,
            Touch.id != touch.id,
        )
        .limit(1)
    )
    return found is not None


def _sla(at: datetime, tz: str, hours: WorkHours, window_hours: float) -> tuple[datetime, datetime]:
    window = timedelta(hours=window_hours)
    first = add_working_time(at, tz, hours, window)
    return first, add_working_time(first, tz, hours, window)


# ------------------------------------------------------------------------------ use cases
@transactional
async def plan_reminder(
    session: AsyncSession, contact: Contact, *, default_tz: str, now: datetime
) -> None:
    """The card's step was set elsewhere (an import): bring its reminder in line."""
    await sync_due_work(session, contact, now=now, rules=Rules(default_tz=default_tz))


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
    rules: Rules,
) -> bool:
    """A next step with its due time, or none with a reason. False when nothing changed (a
    repeated tap): the reminder is already where this call would put it."""
    await _lock(session, contact)
    same = (
        due is not None
        and contact.next_step_due == due
        and contact.next_step == ((text or "").strip()[:512] or None)
        and await _pending_reminder(session, contact.id) is not None
    )
    if same:
        await sync_due_work(session, contact, now=now, rules=rules)
        return False
    await contacts_svc.set_next_step(
        session, contact, actor=actor, text=text, due=due, reason=reason, now=now
    )
    await sync_due_work(session, contact, now=now, rules=rules, renew=True)
    return True


async def _pending_reminder(session: AsyncSession, contact_id: int) -> DueWork | None:
    return await session.scalar(
        select(DueWork).where(
            DueWork.contact_id == contact_id,
            DueWork.kind == REMINDER,
            DueWork.status == duework.PENDING,
        )
    )


class Moved(StrEnum):
    MOVED = "moved"
    UNCHANGED = "unchanged"  # a repeated tap: already there
    OUTDATED = "outdated"  # the button belongs to a step that was replaced or dropped


async def step_for_stamp(session: AsyncSession, contact: Contact, stamp: int) -> str | None:
    """The step a reminder button (``stamp``) acts on: the open one, or the one just closed as
    done (a snooze after Done re-opens it); None when the step was replaced or dropped since.
    ``stamp`` 0 (a button without one) means the open step."""
    if contact.next_step_due is not None and stamp in (0, step_stamp(contact.next_step)):
        return contact.next_step or ""
    closed = await contacts_svc.closed_step(session, contact.id)
    if closed is not None and contact.next_step_due is None and stamp == step_stamp(closed):
        return closed
    return None


@transactional
async def move_step(
    session: AsyncSession,
    contact: Contact,
    *,
    actor: User,
    due: datetime,
    stamp: int,
    now: datetime,
    rules: Rules,
) -> Moved:
    """Snooze and reschedule: the step the button belongs to comes back at ``due``. Any number
    of taps in any order leaves one reminder, at the last chosen time."""
    await _lock(session, contact)
    step = await step_for_stamp(session, contact, stamp)
    if step is None:
        return Moved.OUTDATED
    changed = await set_next_step(
        session, contact, actor=actor, text=step, due=due, reason=None, now=now, rules=rules
    )
    return Moved.MOVED if changed else Moved.UNCHANGED


_TYPE_WORDS: tuple[tuple[TouchType, tuple[str, ...]], ...] = (
    (TouchType.MEETING, ("meet", "встреч", "visit", "lunch", "coffee", "кофе", "обед")),
    (TouchType.CALL, ("call", "phone", "звон", "созвон")),
    (TouchType.WEBINAR, ("webinar", "вебинар")),
    (TouchType.EVENT, ("event", "conference", "мероприят", "конференц", "выставк")),
    (TouchType.MESSAGE, ("message", "telegram", "whatsapp", "сообщ", "чат")),
    (TouchType.EMAIL, ("mail", "почт", "письм", "proposal", "предложен", "send", "отправ")),
)


def touch_type_for(step: str | None) -> str:
    """The kind of touch a step most likely was ("call Anna" → call), "other" if unclear."""
    words = (step or "").casefold()
    for kind, stems in _TYPE_WORDS:
        if any(stem in words for stem in stems):
            return kind.value
    return TouchType.OTHER.value


@dataclass(frozen=True)
class Completed:
    touch: Touch | None  # None: nothing to close (a repeated tap, or an outdated button)
    step: str | None = None
    outdated: bool = False


@transactional
async def complete_step(
    session: AsyncSession,
    contact: Contact,
    *,
    actor: User,
    stamp: int,
    now: datetime,
    rules: Rules,
) -> Completed:
    """Done on a reminder: the step becomes a touch (its kind guessed from the step, the step
    as the summary) and leaves the card. Repeated taps close it once."""
    await _lock(session, contact)
    if contact.next_step_due is None or stamp not in (0, step_stamp(contact.next_step)):
        closed = await contacts_svc.closed_step(session, contact.id)
        already = closed is not None and stamp in (0, step_stamp(closed))
        return Completed(None, closed if already else None, outdated=not already)
    step = contact.next_step or ""
    touch = await contacts_svc.log_touch(
        session,
        contact,
        author=actor,
        type_=touch_type_for(step),
        direction=Direction.OUT.value,
        summary=step,
        now=now,
    )
    await _answer_inbound(session, contact)
    await contacts_svc.close_step(session, contact, actor=actor, now=now)
    await sync_due_work(session, contact, now=now, rules=rules)
    return Completed(touch, step)


async def _answer_inbound(session: AsyncSession, contact: Contact) -> None:
    """An outbound touch answers the card's inbound requests (also alerts already sent)."""
    await duework.cancel(
        session,
        kinds=[INBOUND_REP, INBOUND_MGR],
        contact_id=contact.id,
        status=duework.DONE,
        include_sent=True,
    )


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
    rules: Rules,
) -> Touch:
    """A touch resets the cold clock; an inbound one starts the reply SLA, an outbound one
    answers it. The open next step stays open — and keeps its reminder — until the next step is
    chosen (the touch dialogue asks for it at once)."""
    touch = await contacts_svc.log_touch(
        session, contact, author=author, type_=type_, direction=direction, summary=summary, now=now
    )
    if direction == Direction.OUT.value:
        await _answer_inbound(session, contact)
    elif rules.inbound_reply_hours is not None:
        await plan_inbound_sla(session, contact, touch, now=now, rules=rules)
    await sync_due_work(session, contact, now=now, rules=rules)
    return touch


@transactional
async def plan_inbound_sla(
    session: AsyncSession, contact: Contact, touch: Touch, *, now: datetime, rules: Rules
) -> None:
    owner = await session.get(User, contact.owner_id)
    if owner is None or rules.inbound_reply_hours is None:
        return
    tz, wh = user_tz(owner, rules.default_tz), user_hours(owner)
    first, second = _sla(touch.occurred_at, tz, wh, rules.inbound_reply_hours)
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


@transactional
async def change(
    session: AsyncSession,
    contact: Contact,
    *,
    actor: User,
    now: datetime,
    rules: Rules,
    **changes: Any,
) -> list[str]:
    """Field edits (status, stage… decide whether the card is going cold)."""
    changed = await contacts_svc.change(session, contact, actor=actor, now=now, **changes)
    if changed:
        await sync_due_work(session, contact, now=now, rules=rules)
    return changed


@transactional
async def mark_verified(
    session: AsyncSession, contact: Contact, *, actor: User, now: datetime, rules: Rules
) -> None:
    await contacts_svc.mark_verified(session, contact, actor, now)
    await sync_due_work(session, contact, now=now, rules=rules)


@transactional
async def archive(
    session: AsyncSession, contact: Contact, *, actor: User, now: datetime, rules: Rules
) -> None:
    await contacts_svc.archive(session, contact, actor, now)
    await sync_due_work(session, contact, now=now, rules=rules)


@transactional
async def restore(
    session: AsyncSession, contact: Contact, *, actor: User, now: datetime, rules: Rules
) -> None:
    """Back from the archive: its open step is reminded of again, unless that already happened."""
    await contacts_svc.restore(session, contact, actor, now)
    await sync_due_work(session, contact, now=now, rules=rules)


@transactional
async def change_owner(
    session: AsyncSession,
    contact: Contact,
    owner: User,
    *,
    actor: User,
    now: datetime,
    rules: Rules,
) -> bool:
    """A new owner: the reminder and the checks go to them, in their hours."""
    changed = await contacts_svc.change_owner(session, contact, owner, actor=actor, now=now)
    if changed:
        await sync_due_work(session, contact, now=now, rules=rules)
    return changed


@transactional
async def merge(
    session: AsyncSession,
    keep: Contact,
    drop: Contact,
    *,
    actor: User,
    now: datetime,
    rules: Rules,
) -> Contact:
    """Merge two cards (see ``services.contacts.merge``): everything of ``drop`` moves to
    ``keep``, and ``keep``'s step — its own, or the one it inherits — gets its reminder.

    One step survives: ``keep``'s, else ``drop``'s. The reminders of the card whose step does not
    survive stay in the history, marked ``merged``: they say nothing about whether the surviving
    step was reminded of (its own reminders do), and its pending one gives way.
    """
    await _lock(session, keep)
    await _lock(session, drop)
    if keep.next_step_due is not None:
        gone: Contact | None = drop
    else:
        gone = keep if drop.next_step_due is not None else None
    if gone is not None:
        for row in await session.scalars(
            select(DueWork).where(DueWork.contact_id == gone.id, DueWork.kind == REMINDER)
        ):
            row.payload = json.dumps({**_payload(row), "merged": True})
            if row.status == duework.PENDING:
                row.status = duework.CANCELLED
        await session.flush()
    await contacts_svc.merge(session, keep, drop, actor=actor, now=now)
    await sync_due_work(session, keep, now=now, rules=rules)
    return keep


@transactional
async def merge_into(
    session: AsyncSession,
    keep: Contact,
    data: Any,
    *,
    tags: Iterable[str] = (),
    actor: User,
    now: datetime,
    rules: Rules,
) -> Contact:
    """A card being added is ``keep`` after all (see ``services.contacts.merge_into``)."""
    await contacts_svc.merge_into(session, keep, data, tags=tags, actor=actor, now=now)
    await sync_due_work(session, keep, now=now, rules=rules)
    return keep


@transactional
async def replan_owner(session: AsyncSession, owner: User, *, now: datetime, rules: Rules) -> int:
    """The owner changed their time zone or working hours: everything pending on their cards
    moves into the new hours (the reply alert to their manager is counted in their hours too).
    Returns the number of cards re-planned."""
    await session.flush()
    ids = list(
        await session.scalars(
            select(DueWork.contact_id)
            .join(Contact, Contact.id == DueWork.contact_id)
            .where(
                Contact.owner_id == owner.id,
                DueWork.kind.in_(CARD_KINDS),
                DueWork.status == duework.PENDING,
            )
            .distinct()
        )
    )
    for contact_id in sorted(ids):
        contact = await session.get(Contact, contact_id)
        if contact is not None:
            await sync_due_work(session, contact, now=now, rules=rules)
    return len(ids)


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


# ------------------------------------------------------------------------------ the audit
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
        if not _right_due(r.due_at, c.next_step_due, owner, rules.default_tz, now):
            out.append(f"reminder due {r.due_at.isoformat()}, should be {due.isoformat()}")
        if owner is not None and (r.user_id, r.chat_id) != (owner.id, owner.tg_id):
            out.append("reminder addressed to someone else than the owner")
        if _payload(r).get("step_due") != step_due:
            out.append("reminder for another step")
    else:
        assert owner is not None
        step_due = c.next_step_due.isoformat() if c.next_step_due else None
        claimed = [r for r in rows if r.kind == REMINDER and r.status == duework.CLAIMED]
        stamp = step_stamp(c.next_step)
        if not claimed and not await _reminded(session, c.id, owner.id, step_due, stamp):
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
        if touch is None or await _answered(session, c.id, touch):
            out.append("a pending inbound alert for an answered request")
            continue
        if r.kind == INBOUND_REP and r.user_id != owner.id:
            out.append("an inbound alert addressed to someone else than the owner")
        if r.kind == INBOUND_MGR:
            manager = await _manager_of(session, owner)
            if manager is None or r.user_id != manager.id:
                out.append("an inbound alert addressed to someone else than the owner's manager")
        if rules.inbound_reply_hours is not None:
            first, second = _sla(touch.occurred_at, tz, hours, rules.inbound_reply_hours)
            if r.due_at != (first if r.kind == INBOUND_REP else second):
                out.append(f"an inbound alert due {r.due_at.isoformat()} off its window")
    return out


# ------------------------------------------------------------------------------ daily checks
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
    rules: Rules | None = None,
) -> int:
    """A person on someone's contact list writes to the bot: an inbound touch on each card that
    carries their Telegram id (it starts the reply SLA; the open step keeps its reminder), and a
    notice to the card's owner. Returns the number of cards touched."""
    rules = rules or Rules(default_tz=default_tz, inbound_reply_hours=inbound_reply_hours)
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
            rules=rules,
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
