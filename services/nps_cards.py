"""What the NPS loop's messages show, read as plain data for views.nps: a case card, a survey
with its contact, a referral. Reads only; the loop's rules live in services.nps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import Direction, TouchType
from storage.models import Contact, NpsCase, Survey, Touch, User


@dataclass(frozen=True)
class CaseCard:
    """A detractor's case as a message shows it (names are raw: the view escapes them)."""

    id: int
    contact_id: int
    status: str  # open | taken | contacted | resolved
    contact_name: str | None
    score: int | None
    rep_name: str | None
    comment: str | None
    escalated: bool
    resolution: str | None
    taken_by_name: str | None = None
    changed: tuple[int, int] | None = None  # closed by the client's changed answer: old, new
    opened_at: datetime | None = None
    deadline_at: datetime | None = None
    company: str | None = None
    later: tuple[str, ...] = ()  # what the client wrote to the bot since, oldest first

    @property
    def resolved(self) -> bool:
        return self.status == "resolved"

    def overdue(self, now: datetime) -> bool:
        """Past its deadline (the SLA, ``NPS_CASE_SLA_HOURS``) and not resolved."""
        return not self.resolved and self.deadline_at is not None and self.deadline_at <= now


@dataclass(frozen=True)
class SurveyCard:
    """A survey and, when asked for, its contact."""

    id: int
    token: str
    status: str
    expires_at: datetime
    answered: bool
    score: int | None
    comment: str | None
    contact_id: int | None = None
    contact_name: str | None = None
    language: str | None = None  # the client's, when the card or their Telegram tells it


async def case_card(session: AsyncSession, case_row: NpsCase, *, later: bool = False) -> CaseCard:
    """The case as its messages show it; with ``later``, the client's messages to the bot since
    it was opened too (the latest :data:`LATER_SHOWN`), for the case opened on its own."""
    survey = await session.get(Survey, case_row.survey_id)
    contact = await session.get(Contact, case_row.contact_id)
    rep = await session.get(User, case_row.rep_id)
    taker = await session.get(User, case_row.taken_by_id) if case_row.taken_by_id else None
    return CaseCard(
        id=case_row.id,
        contact_id=case_row.contact_id,
        status=case_row.status,
        contact_name=contact.name if contact else None,
        score=survey.score if survey else None,
        rep_name=rep.display_name if rep else None,
        comment=survey.comment if survey else None,
        escalated=case_row.escalated_at is not None,
        resolution=case_row.resolution,
        changed=(
            (case_row.changed_from, case_row.changed_to)
            if case_row.changed_from is not None and case_row.changed_to is not None
            else None
        ),
        taken_by_name=taker.display_name if taker else None,
        opened_at=case_row.opened_at,
        deadline_at=case_row.deadline_at,
        company=contact.company if contact else None,
        later=await _written_since(session, case_row) if later else (),
    )


LATER_SHOWN = 3


async def _written_since(session: AsyncSession, case_row: NpsCase) -> tuple[str, ...]:
    """The client's messages to the bot since the case was opened (inbound touches: what
    services.followups.contact_wrote logs), the latest few, oldest first."""
    rows = await session.scalars(
        select(Touch.summary)
        .where(
            Touch.contact_id == case_row.contact_id,
            Touch.direction == Direction.IN.value,
            Touch.type == TouchType.MESSAGE.value,
            Touch.occurred_at >= case_row.opened_at,
        )
        .order_by(Touch.occurred_at.desc(), Touch.id.desc())
        .limit(LATER_SHOWN)
    )
    return tuple(reversed([text for text in rows if text]))


async def case_card_by_id(session: AsyncSession, case_id: int | None) -> CaseCard | None:
    case_row = await session.get(NpsCase, case_id) if case_id else None
    return await case_card(session, case_row) if case_row is not None else None


async def survey_card(
    session: AsyncSession, survey_id: int | None, contact_id: int | None = None
) -> SurveyCard | None:
    """The survey; with ``contact_id``, None too when that contact is gone."""
    survey = await session.get(Survey, survey_id) if survey_id else None
    if survey is None:
        return None
    name = None
    if contact_id is not None:
        contact = await session.get(Contact, contact_id)
        if contact is None:
            return None
        name = contact.name
    return SurveyCard(
        id=survey.id,
        token=survey.token,
        status=survey.status,
        expires_at=survey.expires_at,
        answered=survey.answered_at is not None,
        score=survey.score,
        comment=survey.comment,
        contact_id=contact_id,
        contact_name=name,
        language=survey.language,
    )


async def contact_names(session: AsyncSession, *ids: int | None) -> list[str] | None:
    """The contacts' names in order, or None when any of them is gone."""
    names = []
    for contact_id in ids:
        contact = await session.get(Contact, contact_id) if contact_id else None
        if contact is None:
            return None
        names.append(contact.name)
    return names


async def users_by_tg(session: AsyncSession, tg_ids: Iterable[int]) -> dict[int, User]:
    """Known users among these Telegram ids (the admins, say), by Telegram id."""
    stmt = select(User).where(User.tg_id.in_(list(tg_ids)))
    return {u.tg_id: u for u in await session.scalars(stmt)}
