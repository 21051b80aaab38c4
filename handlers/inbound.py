"""People who are on someone's contact list and write to the bot: an inbound touch, not a chat.
Their words, photos, voice notes and documents are passed on to the card's owner: a notice with
the buttons (due work), and a file itself too, sent once the touch is committed. A card that was
archived still hears its person. (A client's text while their survey waits is its answer:
handlers.nps takes it first.)"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.filters import NotStaff
from bot.i18n import _
from bot.routing import FeatureRouter
from bot.sender import Sender
from core.clock import Clock
from services import followups, relay
from services.media import NewMedia
from storage.models import User
from views import media as media_views
from views import relay as relay_views
from views.team import left_access


def create_router() -> Router:
    router = FeatureRouter(name="inbound")

    async def passed_on(
        message: Message,
        text: str,
        media: list[NewMedia],
        *,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        user: User | None,
        sender: Sender,
    ) -> None:
        assert message.from_user is not None
        wrote = await followups.contact_wrote(
            session,
            tg_id=message.from_user.id,
            text=text,
            now=clock.now(),
            default_tz=settings.default_timezone,
            inbound_reply_hours=settings.inbound_reply_hours,
            rules=followups.Rules.of(settings),
            admin_ids=settings.admin_ids,
            media=media,
        )
        if wrote.cards:
            await message.answer(_("Thank you! Your message has been passed on."))
            for chat_id, name in wrote.told:  # committed: the file itself (its notice is due work)
                for m in media:
                    method = relay_views.send_file(
                        chat_id, m.kind, m.file_id, relay_views.from_client(name)
                    )
                    await sender.call(chat_id, method)
            return
        if left := left_access(user, default_tz=settings.default_timezone):
            await message.answer(left)
            return
        if media:
            await message.answer(_("I can't use this here. /help shows what I can do."))
            return
        await message.answer(
            _("Access is by invitation. Open the invite link you received, or see /help.")
        )

    @router.message(
        NotStaff(),
        StateFilter(None),
        (F.text & ~F.text.startswith("/")) | F.voice | F.photo | F.document,
    )
    async def contact_writes(
        message: Message,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        user: User | None,
        sender: Sender,
    ) -> None:
        """Text, or a photo, voice note or document (kept on the touch, its caption the
        touch's words): passed on to who is told."""
        found = None if message.text is not None else media_views.incoming(message)
        await passed_on(
            message,
            message.text if message.text is not None else message.caption or "",
            [found] if found is not None else [],
            session=session,
            clock=clock,
            settings=settings,
            user=user,
            sender=sender,
        )

    @router.message(NotStaff(), StateFilter(None), ~F.text)
    async def contact_sends_something_else(message: Message, session: AsyncSession) -> None:
        """A sticker, a video…: a person on a card is told what does reach their rep."""
        assert message.from_user is not None
        if await relay.rep_of(session, message.from_user.id) is None:
            await message.answer(_("I can't use this here. /help shows what I can do."))
            return
        await message.answer(
            _(
                "This kind of message cannot be passed on. Send text, a photo, a voice note or a "
                "document."
            )
        )

    return router
