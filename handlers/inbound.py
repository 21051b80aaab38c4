"""People who are on someone's contact list and write to the bot: an inbound touch, not a chat."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Filter, StateFilter
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import _
from core.clock import Clock
from core.roles import STAFF, Role
from handlers.nps import client_text
from services import followups


class NotStaff(Filter):
    async def __call__(self, message: Message, role: Role | None = None) -> bool:
        return role not in STAFF


def create_router() -> Router:
    router = Router(name="inbound")

    @router.message(NotStaff(), StateFilter(None), F.text & ~F.text.startswith("/"))
    async def contact_writes(
        message: Message, session: AsyncSession, clock: Clock, settings: Settings
    ) -> None:
        assert message.from_user is not None and message.text is not None
        if await client_text(message, session, clock, settings):
            return
        count = await followups.contact_wrote(
            session,
            tg_id=message.from_user.id,
            text=message.text,
            now=clock.now(),
            default_tz=settings.default_timezone,
            inbound_reply_hours=settings.inbound_reply_hours,
        )
        if count:
            await message.answer(_("Thank you! Your message has been passed on."))
            return
        await message.answer(
            _("Access is by invitation. Open the invite link you received, or see /help.")
        )

    return router
