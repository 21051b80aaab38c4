"""Deals with a contact: create one, change its amount, title or expected close date, mark it won
or lost; a deal moves its contact along the cycle (core.deals). And the deal figures for /stats
and the digest: pipeline and won values per currency (never summed across currencies), and
conversion "to a deal" — of the contacts created in a period, the share with a deal by its end
(the cohort of the method's conversion, shared/domain.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import distinct, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.deals import (
    MAX_TITLE,
    DealStatus,
    Money,
    contact_changes_on_new_deal,
    contact_changes_on_won,
)
from services import followups
from services.metrics.scope import MetricScope, between
from storage.models import Contact, Deal, User
from storage.uow import transactional

LIST_LIMIT = 20  # deals shown on a contact's list


async def deals_of(session: AsyncSession, contact: Contact) -> list[Deal]:
    """A contact's deals: the open ones first (soonest expected close first), then the closed."""
    rows = await session.scalars(
        select(Deal)
        .where(Deal.contact_id == contact.id)
        .order_by(
            (Deal.status != DealStatus.OPEN.value),
            Deal.close_on.is_(None),
            Deal.close_on,
            Deal.id.desc(),
        )
        .limit(LIST_LIMIT)
    )
    return list(rows)


async def get(session: AsyncSession, contact: Contact, deal_id: int) -> Deal | None:
    """The deal, only if it is this contact's (the contact is already checked against the
    viewer's scope, so the deal is too)."""
    return await session.scalar(
        select(Deal).where(Deal.id == deal_id, Deal.contact_id == contact.id)
    )


async def last_currency(session: AsyncSession, user_id: int) -> str | None:
    """The currency of the user's latest deal (the default for the next one)."""
    return await session.scalar(
        select(Deal.currency)
        .where(Deal.author_id == user_id)
        .order_by(Deal.created_at.desc(), Deal.id.desc())
        .limit(1)
    )


@transactional
async def create(
    session: AsyncSession,
    contact: Contact,
    *,
    money: Money,
    title: str,
    close_on: date | None,
    actor: User,
    now: datetime,
    rules: followups.Rules,
) -> Deal:
    deal = Deal(
        contact_id=contact.id,
        author_id=actor.id,
        title=title,
        amount=money.minor,
        currency=money.currency,
        close_on=close_on,
        status=DealStatus.OPEN.value,
        created_at=now,
        updated_at=now,
    )
    session.add(deal)
    await session.flush()
    changes = contact_changes_on_new_deal(contact.stage, contact.status)
    if changes:
        await followups.change(session, contact, actor=actor, now=now, rules=rules, **changes)
    return deal


@transactional
async def set_amount(session: AsyncSession, deal: Deal, money: Money, *, now: datetime) -> None:
    deal.amount, deal.currency, deal.updated_at = money.minor, money.currency, now


@transactional
async def set_title(session: AsyncSession, deal: Deal, title: str, *, now: datetime) -> None:
    """What the deal is for, typed anew ("" for nothing)."""
    deal.title, deal.updated_at = title[:MAX_TITLE], now


@transactional
async def set_close_on(
    session: AsyncSession, deal: Deal, day: date | None, *, now: datetime
) -> None:
    deal.close_on, deal.updated_at = day, now


@transactional
async def close(
    session: AsyncSession,
    deal: Deal,
    contact: Contact,
    *,
    won: bool,
    actor: User,
    now: datetime,
    rules: followups.Rules,
) -> bool:
    """Won or lost; a won deal makes the contact a client. False: the deal was not open."""
    await session.refresh(deal)
    if deal.status != DealStatus.OPEN.value:
        return False
    deal.status = (DealStatus.WON if won else DealStatus.LOST).value
    deal.closed_at = deal.updated_at = now
    if won:
        changes = contact_changes_on_won(contact.stage, contact.status)
        if changes:
            await followups.change(session, contact, actor=actor, now=now, rules=rules, **changes)
    return True


# ------------------------------------------------------------------------------ the figures
@dataclass(frozen=True)
class CurrencySum:
    currency: str
    minor: int  # the total in the currency's minor units
    deals: int


@dataclass(frozen=True)
class DealFigures:
    pipeline: list[CurrencySum]  # open deals now (of cards not archived)
    won: list[CurrencySum]  # deals won in the period
    new: int  # deals opened in the period
    cohort: int  # contacts created in the period
    with_deal: int  # ... with a deal by the period's end
    overdue: int = 0  # open deals whose expected close is before today

    @property
    def empty(self) -> bool:
        return not (self.pipeline or self.won or self.new)


async def _sums(session: AsyncSession, *conditions) -> list[CurrencySum]:  # noqa: ANN002
    rows = await session.execute(
        select(Deal.currency, func.sum(Deal.amount), func.count(Deal.id))
        .join(Contact, Contact.id == Deal.contact_id)
        .where(*conditions)
        .group_by(Deal.currency)
        .order_by(func.count(Deal.id).desc(), Deal.currency)
    )
    return [CurrencySum(cur, int(total or 0), int(n)) for cur, total, n in rows.all()]


async def figures(
    session: AsyncSession,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    *,
    today: date | None = None,
) -> DealFigures:
    """Pipeline (open deals), won in [start, end), deals opened in it, and conversion to a deal
    of the contacts created in it; ``today`` (the reader's day): the open deals past their
    expected close."""
    pipeline = await _sums(
        session,
        scope.contacts(),
        Contact.archived_at.is_(None),
        Deal.status == DealStatus.OPEN.value,
    )
    won = await _sums(
        session,
        scope.contacts(),
        Deal.status == DealStatus.WON.value,
        between(Deal.closed_at, start, end),
    )
    new = await session.scalar(
        select(func.count(Deal.id))
        .join(Contact, Contact.id == Deal.contact_id)
        .where(scope.contacts(), between(Deal.created_at, start, end))
    )
    has_deal = (
        exists().where(Deal.contact_id == Contact.id, Deal.created_at < end).correlate(Contact)
    )
    cohort, with_deal = (
        await session.execute(
            select(
                func.count(Contact.id),
                func.count(distinct(Contact.id)).filter(has_deal),
            ).where(scope.contacts(), between(Contact.created_at, start, end))
        )
    ).one()
    overdue = 0
    if today is not None:
        overdue = await session.scalar(
            select(func.count(Deal.id))
            .join(Contact, Contact.id == Deal.contact_id)
            .where(
                scope.contacts(),
                Contact.archived_at.is_(None),
                Deal.status == DealStatus.OPEN.value,
                Deal.close_on < today,
            )
        )
    return DealFigures(
        pipeline, won, int(new or 0), int(cohort or 0), int(with_deal or 0), int(overdue or 0)
    )


def money_of(amount: str, currency: str) -> Money:
    """The money a dialogue kept as text between two messages."""
    return Money(Decimal(amount), currency)
