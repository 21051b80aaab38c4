"""Buttons on reminders and checks (one handler per action), and /today."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Ctx
from bot.filters import router_for, staff
from bot.i18n import _
from bot.middlewares import CardInScope
from core.enums import Direction
from core.nextstep import format_local
from core.roles import LEADS
from core.workhours import snooze_until
from services import followups, network, relay, taps, today
from storage.models import Contact
from storage.uow import writing
from views import reminders as reminder_views
from views import today as views
from views.callbacks import RemindCb
from views.contacts import edit_menu, show_card
from views.rendering import answer_long, drop_keyboard, edit_text, tap_of
from views.states import NextForm
from views.touches import start_next_step, start_touch_log

SNOOZE = {"s1h": "1h", "stom": "tomorrow", "swk": "week"}


def on(*actions: str) -> Any:
    return RemindCb.filter(F.a.in_(set(actions)))


async def archived(query: CallbackQuery, contact: Contact) -> bool:
    """A card archived since its reminder came gets no reminders: a button that plans, moves or
    closes its step (or logs on it) is refused, saying why."""
    if contact.archived_at is None:
        return False
    await query.answer(reminder_views.archived_refusal(contact), show_alert=True)
    return True


async def logging_reply_to(state: FSMContext, contact: Contact) -> bool:
    """Whether the touch log a 📝 Log reply opened for this card waits for its answers."""
    current = await state.get_state()
    if current is None or not current.startswith("LogForm:"):
        return False
    data = await state.get_data()
    return data.get("cid") == contact.id and bool(data.get("preset"))


async def take_keyboard_off(message: Message) -> None:
    """The reminder's buttons have done their job (a message without them is left alone)."""
    if message.reply_markup is not None:
        await drop_keyboard(message)


def create_router() -> Router:
    router = router_for("reminders", staff())
    router.callback_query.middleware(CardInScope())

    @router.callback_query(on(*SNOOZE))
    async def snooze(
        query: CallbackQuery, callback_data: RemindCb, contact: Contact, ctx: Ctx
    ) -> None:
        if await archived(query, contact):
            return
        now = ctx.now()
        due = snooze_until(
            SNOOZE[callback_data.a], now, ctx.viewer.tz, followups.user_hours(ctx.user)
        )
        moved = await followups.move_step(
            ctx.session,
            contact,
            actor=ctx.user,
            due=due,
            stamp=callback_data.t,
            now=now,
            rules=ctx.rules,
        )
        if moved is followups.Moved.DONE:  # done already: it stays done
            await query.answer(_("Already done."))
            return
        if moved is followups.Moved.OUTDATED:
            await query.answer(views.outdated(), show_alert=True)
            return
        when = format_local(due, ctx.viewer.tz, ctx.viewer.lang)
        await query.answer(_("Snoozed until {when}.").format(when=when))
        if moved is followups.Moved.MOVED:  # a repeated tap changes nothing: the toast only
            assert isinstance(query.message, Message)
            await take_keyboard_off(query.message)
            await query.message.answer(views.snoozed(contact, when))

    @router.callback_query(on("ok"))
    async def done(
        query: CallbackQuery, callback_data: RemindCb, contact: Contact, ctx: Ctx, state: FSMContext
    ) -> None:
        if await archived(query, contact):
            return
        result = await followups.complete_step(
            ctx.session,
            contact,
            actor=ctx.user,
            stamp=callback_data.t,
            now=ctx.now(),
            rules=ctx.rules,
        )
        if result.outdated:
            await query.answer(views.outdated(), show_alert=True)
            return
        if result.touch is None:
            await query.answer(_("Already done."))
            return
        await query.answer(_("✅ Done."))
        assert isinstance(query.message, Message)
        tz, lang = ctx.viewer.tz, ctx.viewer.lang
        shown = reminder_views.reminder_done(contact, result.touch, result.step, tz=tz, lang=lang)
        await edit_text(query.message, shown, reply_markup=None)
        await state.clear()
        logged = views.done_logged(result.touch.type, result.step)
        await start_next_step(query.message, state, contact, prefix=logged + "\n\n")

    @router.callback_query(on("resch"))
    async def reschedule(
        query: CallbackQuery,
        callback_data: RemindCb,
        contact: Contact,
        session: AsyncSession,
        state: FSMContext,
    ) -> None:
        if await archived(query, contact):
            return
        step = await followups.step_for_stamp(session, contact, callback_data.t)
        if step is None:
            if await followups.done_step(session, contact, callback_data.t) is not None:
                await query.answer(_("Already done."))
            else:
                await query.answer(views.outdated(), show_alert=True)
            return
        await query.answer()
        await state.clear()
        await state.set_state(NextForm.when)
        await state.update_data(cid=contact.id, cname=contact.name, what=step, moving=True)
        assert isinstance(query.message, Message)
        await query.message.answer(views.reschedule_question(contact))

    @router.callback_query(on("done", "lrep"))
    async def log_touch(
        query: CallbackQuery, callback_data: RemindCb, contact: Contact, ctx: Ctx, state: FSMContext
    ) -> None:
        """ "Log touch" on a check; "Log reply" on an inbound alert ("lrep": a reply is
        outbound, so its direction is not asked; "done" on alerts sent before that). A reply
        already on the card (sent with ↩️ Reply, or logged) is not logged twice; tapped again
        while its touch log is open, the log goes on."""
        if await archived(query, contact):
            return
        assert isinstance(query.message, Message)
        if callback_data.a == "lrep":
            reply = await relay.reply_after(
                ctx.session, contact, inbound_id=callback_data.t, alert_at=query.message.date
            )
            if reply is not None:
                tz, lang = ctx.viewer.tz, ctx.viewer.lang
                await query.answer(reminder_views.reply_logged(reply, tz=tz, lang=lang))
                return
            if await logging_reply_to(state, contact):
                await query.answer(reminder_views.log_open())
                return
        await query.answer()
        await take_keyboard_off(query.message)
        outbound = Direction.OUT.value if callback_data.a == "lrep" else None
        await start_touch_log(query.message, state, contact, direction=outbound)

    @router.callback_query(on("next"))
    async def next_step(query: CallbackQuery, contact: Contact, state: FSMContext) -> None:
        if await archived(query, contact):
            return
        await query.answer()
        assert isinstance(query.message, Message)
        await start_next_step(query.message, state, contact)

    @router.callback_query(on("open"))
    async def open_card(query: CallbackQuery, contact: Contact, ctx: Ctx) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await show_card(query.message, await ctx.card(contact))

    @router.callback_query(on("vyes", "vno"))
    async def verified(
        query: CallbackQuery, callback_data: RemindCb, contact: Contact, ctx: Ctx
    ) -> None:
        """The stale-data check: "still right" confirms; "changed" confirms and shows the fields
        to edit. Each answer counts once: tapped again, it is told so."""
        yes, now = callback_data.a == "vyes", ctx.now()
        async with writing(ctx.session):
            if fresh := await taps.first(ctx.session, **tap_of(query), now=now):
                await followups.mark_verified(
                    ctx.session, contact, actor=ctx.user, now=now, rules=ctx.rules
                )
                if not yes:  # they may have changed jobs: /network flags the account
                    await network.note_data_changed(ctx.session, contact, actor=ctx.user, now=now)
        if not fresh:
            await query.answer(reminder_views.data_answered(yes))
            return
        await query.answer()
        assert isinstance(query.message, Message)
        if yes:
            await edit_text(query.message, views.data_confirmed(contact))
        else:
            fields = edit_menu(contact, leads=ctx.viewer.leads)[1]
            text, markup = reminder_views.data_changed(contact, fields)
            await edit_text(query.message, text, reply_markup=markup)

    @router.message(Command("today"))
    async def today_cmd(message: Message, ctx: Ctx, state: FSMContext) -> None:
        await state.clear()
        now = ctx.now()
        zone = ZoneInfo(ctx.viewer.tz)
        end_of_day = datetime.combine(
            now.astimezone(zone).date() + timedelta(days=1), datetime.min.time(), zone
        )
        found = await today.build(
            ctx.session,
            ctx.viewer.scope.mine(),  # the rep's own day, a manager's too (the team's: /digest)
            now=now,
            end_of_day=end_of_day,
            settings_cadence=ctx.settings.cadence_days,
        )
        text, markup = views.day(
            found, now=now, tz=ctx.viewer.tz, lang=ctx.viewer.lang, lead=ctx.viewer.role in LEADS
        )
        await answer_long(message, text, reply_markup=markup)

    return router
