"""/team: each member's numbers, the team's name, and a rep's work handed to a colleague.

- :func:`team_view`: per member, their live cards (not archived or forgotten), touches this
  week (on their cards, since Monday in the viewer's time zone), overdue next steps, cards going
  cold, and NPS over the last 90 days;
- :func:`rename`: the team's name;
- :func:`deactivate`: one write transaction — every card of the person leaving goes to the
  colleague (with its reminder and checks, through services.followups), their other pending
  notices, open surveys, cases and referral links too; the person loses their role; the
  colleague and the person are told afterwards (queued notices, delivered by scheduler/team.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.nps import OPEN_CASES
from core.roles import TEAM_ROLES, Role
from services import duework, followups, teamcards
from services import metrics as mx
from storage.models import Contact, DueWork, NpsCase, ReferralLink, Survey, Team, User
from storage.uow import transactional

TEAM_NOTICE = "team_notice"
NPS_DAYS = 90
MEMBERS_LIMIT = 60
OPEN_SURVEYS = ("scheduled", "link", "sent")


@dataclass(frozen=True)
class MemberLine:
    user_id: int
    name: str
    role: str
    contacts: int  # live cards they own (not archived or forgotten)
    touches: int  # this week, on their cards
    overdue: int  # cards whose next step is past due
    cold: int  # cards going cold
    nps: int | None  # the last NPS_DAYS days; None without answers
    answers: int


@dataclass(frozen=True)
class TeamView:
    team_id: int
    name: str
    week_start: datetime
    members: list[MemberLine]


def week_start(now: datetime, tz: str) -> datetime:
    """Monday 00:00 of this week in ``tz``, as UTC."""
    local = now.astimezone(ZoneInfo(tz))
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return monday.astimezone(ZoneInfo("UTC"))


async def members(session: AsyncSession, team_id: int) -> list[User]:
    """The team's managers and reps (people who left have no role and no team)."""
    rows = await session.scalars(
        select(User)
        .where(User.team_id == team_id, User.role.in_(sorted(TEAM_ROLES)))
        .order_by(User.role, User.first_name, User.id)
        .limit(MEMBERS_LIMIT)
    )
    return list(rows)


async def team_view(
    session: AsyncSession,
    team_id: int,
    *,
    now: datetime,
    tz: str,
    settings_cadence: str,
    stale_days: int,
) -> TeamView | None:
    team = await session.get(Team, team_id)
    if team is None:
        return None
    scope = mx.MetricScope.team(team_id)
    start = week_start(now, tz)
    end = now + timedelta(seconds=1)  # touches logged this very second count
    touches: dict[int, int] = {}
    for (_type, owner), n in (
        await mx.touch_counts(session, scope, start, end, by="owner")
    ).items():
        touches[owner] = touches.get(owner, 0) + n
    cards = await mx.card_counts(
        session,
        scope,
        now=now,
        settings_cadence=settings_cadence,
        stale_days=stale_days,
        by="owner",
    )
    mx.forget_memo(session)
    people = await members(session, team_id)
    owned: dict[int, int] = {}
    if people:
        owned = {
            owner: int(n)
            for owner, n in await session.execute(
                select(Contact.owner_id, func.count(Contact.id))
                .where(Contact.owner_id.in_([u.id for u in people]), teamcards.live())
                .group_by(Contact.owner_id)
            )
        }
    lines = []
    for user in people:
        nps = await mx.nps(
            session, mx.MetricScope.rep(user.id), now - timedelta(days=NPS_DAYS), end
        )
        counts = cards.get(user.id, mx.CardCounts(0, 0, 0))
        lines.append(
            MemberLine(
                user_id=user.id,
                name=user.display_name,
                role=user.role or "",
                contacts=owned.get(user.id, 0),
                touches=touches.get(user.id, 0),
                overdue=counts.overdue,
                cold=counts.cold,
                nps=nps.score,
                answers=nps.answers,
            )
        )
    return TeamView(team.id, team.name, start, lines)


async def teams(session: AsyncSession) -> list[tuple[int, str, int]]:
    """Every team (for an admin): id, name, members."""
    rows = await session.execute(
        select(Team.id, Team.name, func.count(User.id))
        .outerjoin(User, (User.team_id == Team.id) & User.role.in_(sorted(TEAM_ROLES)))
        .group_by(Team.id, Team.name)
        .order_by(Team.name, Team.id)
    )
    return [(i, n, int(c)) for i, n, c in rows.all()]


def may_manage(viewer: User, role: Role, team_id: int | None) -> bool:
    """An admin manages every team; a manager their own."""
    if team_id is None:
        return False
    return role is Role.ADMIN or (role is Role.MANAGER and viewer.team_id == team_id)


@transactional
async def rename(session: AsyncSession, team_id: int, name: str) -> limits.Fitted | None:
    """The team's new name, cleaned and cut to fit (``cut`` says whether it was: the person is
    told), or None when it is empty or the team is gone."""
    fitted = limits.fit("team_name", name)
    team = await session.get(Team, team_id)
    if not fitted.value or team is None:
        return None
    team.name = fitted.value
    return fitted


# ------------------------------------------------------------------------------ handing over
async def leavers(session: AsyncSession, viewer: User, role: Role, team_id: int) -> list[User]:
    """Whom the viewer may deactivate in the team: a manager its reps, an admin anyone in it;
    never oneself."""
    if not may_manage(viewer, role, team_id):
        return []
    found = await members(session, team_id)
    return [
        u for u in found if u.id != viewer.id and (role is Role.ADMIN or u.role == Role.REP.value)
    ]


async def heirs(session: AsyncSession, leaving: User) -> list[User]:
    """Who can take over: the other members of the leaving person's team."""
    if leaving.team_id is None:
        return []
    return [u for u in await members(session, leaving.team_id) if u.id != leaving.id]


async def find_leaver(session: AsyncSession, viewer: User, role: Role, user_id: int) -> User | None:
    """A person the viewer may deactivate (the id from a button is checked here)."""
    user = await session.get(User, user_id)
    if user is None or user.team_id is None:
        return None
    return next(
        (u for u in await leavers(session, viewer, role, user.team_id) if u.id == user.id), None
    )


async def find_heir(session: AsyncSession, leaving: User, user_id: int) -> User | None:
    return next((u for u in await heirs(session, leaving) if u.id == user_id), None)


@dataclass(frozen=True)
class Handover:
    contacts: int  # cards, archived included
    steps: int  # open next steps on live cards
    due: int  # pending reminders, checks and notices now addressed to the colleague
    cases: int  # open detractor cases


async def leaves_no_manager(session: AsyncSession, leaving: User) -> bool:
    """Whether the team is left without a manager when ``leaving`` goes (its alerts then go to
    the administrators: services.nps.case_managers, services.followups.manager_of)."""
    if leaving.role != Role.MANAGER.value or leaving.team_id is None:
        return False
    others = await members(session, leaving.team_id)
    return not any(u.role == Role.MANAGER.value and u.id != leaving.id for u in others)


async def _pending_to_hand_over(session: AsyncSession, leaving: User) -> int:
    """The pending reminders, checks and notices addressed to ``leaving`` that a handover gives
    the colleague (their digests are cancelled, not handed over)."""
    found = await session.scalar(
        select(func.count(DueWork.id)).where(
            DueWork.user_id == leaving.id,
            DueWork.status == duework.PENDING,
            DueWork.kind != "digest",
        )
    )
    return int(found or 0)


async def preview(session: AsyncSession, leaving: User) -> Handover:
    """What a handover would move, before it is confirmed."""
    contacts = await session.scalar(
        select(func.count(Contact.id)).where(Contact.owner_id == leaving.id)
    )
    steps = await session.scalar(
        select(func.count(Contact.id)).where(
            Contact.owner_id == leaving.id,
            Contact.archived_at.is_(None),
            Contact.next_step_due.is_not(None),
        )
    )
    due = await _pending_to_hand_over(session, leaving)
    cases = await session.scalar(
        select(func.count(NpsCase.id)).where(
            NpsCase.rep_id == leaving.id, NpsCase.status.in_(OPEN_CASES)
        )
    )
    return Handover(int(contacts or 0), int(steps or 0), int(due or 0), int(cases or 0))


@transactional
async def deactivate(
    session: AsyncSession,
    leaving: User,
    heir: User,
    *,
    actor: User,
    now: datetime,
    rules: followups.Rules,
) -> Handover:
    """Hand everything of ``leaving`` to ``heir`` and take away their role, in one transaction.

    Each card changes owner through services.followups (its reminder and checks follow it, in
    the colleague's working hours); pending notices still addressed to the person go to the
    colleague, digests are cancelled; open surveys, open cases and referral links name the
    colleague as their rep (answered surveys and closed cases keep the history)."""
    cards = list(await session.scalars(select(Contact).where(Contact.owner_id == leaving.id)))
    due = await _pending_to_hand_over(session, leaving)  # as the preview counted them
    steps = 0
    for contact in cards:
        if contact.archived_at is None and contact.next_step_due is not None:
            steps += 1
        await followups.change_owner(session, contact, heir, actor=actor, now=now, rules=rules)
    await session.execute(
        update(DueWork)
        .where(
            DueWork.user_id == leaving.id,
            DueWork.status == duework.PENDING,
            DueWork.kind == "digest",
        )
        .values(status=duework.CANCELLED)
    )
    await session.execute(
        update(DueWork)
        .where(DueWork.user_id == leaving.id, DueWork.status == duework.PENDING)
        .values(user_id=heir.id, chat_id=heir.tg_id)
    )
    await session.execute(
        update(Survey)
        .where(Survey.rep_id == leaving.id, Survey.status.in_(OPEN_SURVEYS))
        .values(rep_id=heir.id)
    )
    cases = await session.execute(
        update(NpsCase)
        .where(NpsCase.rep_id == leaving.id, NpsCase.status.in_(OPEN_CASES))
        .values(rep_id=heir.id)
    )
    await session.execute(
        update(ReferralLink).where(ReferralLink.rep_id == leaving.id).values(rep_id=heir.id)
    )
    done = Handover(len(cards), steps, due, int(cases.rowcount or 0))  # type: ignore[attr-defined]
    leaving.role = None
    leaving.team_id = None
    leaving.left_at = now  # what they write next is answered as from someone who left
    payload = {
        "leaving": leaving.display_name,
        "heir": heir.display_name,
        "by": actor.display_name,
        "contacts": done.contacts,
        "steps": done.steps,
        "due": done.due,
        "cases": done.cases,
    }
    for person, what in ((heir, "heir"), (leaving, "off")):
        if person.id == actor.id:
            continue
        await duework.schedule(
            session,
            kind=TEAM_NOTICE,
            key=f"handover:{leaving.id}:{what}:{int(now.timestamp())}",
            chat_id=person.tg_id,
            user_id=person.id,
            due_at=now,
            now=now,
            payload={"what": what, **payload},
        )
    return done
