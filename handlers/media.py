"""Voice notes, photos and documents sent on a card's dialogue: kept on the touch (while it is
logged, or right after, while the next step is asked), a business card's photo while adding;
a voice note or document out of any dialogue offered to the rep's latest cards; and the
timeline's buttons that send a kept file again."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.context import Ctx
from bot.filters import staff
from bot.routing import FeatureRouter
from core.exchange import for_import
from services import contacts as svc
from services import media as media_svc
from views import adding as adding_views
from views import media as views
from views.callbacks import CardAction, CardCb
from views.rendering import edit_text
from views.states import AddForm, LogForm, NextForm

MEDIA = F.voice | F.photo | F.document


def loose(message: Message) -> bool:
    """A voice note, or a document that is not for /import (a CSV, a vCard, a spreadsheet)."""
    document = message.document
    return message.voice is not None or (
        document is not None and not for_import(document.file_name, document.mime_type)
    )


def create_router() -> Router:
    """Registered before /import's document handler: a file inside these dialogues is theirs."""
    router = FeatureRouter(name="media")
    router.message.filter(staff())
    router.callback_query.filter(staff())

    @router.message(StateFilter(LogForm.type, LogForm.direction), MEDIA)
    async def before_the_touch(message: Message, state: FSMContext) -> None:
        found = views.incoming(message)
        assert found is not None
        media = [*(await state.get_data()).get("media", []), found.as_dict()]
        await state.update_data(media=media)
        await message.answer(views.kept_for_touch())

    @router.message(StateFilter(*NextForm.__all_states__), MEDIA)
    async def after_the_touch(message: Message, state: FSMContext, ctx: Ctx) -> None:
        """Right after a touch is saved (the next step is being asked): the file goes on it;
        a next step asked from the card without a touch keeps it on the card."""
        found = views.incoming(message)
        data = await state.get_data()
        contact = await svc.get(ctx.session, ctx.viewer.scope, int(data.get("cid") or 0))
        if found is None or contact is None:
            return
        cid, touch_id = data.get("touch_for") or (None, None)  # the touch just saved, if any
        await media_svc.attach(
            ctx.session,
            contact_id=contact.id,
            touch_id=touch_id if cid == contact.id else None,
            author_id=ctx.user.id,
            media=[found],
            now=ctx.now(),
        )
        await message.answer(views.kept_on_touch(contact.name))

    @router.message(StateFilter(*AddForm.__all_states__), F.photo)
    async def business_card(message: Message, state: FSMContext) -> None:
        found = views.incoming(message)
        assert found is not None
        await state.update_data(card_photo=found.as_dict())
        await message.answer(views.kept_for_card())

    @router.message(StateFilter(None), F.photo, ~F.caption.startswith("/"))
    async def loose_photo(message: Message, state: FSMContext) -> None:
        """A photo out of any dialogue: a business card, most likely — start the add with it."""
        found = views.incoming(message)
        assert found is not None
        await state.set_state(AddForm.name)
        await state.update_data(form={}, card_photo=found.as_dict())
        text, keyboard = adding_views.add_prompt()
        await message.answer(views.kept_for_card() + "\n\n" + text, reply_markup=keyboard)

    @router.message(StateFilter(None), loose)
    async def loose_file(message: Message, state: FSMContext, ctx: Ctx) -> None:
        """A voice note or a document out of any dialogue: kept waiting, with the latest cards
        offered to put it on."""
        found = views.incoming(message)
        assert found is not None
        waiting = (await state.get_data()).get("loose_files")
        await state.update_data(loose_files=media_svc.loose(waiting, found))
        cards = await media_svc.recent_cards(ctx.session, ctx.viewer.scope, ctx.user.id)
        text, markup = views.attach_offer(found, cards)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(views.AttachCb.filter())
    async def attach_loose(
        query: CallbackQuery, callback_data: views.AttachCb, state: FSMContext, ctx: Ctx
    ) -> None:
        contact = await svc.get(ctx.session, ctx.viewer.scope, callback_data.id)
        files = media_svc.from_state((await state.get_data()).get("loose_files"))
        if contact is None or not files:
            await query.answer(views.nothing_to_attach(), show_alert=True)
            return
        await media_svc.keep_on_card(
            ctx.session, contact, author_id=ctx.user.id, media=files, now=ctx.now()
        )
        await state.update_data(loose_files=[])
        await query.answer()
        text, markup = views.attached(
            contact.name, len(files), CardCb(action=CardAction.OPEN, id=contact.id)
        )
        assert isinstance(query.message, Message)
        await edit_text(query.message, text, reply_markup=markup)

    @router.callback_query(views.MediaCb.filter())
    async def send_again(
        query: CallbackQuery, callback_data: views.MediaCb, ctx: Ctx, bot: Bot
    ) -> None:
        kept = await media_svc.get(ctx.session, ctx.viewer.scope, callback_data.id)
        if kept is None:
            await query.answer(views.gone(), show_alert=True)
            return
        await query.answer()
        chat_id = query.from_user.id
        send = {"voice": bot.send_voice, "photo": bot.send_photo}.get(kept.kind, bot.send_document)
        try:
            await send(chat_id, kept.file_id)
        except TelegramBadRequest:  # Telegram no longer has it
            await bot.send_message(chat_id, views.gone())

    return router
