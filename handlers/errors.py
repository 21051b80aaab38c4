"""Last line of defence: log the error with the update id and apologise to the user."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n

from bot.i18n import _, normalize_language

log = logging.getLogger("bot.errors")


def create_router() -> Router:
    router = Router(name="errors")

    @router.errors()
    async def on_error(event: ErrorEvent, bot: Bot, i18n: I18n) -> bool:
        update = event.update
        log.error(
            "error in update %s: %r", update.update_id, event.exception, exc_info=event.exception
        )
        chat_id, lang = None, None
        if update.message is not None:
            chat_id = update.message.chat.id
            lang = update.message.from_user.language_code if update.message.from_user else None
        elif update.callback_query is not None:
            chat_id = update.callback_query.from_user.id
            lang = update.callback_query.from_user.language_code
        if chat_id is None:
            return True
        # Errors surface outside the locale middleware, so the locale is set here again.
        with i18n.context(), i18n.use_locale(normalize_language(lang, i18n.default_locale)):
            text = _("Sorry, something went wrong on my side. Please try again.")
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
            await bot.send_message(chat_id, text)
        except (TelegramAPIError, TelegramNetworkError) as exc:
            log.warning("could not apologise to %s: %s", chat_id, exc)
        return True

    return router
