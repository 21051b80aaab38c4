"""/cancel from any step, chat-member updates, and the fallback that answers everything else."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter, Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import _
from bot.routing import FeatureRouter
from core.roles import ALL_COMMANDS, Role, allowed_commands
from storage.models import User
from storage.uow import writing
from views import relay as relay_views
from views.team import left_access


def create_cancel_router() -> Router:
    """Registered first, so /cancel wins over any dialogue step."""
    router = FeatureRouter(name="cancel")

    @router.message(Command("cancel"))
    async def cancel(message: Message, state: FSMContext) -> None:
        current = await state.get_state()
        if current is None:
            await message.answer(_("Nothing to cancel."))
            return
        await state.clear()
        if current == relay_views.RelayForm.text.state:  # ↩️ Reply: nothing went to the client
            await message.answer(relay_views.cancelled())
            return
        await message.answer(_("Cancelled. Nothing was changed by the unfinished step."))

    @router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=KICKED))
    async def blocked(event: ChatMemberUpdated, user: User | None, session: AsyncSession) -> None:
        if user is not None:
            async with writing(session):
                user.reachable = False

    @router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=MEMBER))
    async def unblocked(event: ChatMemberUpdated, user: User | None, session: AsyncSession) -> None:
        if user is not None and not user.reachable:
            async with writing(session):
                user.reachable = True

    return router


def create_fallback_router() -> Router:
    """Registered last: whatever no feature handled gets a short, clear answer."""
    router = FeatureRouter(name="fallback")

    @router.message(F.text.startswith("/"))
    async def unknown_command(
        message: Message, role: Role | None, user: User | None, settings: Settings
    ) -> None:
        assert message.text is not None
        name = (
            message.text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
            if message.text[1:]
            else ""
        )
        if name in ALL_COMMANDS and name not in allowed_commands(role):
            if left := left_access(user, default_tz=settings.default_timezone):
                await message.answer(left)
                return
            await message.answer(
                _("This command is not available to you. /help shows what you can do.")
            )
            return
        await message.answer(_("I don't know this command. /help shows what I can do."))

    @router.message(F.text)
    async def free_text(
        message: Message,
        state: FSMContext,
        role: Role | None,
        user: User | None,
        settings: Settings,
    ) -> None:
        if left := left_access(user, default_tz=settings.default_timezone):
            await state.clear()  # deactivated mid-dialogue: not "use the buttons above"
            await message.answer(left)
            return
        if await state.get_state() is not None:
            await message.answer(_("Please use the buttons above, or /cancel to leave."))
            return
        if role is None:
            await message.answer(
                _("Access is by invitation. Open the invite link you received, or see /help.")
            )
            return
        await message.answer(_("I didn't understand that. /help shows what I can do."))

    @router.message()
    async def other_content(message: Message, state: FSMContext) -> None:
        if await state.get_state() is not None:
            await message.answer(
                _("I expected a text answer here. Send text, or /cancel to leave.")
            )
            return
        await message.answer(_("I can't use this here. /help shows what I can do."))

    @router.edited_message(F.text | F.caption)
    async def edited(message: Message, role: Role | None) -> None:
        """Telegram lets a message be edited after it was sent; what the bot saved from it does
        not change. A rep who fixed a typo that way is told, not left believing it was fixed."""
        if role is None:
            return
        await message.reply(
            _(
                "✏️ An edited message doesn't change what was saved. To correct a card, open it "
                "(/find name) and tap ✏️ Edit."
            )
        )

    @router.callback_query()
    async def stale_button(query: CallbackQuery) -> None:
        await query.answer(_("This button is no longer valid."), show_alert=True)

    return router
