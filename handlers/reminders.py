"""Buttons on reminders and checks, and /today."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import CardCb, RemindCb
from bot.config import Settings
from bot.filters import staff
from bot.i18n import _
from bot.labels import label
from bot.rendering import answer_long, drop_keyboard, edit_text, h
from core.clock import Clock
from core.nextstep import format_local
from core.roles import Role
from core.workhours import snooze_until
from handlers.contacts import scope_of, show_card, user_tz
from handlers.touches import NextForm, start_next_step, start_touch_log
from services import contacts as svc
from services import followups, network, today
from storage.models import User

SNOOZE = {"s1h": "1h", "stom": "tomorrow", "swk": "week"}


def outdated_text() -> str:
    return _(
        "This reminder is out of date: its step was changed or closed. Open the card to see it."
    )


def create_router() -> Router:
    router = Router(name="reminders")
    router.message.filter(staff())
    router.callback_query.filter(staff())

    @router.callback_query(RemindCb.filter())
    async def on_button(
        query: CallbackQuery,
        callback_data: RemindCb,
        session: AsyncSession,
        user: User,
        role: Role,
        state: FSMContext,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
    ) -> None:
        contact = await svc.get(session, scope_of(user, role), callback_data.id)
        if contact is None or not isinstance(query.message, Message):
            await query.answer(_("Contact not found."), show_alert=True)
            return
        a, now, msg = callback_data.a, clock.now(), query.message
        tz = user_tz(user, settings)
        rules = followups.Rules.of(settings)
        if a in SNOOZE:
            due = snooze_until(SNOOZE[a], now, tz, followups.user_hours(user))
            moved = await followups.move_step(
                session, contact, actor=user, due=due, stamp=callback_data.t, now=now, rules=rules
            )
            if moved is followups.Moved.OUTDATED:
                await query.answer(outdated_text(), show_alert=True)
                return
            when = format_local(due, tz, i18n.current_locale)
            await query.answer(_("Snoozed until {when}.").format(when=when))
            if moved is followups.Moved.MOVED:  # a repeated tap changes nothing: the toast only
                await drop_keyboard(msg)
                await msg.answer(
                    _("⏰ {name}: I'll remind you {when}.").format(name=h(contact.name), when=when)
                )
            return
        if a == "ok":
            done = await followups.complete_step(
                session, contact, actor=user, stamp=callback_data.t, now=now, rules=rules
            )
            if done.outdated:
                await query.answer(outdated_text(), show_alert=True)
                return
            if done.touch is None:
                await query.answer(_("Already done."))
                return
            await query.answer(_("✅ Done."))
            await drop_keyboard(msg)
            await state.clear()
            logged = _("✅ Logged: {type} — {step}.").format(
                type=label("touch", done.touch.type), step=h(done.step or "—")
            )
            await start_next_step(msg, state, contact, prefix=logged + "\n\n")
            return
        if a == "resch":
            step = await followups.step_for_stamp(session, contact, callback_data.t)
            if step is None:
                await query.answer(outdated_text(), show_alert=True)
                return
            await query.answer()
            await state.clear()
            await state.set_state(NextForm.when)
            await state.update_data(cid=contact.id, what=step)
            await msg.answer(
                _(
                    "When should I remind you about {name}? E.g. “friday 15:00”, “in 2 days”."
                ).format(name=h(contact.name))
            )
            return
        await query.answer()
        if a == "done":  # "Log touch" / "Log reply" on a check or an inbound alert
            await drop_keyboard(msg)
            await start_touch_log(msg, state, contact)
        elif a == "next":
            await start_next_step(msg, state, contact)
        elif a == "open":
            await show_card(msg, session, contact, user, settings, i18n)
        elif a == "vyes":
            await followups.mark_verified(session, contact, actor=user, now=now, rules=rules)
            await edit_text(
                msg, _("✅ {name}: data confirmed. Thank you!").format(name=h(contact.name))
            )
        elif a == "vno":
            kb = InlineKeyboardBuilder()
            kb.button(text=_("✏️ Edit"), callback_data=CardCb(a="edit", id=contact.id))
            await followups.mark_verified(session, contact, actor=user, now=now, rules=rules)
            await network.note_data_changed(session, contact, actor=user, now=now)
            await edit_text(
                msg,
                _("What changed for {name}? Choose a field to edit:").format(name=h(contact.name)),
                reply_markup=kb.as_markup(),
            )

    @router.message(Command("today"))
    async def today_cmd(
        message: Message,
        session: AsyncSession,
        user: User,
        role: Role,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
        state: FSMContext,
    ) -> None:
        await state.clear()
        tz = user_tz(user, settings)
        now = clock.now()
        local = now.astimezone(ZoneInfo(tz))
        end_of_day = datetime.combine(
            local.date() + timedelta(days=1), datetime.min.time(), ZoneInfo(tz)
        )
        day = await today.build(
            session,
            scope_of(user, role),
            now=now,
            end_of_day=end_of_day,
            settings_cadence=settings.cadence_days,
        )
        lang = i18n.current_locale
        sections = [
            (_("🔴 Overdue"), day.overdue),
            (_("📅 Due today"), day.due_today),
            (_("🥶 Going cold"), day.cold),
            (_("📥 Waiting for your reply"), day.inbound),
        ]
        lines = [
            _("<b>Your day</b>, {date}").format(date=format_local(now, tz, lang).rsplit(",", 1)[0])
        ]
        kb = InlineKeyboardBuilder()
        empty = True
        for title, items in sections:
            if not items:
                continue
            empty = False
            lines.append("")
            lines.append(f"<b>{title}</b> ({len(items)})")
            for item in items[:10]:
                c = item.contact
                when = f" — {format_local(item.when, tz, lang)}" if item.when else ""
                lines.append(f"• {h(c.name)}" + (f", {h(c.company)}" if c.company else "") + when)
                kb.button(
                    text=f"{title.split()[0]} {c.name[:40]}",
                    callback_data=CardCb(a="open", id=c.id),
                )
            if len(items) > 10:
                lines.append(_("…and {count} more").format(count=len(items) - 10))
        if empty:
            lines.append("")
            lines.append(_("Nothing is due. A good day to add new contacts!"))
        kb.adjust(1)
        markup: InlineKeyboardMarkup | None = kb.as_markup() if not empty else None
        await answer_long(message, "\n".join(lines), reply_markup=markup)

    return router
