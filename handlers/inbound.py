"""People who are on someone's contact list and write to the bot: an inbound touch, not a chat.
(A client's text while their survey waits is its answer: handlers.nps takes it first.)"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.filters import NotStaff
from bot.i18n import _
from bot.routing import FeatureRouter
from core.clock import Clock
from services import followups
from storage.models import User
from views.team import left_access


def create_router() -> Router:
    router = FeatureRouter(name="inbound")

    @router.message(NotStaff(), StateFilter(None), F.text & ~F.text.startswith("/"))
    async def contact_writes(
        message: Message,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        user: User | None,
    ) -> None:
        assert message.from_user is not None and message.text is not None
        count = await followups.contact_wrote(
            session,
            tg_id=message.from_user.id,
            text=message.text,
            now=clock.now(),
            default_tz=settings.default_timezone,
            inbound_reply_hours=settings.inbound_reply_hours,
            rules=followups.Rules.of(settings),
            admin_ids=settings.admin_ids,
        )
        if count:
            await message.answer(_("Thank you! Your message has been passed on."))
            return
        if left := left_access(user, default_tz=settings.default_timezone):
            await message.answer(left)
            return
        await message.answer(
            _("Access is by invitation. Open the invite link you received, or see /help.")
        )

    return router
