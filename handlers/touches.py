"""Touches and next steps: /log, the card's buttons, and the mandatory "what next, and when?"."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message

from bot.context import Ctx
from bot.filters import staff
from bot.i18n import _
from bot.middlewares import back_already, take_back
from bot.routing import FeatureRouter
from core import limits
from core.enums import Direction, Status, TouchType
from core.nextstep import format_local, is_past, read_when, split_when
from core.quickadd import parse_quick_add
from core.workhours import step_reminder_time
from services import contacts as svc
from services import delivered, followups, taps
from services import media as media_svc
from storage.models import Contact, User
from storage.uow import writing
from views import archived_step as archived
from views import delivered as delivered_views
from views import media as media_views
from views.adding import is_skip
from views.callbacks import PickCb, ResumeCb
from views.contacts import show_card
from views.labels import typed_code
from views.rendering import drop_keyboard, edit_text, h, tap_of
from views.states import LogForm, NextForm
from views.teamcards import refused_as_taken
from views.touches import (
    NO_STEP_REASONS,
    NOTE_FIND,
    NOTE_PICK,
    QUICK_WHEN,
    answer_kept,
    ask_again,
    ask_step_again,
    confirm_question,
    date_not_reason,
    date_refused,
    direction_question,
    gone,
    no_step_typed,
    nothing_found,
    planned_step,
    reason_label,
    reasons_prompt,
    says_what_happened,
    start_next_step,
    start_touch_log,
    step_gone,
    step_too_long,
    summary_question,
    summary_too_long,
    tapped_note,
    tapped_value,
    touch_gone,
    what_keyboard,
    what_on_question,
    when_keyboard,
    when_question,
    when_refusal,
    which_card,
)


def create_router() -> Router:
    router = FeatureRouter(name="touches")
    router.message.filter(staff())
    router.callback_query.filter(staff())

    async def load(state: FSMContext, ctx: Ctx) -> Contact | None:
        data = await state.get_data()
        cid = data.get("cid")
        if not cid:
            return None
        return await svc.get(ctx.session, ctx.viewer.scope, int(cid))

    async def card_id(state: FSMContext) -> int:
        return int((await state.get_data()).get("cid") or 0)

    @router.message(Command("log"))
    async def log_cmd(
        message: Message, command: CommandObject, state: FSMContext, ctx: Ctx
    ) -> None:
        await state.clear()
        if command.args:
            await pick_contact(message, command.args, state, ctx)
            return
        await state.set_state(LogForm.contact)
        await message.answer(_("Touch with whom? Send a name, phone or company."))

    async def pick_contact(message: Message, query: str, state: FSMContext, ctx: Ctx) -> None:
        # a note typed outside any dialogue, whose card is being looked for (🔎 Someone else)
        data, scope = await state.get_data(), ctx.viewer.scope
        note = (data.get("note") or {}).get("text")
        found = await svc.search(ctx.session, scope, query[:200], limit=6)
        if not found and (which := data.get("which")) and says_what_happened(query):
            # typed under "Which one?": what happened, kept for the touch (the cards offered again)
            words = "\n".join(t for t in (note, query) if t)
            cards = await svc.search(ctx.session, scope, which["q"], limit=6)
            if len(cards) > 1:
                return await which_card(message, state, cards, which["q"], words, kept=True)
        if not found:
            await state.set_state(LogForm.contact)
            fields = parse_quick_add(query, ctx.settings.default_phone_region).card_fields()
            form = {k: v for k, v in fields.items() if v} if note else None
            text, markup = nothing_found(query, name=(form or {}).get("name", "") if note else None)
            sent = await message.answer(text, reply_markup=markup)
            if note:  # its button adds the card (named as typed) and logs the note on it
                await state.update_data(note={"mid": sent.message_id, "text": note, "form": form})
            return
        if len(found) == 1:
            await start_touch_log(message, state, found[0], summary=note or "", typed=bool(note))
            return
        await state.set_state(LogForm.contact)  # a name typed now searches again; /cancel ends
        await which_card(message, state, found, query, note)

    @router.message(StateFilter(LogForm.contact), F.text & ~F.text.startswith("/"))
    async def log_contact_text(message: Message, state: FSMContext, ctx: Ctx) -> None:
        await pick_contact(message, message.text or "", state, ctx)

    async def picked(
        query: CallbackQuery,
        callback_data: PickCb,
        state: FSMContext,
        ctx: Ctx,
        key: str,
        choices: type[StrEnum],
        then: State,
    ) -> bool:
        """A button of the touch form: one of ``choices`` is kept under ``key``, on to ``then``."""
        value = await tapped_value(query, callback_data, state)
        if value not in {c.value for c in choices} or not isinstance(query.message, Message):
            return False
        if await load(state, ctx) is None:  # no longer the rep's: said now, not after the words
            await drop_keyboard(query.message)
            await gone(query.message, state, (await state.get_data()).get("summary") or "")
            return False
        await state.update_data({key: value})
        await state.set_state(then)
        return True

    @router.callback_query(StateFilter(LogForm.type), PickCb.filter(F.f == "tt"))
    async def log_type(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, ctx: Ctx, bot: Bot
    ) -> None:
        if not await picked(query, callback_data, state, ctx, "type", TouchType, LogForm.direction):
            return
        assert isinstance(query.message, Message)
        data = await state.get_data()
        if data.get("direction"):  # known already (a reply to a client's message: outbound)
            await state.set_state(LogForm.summary)
            await after_direction(query.message, state, ctx, bot, tapped=True)
            return
        text, markup = direction_question(data["type"], int(data["cid"]))
        await edit_text(query.message, text, reply_markup=markup)

    @router.callback_query(StateFilter(LogForm.direction), PickCb.filter(F.f == "td"))
    async def log_direction(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, ctx: Ctx, bot: Bot
    ) -> None:
        if not await picked(
            query, callback_data, state, ctx, "direction", Direction, LogForm.summary
        ):
            return
        assert isinstance(query.message, Message)
        await after_direction(query.message, state, ctx, bot, tapped=True)

    async def after_direction(
        message: Message, state: FSMContext, ctx: Ctx, bot: Bot, *, tapped: bool
    ) -> None:
        """The direction is known: save the touch when its summary was given already (a typed
        note, or text or a file sent before the buttons were tapped), else ask for it (in
        place of the buttons' message when they were tapped)."""
        data = await state.get_data()
        summary = data.get("summary") or ""
        if data.get("typed") and (summary or data.get("media")):
            if tapped:
                await drop_keyboard(message)
            await save_touch(message, summary, state, ctx, bot)
            return
        text, markup = summary_question(await card_id(state), forwarded=bool(summary))
        if tapped:
            await edit_text(message, text, reply_markup=markup)
        else:
            await message.answer(text, reply_markup=markup)

    @router.message(StateFilter(LogForm.type, LogForm.direction), F.text & ~F.text.startswith("/"))
    async def typed_before_tapping(message: Message, state: FSMContext, ctx: Ctx, bot: Bot) -> None:
        """Text sent while the kind or the direction is asked: the kind or direction typed
        ("call", "входящее") is taken as the tap; anything else is the summary running ahead of
        the buttons (in one message or several): kept, and the question asked again."""
        text = message.text or ""
        asked_kind = await state.get_state() == LogForm.type.state
        code = typed_code("touch" if asked_kind else "direction", text)
        if code is not None:
            await state.update_data({"type" if asked_kind else "direction": code})
            if asked_kind and not (await state.get_data()).get("direction"):
                await state.set_state(LogForm.direction)
                text, markup = direction_question(code, await card_id(state))
                await message.answer(text, reply_markup=markup)
            else:
                await state.set_state(LogForm.summary)
                await after_direction(message, state, ctx, bot, tapped=False)
            return
        data = await state.get_data()
        if data.get("summary"):  # sent in several messages, or below a forwarded one: all kept
            text = data["summary"] + "\n" + text
        if limits.too_long("summary", text):
            await message.answer(summary_too_long(text))
            return
        await state.update_data(summary=text, typed=True)
        await answer_kept(message, state, asked_kind=asked_kind)

    @router.message(StateFilter(LogForm.type, LogForm.direction), F.voice | F.photo | F.document)
    async def file_before_tapping(message: Message, state: FSMContext) -> None:
        """A voice note, photo or document sent while the kind or direction is asked: kept on
        the touch (its caption, if any, is the summary), and the question asked again."""
        found = media_views.incoming(message)
        assert found is not None
        data = await state.get_data()
        summary = "\n".join(t for t in (data.get("summary"), message.caption) if t)
        if limits.too_long("summary", summary):
            await message.answer(summary_too_long(summary))
            return
        media = [*data.get("media", []), found.as_dict()]
        # the file is the touch's content, with the words given before and its caption
        await state.update_data(media=media, summary=summary, typed=True)
        await answer_kept(message, state, asked_kind=await state.get_state() == LogForm.type.state)

    @router.callback_query(
        StateFilter(None), PickCb.filter((F.f == NOTE_PICK) & (F.v == NOTE_FIND))
    )
    async def note_someone_else(query: CallbackQuery, state: FSMContext) -> None:
        """🔎 Someone else, under a typed note: whose card is it? (the note is kept)"""
        tapped = await tapped_note(query, state)
        if tapped is None:
            return
        await state.set_state(LogForm.contact)
        await tapped[0].answer(_("Touch with whom? Send a name, phone or company."))

    async def save_touch(
        target: Message, summary: str, state: FSMContext, ctx: Ctx, bot: Bot
    ) -> None:
        contact, data = await load(state, ctx), await state.get_data()
        if contact is None:
            return await gone(target, state, summary)
        now = ctx.now()
        async with writing(ctx.session):
            touch = await followups.log_touch(
                ctx.session,
                contact,
                author=ctx.user,
                type_=data.get("type", "other"),
                direction=data.get("direction", "out"),
                summary=summary[:4000],
                now=now,
                rules=ctx.rules,
            )
            await media_svc.attach(
                ctx.session,
                contact_id=contact.id,
                touch_id=touch.id,
                author_id=ctx.user.id,
                media=media_svc.from_state(data.get("media")),
                now=now,
            )
            done = (
                await delivered.plan_after(
                    ctx.session,
                    contact,
                    touch,
                    actor=ctx.user,
                    now=now,
                    rules=ctx.survey_rules,
                )
                if touch.type == TouchType.SERVICE.value
                else None
            )
        if done is not None:
            await delivered_views.tell(
                target, done, contact, bot=bot, settings=ctx.settings, lang=ctx.viewer.lang
            )
        # a step still ahead may stay as it is (an overdue one is to be moved)
        ahead = contact.next_step_due is not None and contact.next_step_due > now
        planned = planned_step(contact, ctx.viewer.tz, ctx.viewer.lang) if ahead else None
        await start_next_step(
            target, state, contact, prefix=_("✅ Touch saved.") + "\n\n", planned=planned
        )
        await state.update_data(touch_for=[contact.id, touch.id], media=[])  # a file now: on it

    @router.message(StateFilter(LogForm.summary), F.voice | F.photo | F.document)
    async def log_summary_media(message: Message, state: FSMContext, ctx: Ctx, bot: Bot) -> None:
        """A voice note, photo or document instead of the summary: kept on the touch (its
        caption is the summary)."""
        found = media_views.incoming(message)
        assert found is not None
        media = [*(await state.get_data()).get("media", []), found.as_dict()]
        await state.update_data(media=media)
        await save_touch(message, (message.caption or "")[:4000], state, ctx, bot)

    @router.message(StateFilter(LogForm.summary), F.text & ~F.text.startswith("/"))
    async def log_summary(message: Message, state: FSMContext, ctx: Ctx, bot: Bot) -> None:
        if limits.too_long("summary", message.text or ""):
            await message.answer(summary_too_long(message.text or ""))
            return  # still asked for the summary
        # "-" or "skip" typed for "(or Skip)": no summary, as the button (it was saved as one)
        summary = "" if is_skip(message.text or "") else message.text or ""
        await save_touch(message, summary, state, ctx, bot)

    @router.callback_query(StateFilter(LogForm.summary), PickCb.filter(F.f == "ts"))
    async def log_summary_button(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, ctx: Ctx, bot: Bot
    ) -> None:
        choice = await tapped_value(query, callback_data, state)
        if choice is None or not isinstance(query.message, Message):
            return
        summary = (await state.get_data()).get("summary", "") if choice == "fwd" else ""
        await drop_keyboard(query.message)
        await save_touch(query.message, summary, state, ctx, bot)

    # ------------------------------------------------------------------ next step
    @router.message(StateFilter(NextForm.what), F.text & ~F.text.startswith("/"))
    async def next_what(message: Message, state: FSMContext, ctx: Ctx) -> None:
        text = (message.text or "").strip()
        tz, lang, now = ctx.viewer.tz, ctx.viewer.lang, ctx.now()
        if no_step_typed(text):  # as the "No next step" button
            await state.set_state(NextForm.reason)
            return await message.answer(**reasons_prompt(await card_id(state)))
        # "call back tomorrow 10:00" in one message: what, then the time to confirm
        split = split_when(text, now=now, tz=tz, lang_hint=lang)
        when = read_when(text, now=now, tz=tz, lang_hint=lang)
        if split is None and date_refused(when):
            return await message.answer(when_refusal(text, when, lang))
        if split is None and (due := when.due):
            # only a date ("on friday"): kept, and the step asked for
            await state.update_data(when_text=text)
            await message.answer(
                what_on_question(format_local(due, tz, lang)),
                reply_markup=what_keyboard(await card_id(state)),
            )
            return
        what = split.what if split else text
        if limits.too_long("next_step", what):  # it was cut to fit, unsaid
            return await message.answer(step_too_long(what))
        await state.update_data(what=what)
        when_text = split.when if split else (await state.get_data()).get("when_text")
        if when_text:
            await propose(message, when_text, state, ctx=ctx, what=what)
            return
        await state.set_state(NextForm.when)
        await message.answer(when_question(), reply_markup=when_keyboard(await card_id(state)))

    @router.callback_query(StateFilter(NextForm.what), PickCb.filter(F.f == "nx"))
    async def next_none(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, ctx: Ctx
    ) -> None:
        action = await tapped_value(query, callback_data, state)
        if action is None or not isinstance(query.message, Message):
            return
        if action in ("keep", archived.KEEP_RESTORE, archived.KEEP_BARE):
            # the step as the card has it now (a teammate may have moved it); on an archived
            # card no reminder comes: restored first, or kept without one, as the rep chooses
            contact = await load(state, ctx)
            planned = planned_step(contact, ctx.viewer.tz, ctx.viewer.lang) if contact else None
            if archived.is_archived(contact) and planned and action == "keep":
                text, markup = archived.keep_question(planned, contact.id)
                return await edit_text(query.message, text, reply_markup=markup)
            was = archived.is_archived(contact)
            if was and action == archived.KEEP_RESTORE and not await restored(query, contact, ctx):
                return
            await state.clear()
            kept = archived.kept(
                contact, planned, restored_now=was and not archived.is_archived(contact)
            )
            return await edit_text(query.message, kept)
        await state.set_state(NextForm.reason)
        await edit_text(query.message, **reasons_prompt(await card_id(state)))

    async def restored(query: CallbackQuery, contact: Contact | None, ctx: Ctx) -> bool:
        """The card back from the archive (the project's restore): its step's reminder planned.
        False: a live teammate's card has its phone, said so."""
        try:
            async with writing(ctx.session):
                if contact and await taps.first(ctx.session, **tap_of(query), now=ctx.now()):
                    await restore(contact, ctx)
        except svc.AlreadyInTeam as taken:
            await query.message.answer(refused_as_taken(taken.cards))
            return False
        return True

    async def restore(contact: Contact, ctx: Ctx) -> None:
        now, rules = ctx.now(), ctx.rules
        await followups.restore(ctx.session, contact, actor=ctx.user, now=now, rules=rules)

    async def set_step(contact: Contact, ctx: Ctx, **step: Any) -> None:
        at, rules, s = ctx.now(), ctx.rules, ctx.session
        await followups.set_next_step(s, contact, actor=ctx.user, now=at, rules=rules, **step)

    async def save_no_step(
        target: Message, reason: str, code: str, state: FSMContext, ctx: Ctx
    ) -> None:
        if (contact := await load(state, ctx)) is None:
            return await gone(target, state, reason if code == "other" else "", step=True)
        now, rules = ctx.now(), ctx.rules
        async with writing(ctx.session):  # one unit: no step, and lost when that is the reason
            await set_step(contact, ctx, text=None, due=None, reason=reason)
            if code == "lost":
                status = Status.LOST.value
                await followups.change(
                    ctx.session, contact, actor=ctx.user, now=now, rules=rules, status=status
                )
        await state.clear()
        await show_card(
            target,
            await ctx.card(contact),
            prefix=_("No next step: {reason}.").format(reason=h(reason)) + "\n\n",
        )

    @router.callback_query(StateFilter(NextForm.reason), PickCb.filter(F.f == "nr"))
    async def next_reason(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, ctx: Ctx
    ) -> None:
        code = await tapped_value(query, callback_data, state)
        if code not in NO_STEP_REASONS or not isinstance(query.message, Message):
            return
        if code == "other":
            await edit_text(query.message, _("Type the reason:"))
            return
        await save_no_step(query.message, reason_label(code), code, state, ctx=ctx)

    @router.message(StateFilter(NextForm.reason), F.text & ~F.text.startswith("/"))
    async def next_reason_text(message: Message, state: FSMContext, ctx: Ctx) -> None:
        text = (message.text or "").strip()
        tz, lang = ctx.viewer.tz, ctx.viewer.lang
        when = read_when(text, now=ctx.now(), tz=tz, lang_hint=lang)
        if when.due is not None and not (await state.get_data()).get("date_asked"):
            # "tomorrow 10" after "No next step": the step's time, not a reason (asked once)
            await state.update_data(when_text=text, date_asked=True)
            await state.set_state(NextForm.what)
            await message.answer(
                date_not_reason(text, format_local(when.due, tz, lang)),
                reply_markup=what_keyboard(await card_id(state)),
            )
            return
        await save_no_step(message, text[:256], "other", state, ctx=ctx)

    async def propose(
        target: Message, text: str, state: FSMContext, ctx: Ctx, what: str | None = None
    ) -> None:
        """Ask to confirm the due time read from ``text`` (or say why there is none); ``what``:
        the step itself, shown above when it came in the same message."""
        tz, lang, now = ctx.viewer.tz, ctx.viewer.lang, ctx.now()
        when = read_when(text, now=now, tz=tz, lang_hint=lang)
        if when.due is None:
            refusal = when_refusal(text, when, lang)
            await state.set_state(NextForm.when)  # the quick buttons work again
            await target.answer(refusal, reply_markup=when_keyboard(await card_id(state)))
            return
        await ask_confirm(target, when.due, state, ctx=ctx, what=what)

    async def ask_confirm(
        target: Message, due: datetime, state: FSMContext, ctx: Ctx, what: str | None = None
    ) -> None:
        tz, lang, now = ctx.viewer.tz, ctx.viewer.lang, ctx.now()
        shown = format_local(due, tz, lang)
        await state.update_data(due=due.isoformat(), due_shown=shown)
        await state.set_state(NextForm.confirm)
        past, remind, owner_name, contact = is_past(due, now), None, None, await load(state, ctx)
        await state.update_data(archived=archived.is_archived(contact))  # no reminder: said
        if not past and not archived.is_archived(contact):  # to the owner, in working hours
            owner = (await ctx.session.get(User, contact.owner_id) if contact else None) or ctx.user
            zone = followups.user_tz(owner, ctx.settings.default_timezone)
            at = step_reminder_time(due, zone, followups.user_hours(owner), now)
            if at != due:
                remind = format_local(at, tz, lang)
                owner_name = owner.display_name if owner.id != ctx.user.id else None
        question = confirm_question(shown, past=past, reminder=remind, owner=owner_name, what=what)
        cid, gone_in = await card_id(state), archived.is_archived(contact)  # no reminder: said
        await target.answer(**archived.confirm_prompt(question, cid, archived=gone_in))

    @router.message(StateFilter(NextForm.when, NextForm.confirm), F.text & ~F.text.startswith("/"))
    async def next_when_text(message: Message, state: FSMContext, ctx: Ctx) -> None:
        await propose(message, message.text or "", state, ctx=ctx)

    @router.callback_query(StateFilter(NextForm.when), PickCb.filter(F.f == "wh"))
    async def next_when_button(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, ctx: Ctx
    ) -> None:
        code = await tapped_value(query, callback_data, state)
        if code is not None and isinstance(query.message, Message):
            await propose(query.message, QUICK_WHEN.get(code, ""), state, ctx=ctx)

    async def resumed(
        query: CallbackQuery, n: int, state: FSMContext, ctx: Ctx
    ) -> tuple[Message, str | None, dict[str, Any], Contact | None] | None:
        """A "Back to …" tap: the message it is on, the state and answers of the dialogue taken
        back, and its card (None when that dialogue is gone: an older note's button; the one
        open now is kept). None for a second tap: what it took back is open now."""
        await query.answer()
        if not isinstance(query.message, Message) or await back_already(state, n):
            return None
        if (back := await take_back(state, n)) is not None:
            await state.set_data(back[1])
        await drop_keyboard(query.message)
        at, data = back or (None, {})
        return query.message, at, data, await load(state, ctx) if back else None

    @router.callback_query(ResumeCb.filter(F.d == "log"))
    async def resume_log(
        query: CallbackQuery, callback_data: ResumeCb, state: FSMContext, ctx: Ctx
    ) -> None:
        """Back into the touch log a command left, at the question it was at."""
        if (back := await resumed(query, callback_data.n, state, ctx)) is None:
            return
        message, at, data, contact = back
        if at == LogForm.contact.state and (data.get("note") or {}).get("text"):
            await state.set_state(LogForm.contact)  # a typed note, still looking for its card
            await message.answer(_("Touch with whom? Send a name, phone or company."))
            return
        if contact is None:
            if data.get("cid"):  # the card is no longer the rep's: the words shown back
                return await gone(message, state, data.get("summary") or "")
            if at is not None:
                await state.clear()
            await message.answer(touch_gone())
            return
        await ask_again(message, state, at, data, contact)

    @router.callback_query(ResumeCb.filter(F.d == "next"))
    async def resume(
        query: CallbackQuery, callback_data: ResumeCb, state: FSMContext, ctx: Ctx
    ) -> None:
        """Back into the next step a command left, at the question it was at."""
        if (back := await resumed(query, callback_data.n, state, ctx)) is None:
            return
        message, at, data, contact = back
        if contact is None:
            if at is not None:
                await state.clear()
            await message.answer(step_gone())
            return
        if at == NextForm.confirm.state and data.get("due"):
            due = datetime.fromisoformat(data["due"])
            await ask_confirm(message, due, state, ctx=ctx, what=data.get("what"))
        else:
            await ask_step_again(message, state, data, contact)

    @router.callback_query(StateFilter(NextForm.confirm), PickCb.filter(F.f == "nc"))
    async def next_confirm(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, ctx: Ctx
    ) -> None:
        choice = await tapped_value(query, callback_data, state)
        if choice is None or not isinstance(query.message, Message):
            return
        if choice == "change":
            await state.set_state(NextForm.when)
            await edit_text(
                query.message, _("When, then?"), reply_markup=when_keyboard(await card_id(state))
            )
            return
        data = await state.get_data()
        contact = await load(state, ctx)
        if contact is None or "due" not in data:
            typed = " · ".join(t for t in (data.get("what"), data.get("due_shown")) if t)
            return await gone(query.message, state, typed, step=True)
        due, was = datetime.fromisoformat(data["due"]), archived.is_archived(contact)
        if was and choice != archived.RESTORE and not data.get("archived"):
            # archived since the question was asked: no reminder would come, said first
            return await ask_confirm(query.message, due, state, ctx=ctx, what=data.get("what"))
        try:
            async with writing(ctx.session):
                if fresh := await taps.first(ctx.session, **tap_of(query), now=ctx.now()):
                    if was and choice == archived.RESTORE:  # the project's restore: then planned
                        await restore(contact, ctx)
                    await set_step(contact, ctx, text=data.get("what"), due=due, reason=None)
        except svc.AlreadyInTeam as taken:  # a live teammate's card has its phone: not restored
            return await query.message.answer(refused_as_taken(taken.cards))
        if not fresh:
            return  # saved by the first tap
        await state.clear()
        await drop_keyboard(query.message)
        saved = archived.step_saved(
            archived=archived.is_archived(contact), restored_now=was and not contact.archived_at
        )
        await show_card(query.message, await ctx.card(contact), prefix=saved + "\n\n")

    return router
