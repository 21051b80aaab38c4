"""/settings: language and time zone, for everyone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import LangCb, SettingsCb, TzCb
from bot.commands import set_user_commands
from bot.config import Settings
from bot.i18n import LANGUAGES, _
from bot.rendering import h
from core.clock import Clock
from core.roles import Role
from core.timezones import COMMON_ZONES, resolve_timezone
from handlers.common import edit_text
from storage.models import User

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


class SettingsForm(StatesGroup):
    timezone = State()


def _summary(user: User, settings: Settings, clock: Clock, lang: str) -> str:
    tz = user.timezone or settings.default_timezone
    local = clock.now().astimezone(ZoneInfo(tz))
    return (
        _("<b>Settings</b>")
        + "\n"
        + _("Language: {language}").format(language=LANGUAGE_NAMES.get(lang, lang))
        + "\n"
        + _("Time zone: {tz} (now {time})").format(tz=h(tz), time=local.strftime("%H:%M"))
    )


def _keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Language"), callback_data=SettingsCb(action="lang"))
    kb.button(text=_("Time zone"), callback_data=SettingsCb(action="tz"))
    kb.adjust(2)
    return kb.as_markup()


def create_router() -> Router:
    router = Router(name="settings")

    @router.message(Command("settings"))
    async def show(
        message: Message,
        user: User,
        settings: Settings,
        clock: Clock,
        i18n: I18n,
        state: FSMContext,
    ) -> None:
        await state.clear()
        await message.answer(
            _summary(user, settings, clock, i18n.current_locale), reply_markup=_keyboard()
        )

    @router.callback_query(SettingsCb.filter(F.action == "lang"))
    async def pick_language(query: CallbackQuery) -> None:
        await query.answer()
        kb = InlineKeyboardBuilder()
        for code in LANGUAGES:
            kb.button(text=LANGUAGE_NAMES[code], callback_data=LangCb(code=code))
        if isinstance(query.message, Message):
            await edit_text(query.message, _("Choose a language:"), reply_markup=kb.as_markup())

    @router.callback_query(LangCb.filter())
    async def set_language(
        query: CallbackQuery,
        callback_data: LangCb,
        user: User,
        role: Role | None,
        settings: Settings,
        clock: Clock,
        i18n: I18n,
        bot: Bot,
    ) -> None:
        if callback_data.code not in LANGUAGES:
            await query.answer(_("Unknown language."), show_alert=True)
            return
        user.language = callback_data.code
        with i18n.use_locale(callback_data.code):
            await query.answer(_("Language saved."))
            if isinstance(query.message, Message):
                await edit_text(
                    query.message,
                    _summary(user, settings, clock, callback_data.code),
                    reply_markup=_keyboard(),
                )
        await set_user_commands(bot, i18n, user.tg_id, role, callback_data.code)

    @router.callback_query(SettingsCb.filter(F.action == "tz"))
    async def pick_timezone(query: CallbackQuery, state: FSMContext) -> None:
        await query.answer()
        kb = InlineKeyboardBuilder()
        for name in COMMON_ZONES:
            kb.button(text=name, callback_data=TzCb(name=name))
        kb.adjust(2)
        await state.set_state(SettingsForm.timezone)
        if isinstance(query.message, Message):
            await edit_text(
                query.message,
                _(
                    "Choose your time zone, or type a city or a zone name "
                    "(e.g. Novosibirsk, Europe/Paris, UTC+3). /cancel to leave."
                ),
                reply_markup=kb.as_markup(),
            )

    async def save_timezone(
        name: str, user: User, settings: Settings, clock: Clock, i18n: I18n, state: FSMContext
    ) -> str:
        user.timezone = name
        await state.clear()
        return _("Time zone saved.") + "\n\n" + _summary(user, settings, clock, i18n.current_locale)

    @router.callback_query(TzCb.filter())
    async def set_timezone_button(
        query: CallbackQuery,
        callback_data: TzCb,
        user: User,
        settings: Settings,
        clock: Clock,
        i18n: I18n,
        state: FSMContext,
    ) -> None:
        name = resolve_timezone(callback_data.name)
        if name is None:
            await query.answer(_("Unknown time zone."), show_alert=True)
            return
        await query.answer()
        text = await save_timezone(name, user, settings, clock, i18n, state)
        if isinstance(query.message, Message):
            await edit_text(query.message, text, reply_markup=_keyboard())

    @router.message(StateFilter(SettingsForm.timezone), F.text)
    async def set_timezone_text(
        message: Message,
        user: User,
        settings: Settings,
        clock: Clock,
        i18n: I18n,
        state: FSMContext,
    ) -> None:
        assert message.text is not None
        name = resolve_timezone(message.text)
        if name is None:
            await message.answer(
                _(
                    "I don't know the time zone “{text}”. Try a city (Moscow), a zone "
                    "(Europe/Moscow) or an offset (UTC+3)."
                ).format(text=h(message.text[:64]))
            )
            return
        await message.answer(
            await save_timezone(name, user, settings, clock, i18n, state), reply_markup=_keyboard()
        )

    return router
