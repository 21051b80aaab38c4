"""A survey's life: planned after a service, delivered (or a link), opened, answered, commented,
stopped."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.nps import OPEN_CASES, Category, SurveyStatus, category
from core.roles import STAFF, TEAM_ROLES, Role
from core.tokens import new_token
from core.workhours import shift_into
from services import contacts as contacts_svc
from services import duework
from services.nps.cases import (
    case_managers,
    close_on_change,
    closed_by_change,
    open_case,
    reopen_case,
)
from services.nps.notices import (
    CASE_ALERT,
    CHANGE_WINDOW,
    CLIENT_DAYTIME,
    NPS_REMIND,
    NPS_SEND,
    clip,
    notify,
    notify_rep,
    stamp,
)
from services.nps.referrals import referral_link_for
from storage.models import Contact, NpsCase, ReferralLink, Survey, User
from storage.uow import transactional


class Skip(StrEnum):
    STOPPED = "stopped"
    TOO_SOON = "too_soon"
    COLLEAGUE = "colleague"  # the card carries a colleague's account: staff are not surveyed


@dataclass(frozen=True)
class Planned:
    survey: Survey | None = None
    skipped: Skip | None = None
    direct: bool = False  # the client has started the bot: the survey goes to them directly


async def _person(session: AsyncSession, tg_id: int | None) -> User | None:
    if tg_id is None:
        return None
    return await session.scalar(select(User).where(User.tg_id == tg_id))


def is_colleague(person: User | None, tg_id: int | None, admin_ids: Collection[int]) -> bool:
    """Whether a Telegram account is a colleague's (an administrator, a manager, a rep): a
    colleague is never surveyed as a client, whatever card carries their account."""
    if tg_id is not None and tg_id in admin_ids:
        return True
    return person is not None and person.role in TEAM_ROLES


async def _stop_card(session: AsyncSession, card: Contact, *, at: datetime) -> None:
    """The card records the client's /stop (sent ``at``), once, in its history too."""
    if card.nps_stopped_at is None:
        card.nps_stopped_at = at
        await contacts_svc.record_event(
            session, card, actor_id=None, field="nps_stop", old=None, new=None, now=at
        )


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
    admin_ids: Collection[int] = (),
) -> Planned:
    """A service was delivered: the NPS question goes out after ``delay``, in the client's
    daytime (10:00–20:00 in their zone; the rep's if unknown), at most once per interval.

    None goes to a colleague's account, nor to a person who sent /stop — on this card or
    before any card carried their account (then the card records it now)."""
    client = await _person(session, contact.tg_user_id)
    if is_colleague(client, contact.tg_user_id, admin_ids):
        return Planned(skipped=Skip.COLLEAGUE)
    if client is not None and client.nps_stopped_at is not None:
        await _stop_card(session, contact, at=client.nps_stopped_at)
    if contact.nps_stopped_at is not None:
        return Planned(skipped=Skip.STOPPED)
    last = await session.scalar(
        select(func.max(Survey.created_at)).where(
            Survey.contact_id == contact.id, Survey.status != SurveyStatus.CANCELLED
        )
    )
    if last is not None and now - last < min_interval:
        return Planned(skipped=Skip.TOO_SOON)
    tz = contact.timezone or rep.timezone or default_tz
    send_at = shift_into(now + delay, tz, CLIENT_DAYTIME)
    direct = client is not None and client.reachable
    survey = Survey(
        contact_id=contact.id,
        rep_id=contact.owner_id,
        team_id=contact.team_id,
        touch_id=touch_id,
        token=new_token(18),
        client_tg_id=contact.tg_user_id if direct else None,
        status=SurveyStatus.SCHEDULED if direct else SurveyStatus.LINK,
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


async def sendable(
    session: AsyncSession, survey_id: int | None, *, admin_ids: Collection[int], now: datetime
) -> bool:
    """The last check before the question goes out: the survey is still scheduled and not
    expired, and its client is no colleague (they may have joined the team since it was
    planned) and has not sent /stop."""
    survey = await session.get(Survey, survey_id) if survey_id else None
    if survey is None or survey.status != SurveyStatus.SCHEDULED or now >= survey.expires_at:
        return False
    person = await _person(session, survey.client_tg_id)
    if is_colleague(person, survey.client_tg_id, admin_ids):
        return False
    if person is not None and person.nps_stopped_at is not None:
        return False
    contact = await session.get(Contact, survey.contact_id)
    return contact is not None and contact.nps_stopped_at is None


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
    if survey.status == SurveyStatus.CANCELLED:
        return Open.CANCELLED
    if survey.answered_at is not None:
        return Open.ANSWERED
    if now >= survey.expires_at:
        return Open.EXPIRED
    contact = await session.get(Contact, survey.contact_id)
    if contact is None:
        return Open.CANCELLED
    survey.client_tg_id = client.tg_id
    survey.status = SurveyStatus.SENT
    survey.delivered_at = survey.delivered_at or now
    if contact.tg_user_id is None:
        contact.tg_user_id = client.tg_id
    if client.role is None:
        client.role = Role.CLIENT.value
    await duework.cancel(session, kinds=[NPS_SEND], contact_id=contact.id)
    await _plan_reminder(session, survey, client, now, after=timedelta(hours=24))
    return Open.OK


@transactional
async def _plan_reminder(
    session: AsyncSession, survey: Survey, client: User, now: datetime, *, after: timedelta
) -> None:
    """The client is reminded of an unanswered survey ``after`` (before it expires), once."""
    await duework.schedule(
        session,
        kind=NPS_REMIND,
        key=f"npsr:{survey.id}",
        chat_id=client.tg_id,
        user_id=client.id,
        contact_id=survey.contact_id,
        ref_id=survey.id,
        due_at=min(now + after, survey.expires_at),
        now=now,
    )


@transactional
async def mark_delivered(
    session: AsyncSession, survey_id: int, *, now: datetime, remind_after: timedelta
) -> None:
    survey = await session.get(Survey, survey_id)
    if survey is None:
        return
    survey.status = SurveyStatus.SENT
    survey.delivered_at = survey.delivered_at or now
    client = await session.scalar(select(User).where(User.tg_id == survey.client_tg_id))
    if client is not None:
        if client.role is None:  # as opening a survey link does: /help and /stop are a client's
            client.role = Role.CLIENT.value
        await _plan_reminder(session, survey, client, now, after=remind_after)


@transactional
async def fall_back_to_link(
    session: AsyncSession, survey_id: int, *, now: datetime
) -> Survey | None:
    """Sending failed with 403: the survey becomes a link for the rep to forward."""
    survey = await session.get(Survey, survey_id)
    if survey is None:
        return None
    survey.status = SurveyStatus.LINK
    survey.client_tg_id = None
    return survey


def can_change(survey: Survey, now: datetime) -> bool:
    """An answer may be changed for a few minutes after it was given (:data:`CHANGE_WINDOW`),
    by a tap or by a number typed."""
    return survey.answered_at is not None and now - survey.answered_at <= CHANGE_WINDOW


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
    previous: int | None = None  # the score before a change

    @property
    def category_changed(self) -> bool:
        """A changed answer that moved to another category (8 -> 10: passive to promoter)."""
        return (
            self.result is Answer.CHANGED
            and self.previous is not None
            and self.category is not category(self.previous)
        )


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
    admin_ids: Collection[int],
) -> Answered:
    """Accepted only from that client for that survey; a second tap (or a number typed)
    within 10 minutes changes the answer (the rep is told), later ones are refused. A change
    out of the detractors' range closes the case (:func:`close_on_change`), one back into it
    opens it again."""
    if not 0 <= score <= 10:
        return Answered(Answer.BAD)
    if client_role in STAFF:
        return Answered(Answer.NOT_YOURS)
    survey = await session.get(Survey, survey_id)
    if (
        survey is None
        or survey.client_tg_id != client_tg_id
        or survey.status == SurveyStatus.CANCELLED
    ):
        return Answered(Answer.NOT_YOURS)
    if survey.answered_at is None and now >= survey.expires_at:
        survey.status = SurveyStatus.EXPIRED
        return Answered(Answer.EXPIRED, survey)
    first = survey.answered_at is None
    if not first and not can_change(survey, now):
        return Answered(Answer.TOO_LATE, survey)
    old = survey.score
    survey.score = score
    survey.answered_at = survey.answered_at or now
    survey.status = SurveyStatus.ANSWERED
    await duework.cancel(session, kinds=[NPS_REMIND], contact_id=survey.contact_id)
    contact = await session.get(Contact, survey.contact_id)
    assert contact is not None
    cat = category(score)
    await contacts_svc.record_event(
        session, contact, actor_id=None, field="nps", old=old, new=score, now=now
    )
    was = None if first or old is None else category(old)
    if was not in (None, cat) and survey.comment:
        # the words answered the old score's question (a promoter's thanks are no "what went
        # wrong", a detractor's complaint no longer the answer's, its case closed): the new
        # category's question is asked, and its answer awaited as the comment; the old words
        # stay in the card's history
        survey.comment = None
        survey.commented_at = None
    case_row: NpsCase | None = None
    referral: ReferralLink | None = None
    closed = False
    existing_case = await session.scalar(select(NpsCase).where(NpsCase.survey_id == survey.id))
    if cat is Category.DETRACTOR and existing_case is None:
        case_row = await open_case(session, survey, now=now, sla=case_sla, admin_ids=admin_ids)
    elif cat is Category.DETRACTOR and existing_case is not None:
        case_row = existing_case
        if closed_by_change(existing_case):  # 2 -> 10 -> 3: the case is back
            await reopen_case(session, existing_case, now=now, sla=case_sla, admin_ids=admin_ids)
    elif existing_case is not None:
        case_row = existing_case
        if existing_case.status in OPEN_CASES:  # 2 -> 10: nothing is left to resolve
            assert old is not None
            await close_on_change(session, existing_case, old=old, new=score, now=now)
            closed = True
    if cat is Category.PROMOTER:
        referral = await referral_link_for(session, survey, now=now)
    if first and survey.comment and cat in (Category.PROMOTER, Category.PASSIVE):
        # words written before the score (keep_early_comment): the rep hears of them now
        await notify_rep(
            session, survey, key=f"npscomment:{survey.id}:rep", what="comment", now=now
        )
    # the rep hears of a first score, and of a changed one; a first score that opened a case is
    # told by the case's own message (its alert, or "a case was opened for your client")
    told_by_case = first and cat is Category.DETRACTOR and existing_case is None
    if (first or old != score) and not told_by_case:
        # a change says whether it closed the case (2 -> 10); its key, which change it was (a
        # client may go 2 -> 10 -> 2 -> 10 while the score can still change)
        changed: dict[str, int | str | None] = {"old": old, "new": score, "closed": int(closed)}
        change_key = f"npschange:{survey.id}:{old}:{score}:{stamp(now)}"
        await notify_rep(
            session,
            survey,
            key=f"npsscore:{survey.id}" if first else change_key,
            what="score" if first else "changed",
            now=now,
            extra=None if first else changed,
        )
    return Answered(
        Answer.OK if first else Answer.CHANGED,
        survey,
        cat,
        case_row,
        referral,
        first,
        previous=old,
    )


@dataclass(frozen=True)
class Commented:
    category: Category
    cut: bool  # longer than a comment keeps: its end was cut (marked "…"); the client is told


@transactional
async def add_comment(
    session: AsyncSession,
    survey: Survey,
    text: str,
    *,
    now: datetime,
    admin_ids: Collection[int],
) -> Commented:
    """The open answer goes into the card's history and on to who acts on it: a promoter's and a
    passive's to the rep, a detractor's to the managers handling the case."""
    cut = await _keep_comment(session, survey, text, kept=text, now=now)
    cat = category(survey.score or 0)
    if cat in (Category.PROMOTER, Category.PASSIVE):
        await notify_rep(
            session, survey, key=f"npscomment:{survey.id}:rep:{stamp(now)}", what="comment", now=now
        )
    elif cat is Category.DETRACTOR:
        case_row = await session.scalar(select(NpsCase).where(NpsCase.survey_id == survey.id))
        if case_row is not None:
            leads = await case_managers(session, case_row, admin_ids)
            for manager in leads:
                await notify(
                    session,
                    kind=CASE_ALERT,
                    key=f"npscomment:{survey.id}:{manager.id}:{stamp(now)}",
                    what="comment",
                    chat_id=manager.tg_id,
                    user_id=manager.id,
                    contact_id=survey.contact_id,
                    ref_id=case_row.id,
                    now=now,
                )
            if case_row.rep_id not in {m.id for m in leads}:  # the rep hears what went wrong
                await notify_rep(
                    session,
                    case_row,
                    key=f"caserep:{case_row.id}:comment:{stamp(now)}",
                    what="case_comment",
                    now=now,
                )
    return Commented(cat, cut)


@transactional
async def keep_early_comment(
    session: AsyncSession, survey: Survey, text: str, *, now: datetime
) -> bool:
    """Words a client writes before tapping a score ("всё отлично, спасибо"): the most useful
    part of an answer, kept as the survey's comment (added to what was written before). Who
    hears of them is decided when the score comes (:func:`answer`): the rep for a promoter or
    a passive, the case for a detractor. True when the comment had to be cut."""
    joined = f"{survey.comment}\n{text}" if survey.comment else text
    return await _keep_comment(session, survey, text, kept=joined, now=now)


HISTORY_SHOWN = 500  # characters of a comment in the card's history


async def _keep_comment(
    session: AsyncSession, survey: Survey, text: str, *, kept: str, now: datetime
) -> bool:
    """The survey keeps ``kept`` as its comment, cut to the comment's limit (the cut marked
    "…"; True then); the card's history gets the words just written."""
    cleaned = limits.clean("comment", kept)
    limit = limits.limit_of("comment")
    survey.comment = clip(cleaned, limit) or None
    survey.commented_at = now
    contact = await session.get(Contact, survey.contact_id)
    if contact is not None:
        await contacts_svc.record_event(
            session,
            contact,
            actor_id=None,
            field="nps_comment",
            old=None,
            new=clip(text, HISTORY_SHOWN),
            now=now,
        )
    return limit is not None and len(cleaned) > limit


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


async def changeable(session: AsyncSession, client_tg_id: int, now: datetime) -> Survey | None:
    """The client's survey answered minutes ago, whose score may still change (its comment in
    or not): a number typed now changes it (:func:`can_change`)."""
    return await session.scalar(
        select(Survey)
        .where(
            Survey.client_tg_id == client_tg_id,
            Survey.status == SurveyStatus.ANSWERED,
            Survey.answered_at >= now - CHANGE_WINDOW,
        )
        .order_by(Survey.answered_at.desc())
        .limit(1)
    )


async def awaiting_score(session: AsyncSession, client_tg_id: int, now: datetime) -> Survey | None:
    return await session.scalar(
        select(Survey)
        .where(
            Survey.client_tg_id == client_tg_id,
            Survey.status == SurveyStatus.SENT,
            Survey.answered_at.is_(None),
            Survey.expires_at > now,
        )
        .order_by(Survey.created_at.desc())
        .limit(1)
    )


@transactional
async def stop(session: AsyncSession, tg_id: int, *, now: datetime) -> int:
    """The client sent /stop: no more surveys, recorded on the person (for the cards linked to
    their account later: :func:`plan_survey`) and on every card that carries them now."""
    person = await _person(session, tg_id)
    if person is not None and person.nps_stopped_at is None:
        person.nps_stopped_at = now
    cards = list(await session.scalars(select(Contact).where(Contact.tg_user_id == tg_id)))
    for c in cards:
        await _stop_card(session, c, at=now)
        await duework.cancel(session, kinds=[NPS_SEND, NPS_REMIND], contact_id=c.id)
    for s in await session.scalars(
        select(Survey).where(Survey.client_tg_id == tg_id, Survey.answered_at.is_(None))
    ):
        s.status = SurveyStatus.CANCELLED
    return len(cards)
