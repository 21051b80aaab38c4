"""A rep's reply to a client who wrote to the bot: logged as an outbound message touch (it
answers the inbound request) and committed before the bot relays it to the client. A reply is
one Telegram message (text, or a photo, voice note or document with its caption), kept whole
on the touch. And who a client's messages reach."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.enums import Direction, TouchType
from services import followups
from services import media as media_svc
from services.followups.use_cases import MESSAGE_MAX, cards_written_to
from storage.models import Contact, Touch, User
from storage.uow import writing

NOT_DELIVERED = "⚠️ "
REPLY_MAX = MESSAGE_MAX  # what one Telegram message carries to the client


def reply_length(text: str) -> int:
    """The reply's length as it is kept and sent (control characters dropped)."""
    return len(limits.clean("summary", text))


def reply_too_long(text: str) -> bool:
    return reply_length(text) > REPLY_MAX


async def log_reply(
    session: AsyncSession,
    contact: Contact,
    *,
    author: User,
    text: str,
    now: datetime,
    rules: followups.Rules,
    media: Iterable[media_svc.NewMedia] = (),
) -> Touch:
    """The reply as a touch (its words whole, its file kept on it), committed."""
    async with writing(session):
        return await followups.log_relayed(
            session,
            contact,
            author=author,
            direction=Direction.OUT.value,
            text=text,
            media=media,
            now=now,
            rules=rules,
        )


async def reply_after(
    session: AsyncSession, contact: Contact, *, inbound_id: int, alert_at: datetime
) -> Touch | None:
    """The reply on the card to a person's message (``inbound_id``, the touch an alert's
    📝 Log reply names; 0 on alerts sent before the button named it: the card's last inbound
    touch by ``alert_at``, the alert's time): an outbound touch logged after it (↩️ Reply logs
    one), a delivered service aside; None while the message waits for its reply."""
    inbound = await session.get(Touch, inbound_id) if inbound_id else None
    if inbound is None or inbound.contact_id != contact.id:
        inbound = await session.scalar(
            select(Touch)
            .where(
                Touch.contact_id == contact.id,
                Touch.direction == Direction.IN.value,
                Touch.occurred_at <= alert_at,
            )
            .order_by(Touch.occurred_at.desc(), Touch.id.desc())
            .limit(1)
        )
    if inbound is None or inbound.direction != Direction.IN.value:
        return None
    return await session.scalar(
        select(Touch)
        .where(
            Touch.contact_id == contact.id,
            Touch.direction == Direction.OUT.value,
            Touch.type != TouchType.SERVICE.value,
            and_(Touch.id > inbound.id, Touch.occurred_at >= inbound.occurred_at),
        )
        .order_by(Touch.occurred_at, Touch.id)
        .limit(1)
    )


async def not_delivered(session: AsyncSession, touch: Touch) -> None:
    """Telegram refused the relay (the client blocked the bot): the touch says so."""
    async with writing(session):
        touch.summary = NOT_DELIVERED + touch.summary


async def rep_of(session: AsyncSession, tg_id: int) -> User | None:
    """Whom a person's messages to the bot reach: the owner of their card (a live one first,
    the latest changed), if they are on one."""
    for card in await cards_written_to(session, tg_id):
        if (owner := await session.get(User, card.owner_id)) is not None:
            return owner
    return None
