"""Detractor cases: opened on a low score, taken, contacted, resolved; closed when the client
changes their answer out of the detractors' range (and reopened when they change it back); who
may see one."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.nps import CaseStatus
from core.roles import Role
from services import contacts as contacts_svc
from services import duework
from services.nps.notices import (
    CASE_ALERT,
    CASE_DUE,
    CASE_ESCALATE,
    NPS_NOTICE,
    clip,
    notify_people,
    notify_rep,
    stamp,
)
from storage.models import Contact, DueWork, NpsCase, Survey, User
from storage.repo import users as users_repo
from storage.uow import transactional

# a case's news to the people it concerns: what changed and who did it (scheduler/cases.py)
CASE_NEWS = "case_news"
HISTORY_SHOWN = 500  # characters of a resolution note in the card's history


@transactional
async def open_case(
    session: AsyncSession,
    survey: Survey,
    *,
    now: datetime,
    sla: timedelta,
    admin_ids: Collection[int],
) -> NpsCase:
    case_row = NpsCase(
        survey_id=survey.id,
        contact_id=survey.contact_id,
        rep_id=survey.rep_id,
        team_id=survey.team_id,
        status=CaseStatus.OPEN,
        opened_at=now,
        deadline_at=now + sla,
    )
    session.add(case_row)
    await session.flush()
    await _alert(session, case_row, now=now, sla=sla, admin_ids=admin_ids)
    return case_row


async def _alert(
    session: AsyncSession,
    case_row: NpsCase,
    *,
    now: datetime,
    sla: timedelta,
    admin_ids: Collection[int],
    tag: str = "",
) -> None:
    """A case (re)opened: its managers are alerted at once, the rep told, the deadline's
    reminder and escalation planned (``tag`` keeps a reopened case's rows apart from the first
    ones)."""
    leads = await case_managers(session, case_row, admin_ids)
    for manager in leads:
        await duework.schedule(
            session,
            kind=CASE_ALERT,
            key=f"case:{case_row.id}:{manager.id}{tag}",
            chat_id=manager.tg_id,
            user_id=manager.id,
            contact_id=case_row.contact_id,
            ref_id=case_row.id,
            due_at=now,
            now=now,
        )
    if case_row.rep_id not in {m.id for m in leads}:  # else the alert itself tells them
        if not leads:
            what = "case_opened_nobody"
        elif any(m.role == Role.MANAGER.value for m in leads):
            what = "case_opened"
        else:
            what = "case_opened_admins"
        await notify_rep(
            session, case_row, key=f"caserep:{case_row.id}:opened{tag}", what=what, now=now
        )
    # the deadline reminder at three quarters of the time, the escalation at the deadline
    for kind, key, due_at in (
        (CASE_DUE, f"casedue:{case_row.id}{tag}", now + sla * 0.75),
        (CASE_ESCALATE, f"caseesc:{case_row.id}{tag}", now + sla),
    ):
        await duework.schedule(
            session,
            kind=kind,
            key=key,
            chat_id=0,
            contact_id=case_row.contact_id,
            ref_id=case_row.id,
            due_at=due_at,
            now=now,
        )


def closed_by_change(case_row: NpsCase) -> bool:
    """The case was closed because the client changed their answer (:func:`close_on_change`),
    not resolved by a manager."""
    return case_row.status == CaseStatus.RESOLVED and case_row.changed_to is not None


@transactional
async def close_on_change(
    session: AsyncSession, case_row: NpsCase, *, old: int, new: int, now: datetime
) -> None:
    """The client changed a detractor's answer to a passive's or a promoter's (within the
    minutes allowed): there is nothing left to resolve. The case closes with the change kept
    (``changed_from``, ``changed_to``: the manager's resolution text stays theirs); its alerts
    not sent yet, its deadline reminder and its escalation are dropped; who was alerted hears
    it is closed (the rep, from the notice of the change)."""
    told = await _told(session, case_row)
    case_row.status = CaseStatus.RESOLVED
    case_row.resolved_at = now
    case_row.changed_from, case_row.changed_to = old, new
    await session.execute(
        update(DueWork)
        .where(
            DueWork.status == duework.PENDING,
            or_(
                and_(
                    DueWork.ref_id == case_row.id,
                    DueWork.kind.in_([CASE_ALERT, CASE_DUE, CASE_ESCALATE]),
                ),
                # the rep's notices of this case ("a case was opened", what went wrong)
                and_(DueWork.kind == NPS_NOTICE, DueWork.key.like(f"caserep:{case_row.id}:%")),
            ),
        )
        .values(status=duework.CANCELLED)
    )
    await _record(session, case_row, now=now)
    await notify_people(
        session, case_row, told, what="case_closed", key=f"caseclosed:{stamp(now)}", now=now
    )


@transactional
async def reopen_case(
    session: AsyncSession,
    case_row: NpsCase,
    *,
    now: datetime,
    sla: timedelta,
    admin_ids: Collection[int],
) -> NpsCase:
    """A detractor's score again after a change closed the case (2 → 10 → 3, within the minutes
    allowed): the case opens afresh, with its own deadline, alerts and reminders."""
    case_row.status = CaseStatus.OPEN
    case_row.opened_at = now
    case_row.deadline_at = now + sla
    case_row.taken_by_id = case_row.taken_at = case_row.contacted_at = None
    case_row.resolved_at = case_row.resolution = case_row.escalated_at = None
    case_row.changed_from = case_row.changed_to = None
    await _record(session, case_row, now=now)
    await _alert(session, case_row, now=now, sla=sla, admin_ids=admin_ids, tag=f":{stamp(now)}")
    return case_row


async def _told(session: AsyncSession, case_row: NpsCase) -> list[tuple[int, int | None]]:
    """Who has heard of the case since it was opened, but its rep: (chat id, user id) of its
    alerts, its news, its deadline's and its escalation's notices sent (or being sent)."""
    rep = await session.get(User, case_row.rep_id)
    rows = await session.execute(
        select(DueWork.chat_id, DueWork.user_id)
        .where(
            DueWork.ref_id == case_row.id,
            DueWork.created_at >= case_row.opened_at,
            DueWork.status.in_([duework.SENT, duework.CLAIMED]),
            or_(
                DueWork.kind.in_([CASE_ALERT, CASE_NEWS]),
                and_(
                    DueWork.kind == NPS_NOTICE,
                    or_(
                        DueWork.key.like(f"casedue:{case_row.id}:%"),
                        DueWork.key.like(f"caseesc:{case_row.id}:%"),
                    ),
                ),
            ),
        )
        .order_by(DueWork.id)
    )
    people: dict[int, int | None] = {}
    for chat_id, user_id in rows:
        if rep is None or chat_id != rep.tg_id:
            people.setdefault(chat_id, user_id)
    return list(people.items())


async def _record(session: AsyncSession, case_row: NpsCase, *, now: datetime) -> None:
    """The case's new status in the card's history (the bot's doing: no actor)."""
    contact = await session.get(Contact, case_row.contact_id)
    if contact is not None:
        await contacts_svc.record_event(
            session,
            contact,
            actor_id=None,
            field="nps_case",
            old=None,
            new=case_row.status,
            now=now,
        )


async def case_managers(
    session: AsyncSession, case_row: NpsCase, admin_ids: Collection[int]
) -> list[User]:
    """Who answers for a case: the team's managers; when there are none (a card outside any
    team, such as an administrator's own, or a team whose manager has left), the administrators
    who have talked to the bot (``admin_ids``: their Telegram ids), at once, not only when the
    deadline is missed."""
    return await users_repo.team_leads(session, case_row.team_id, admin_ids)


class CaseMove(StrEnum):
    TAKE = "take"
    CONTACTED = "contacted"
    RESOLVE = "resolve"


@transactional
async def move_case(
    session: AsyncSession,
    case_row: NpsCase,
    move: CaseMove,
    *,
    actor: User,
    now: datetime,
    admin_ids: Collection[int],
    note: str | None = None,
) -> bool:
    if case_row.status == CaseStatus.RESOLVED:
        return False
    if move is CaseMove.TAKE:
        case_row.status = CaseStatus.TAKEN
        case_row.taken_by_id = actor.id
        case_row.taken_at = now
    elif move is CaseMove.CONTACTED:
        # who talked to the client is on the case now (a manager who took it may not be the
        # one who called): the case shows them, the client's next words go to them
        case_row.status = CaseStatus.CONTACTED
        case_row.contacted_at = now
        if case_row.taken_by_id != actor.id:
            case_row.taken_by_id, case_row.taken_at = actor.id, now
    else:
        case_row.status = CaseStatus.RESOLVED
        case_row.resolved_at = now
        case_row.resolution = limits.fit("resolution", note).value or ""
        await duework.cancel(
            session, kinds=[CASE_DUE, CASE_ESCALATE], contact_id=case_row.contact_id
        )
    contact = await session.get(Contact, case_row.contact_id)
    if contact is not None:
        await contacts_svc.record_event(
            session,
            contact,
            actor_id=actor.id,
            field="nps_case",
            old=None,
            new=clip(f"{case_row.status}: {note}", HISTORY_SHOWN) if note else case_row.status,
            now=now,
        )
    await tell_about(session, case_row, move.value, actor_id=actor.id, now=now, admin_ids=admin_ids)
    return True


@transactional
async def tell_about(
    session: AsyncSession,
    case_row: NpsCase,
    move: str,
    *,
    actor_id: int | None,
    now: datetime,
    admin_ids: Collection[int],
) -> None:
    """The news of a case (``move``: take | contacted | resolve | escalated) for its rep and the
    team's managers, each but the one who made it: the manager hears when an administrator acts
    on an escalated case, and the rep what changed and who changed it."""
    people = {m.id: m for m in await case_managers(session, case_row, admin_ids)}
    rep = await session.get(User, case_row.rep_id)
    if rep is not None:
        people[rep.id] = rep
    for person in people.values():
        if person.id == actor_id:
            continue
        await duework.schedule(
            session,
            kind=CASE_NEWS,
            key=f"casenews:{case_row.id}:{move}:{person.id}",
            chat_id=person.tg_id,
            user_id=person.id,
            contact_id=case_row.contact_id,
            ref_id=case_row.id,
            due_at=now,
            now=now,
            payload={"move": move, "by": actor_id, "rep": person.id == case_row.rep_id},
        )


async def get_case_for(
    session: AsyncSession, case_id: int, user: User, role: Role
) -> NpsCase | None:
    case_row = await session.get(NpsCase, case_id)
    if case_row is None:
        return None
    if role is Role.ADMIN:
        return case_row
    if role is Role.MANAGER and case_row.team_id is not None and case_row.team_id == user.team_id:
        return case_row
    return None
