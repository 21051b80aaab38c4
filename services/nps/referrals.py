"""A promoter's referral link and the contacts it brings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.roles import Role
from core.tokens import new_token
from services import contacts as contacts_svc
from services import duework
from services.nps.notices import REF_PREFIX, REFERRAL_NEW
from services.scope import Scope
from storage.models import Contact, ReferralLink, Survey, User
from storage.uow import transactional


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
