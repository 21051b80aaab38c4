"""/settings: language and time zone, for everyone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import set_user_commands
from bot.config import Settings
from bot.i18n import LANGUAGES, N_, _
from bot.middlewares import Handler
from bot.routing import FeatureRouter
from core.cadence import effective_cadence, encode_cadence, parse_cadence
from core.clock import Clock
from core.roles import Role
from core.timezones import COMMON_ZONES, find_timezone, zone_name
from core.workhours import WorkHours, backwards_hours, no_such_hours, parse_work_hours
from services import followups, zone_change
from storage.models import Team, User
from storage.uow import writing
from views import settings as view
from views.callbacks import LangCb, SettingsCb, TzCb
from views.labels import label
from views.rendering import edit_text, h, is_not_modified
from views.settings import KeepClockCb

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


class SettingsForm(StatesGroup):
    timezone = State()
    work_hours = State()
    cadence = State()


DAY_LABELS = (
    N_("Mon"),
    N_("Tue"),
    N_("Wed"),
    N_("Thu"),
    N_("Fri"),
    N_("Sat"),
    N_("Sun"),
)


def _is_staff(user: User, settings: Settings) -> bool:
    return user.role in (Role.MANAGER, Role.REP) or user.tg_id in settings.admin_ids


def describe_hours(wh: WorkHours) -> str:
    days = sorted(wh.days)
    names = [_(DAY_LABELS[d - 1]) for d in days]
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        span = f"{names[0]}–{names[-1]}"
    else:
        span = ", ".join(names)
    return f"{span} {wh.start:%H:%M}–{wh.end:%H:%M}"


def describe_cadence(cadence: dict[str, int]) -> str:
    return ", ".join(
        _("{stage}: every {days} d").format(stage=label("stage", stage), days=days)
        for stage, days in cadence.items()
    )


async def _summary(
    user: User, settings: Settings, clock: Clock, lang: str, session: AsyncSession
) -> str:
    team = await session.get(Team, user.team_id) if user.team_id else None
    team_cadence = team.cadence if team else None
    tz = user.timezone or settings.default_timezone
    local = clock.now().astimezone(ZoneInfo(tz))
    text = (
        _("<b>Settings</b>")
        + "\n"
        + _("Language: {language}").format(language=LANGUAGE_NAMES.get(lang, lang))
        + "\n"
        + _("Time zone: {tz} (now {time})").format(
            tz=h(zone_name(tz, lang, clock.now())), time=local.strftime("%H:%M")
        )
    )
    if _is_staff(user, settings):
        text += "\n" + _("Working hours: {hours}").format(
            hours=describe_hours(WorkHours.decode(user.work_hours))
        )
    if user.role == Role.MANAGER:
        cadence = effective_cadence(settings.cadence_days, team_cadence)
        text += "\n" + _("Team's touch rhythm: {cadence}").format(cadence=describe_cadence(cadence))
    return text


def _keyboard(
    user: User, settings: Settings, keep: InlineKeyboardButton | None = None
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if keep is not None:  # a changed zone's "keep their clock times", on its own row first
        kb.row(keep)
    kb.button(text=_("Language"), callback_data=SettingsCb(action="lang"))
    kb.button(text=_("Time zone"), callback_data=SettingsCb(action="tz"))
    if _is_staff(user, settings):
        kb.button(text=_("Working hours"), callback_data=SettingsCb(action="hours"))
    if user.role == Role.MANAGER:
        kb.button(text=_("Team's touch rhythm"), callback_data=SettingsCb(action="cadence"))
    kb.adjust(*([1] if keep is not None else []), 2)
    return kb.as_markup()


@dataclass(frozen=True)
class _Me:
    """Whose settings these are, with what reads and changes them (built once per update by
    :func:`_with_me`, injected as ``me``)."""

    user: User
    settings: Settings
    clock: Clock
    session: AsyncSession
    lang: str  # the language this update is answered in

    async def replan(self) -> None:
        """Everything pending for this person moves into their (new) hours and zone."""
        await followups.replan_owner(
            self.session, self.user, now=self.clock.now(), rules=followups.Rules.of(self.settings)
        )

    async def summary(self, lang: str | None = None) -> str:
        return await _summary(self.user, self.settings, self.clock, lang or self.lang, self.session)

    def keyboard(self, keep: InlineKeyboardButton | None = None) -> InlineKeyboardMarkup:
        return _keyboard(self.user, self.settings, keep)


async def _with_me(handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
    user = data.get("user")
    if user is None:
        return None  # not a person (a bot, a channel): nobody's settings to show
    lang = data["i18n"].current_locale
    data["me"] = _Me(user, data["settings"], data["clock"], data["session"], lang)
    return await handler(event, data)


class _Refused(Exception):
    """A typed setting that was not saved: ``text`` says why; ``leave`` ends the step."""

    def __init__(
        self, text: str, *, leave: bool = False, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        super().__init__(text)
        self.text = text
        self.leave = leave
        self.markup = markup


@dataclass(frozen=True)
class _Saved:
    """A saved setting's answer, and the button it offers (a changed zone's planned steps)."""

    text: str
    keep: InlineKeyboardButton | None = None


async def _store_timezone(name: str, me: _Me) -> _Saved:
    """The zone changes; the planned steps keep their moments (never changed without a word):
    when that changes their clock times, it is said, with a button to keep the clock times."""
    old, now = me.user.timezone or me.settings.default_timezone, me.clock.now()
    async with writing(me.session):
        me.user.timezone = name
        await me.replan()
    saved = _("Time zone saved.")
    ahead = await zone_change.steps_ahead(me.session, me.user, old_tz=old, new_tz=name, now=now)
    if not ahead.count or ahead.first is None:
        return _Saved(saved)
    note = view.steps_ahead(ahead.count, ahead.first, old_tz=old, new_tz=name)
    keep = view.keep_button(ahead.count, ahead.first, old_tz=old, changed_at=now)
    return _Saved(saved + "\n" + note, keep)


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


async def _save_timezone(text: str, me: _Me) -> _Saved:
    # the city index (Babel's locale data) is built on first use, ~0.2 s: not in the loop
    found = await asyncio.to_thread(find_timezone, text)
    if found is None:
        raise _Refused(
            _(
                "I don't know the time zone “{text}”. Try a city (Moscow), a zone "
                "(Europe/Moscow) or an offset (UTC+3)."
            ).format(text=h(text[:64]))
        )
    name, exact = found
    if not exact:  # a close spelling only: asked, never saved on a guess
        kb = InlineKeyboardBuilder()
        zone = zone_name(name, me.lang, me.clock.now())
        kb.button(text="✅ " + zone, callback_data=TzCb(name=name))
        raise _Refused(
            _(
                "Did you mean {zone}? Tap it to save, or type the city again. /cancel to leave."
            ).format(zone=h(zone)),
            markup=kb.as_markup(),
        )
    return await _store_timezone(name, me)


async def _save_hours(text: str, me: _Me) -> str:
    wh = parse_work_hours(text)
    if wh is None and no_such_hours(text):
        raise _Refused(
            _(
                "No clock shows the hours in “{text}”: hours go from 0 to 23 (24 for the end of "
                "the day), minutes from 00 to 59. Try e.g. “Mon-Fri 09:00-19:00”."
            ).format(text=h(text[:64]))
        )
    backwards = backwards_hours(text) if wh is None else None
    if backwards is not None:
        refusal = (
            _("“{text}” starts and ends at the same time. Try e.g. “Mon-Fri 09:00-19:00”.")
            if backwards == "empty"
            else _(
                "“{text}” ends before it starts: working hours that go past midnight are not "
                "supported. Try e.g. “Mon-Fri 09:00-19:00”."
            )
        )
        raise _Refused(refusal.format(text=h(text[:64])))
    if wh is None:
        raise _Refused(
            _(
                "I can't read “{text}”. Try “Mon-Fri 09:00-19:00” or “weekdays 10 to 18”: one "
                "range of hours for all your working days."
            ).format(text=h(text[:64]))
        )
    async with writing(me.session):
        me.user.work_hours = wh.encode()
        await me.replan()
    return _("Working hours saved.")


async def _save_cadence(text: str, me: _Me) -> str:
    team = await me.session.get(Team, me.user.team_id) if me.user.team_id else None
    if me.user.role != Role.MANAGER or team is None:
        raise _Refused(_("Only a team's manager can change its rhythm."), leave=True)
    parsed = parse_cadence(text)
    if not parsed:
        raise _Refused(
            _("I can't read “{text}”. Use stage=days pairs, e.g. “commercial=3”.").format(
                text=h(text[:100])
            )
        )
    async with writing(me.session):
        current = parse_cadence(team.cadence) or {}
        current.update(parsed)
        team.cadence = encode_cadence(current)
    return _("Team's touch rhythm saved.")


# what a typed answer in each step saves
SAVERS = {
    SettingsForm.timezone.state: _save_timezone,
    SettingsForm.work_hours.state: _save_hours,
    SettingsForm.cadence.state: _save_cadence,
}
# the settings asked for as typed text: who may change it, its step, the prompt
ASKS = {
    "hours": (
        _is_staff,
        SettingsForm.work_hours,
        N_(
            "Send your working hours, e.g. “Mon-Fri 09:00-19:00” or “пн-сб 10-18”. "
            "Reminders arrive only within them. /cancel to leave."
        ),
    ),
    "cadence": (
        lambda user, _settings: user.role == Role.MANAGER,
        SettingsForm.cadence,
        N_(
            "Minimum touch frequency by stage, in days. Send the stages to change, e.g. "
            "“connection=7, development=14, commercial=3, retention=30”. /cancel to leave."
        ),
    ),
}


def create_router() -> Router:
    router = FeatureRouter(name="settings")
    router.message.middleware(_with_me)
    router.callback_query.middleware(_with_me)

    @router.message(Command("settings"))
    async def show(message: Message, me: _Me, state: FSMContext) -> None:
        await state.clear()
        await message.answer(await me.summary(), reply_markup=me.keyboard())

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
        me: _Me,
        role: Role | None,
        i18n: I18n,
        bot: Bot,
    ) -> None:
        if callback_data.code not in LANGUAGES:
            await query.answer(_("Unknown language."), show_alert=True)
            return
        async with writing(me.session):
            me.user.language = callback_data.code
        with i18n.use_locale(callback_data.code):
            await query.answer(_("Language saved."))
            if isinstance(query.message, Message):
                await edit_text(
                    query.message,
                    await me.summary(callback_data.code),
                    reply_markup=me.keyboard(),
                )
        await set_user_commands(bot, i18n, me.user.tg_id, role, callback_data.code)

    @router.callback_query(SettingsCb.filter(F.action == "tz"))
    async def pick_timezone(query: CallbackQuery, state: FSMContext, me: _Me) -> None:
        await query.answer()
        kb = InlineKeyboardBuilder()
        for name in COMMON_ZONES:
            kb.button(text=zone_name(name, me.lang, me.clock.now()), callback_data=TzCb(name=name))
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

    @router.callback_query(TzCb.filter())
    async def set_timezone_button(
        query: CallbackQuery, callback_data: TzCb, me: _Me, state: FSMContext
    ) -> None:
        found = await asyncio.to_thread(find_timezone, callback_data.name)
        if found is None or not found[1]:  # a button holds a zone's own name, never a guess
            await query.answer(_("Unknown time zone."), show_alert=True)
            return
        name = found[0]
        await query.answer()
        saved = await _store_timezone(name, me)
        await state.clear()
        if isinstance(query.message, Message):
            text = saved.text + "\n\n" + await me.summary()
            await edit_text(query.message, text, reply_markup=me.keyboard(saved.keep))

    @router.callback_query(KeepClockCb.filter())
    async def keep_clock_times(query: CallbackQuery, callback_data: KeepClockCb, me: _Me) -> None:
        """The steps ahead at the change go back to their clock times: the tapper's own cards,
        the steps not changed since (services.zone_change)."""
        now = me.clock.now()
        changed_at = datetime.fromtimestamp(callback_data.t, UTC)
        if not _known_zone(callback_data.z) or changed_at > now:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        moved = await zone_change.keep_clock_times(
            me.session,
            me.user,
            old_tz=callback_data.z,
            changed_at=changed_at,
            now=now,
            rules=followups.Rules.of(me.settings),
        )
        await query.answer()  # committed: now it may be said
        if isinstance(query.message, Message):
            try:
                await query.message.edit_reply_markup(reply_markup=me.keyboard())
            except TelegramBadRequest as exc:
                if not is_not_modified(exc):
                    raise
            await query.message.answer(view.kept(moved))

    @router.callback_query(SettingsCb.filter(F.action.in_(tuple(ASKS))))
    async def ask(
        query: CallbackQuery, callback_data: SettingsCb, state: FSMContext, me: _Me
    ) -> None:
        await query.answer()
        allowed, step, prompt = ASKS[callback_data.action]
        if not allowed(me.user, me.settings) or not isinstance(query.message, Message):
            return
        await state.set_state(step)
        await query.message.answer(_(prompt))

    @router.message(StateFilter(*SettingsForm.__states__), F.text)
    async def set_typed(message: Message, state: FSMContext, me: _Me) -> None:
        save = SAVERS[str(await state.get_state())]
        try:
            answer = await save(message.text or "", me)
        except _Refused as refused:
            if refused.leave:
                await state.clear()
            await message.answer(refused.text, reply_markup=refused.markup)
            return
        await state.clear()
        saved = answer if isinstance(answer, _Saved) else _Saved(answer)
        await message.answer(
            saved.text + "\n\n" + await me.summary(), reply_markup=me.keyboard(saved.keep)
        )

    return router
