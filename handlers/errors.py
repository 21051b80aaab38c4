"""Last line of defence: log the error with the update id and apologise to the user."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramNetworkError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import _, user_language
from bot.reliability import CallbackAnswers
from bot.routing import FeatureRouter
from storage.repo import users as users_repo
from views.rendering import is_not_modified

log = logging.getLogger("bot.errors")


async def _saved_language(
    session_factory: async_sessionmaker[AsyncSession] | None, tg_id: int
) -> str | None:
    """The language chosen in /settings; the failed update's session is gone, so a fresh one."""
    if session_factory is None:
        return None
    try:
        async with session_factory() as session:
            user = await users_repo.get_by_tg_id(session, tg_id)
            return user.language if user is not None else None
    except (SQLAlchemyError, OSError) as exc:  # the database may be what failed
        log.warning("could not read the language of %s: %s", tg_id, exc)
        return None


def create_router() -> Router:
    router = FeatureRouter(name="errors")

    @router.errors()
    async def on_error(
        event: ErrorEvent,
        bot: Bot,
        i18n: I18n,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
        callback_answers: CallbackAnswers | None = None,
    ) -> bool:
        update = event.update
        exc = event.exception
        if isinstance(exc, TelegramBadRequest) and is_not_modified(exc):
            # an edit that changed nothing (a button tapped twice): not worth an apology
            log.debug("update %s: edit changed nothing", update.update_id)
            return True
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
        saved = await _saved_language(session_factory, chat_id)
        locale = user_language(saved, lang, i18n.default_locale)
        # Errors surface outside the locale middleware, so the locale is set here again.
        with i18n.context(), i18n.use_locale(locale):
            text = _("Sorry, something went wrong on my side. Please try again.")
        query = update.callback_query
        if query is not None and (
            callback_answers is None or query.id not in callback_answers.answered
        ):
            try:  # stop the button's spinner
                await query.answer()
            except (TelegramAPIError, TelegramNetworkError) as exc:
                log.debug("callback %s not answered: %s", query.id, exc)
        try:
            await bot.send_message(chat_id, text)
        except (TelegramAPIError, TelegramNetworkError) as exc:
            log.warning("could not apologise to %s: %s", chat_id, exc)
        return True

    return router
