"""A rep's reply to a client who wrote to the bot: logged as an outbound message touch (it
answers the inbound request) and committed before the bot relays it to the client."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import Direction, TouchType
from services import followups
from storage.models import Contact, Touch, User
from storage.uow import writing

NOT_DELIVERED = "⚠️ "


async def log_reply(
    session: AsyncSession,
    contact: Contact,
    *,
    author: User,
    text: str,
    now: datetime,
    rules: followups.Rules,
) -> Touch:
    async with writing(session):
        return await followups.log_touch(
            session,
            contact,
            author=author,
            type_=TouchType.MESSAGE.value,
            direction=Direction.OUT.value,
            summary=text[:4000],
            now=now,
            rules=rules,
        )


async def not_delivered(session: AsyncSession, touch: Touch) -> None:
    """Telegram refused the relay (the client blocked the bot): the touch says so."""
    async with writing(session):
        touch.summary = (NOT_DELIVERED + touch.summary)[:4000]
