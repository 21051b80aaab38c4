"""The post-service NPS loop: schedule, reach the client, take the answer, route it, close cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.nps import Category, category, nps
from core.roles import STAFF, Role
from core.tokens import new_token
from core.workhours import WorkHours, shift_into
from services import contacts as contacts_svc
from services import duework
from services.contacts import Scope
from storage.models import Contact, NpsCase, ReferralLink, Survey, User
from storage.uow import transactional

NPS_SEND = "nps_send"
NPS_REMIND = "nps_remind"
CASE_ALERT = "case_alert"
CASE_DUE = "case_due"
CASE_ESCALATE = "case_escalate"
REFERRAL_NEW = "referral_new"
NPS_NOTICE = "nps_notice"
CHANGE_WINDOW = timedelta(minutes=10)
CLIENT_DAYTIME = WorkHours(time(10, 0), time(20, 0), frozenset(range(1, 8)))
REF_PREFIX = "ref_"


@transactional
async def notify(
    session: AsyncSession,
    *,
    key: str,
    what: str,
    chat_id: int,
    user_id: int | None,
    contact_id: int,
    ref_id: int,
    now: datetime,
    kind: str = NPS_NOTICE,
) -> bool:
    """Queue a notice of the loop (rendered by scheduler.nps_jobs) for one person, once."""
    return await duework.schedule(
        session,
        kind=kind,
        key=key,
        chat_id=chat_id,
        user_id=user_id,
        contact_id=contact_id,
        ref_id=ref_id,
        due_at=now,
        now=now,
        payload={"what": what},
    )


class Skip(StrEnum):
    STOPPED = "stopped"
    TOO_SOON = "too_soon"


@dataclass(frozen=True)
class Planned:
    survey: Survey | None = None
    skipped: Skip | None = None
    direct: bool = False  # the client has started the bot: the survey goes to them directly


async def _client_user(session: AsyncSession, contact: Contact) -> User | None:
    if contact.tg_user_id is None:
        return None
    return await session.scalar(select(User).where(User.tg_id == contact.tg_user_id))


@transactional
async def plan_survey(
    session: AsyncSession,
    contact: Contact,
    *,
    rep: User,
    touch_id: int | None,
    now: datetime,
    delay: timedelta,
    min_interval: timedelta,
    expiry: timedelta,
    default_tz: str,
) -> Planned:
    """A service was delivered: the NPS question goes out after ``delay``, in the client's
    daytime (10:00–20:00 in their zone; the rep's if unknown), at most once per interval."""
    if contact.nps_stopped_at is not None:
        return Planned(skipped=Skip.STOPPED)
    last = await session.scalar(
        select(func.max(Survey.created_at)).where(
            Survey.contact_id == contact.id, Survey.status != "cancelled"
        )
    )
    if last is not None and now - last < min_interval:
        return Planned(skipped=Skip.TOO_SOON)
    tz = contact.timezone or rep.timezone or default_tz
    send_at = shift_into(now + delay, tz, CLIENT_DAYTIME)
    client = await _client_user(session, contact)
    direct = client is not None and client.reachable
    survey = Survey(
        contact_id=contact.id,
        rep_id=contact.owner_id,
        team_id=contact.team_id,
        touch_id=touch_id,
        token=new_token(18),
        client_tg_id=contact.tg_user_id if direct else None,
        status="scheduled" if direct else "link",
        scheduled_for=send_at,
        expires_at=send_at + expiry,
        language=contact.language or (client.language or client.tg_language if client else None),
        created_at=now,
    )
    session.add(survey)
    await session.flush()
    if direct:
        assert client is not None
        await duework.schedule(
            session,
            kind=NPS_SEND,
            key=f"nps:{survey.id}",
            chat_id=client.tg_id,
            user_id=client.id,
            contact_id=contact.id,
            ref_id=survey.id,
            due_at=send_at,
            now=now,
        )
    return Planned(survey=survey, direct=direct)


async def survey_by_token(session: AsyncSession, token: str) -> Survey | None:
    return await session.scalar(select(Survey).where(Survey.token == token))


class Open(StrEnum):
    OK = "ok"
    EXPIRED = "expired"
    NOT_YOURS = "not_yours"
    STAFF = "staff"
    ANSWERED = "answered"
    CANCELLED = "cancelled"


@transactional
async def open_link(
    session: AsyncSession,
    survey: Survey,
    *,
    client: User,
    client_role: Role | None,
    now: datetime,
) -> Open:
    """The client opened their personal link: the survey starts and their account is linked.

    A survey link is bound to the client: staff (who could rate their own work, and whose
    account would be linked to the client's card) are refused and nothing changes."""
    if client_role in STAFF:
        return Open.STAFF
    if survey.client_tg_id is not None and survey.client_tg_id != client.tg_id:
        return Open.NOT_YOURS
    if survey.status == "cancelled":
        return Open.CANCELLED
    if survey.answered_at is not None:
        return Open.ANSWERED
    if now >= survey.expires_at:
        return Open.EXPIRED
    contact = await session.get(Contact, survey.contact_id)
    if contact is None:
        return Open.CANCELLED
    survey.client_tg_id = client.tg_id
    survey.status = "sent"
    survey.delivered_at = survey.delivered_at or now
    if contact.tg_user_id is None:
        contact.tg_user_id = client.tg_id
    if client.role is None:
        client.role = Role.CLIENT.value
    await duework.cancel(session, kinds=[NPS_SEND], contact_id=contact.id)
    await _plan_reminder(session, survey, client, now)
    return Open.OK


@transactional
async def _plan_reminder(
    session: AsyncSession, survey: Survey, client: User, now: datetime
) -> None:
    await duework.schedule(
        session,
        kind=NPS_REMIND,
        key=f"npsr:{survey.id}",
        chat_id=client.tg_id,
        user_id=client.id,
        contact_id=survey.contact_id,
        ref_id=survey.id,
        due_at=min(now + timedelta(hours=24), survey.expires_at),
        now=now,
    )


@transactional
async def mark_delivered(
    session: AsyncSession, survey_id: int, *, now: datetime, remind_after: timedelta
) -> None:
    survey = await session.get(Survey, survey_id)
    if survey is None:
        return
    survey.status = "sent"
    survey.delivered_at = survey.delivered_at or now
    client = await session.scalar(select(User).where(User.tg_id == survey.client_tg_id))
    if client is not None:
        await duework.schedule(
            session,
            kind=NPS_REMIND,
            key=f"npsr:{survey.id}",
            chat_id=client.tg_id,
            user_id=client.id,
            contact_id=survey.contact_id,
            ref_id=survey.id,
            due_at=min(now + remind_after, survey.expires_at),
            now=now,
        )


@transactional
async def fall_back_to_link(
    session: AsyncSession, survey_id: int, *, now: datetime
) -> Survey | None:
    """Sending failed with 403: the survey becomes a link for the rep to forward."""
    survey = await session.get(Survey, survey_id)
    if survey is None:
        return None
    survey.status = "link"
    survey.client_tg_id = None
    return survey


class Answer(StrEnum):
    OK = "ok"
    CHANGED = "changed"
    NOT_YOURS = "not_yours"
    EXPIRED = "expired"
    TOO_LATE = "too_late"
    BAD = "bad"


@dataclass(frozen=True)
class Answered:
    result: Answer
    survey: Survey | None = None
    category: Category | None = None
    case: NpsCase | None = None
    referral: ReferralLink | None = None
    first: bool = False


@transactional
async def answer(
    session: AsyncSession,
    *,
    survey_id: int,
    score: int,
    client_tg_id: int,
    client_role: Role | None,
    now: datetime,
    case_sla: timedelta,
) -> Answered:
    """Accepted only from that client for that survey; a second tap within 10 minutes changes
    the answer, later ones are refused."""
    if not 0 <= score <= 10:
        return Answered(Answer.BAD)
    if client_role in STAFF:
        return Answered(Answer.NOT_YOURS)
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.client_tg_id != client_tg_id or survey.status == "cancelled":
        return Answered(Answer.NOT_YOURS)
    if survey.answered_at is None and now >= survey.expires_at:
        survey.status = "expired"
        return Answered(Answer.EXPIRED, survey)
    first = survey.answered_at is None
    if not first and now - survey.answered_at > CHANGE_WINDOW:  # type: ignore[operator]
        return Answered(Answer.TOO_LATE, survey)
    old = survey.score
    survey.score = score
    survey.answered_at = survey.answered_at or now
    survey.status = "answered"
    await duework.cancel(session, kinds=[NPS_REMIND], contact_id=survey.contact_id)
    contact = await session.get(Contact, survey.contact_id)
    assert contact is not None
    cat = category(score)
    await contacts_svc.record_event(
        session, contact, actor_id=None, field="nps", old=old, new=score, now=now
    )
    case_row: NpsCase | None = None
    referral: ReferralLink | None = None
    existing_case = await session.scalar(select(NpsCase).where(NpsCase.survey_id == survey.id))
    if cat is Category.DETRACTOR and existing_case is None:
        case_row = await open_case(session, survey, now=now, sla=case_sla)
    elif existing_case is not None:
        case_row = existing_case
    if cat is Category.PROMOTER:
        referral = await referral_link_for(session, survey, now=now)
    if first:
        await notify_user(
            session,
            survey.rep_id,
            key=f"npsscore:{survey.id}",
            what="score",
            contact_id=survey.contact_id,
            ref_id=survey.id,
            now=now,
        )
    return Answered(
        Answer.OK if first else Answer.CHANGED,
        survey,
        cat,
        case_row,
        referral,
        first,
    )


@transactional
async def notify_user(
    session: AsyncSession,
    user_id: int,
    *,
    key: str,
    what: str,
    contact_id: int,
    ref_id: int,
    now: datetime,
) -> None:
    """A notice for one user (the survey's or the case's rep), if they still exist."""
    user = await session.get(User, user_id)
    if user is not None:
        await notify(
            session,
            key=key,
            what=what,
            chat_id=user.tg_id,
            user_id=user.id,
            contact_id=contact_id,
            ref_id=ref_id,
            now=now,
        )


@transactional
async def add_comment(
    session: AsyncSession, survey: Survey, text: str, *, now: datetime
) -> Category:
    """The open answer goes into the card's history and on to who acts on it: a passive's to the
    rep, a detractor's to the managers handling the case."""
    survey.comment = limits.fit("comment", text).value
    survey.commented_at = now
    contact = await session.get(Contact, survey.contact_id)
    if contact is not None:
        await contacts_svc.record_event(
            session, contact, actor_id=None, field="nps_comment", old=None, new=text[:500], now=now
        )
    cat = category(survey.score or 0)
    if cat is Category.PASSIVE:
        await notify_user(
            session,
            survey.rep_id,
            key=f"npscomment:{survey.id}:rep",
            what="comment",
            contact_id=survey.contact_id,
            ref_id=survey.id,
            now=now,
        )
    elif cat is Category.DETRACTOR:
        case_row = await session.scalar(select(NpsCase).where(NpsCase.survey_id == survey.id))
        if case_row is not None:
            for manager in await case_managers(session, case_row):
                await notify(
                    session,
                    kind=CASE_ALERT,
                    key=f"npscomment:{survey.id}:{manager.id}",
                    what="comment",
                    chat_id=manager.tg_id,
                    user_id=manager.id,
                    contact_id=survey.contact_id,
                    ref_id=case_row.id,
                    now=now,
                )
    return cat


async def awaiting_comment(
    session: AsyncSession, client_tg_id: int, now: datetime
) -> Survey | None:
    """The client's survey that has a score and waits for the open answer (for a day)."""
    return await session.scalar(
        select(Survey)
        .where(
            Survey.client_tg_id == client_tg_id,
            Survey.answered_at.is_not(None),
            Survey.comment.is_(None),
            Survey.answered_at > now - timedelta(days=1),
        )
        .order_by(Survey.answered_at.desc())
        .limit(1)
    )


async def awaiting_score(session: AsyncSession, client_tg_id: int, now: datetime) -> Survey | None:
    return await session.scalar(
        select(Survey)
        .where(
            Survey.client_tg_id == client_tg_id,
            Survey.status == "sent",
            Survey.answered_at.is_(None),
            Survey.expires_at > now,
        )
        .order_by(Survey.created_at.desc())
        .limit(1)
    )


@transactional
async def open_case(
    session: AsyncSession, survey: Survey, *, now: datetime, sla: timedelta
) -> NpsCase:
    case_row = NpsCase(
        survey_id=survey.id,
        contact_id=survey.contact_id,
        rep_id=survey.rep_id,
        team_id=survey.team_id,
        status="open",
        opened_at=now,
        deadline_at=now + sla,
    )
    session.add(case_row)
    await session.flush()
    for manager in await case_managers(session, case_row):
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
    await notify_rep(session, case_row, what="case_opened", key_suffix="opened", now=now)
    await duework.schedule(
        session,
        kind=CASE_DUE,
        key=f"casedue:{case_row.id}",
        chat_id=0,
        contact_id=survey.contact_id,
        ref_id=case_row.id,
        due_at=now + sla * 0.75,
        now=now,
    )
    await duework.schedule(
        session,
        kind=CASE_ESCALATE,
        key=f"caseesc:{case_row.id}",
        chat_id=0,
        contact_id=survey.contact_id,
        ref_id=case_row.id,
        due_at=now + sla,
        now=now,
    )
    return case_row


async def case_managers(session: AsyncSession, case_row: NpsCase) -> list[User]:
    if case_row.team_id is None:
        return []
    return list(
        await session.scalars(
            select(User).where(User.team_id == case_row.team_id, User.role == Role.MANAGER.value)
        )
    )


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
    note: str | None = None,
) -> bool:
    if case_row.status == "resolved":
        return False
    if move is CaseMove.TAKE:
        case_row.status = "taken"
        case_row.taken_by_id = actor.id
        case_row.taken_at = now
    elif move is CaseMove.CONTACTED:
        case_row.status = "contacted"
        case_row.contacted_at = now
        case_row.taken_by_id = case_row.taken_by_id or actor.id
    else:
        case_row.status = "resolved"
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
    if case_row.rep_id != actor.id:
        await notify_rep(session, case_row, what="case_moved", key_suffix=case_row.status, now=now)
    return True


@transactional
async def notify_rep(
    session: AsyncSession, case_row: NpsCase, *, what: str, key_suffix: str, now: datetime
) -> None:
    """The rep is kept informed of their client's case."""
    await notify_user(
        session,
        case_row.rep_id,
        key=f"caserep:{case_row.id}:{key_suffix}",
        what=what,
        contact_id=case_row.contact_id,
        ref_id=case_row.id,
        now=now,
    )


@transactional
async def notify_people(
    session: AsyncSession,
    case_row: NpsCase,
    people: list[tuple[int, int | None]],
    *,
    what: str,
    key: str,
    now: datetime,
) -> None:
    """One notice per (chat id, user id) about a case: managers before the deadline, admins after."""
    for chat_id, user_id in people:
        await notify(
            session,
            key=f"{key}:{case_row.id}:{chat_id}",
            what=what,
            chat_id=chat_id,
            user_id=user_id,
            contact_id=case_row.contact_id,
            ref_id=case_row.id,
            now=now,
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


@transactional
async def referral_link_for(
    session: AsyncSession, survey: Survey, *, now: datetime
) -> ReferralLink:
    link = await session.scalar(
        select(ReferralLink).where(ReferralLink.promoter_contact_id == survey.contact_id)
    )
    if link is None:
        link = ReferralLink(
            token=REF_PREFIX + new_token(15),
            promoter_contact_id=survey.contact_id,
            rep_id=survey.rep_id,
            survey_id=survey.id,
            created_at=now,
        )
        session.add(link)
        await session.flush()
    return link


class Referral(StrEnum):
    NEW = "new"
    KNOWN = "known"
    INVALID = "invalid"
    SELF = "self"


@dataclass(frozen=True)
class Referred:
    result: Referral
    contact: Contact | None = None


@transactional
async def open_referral(
    session: AsyncSession, token: str, *, person: User, now: datetime
) -> Referred:
    """Whoever opens a promoter's link becomes a new contact with source "referral",
    introduced by the promoter and owned by the promoter's rep — once per person."""
    link = await session.scalar(select(ReferralLink).where(ReferralLink.token == token))
    if link is None:
        return Referred(Referral.INVALID)
    promoter = await session.get(Contact, link.promoter_contact_id)
    rep = await session.get(User, link.rep_id)
    if promoter is None or rep is None:
        return Referred(Referral.INVALID)
    if promoter.tg_user_id == person.tg_id:
        return Referred(Referral.SELF)
    link.opened_count += 1
    known = await session.scalar(
        select(Contact).where(
            Contact.tg_user_id == person.tg_id,
            Scope(rep.id, Role.MANAGER if rep.team_id else Role.REP, rep.team_id).condition(),
        )
    )
    if known is not None:
        return Referred(Referral.KNOWN, known)
    contact = await contacts_svc.create(
        session,
        owner=rep,
        data={
            "name": person.display_name,
            "tg_user_id": person.tg_id,
            "tg_username": person.username,
            "source": "referral",
            "source_detail": promoter.name,
            "introduced_by_id": promoter.id,
            "status": "lead",
            "language": None,
        },
        now=now,
    )
    if person.role is None:
        person.role = Role.CLIENT.value
    await duework.schedule(
        session,
        kind=REFERRAL_NEW,
        key=f"refnew:{contact.id}",
        chat_id=rep.tg_id,
        user_id=rep.id,
        contact_id=contact.id,
        ref_id=promoter.id,
        due_at=now,
        now=now,
    )
    return Referred(Referral.NEW, contact)


@transactional
async def stop(session: AsyncSession, tg_id: int, *, now: datetime) -> int:
    """The client sent /stop: no more surveys, recorded on every card that carries them."""
    cards = list(await session.scalars(select(Contact).where(Contact.tg_user_id == tg_id)))
    for c in cards:
        if c.nps_stopped_at is None:
            c.nps_stopped_at = now
            await contacts_svc.record_event(
                session, c, actor_id=None, field="nps_stop", old=None, new=None, now=now
            )
        await duework.cancel(session, kinds=[NPS_SEND, NPS_REMIND], contact_id=c.id)
    for s in await session.scalars(
        select(Survey).where(Survey.client_tg_id == tg_id, Survey.answered_at.is_(None))
    ):
        s.status = "cancelled"
    return len(cards)


@dataclass
class Row:
    label: str
    answers: int
    promoters: int
    detractors: int
    delivered: int

    @property
    def score(self) -> int | None:
        return nps(self.promoters, self.detractors, self.answers)

    @property
    def response_rate(self) -> float | None:
        return self.answers / self.delivered if self.delivered else None


async def summary(
    session: AsyncSession, scope: Scope, *, start: datetime, end: datetime, group: str
) -> list[Row]:
    """Answers, promoters, detractors and deliveries in [start, end), grouped by team, rep,
    segment or kind — one aggregate query."""
    keys = {
        "all": None,
        "team": Survey.team_id,
        "rep": Survey.rep_id,
        "segment": Contact.segment,
        "kind": Contact.kind,
    }
    key = keys[group]
    answered = (Survey.answered_at >= start) & (Survey.answered_at < end)
    delivered = (Survey.delivered_at >= start) & (Survey.delivered_at < end)
    cols = [
        func.sum(case((answered, 1), else_=0)),
        func.sum(case((answered & (Survey.score >= 9), 1), else_=0)),
        func.sum(case((answered & (Survey.score <= 6), 1), else_=0)),
        func.sum(case((delivered, 1), else_=0)),
    ]
    stmt = (
        select(key if key is not None else func.min(Survey.id), *cols)
        .join(Contact, Contact.id == Survey.contact_id)
        .where(scope.condition(), answered | delivered)
    )
    if key is not None:
        stmt = stmt.group_by(key)
    rows = []
    for k, a, p, d, dl in (await session.execute(stmt)).all():
        if not (a or dl):
            continue
        rows.append(
            Row(
                str(k) if k is not None else "", int(a or 0), int(p or 0), int(d or 0), int(dl or 0)
            )
        )
    return rows


async def latest_comments(
    session: AsyncSession, scope: Scope, *, limit: int = 5
) -> list[tuple[Survey, Contact]]:
    rows = await session.execute(
        select(Survey, Contact)
        .join(Contact, Contact.id == Survey.contact_id)
        .where(scope.condition(), Survey.comment.is_not(None))
        .order_by(Survey.commented_at.desc())
        .limit(limit)
    )
    return [(s, c) for s, c in rows.all()]
