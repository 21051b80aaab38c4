"""Touches and next steps: /log, the card's buttons, and the mandatory "what next, and when?"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import CardCb, PickCb
from bot.config import Settings
from bot.filters import staff
from bot.i18n import _
from bot.labels import label, label_text
from bot.rendering import drop_keyboard, edit_text, h, tap_of
from core import limits
from core.clock import Clock
from core.enums import Direction, Status, TouchType
from core.nextstep import Reading, format_day, format_local, is_past, read_when
from core.roles import Role
from core.workhours import shift_into
from handlers.contacts import scope_of, show_card, user_tz
from services import contacts as svc
from services import followups, taps
from storage.models import Contact, User
from storage.uow import writing

NO_STEP_REASONS = ("lost", "not_fit", "done", "other")


class LogForm(StatesGroup):
    contact = State()
    type = State()
    direction = State()
    summary = State()


class NextForm(StatesGroup):
    what = State()
    when = State()
    confirm = State()
    reason = State()


def _reason_label(code: str) -> str:
    return {
        "lost": _("lost"),
        "not_fit": _("not a fit"),
        "done": _("deal closed, nothing planned"),
        "other": _("other (type it)"),
    }[code]


def _type_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for t in TouchType:
        kb.button(text=label_text("touch", t.value), callback_data=PickCb(f="tt", v=t.value))
    kb.adjust(3)
    return kb.as_markup()


async def start_touch_log(
    target: Message, state: FSMContext, contact: Contact, summary: str = ""
) -> None:
    await state.clear()
    await state.set_state(LogForm.type)
    await state.update_data(cid=contact.id, summary=summary)
    await target.answer(
        _("Touch with <b>{name}</b>. What kind?").format(name=h(contact.name)),
        reply_markup=_type_keyboard(),
    )


def _what_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("No next step"), callback_data=PickCb(f="nx", v="none"))
    return kb.as_markup()


async def start_next_step(
    target: Message, state: FSMContext, contact: Contact, prefix: str = ""
) -> None:
    await state.set_state(NextForm.what)
    await state.update_data(cid=contact.id)
    await target.answer(
        prefix
        + _("What is the next step with <b>{name}</b>? (e.g. “send the proposal”)").format(
            name=h(contact.name)
        ),
        reply_markup=_what_keyboard(),
    )


QUICK_WHEN = {"t10": "tomorrow 10:00", "d3": "in 3 days", "w1": "in 1 week"}


def _when_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code, text in (
        ("t10", _("Tomorrow 10:00")),
        ("d3", _("In 3 days")),
        ("w1", _("In a week")),
    ):
        kb.button(text=text, callback_data=PickCb(f="wh", v=code))
    kb.adjust(3)
    return kb.as_markup()


def summary_too_long(text: str) -> str:
    return _(
        "This summary has {count} characters; a touch summary holds up to {limit}. Shorten it "
        "and send it again (or put the details in the card's notes), or /cancel."
    ).format(count=len(limits.clean("summary", text)), limit=limits.limit_of("summary"))


def create_router() -> Router:
    router = Router(name="touches")
    router.message.filter(staff())
    router.callback_query.filter(staff())

    async def load(
        state: FSMContext, session: AsyncSession, user: User, role: Role
    ) -> Contact | None:
        data = await state.get_data()
        cid = data.get("cid")
        if not cid:
            return None
        return await svc.get(session, scope_of(user, role), int(cid))

    @router.message(Command("log"))
    async def log_cmd(
        message: Message,
        command: CommandObject,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        role: Role,
    ) -> None:
        await state.clear()
        if command.args:
            await pick_contact(message, command.args, state, session, user, role)
            return
        await state.set_state(LogForm.contact)
        await message.answer(_("Touch with whom? Send a name, phone or company."))

    async def pick_contact(
        message: Message,
        query: str,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        role: Role,
    ) -> None:
        found = await svc.search(session, scope_of(user, role), query[:200], limit=6)
        if not found:
            await state.set_state(LogForm.contact)
            await message.answer(
                _(
                    "Nothing found for “{query}”. Try another name, or /add the contact first."
                ).format(query=h(query[:100]))
            )
            return
        if len(found) == 1:
            await start_touch_log(message, state, found[0])
            return
        kb = InlineKeyboardBuilder()
        for c in found:
            kb.button(
                text=(c.name + (f" · {c.company}" if c.company else ""))[:60],
                callback_data=CardCb(a="log", id=c.id),
            )
        kb.adjust(1)
        await state.clear()
        await message.answer(_("Which one?"), reply_markup=kb.as_markup())

    @router.message(StateFilter(LogForm.contact), F.text & ~F.text.startswith("/"))
    async def log_contact_text(
        message: Message, state: FSMContext, session: AsyncSession, user: User, role: Role
    ) -> None:
        await pick_contact(message, message.text or "", state, session, user, role)

    @router.callback_query(StateFilter(LogForm.type), PickCb.filter(F.f == "tt"))
    async def log_type(query: CallbackQuery, callback_data: PickCb, state: FSMContext) -> None:
        await query.answer()
        if callback_data.v not in {t.value for t in TouchType} or not isinstance(
            query.message, Message
        ):
            return
        await state.update_data(type=callback_data.v)
        await state.set_state(LogForm.direction)
        kb = InlineKeyboardBuilder()
        for d in Direction:
            kb.button(
                text=label_text("direction", d.value), callback_data=PickCb(f="td", v=d.value)
            )
        await edit_text(
            query.message,
            _("{type}: outbound (you reached out) or inbound (they came to you)?").format(
                type=label("touch", callback_data.v)
            ),
            reply_markup=kb.as_markup(),
        )

    @router.callback_query(StateFilter(LogForm.direction), PickCb.filter(F.f == "td"))
    async def log_direction(query: CallbackQuery, callback_data: PickCb, state: FSMContext) -> None:
        await query.answer()
        if callback_data.v not in {d.value for d in Direction} or not isinstance(
            query.message, Message
        ):
            return
        await state.update_data(direction=callback_data.v)
        await state.set_state(LogForm.summary)
        summary = (await state.get_data()).get("summary") or ""
        kb = InlineKeyboardBuilder()
        if summary:
            kb.button(text=_("Use the forwarded text"), callback_data=PickCb(f="ts", v="fwd"))
        kb.button(text=_("Skip"), callback_data=PickCb(f="ts", v="skip"))
        await edit_text(
            query.message, _("A short summary of the touch? (or Skip)"), reply_markup=kb.as_markup()
        )

    async def save_touch(
        target: Message,
        summary: str,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        role: Role,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
        bot: Bot,
    ) -> None:
        contact = await load(state, session, user, role)
        data = await state.get_data()
        if contact is None:
            await state.clear()
            await target.answer(_("Contact not found."))
            return
        touch = await followups.log_touch(
            session,
            contact,
            author=user,
            type_=data.get("type", "other"),
            direction=data.get("direction", "out"),
            summary=summary[:4000],
            now=clock.now(),
            rules=followups.Rules.of(settings),
        )
        if touch.type == TouchType.SERVICE.value:
            from handlers.nps import service_delivered

            owner = await session.get(User, contact.owner_id) or user
            await service_delivered(
                target,
                session=session,
                contact=contact,
                rep=owner,
                touch_id=touch.id,
                clock=clock,
                settings=settings,
                i18n=i18n,
                bot=bot,
            )
        await start_next_step(target, state, contact, prefix=_("✅ Touch saved.") + "\n\n")

    @router.message(StateFilter(LogForm.summary), F.text & ~F.text.startswith("/"))
    async def log_summary(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        role: Role,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
        bot: Bot,
    ) -> None:
        if limits.too_long("summary", message.text or ""):
            await message.answer(summary_too_long(message.text or ""))
            return  # still asked for the summary
        await save_touch(
            message, message.text or "", state, session, user, role, clock, settings, i18n, bot
        )

    @router.callback_query(StateFilter(LogForm.summary), PickCb.filter(F.f == "ts"))
    async def log_summary_button(
        query: CallbackQuery,
        callback_data: PickCb,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        role: Role,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
        bot: Bot,
    ) -> None:
        await query.answer()
        if not isinstance(query.message, Message):
            return
        summary = (await state.get_data()).get("summary", "") if callback_data.v == "fwd" else ""
        await drop_keyboard(query.message)
        await save_touch(
            query.message, summary, state, session, user, role, clock, settings, i18n, bot
        )

    # ------------------------------------------------------------------ next step
    @router.message(StateFilter(NextForm.what), F.text & ~F.text.startswith("/"))
    async def next_what(message: Message, state: FSMContext) -> None:
        await state.update_data(what=(message.text or "").strip()[:512])
        await state.set_state(NextForm.when)
        await message.answer(
            _("When? E.g. “tomorrow 10:00”, “in 3 days”, “next friday”, “через 2 недели”."),
            reply_markup=_when_keyboard(),
        )

    @router.callback_query(StateFilter(NextForm.what), PickCb.filter(F.f == "nx"))
    async def next_none(query: CallbackQuery, state: FSMContext) -> None:
        await query.answer()
        if not isinstance(query.message, Message):
            return
        await state.set_state(NextForm.reason)
        kb = InlineKeyboardBuilder()
        for code in NO_STEP_REASONS:
            kb.button(text=_reason_label(code), callback_data=PickCb(f="nr", v=code))
        kb.adjust(2)
        await edit_text(
            query.message,
            _("A next step can be skipped only with a reason:"),
            reply_markup=kb.as_markup(),
        )

    async def save_no_step(
        target: Message,
        reason: str,
        code: str,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        role: Role,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
    ) -> None:
        contact = await load(state, session, user, role)
        if contact is None:
            await state.clear()
            await target.answer(_("Contact not found."))
            return
        now = clock.now()
        rules = followups.Rules.of(settings)
        await followups.set_next_step(
            session,
            contact,
            actor=user,
            text=None,
            due=None,
            reason=reason,
            now=now,
            rules=rules,
        )
        if code == "lost":
            await followups.change(
                session, contact, actor=user, now=now, rules=rules, status=Status.LOST.value
            )
        await state.clear()
        await show_card(
            target,
            session,
            contact,
            user,
            settings,
            i18n,
            prefix=_("No next step: {reason}.").format(reason=h(reason)) + "\n\n",
        )

    @router.callback_query(StateFilter(NextForm.reason), PickCb.filter(F.f == "nr"))
    async def next_reason(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, **deps: Any
    ) -> None:
        await query.answer()
        if callback_data.v not in NO_STEP_REASONS or not isinstance(query.message, Message):
            return
        if callback_data.v == "other":
            await edit_text(query.message, _("Type the reason:"))
            return
        await save_no_step(
            query.message, _reason_label(callback_data.v), callback_data.v, state, **_pick(deps)
        )

    @router.message(StateFilter(NextForm.reason), F.text & ~F.text.startswith("/"))
    async def next_reason_text(message: Message, state: FSMContext, **deps: Any) -> None:
        await save_no_step(
            message, (message.text or "").strip()[:256], "other", state, **_pick(deps)
        )

    async def propose(
        target: Message,
        text: str,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        role: Role,
        settings: Settings,
        clock: Clock,
        i18n: I18n,
    ) -> None:
        tz, lang, now = user_tz(user, settings), i18n.current_locale, clock.now()
        when = read_when(text, now=now, tz=tz, lang_hint=lang)
        if when.due is None:
            span = {
                "earliest": format_day(when.earliest, lang),
                "latest": format_day(when.latest, lang),
            }
            if when.status is Reading.TOO_EARLY:
                refusal = _(
                    "“{text}” is too far in the past. A next step can be set from {earliest} to {latest}."
                ).format(text=h(text[:100]), **span)
            elif when.status is Reading.TOO_LATE:
                refusal = _(
                    "“{text}” is too far in the future. A next step can be set from {earliest} to {latest}."
                ).format(text=h(text[:100]), **span)
            else:
                refusal = _(
                    "I couldn't read a date in “{text}”. Try “tomorrow 10:00”, “in 3 days”, “next friday” or “01.12 15:00”."
                ).format(text=h(text[:100]))
            await state.set_state(NextForm.when)  # the quick buttons work again
            await target.answer(refusal, reply_markup=_when_keyboard())
            return
        due = when.due
        await state.update_data(due=due.isoformat())
        await state.set_state(NextForm.confirm)
        kb = InlineKeyboardBuilder()
        kb.button(text=_("✅ Confirm"), callback_data=PickCb(f="nc", v="ok"))
        kb.button(text=_("Change"), callback_data=PickCb(f="nc", v="change"))
        shown = format_local(due, tz, lang)
        if is_past(due, now):
            question = _("⚠️ {when} is in the past. Save it anyway?").format(when=shown)
        else:
            # the reminder goes to the contact's owner, inside their working hours
            contact = await load(state, session, user, role)
            owner = (await session.get(User, contact.owner_id) if contact else None) or user
            remind = shift_into(
                due,
                followups.user_tz(owner, settings.default_timezone),
                followups.user_hours(owner),
            )
            if remind == due:
                question = _("Next step on {when}. Right?").format(when=shown)
            elif owner.id == user.id:
                question = _(
                    "Next step on {when}. The reminder will come on {reminder}, in your working hours. Right?"
                ).format(when=shown, reminder=format_local(remind, tz, lang))
            else:
                question = _(
                    "Next step on {when}. The reminder will come to {name} on {reminder}, in their working hours. Right?"
                ).format(
                    when=shown, name=h(owner.display_name), reminder=format_local(remind, tz, lang)
                )
        await target.answer(question, reply_markup=kb.as_markup())

    @router.message(StateFilter(NextForm.when, NextForm.confirm), F.text & ~F.text.startswith("/"))
    async def next_when_text(message: Message, state: FSMContext, **deps: Any) -> None:
        await propose(message, message.text or "", state, **_pick(deps))

    @router.callback_query(StateFilter(NextForm.when), PickCb.filter(F.f == "wh"))
    async def next_when_button(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, **deps: Any
    ) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await propose(query.message, QUICK_WHEN.get(callback_data.v, ""), state, **_pick(deps))

    @router.callback_query(StateFilter(NextForm.confirm), PickCb.filter(F.f == "nc"))
    async def next_confirm(
        query: CallbackQuery,
        callback_data: PickCb,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        role: Role,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
    ) -> None:
        await query.answer()
        if not isinstance(query.message, Message):
            return
        if callback_data.v == "change":
            await state.set_state(NextForm.when)
            await edit_text(query.message, _("When, then?"), reply_markup=_when_keyboard())
            return
        data = await state.get_data()
        contact = await load(state, session, user, role)
        if contact is None or "due" not in data:
            await state.clear()
            await query.message.answer(_("Contact not found."))
            return
        due = datetime.fromisoformat(data["due"])
        async with writing(session):
            if fresh := await taps.first(session, **tap_of(query), now=clock.now()):
                await followups.set_next_step(
                    session,
                    contact,
                    actor=user,
                    text=data.get("what"),
                    due=due,
                    reason=None,
                    now=clock.now(),
                    rules=followups.Rules.of(settings),
                )
        if not fresh:
            return  # saved by the first tap
        await state.clear()
        await drop_keyboard(query.message)
        await show_card(
            query.message,
            session,
            contact,
            user,
            settings,
            i18n,
            prefix=_("✅ Next step saved.") + "\n\n",
        )

    return router


def _pick(deps: dict[str, Any]) -> dict[str, Any]:
    keys = ("session", "user", "role", "clock", "settings", "i18n")
    return {k: deps[k] for k in keys}
