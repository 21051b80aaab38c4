"""The use cases that change what a card implies — a next step, snooze and reschedule, Done, a
touch, an edit, archive, restore, a new owner, merge, new working hours, a contact writing in —
each ending in :func:`~services.followups.sync.sync_due_work`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Unpack

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.enums import Direction, Source, TouchType
from core.nps import CaseStatus
from services import contacts as contacts_svc
from services import duework, merging
from services import media as media_svc
from services.followups.rules import (
    CARD_KINDS,
    INBOUND_MGR,
    INBOUND_REP,
    NOTICE,
    REMINDER,
    Rules,
    payload_of,
    sla_times,
    step_stamp,
    user_hours,
    user_tz,
)
from services.followups.sync import (
    lock_card,
    manager_of,
    sync_due_work,
)
from services.teamcards import TeamCard
from storage.models import Contact, DueWork, NpsCase, Touch, User
from storage.repo import users as users_repo
from storage.uow import transactional


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
    now: datetime,
    rules: Rules,
    **step: Unpack[contacts_svc.NextStep],
) -> bool:
    """A next step with its due time, or none with a reason. False when nothing changed (a
    repeated tap): the reminder is already where this call would put it."""
    await lock_card(session, contact)
    due = step["due"]
    same = (
        due is not None
        and contact.next_step_due == due
        and contact.next_step == ((step["text"] or "").strip()[:512] or None)
        and await _pending_reminder(session, contact.id) is not None
    )
    if same:
        await sync_due_work(session, contact, now=now, rules=rules)
        return False
    await contacts_svc.set_next_step(session, contact, now=now, **step)
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
    DONE = "done"  # the button's step was done since: it stays done, never brought back


async def step_for_stamp(session: AsyncSession, contact: Contact, stamp: int) -> str | None:
    """The open step a reminder button (``stamp``) acts on; None when it was done (see
    :func:`done_step`), replaced or dropped since. ``stamp`` 0 (a button without one) means
    the open step."""
    if contact.next_step_due is not None and stamp in (0, step_stamp(contact.next_step)):
        return contact.next_step or ""
    return None


async def done_step(session: AsyncSession, contact: Contact, stamp: int) -> str | None:
    """The step of a reminder button (``stamp``) when it was closed as done and nothing was
    planned since: a snooze, a reschedule or a Done tapped after Done is told so."""
    if contact.next_step_due is not None:
        return None
    closed = await contacts_svc.closed_step(session, contact.id)
    return closed if closed is not None and stamp in (0, step_stamp(closed)) else None


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
    of taps in any order leaves one reminder, at the last chosen time; a step done since stays
    done (:attr:`Moved.DONE`)."""
    await lock_card(session, contact)
    step = await step_for_stamp(session, contact, stamp)
    if step is None:
        done = await done_step(session, contact, stamp) is not None
        return Moved.DONE if done else Moved.OUTDATED
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
    await lock_card(session, contact)
    if await step_for_stamp(session, contact, stamp) is None:
        closed = await done_step(session, contact, stamp)
        return Completed(None, closed, outdated=closed is None)
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
    now: datetime,
    rules: Rules,
    **new: Unpack[contacts_svc.NewTouch],
) -> Touch:
    """A touch resets the cold clock; an inbound one starts the reply SLA, an outbound one
    answers it. The open next step stays open — and keeps its reminder — until the next step is
    chosen (the touch dialogue asks for it at once)."""
    touch = await contacts_svc.log_touch(session, contact, now=now, **new)
    if new["direction"] == Direction.OUT.value:
        await _answer_inbound(session, contact)
    elif rules.inbound_reply_hours is not None:
        await plan_inbound_sla(session, contact, touch, now=now, rules=rules)
    await sync_due_work(session, contact, now=now, rules=rules)
    return touch


@transactional
async def plan_inbound_sla(
    session: AsyncSession, contact: Contact, touch: Touch, *, now: datetime, rules: Rules
) -> None:
    """The reply clock of a request. A request that comes while an earlier one still waits for
    its alerts joins it: the clock runs from the first (one reminder, one alert, not one per
    message); once that one's alerts are out, a new request starts its own."""
    owner = await session.get(User, contact.owner_id)
    if owner is None or rules.inbound_reply_hours is None:
        return
    waiting = await session.scalar(
        select(DueWork.id)
        .where(
            DueWork.contact_id == contact.id,
            DueWork.kind.in_([INBOUND_REP, INBOUND_MGR]),
            DueWork.status.in_([duework.PENDING, duework.CLAIMED]),
        )
        .limit(1)
    )
    if waiting is not None:
        return
    tz, wh = user_tz(owner, rules.default_tz), user_hours(owner)
    first, second = sla_times(touch.occurred_at, tz, wh, rules.inbound_reply_hours)
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
    manager = await manager_of(session, owner, rules.admin_ids)
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
async def set_introducer(
    session: AsyncSession,
    contact: Contact,
    introducer: Contact | None,
    *,
    actor: User,
    now: datetime,
    rules: Rules,
) -> list[str]:
    """Who introduced the card's person (None: nobody). A card with no source yet came by
    referral, then (domain.md's source "referral")."""
    changes: dict[str, Any] = {"introduced_by_id": introducer.id if introducer else None}
    if introducer is not None and contact.source is None:
        changes["source"] = Source.REFERRAL.value
    return await change(session, contact, actor=actor, now=now, rules=rules, **changes)


def _then_sync(
    step: Callable[[AsyncSession, Contact, User, datetime], Awaitable[None]], doc: str
) -> Callable[..., Awaitable[None]]:
    """A card-wide step of services.contacts, then the card's reminders brought in line."""

    async def run(
        session: AsyncSession, contact: Contact, *, actor: User, now: datetime, rules: Rules
    ) -> None:
        await step(session, contact, actor, now)
        await sync_due_work(session, contact, now=now, rules=rules)

    run.__name__ = run.__qualname__ = step.__name__
    run.__doc__ = doc
    return transactional(run)


mark_verified = _then_sync(contacts_svc.mark_verified, "The card's data is confirmed as current.")
archive = _then_sync(contacts_svc.archive, "Into the archive: its reminders stop.")
restore = _then_sync(
    contacts_svc.restore,
    "Back from the archive: its open step is reminded of again, unless that already happened.",
)


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
    """Merge two cards (see ``services.merging.merge``): everything of ``drop`` moves to
    ``keep``, and ``keep``'s step — its own, or the one it inherits — gets its reminder.

    One step survives: ``keep``'s, else ``drop``'s. The reminders of the card whose step does not
    survive stay in the history, marked ``merged``: they say nothing about whether the surviving
    step was reminded of (its own reminders do), and its pending one gives way.
    """
    await lock_card(session, keep)
    await lock_card(session, drop)
    if keep.next_step_due is not None:
        gone: Contact | None = drop
    else:
        gone = keep if drop.next_step_due is not None else None
    if gone is not None:
        for row in await session.scalars(
            select(DueWork).where(DueWork.contact_id == gone.id, DueWork.kind == REMINDER)
        ):
            row.payload = json.dumps({**payload_of(row), "merged": True})
            if row.status == duework.PENDING:
                row.status = duework.CANCELLED
        await session.flush()
    await merging.merge(session, keep, drop, actor=actor, now=now)
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
) -> tuple[list[TeamCard], list[str]]:
    """A card being added is ``keep`` after all; what was typed and not kept is returned (see
    ``services.merging.merge_into``)."""
    left_out = await merging.merge_into(session, keep, data, tags=tags, actor=actor, now=now)
    await sync_due_work(session, keep, now=now, rules=rules)
    return left_out


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


@transactional
async def notify_manager_unreachable(
    session: AsyncSession, user: User, *, now: datetime, admin_ids: Collection[int] = ()
) -> bool:
    """A rep who blocked the bot misses reminders: their manager (with none, an administrator)
    is told once a day."""
    manager = await manager_of(session, user, admin_ids)
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


MESSAGE_MAX = 4096  # characters in one Telegram message: all a person can say at once


async def log_relayed(
    session: AsyncSession,
    contact: Contact,
    *,
    author: User,
    direction: str,
    text: str,
    media: Iterable[media_svc.NewMedia],
    now: datetime,
    rules: Rules,
) -> Touch:
    """A message relayed by the bot (a client's, a ↩️ Reply): its words whole, its file kept."""
    touch = await log_touch(
        session,
        contact,
        author=author,
        type_="message",
        direction=direction,
        summary=text,
        now=now,
        rules=rules,
    )
    keep_whole(touch, text)
    await media_svc.attach(
        session,
        contact_id=contact.id,
        touch_id=touch.id,
        author_id=author.id,
        media=media,
        now=now,
    )
    return touch


def keep_whole(touch: Touch, text: str) -> None:
    """A message relayed through the bot (a client's, a rep's ↩️ Reply) stays whole on its
    touch — up to one Telegram message, past the 4,000 characters a typed summary holds."""
    whole = limits.clean("summary", text)[:MESSAGE_MAX].rstrip()
    if len(whole) > len(touch.summary):
        touch.summary = whole


async def cards_written_to(session: AsyncSession, tg_id: int) -> list[Contact]:
    """The cards a person who writes to the bot is on: the live ones; with none, the archived
    ones (their owner still hears it). An erased card no longer knows the person."""
    rows = list(
        await session.scalars(
            select(Contact)
            .where(Contact.tg_user_id == tg_id, Contact.forgotten_at.is_(None))
            .order_by(Contact.updated_at.desc(), Contact.id.desc())
        )
    )
    return [c for c in rows if c.archived_at is None] or rows


@dataclass(frozen=True)
class Wrote:
    """A message to the bot: the cards it was logged on, and the chats told of it, each with
    the name of the card (a file the person sent goes to them too)."""

    cards: int = 0
    told: tuple[tuple[int, str], ...] = ()


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
    admin_ids: Collection[int] = (),
    media: Iterable[media_svc.NewMedia] = (),
) -> Wrote:
    """A person on someone's contact list writes to the bot: an inbound touch on each card that
    carries their Telegram id (it starts the reply SLA; the open step keeps its reminder), with
    the file they sent kept on it, and a notice to the card's owner — and, while a detractor
    case on the card is open, to who handles it (the manager who took it, else the team's
    managers: ``admin_ids`` as for the case itself). An archived card is written to as well:
    its owner is told (no reply SLA runs on it)."""
    rules = rules or Rules(default_tz=default_tz, inbound_reply_hours=inbound_reply_hours)
    files = list(media)
    cards = await cards_written_to(session, tg_id)
    told: dict[int, str] = {}
    for contact in cards:
        owner = await session.get(User, contact.owner_id)
        if owner is None:
            continue
        open_case, handlers = await _case_handlers(session, contact, admin_ids, besides=owner.id)
        touch = await log_relayed(
            session,
            contact,
            author=owner,
            direction=Direction.IN.value,
            text=text,
            media=files,
            now=now,
            rules=rules,
        )
        for person, case in [(owner, open_case), *((p, True) for p in handlers)]:
            await duework.schedule(
                session,
                kind=NOTICE,
                key=f"wrote:{touch.id}" + ("" if person is owner else f":{person.id}"),
                chat_id=person.tg_id,
                user_id=person.id,
                contact_id=contact.id,
                ref_id=touch.id,
                due_at=now,
                now=now,
                payload={"what": "contact_wrote", "case": case},
            )
            told.setdefault(person.tg_id, contact.name)
    return Wrote(len(cards), tuple(told.items()))


async def _case_handlers(
    session: AsyncSession, contact: Contact, admin_ids: Collection[int], *, besides: int
) -> tuple[bool, list[User]]:
    """Whether the card has an open detractor case, and who handles it (not ``besides``: the
    owner, told anyway — that the case is open, too)."""
    case_row = await session.scalar(
        select(NpsCase)
        .where(NpsCase.contact_id == contact.id, NpsCase.status != CaseStatus.RESOLVED.value)
        .order_by(NpsCase.id.desc())
        .limit(1)
    )
    if case_row is None:
        return False, []
    taker = await session.get(User, case_row.taken_by_id) if case_row.taken_by_id else None
    people = (
        [taker]
        if taker is not None and taker.role is not None  # (not one who has left since)
        else await users_repo.team_leads(session, case_row.team_id, admin_ids)
    )
    return True, [p for p in people if p.id != besides]
