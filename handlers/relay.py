"""Replying to a client's message from the bot: ↩️ Reply under "X wrote to me" opens a reply
window; the rep's next message — text, or a photo, voice note or document with its caption — is
logged as an outbound touch, committed, then relayed to the client, and the window closes. A
reply delivered is a touch like any other: the next step is asked for at once (the very
question /log asks, its answers handled by handlers.touches). Anything else is refused with the
window left open; /cancel (handlers.common) says the reply was not sent."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.context import Ctx
from bot.filters import staff
from bot.i18n import _
from bot.middlewares import CardInScope
from bot.routing import FeatureRouter
from bot.sender import Sender, SendStatus
from services import contacts as svc
from services import relay
from services.media import NewMedia
from storage.models import Contact
from views import relay as views
from views.media import incoming
from views.touches import planned_step, start_next_step


def create_router() -> Router:
    router = FeatureRouter(name="relay")
    router.message.filter(staff())
    router.callback_query.filter(staff())
    router.callback_query.middleware(CardInScope())

    @router.callback_query(views.RelayCb.filter())
    async def open_window(query: CallbackQuery, contact: Contact, state: FSMContext) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        if not contact.tg_user_id:
            await query.message.answer(views.no_telegram(contact.name))
            return
        await state.clear()
        await state.set_state(views.RelayForm.text)
        await state.update_data(cid=contact.id)
        await query.message.answer(views.window(contact.name))

    async def relay_out(
        message: Message,
        state: FSMContext,
        ctx: Ctx,
        sender: Sender,
        text: str,
        file: NewMedia | None = None,
    ) -> None:
        """Log the reply (its file kept on the touch), commit, then send it to the client."""
        if relay.reply_too_long(text):
            await message.answer(views.too_long(relay.reply_length(text), relay.REPLY_MAX))
            return  # the window stays open
        cid = (await state.get_data()).get("cid")
        contact = await svc.get(ctx.session, ctx.viewer.scope, int(cid or 0))
        await state.clear()  # the window closes whatever happens next
        if contact is None:
            await message.answer(_("Contact not found."))
            return
        if not contact.tg_user_id:
            await message.answer(views.no_telegram(contact.name))
            return
        touch = await relay.log_reply(
            ctx.session,
            contact,
            author=ctx.user,
            text=text,
            now=ctx.now(),
            rules=ctx.rules,
            media=[file] if file else (),
        )
        rep, chat_id = ctx.user.display_name, contact.tg_user_id
        if file is None:
            result = await sender.send(chat_id, views.to_client(rep, text))
        else:
            caption, rest = views.file_captions(rep, text)
            result = await sender.call(
                chat_id, views.send_file(chat_id, file.kind, file.file_id, caption)
            )
            if result.ok and rest:
                result = await sender.send(chat_id, rest)
        sent = result.status is SendStatus.SENT
        if not sent:
            await relay.not_delivered(ctx.session, touch)
        unreachable = result.status is SendStatus.UNREACHABLE
        told = views.outcome(contact.name, sent=sent, unreachable=unreachable)
        if not sent:  # nothing reached the client: no step to plan on it
            await message.answer(told)
            return
        # as after /log: a step still ahead is shown, with 📌 Keep it (an overdue one is to move)
        now, viewer = ctx.now(), ctx.viewer
        ahead = contact.next_step_due is not None and contact.next_step_due > now
        planned = planned_step(contact, viewer.tz, viewer.lang) if ahead else None
        await start_next_step(message, state, contact, prefix=told + "\n\n", planned=planned)

    @router.message(StateFilter(views.RelayForm.text), F.text & ~F.text.startswith("/"))
    async def reply(message: Message, state: FSMContext, ctx: Ctx, sender: Sender) -> None:
        await relay_out(message, state, ctx, sender, message.text or "")

    @router.message(StateFilter(views.RelayForm.text), F.voice | F.photo | F.document)
    async def reply_with_a_file(
        message: Message, state: FSMContext, ctx: Ctx, sender: Sender
    ) -> None:
        """A photo, voice note or document is the reply: sent with its caption, kept on the
        touch."""
        await relay_out(message, state, ctx, sender, message.caption or "", incoming(message))

    @router.message(StateFilter(views.RelayForm.text), ~F.text)
    async def not_a_reply(message: Message) -> None:
        """A sticker, a video…: nothing is sent, the window stays open."""
        await message.answer(views.not_sendable())

    return router
