"""Detractor cases: opened on a low score, taken, contacted, resolved; who may see one."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.nps import CaseStatus
from core.roles import Role
from services import contacts as contacts_svc
from services import duework
from services.nps.notices import CASE_ALERT, CASE_DUE, CASE_ESCALATE, notify_rep
from storage.models import Contact, NpsCase, Survey, User
from storage.repo import users as users_repo
from storage.uow import transactional

# a case's news to the people it concerns: what changed and who did it (scheduler/cases.py)
CASE_NEWS = "case_news"


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
    leads = await case_managers(session, case_row, admin_ids)
    for manager in leads:
        await duework.schedule(
            session,
            kind=CASE_ALERT,
            key=f"case:{case_row.id}:{manager.id}",
            chat_id=manager.tg_id,
            user_id=manager.id,
            contact_id=survey.contact_id,
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
        await notify_rep(session, case_row, key=f"caserep:{case_row.id}:opened", what=what, now=now)
    # the deadline reminder at three quarters of the time, the escalation at the deadline
    for kind, key, due_at in (
        (CASE_DUE, f"casedue:{case_row.id}", now + sla * 0.75),
        (CASE_ESCALATE, f"caseesc:{case_row.id}", now + sla),
    ):
        await duework.schedule(
            session,
            kind=kind,
            key=key,
            chat_id=0,
            contact_id=survey.contact_id,
            ref_id=case_row.id,
            due_at=due_at,
            now=now,
        )
    return case_row


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
        case_row.status = CaseStatus.CONTACTED
        case_row.contacted_at = now
        case_row.taken_by_id = case_row.taken_by_id or actor.id
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
            new=f"{case_row.status}: {note}" if note else case_row.status,
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
