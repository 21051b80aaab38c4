"""Forgetting a person: their personal data goes everywhere, the anonymous counts stay.

What stays is what the metrics count: that a card existed (owner, team, segment, status, stage,
source, dates), that touches happened (type, direction, time), survey scores and case dates.
What goes is everything that says who the person is or what was said: names, contact details,
notes, tags, touch summaries, survey comments, case notes, event values that carry text, the
live links (survey and referral tokens are replaced by random ones, so old links stop working),
their due work, and — when nobody else's card refers to them — the client's own account record.
Who did it, when, and how much went is kept in ``privacy_log`` (counts only).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.roles import Role
from core.tokens import new_token
from services import duework
from services.network_forget import forget_in_network
from storage.models import (
    Contact,
    ContactEvent,
    Deal,
    DueWork,
    NpsCase,
    PrivacyLog,
    ReferralLink,
    Survey,
    Touch,
    TouchMedia,
    User,
)
from storage.uow import transactional

# event fields whose values are codes or scores, not personal text
KEPT_EVENT_VALUES = ("status", "stage", "nps")
OPEN_WORK = (duework.PENDING, duework.CLAIMED)


@dataclass(frozen=True)
class Footprint:
    """How much is held about one person (or one card): shown before it is erased."""

    cards: int = 0
    touches: int = 0
    surveys: int = 0
    comments: int = 0
    cases: int = 0
    referral_links: int = 0
    due_work: int = 0
    account: bool = False
    deals: int = 0  # their titles go; amounts, currencies and dates stay (pipeline, won)

    def __add__(self, other: Footprint) -> Footprint:
        return Footprint(
            self.cards + other.cards,
            self.touches + other.touches,
            self.surveys + other.surveys,
            self.comments + other.comments,
            self.cases + other.cases,
            self.referral_links + other.referral_links,
            self.due_work + other.due_work,
            self.account or other.account,
            self.deals + other.deals,
        )


async def _count(session: AsyncSession, stmt) -> int:  # noqa: ANN001
    return int(await session.scalar(stmt) or 0)


async def footprint(session: AsyncSession, contact_ids: list[int]) -> Footprint:
    if not contact_ids:
        return Footprint()
    ids = contact_ids
    return Footprint(
        cards=len(ids),
        touches=await _count(
            session, select(func.count(Touch.id)).where(Touch.contact_id.in_(ids))
        ),
        surveys=await _count(
            session, select(func.count(Survey.id)).where(Survey.contact_id.in_(ids))
        ),
        comments=await _count(
            session,
            select(func.count(Survey.id)).where(
                Survey.contact_id.in_(ids), Survey.comment.is_not(None)
            ),
        ),
        cases=await _count(
            session, select(func.count(NpsCase.id)).where(NpsCase.contact_id.in_(ids))
        ),
        referral_links=await _count(
            session,
            select(func.count(ReferralLink.id)).where(ReferralLink.promoter_contact_id.in_(ids)),
        ),
        due_work=await _count(
            session,
            select(func.count(DueWork.id)).where(
                DueWork.contact_id.in_(ids), DueWork.status.in_(OPEN_WORK)
            ),
        ),
        deals=await _count(session, select(func.count(Deal.id)).where(Deal.contact_id.in_(ids))),
    )


async def person_cards(session: AsyncSession, tg_id: int) -> list[int]:
    """Every card, in any team, that carries this Telegram account."""
    rows = await session.scalars(
        select(Contact.id).where(Contact.tg_user_id == tg_id, Contact.forgotten_at.is_(None))
    )
    return list(rows)


async def person_footprint(session: AsyncSession, person: User) -> Footprint:
    found = await footprint(session, await person_cards(session, person.tg_id))
    return found + Footprint(account=True)


async def _scrub_cards(session: AsyncSession, ids: list[int], now: datetime) -> None:
    cards = list(await session.scalars(select(Contact).where(Contact.id.in_(ids))))
    await forget_in_network(session, cards)  # the stored findings at once (their company too)
    for contact in cards:
        contact.name = f"#{contact.id}"
        for name in (
            "company",
            "position",
            "phone",
            "email",
            "tg_username",
            "tg_user_id",
            "notes",
            "icp_criterion",
            "source_detail",
            "timezone",
            "language",
            "next_step",
            "no_next_step_reason",
            "next_step_due",
        ):
            setattr(contact, name, None)
        contact.tags = ""
        contact.search_text = ""
        contact.forgotten_at = now
        contact.archived_at = contact.archived_at or now
        contact.updated_at = now
    await session.execute(update(Touch).where(Touch.contact_id.in_(ids)).values(summary=""))
    # a deal's amount, currency and dates are counts (pipeline, won); its title is what was said
    await session.execute(update(Deal).where(Deal.contact_id.in_(ids)).values(title=""))
    await session.execute(
        delete(TouchMedia).where(TouchMedia.contact_id.in_(ids))
    )  # voices, photos
    await session.execute(
        update(ContactEvent)
        .where(ContactEvent.contact_id.in_(ids), ContactEvent.field.not_in(KEPT_EVENT_VALUES))
        .values(old_value=None, new_value=None)
    )
    for survey in await session.scalars(select(Survey).where(Survey.contact_id.in_(ids))):
        survey.comment = None
        survey.client_tg_id = None
        survey.language = None
        survey.token = new_token()  # the old link stops working
    await session.execute(
        update(NpsCase).where(NpsCase.contact_id.in_(ids)).values(resolution=None)
    )
    for link in await session.scalars(
        select(ReferralLink).where(ReferralLink.promoter_contact_id.in_(ids))
    ):
        link.token = new_token()
    await session.execute(
        update(DueWork)
        .where(DueWork.contact_id.in_(ids), DueWork.status.in_(OPEN_WORK))
        .values(status=duework.CANCELLED)
    )
    await session.execute(update(DueWork).where(DueWork.contact_id.in_(ids)).values(payload=None))


async def _drop_client_account(session: AsyncSession, tg_id: int | None) -> bool:
    """A client's own record goes when no live card refers to them any more (staff stay)."""
    if tg_id is None:
        return False
    person = await session.scalar(select(User).where(User.tg_id == tg_id))
    if person is None or person.role not in (None, Role.CLIENT.value):
        return False
    still = await session.scalar(
        select(func.count(Contact.id)).where(
            Contact.tg_user_id == tg_id, Contact.forgotten_at.is_(None)
        )
    )
    if still:
        return False
    await session.execute(delete(User).where(User.id == person.id))
    return True


def _log(
    session: AsyncSession,
    *,
    contact_id: int | None,
    actor_id: int | None,
    action: str,
    found: Footprint,
    now: datetime,
) -> None:
    session.add(
        PrivacyLog(
            contact_id=contact_id,
            actor_id=actor_id,
            action=action,
            counts=json.dumps(asdict(found), sort_keys=True),
            at=now,
        )
    )


@transactional
async def forget_card(
    session: AsyncSession, contact: Contact, *, actor: User, now: datetime
) -> Footprint | None:
    """Staff erase one card's personal data (None: it was already forgotten)."""
    await session.refresh(contact)
    if contact.forgotten_at is not None:
        return None
    tg_id = contact.tg_user_id
    found = await footprint(session, [contact.id])
    await _scrub_cards(session, [contact.id], now)
    await session.flush()
    dropped = await _drop_client_account(session, tg_id)
    found = found + Footprint(account=dropped)
    _log(session, contact_id=contact.id, actor_id=actor.id, action="forget", found=found, now=now)
    return found


@transactional
async def forget_me(session: AsyncSession, person: User, *, now: datetime) -> Footprint:
    """The person asked the bot to delete what it holds about them: every card with their
    account, in every team, and their own record (staff keep their account: it is their job)."""
    ids = await person_cards(session, person.tg_id)
    found = await footprint(session, ids)
    await _scrub_cards(session, ids, now)
    await session.execute(
        update(Survey).where(Survey.client_tg_id == person.tg_id).values(client_tg_id=None)
    )
    await session.flush()
    dropped = await _drop_client_account(session, person.tg_id)
    found = found + Footprint(account=dropped)
    _log(session, contact_id=None, actor_id=None, action="self", found=found, now=now)
    return found
