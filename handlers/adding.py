"""Adding a contact: quick add, the /add dialogue, a shared contact or a picked person, a
forwarded message, and the "possible duplicate" choice every add goes through."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from bot.context import Ctx
from bot.filters import router_for, staff
from bot.i18n import _
from bot.middlewares import back_already, take_back
from core.contactdata import normalize_email, normalize_phone, phone_or_email
from core.contactfields import is_valid_choice
from core.contactpaste import looks_like_contact
from core.quickadd import QuickAdd, parse_quick_add
from services import contacts as svc
from services import followups, taps
from services import media as media_svc
from storage.uow import writing
from views import adding as adding_views
from views import contacts as views
from views import media as media_views
from views import paste as paste_views
from views.callbacks import CardAction, CardCb, DupAction, DupCb, PickCb, ResumeCb, of_card
from views.rendering import drop_keyboard, edit_text, tap_of
from views.states import AddForm
from views.teamcards import duplicate_prompt, left_out_text, not_merged_text
from views.touches import NOTE_NEW, NOTE_PICK, start_touch_log, tapped_note

ORDER = [
    AddForm.name,
    AddForm.company,
    AddForm.position,
    AddForm.phone,
    AddForm.email,
    AddForm.kind,
    AddForm.source,
    AddForm.influence,
]
TYPED = (AddForm.company, AddForm.position, AddForm.phone, AddForm.email)
CHOICES = (AddForm.kind, AddForm.source, AddForm.influence)
PICKED = (*TYPED, *CHOICES)


def field_of(step: State) -> str:
    assert step.state is not None
    return step.state.split(":")[1]


async def save_or_ask_duplicate(
    target: Message,
    *,
    ctx: Ctx,
    data: dict[str, Any],
    tags: list[str],
    state: FSMContext,
    notice: str = "",
) -> None:
    """Every add goes through here: a possible duplicate, or a card of the team with the same
    phone, e-mail or Telegram id, is shown before anything is saved; a value cut to fit its
    field is said."""
    notice = "\n".join(n for n in (notice, adding_views.cut_notice(data)) if n)
    scope = ctx.viewer.scope
    introducer = None
    if data.get("introduced_by_id"):  # a promoter's recommendation: their card, still in scope
        introducer = await svc.get(ctx.session, scope, int(data["introduced_by_id"]))
        if introducer is None:
            data = {k: v for k, v in data.items() if k != "introduced_by_id"}
    # the team's cards are read last: on PostgreSQL each statement sees the latest commits, so
    # a teammate's card that the look-alike search saw is then named as in the team, too
    found = await svc.duplicates(
        ctx.session,
        scope,
        name=data.get("name"),
        company=data.get("company"),
        phone=data.get("phone"),
        email=data.get("email"),
        tg_user_id=data.get("tg_user_id"),
    )
    conflicts = await svc.team_conflicts(
        ctx.session, team_id=ctx.user.team_id, owner_id=ctx.user.id, values=data, viewer=scope
    )
    # a typed note's card (➕ New card) is logged on once saved — only from the dialogue it
    # began, never by a later add that finds the note left behind
    current = await state.get_state() or ""
    note = (await state.get_data()).get("touch_note") if current.startswith("AddForm") else None
    added = None
    if not conflicts and not found:
        async with writing(ctx.session):
            added = await svc.add(
                ctx.session, owner=ctx.user, data=data, tags=tags, now=ctx.now(), viewer=scope
            )
            photo = await attach_card_photo(added.contact, state, ctx)
        conflicts = added.conflicts  # a card with its phone was saved a moment before
    if added is None or added.contact is None:
        await state.set_state(None)
        await state.update_data(pending=data, pending_tags=tags, touch_note=note)
        text, markup = duplicate_prompt(conflicts, found)
        await target.answer(adding_views.with_notice(notice, text), reply_markup=markup)
        return
    await state.clear()
    text, markup = adding_views.saved(
        added.contact, introduced_by=introducer.name if introducer else None
    )
    if photo:
        text += "\n" + media_views.attached_to_card(added.contact.name)
    await target.answer(adding_views.with_notice(notice, text), reply_markup=markup)
    await log_the_note(target, state, added.contact, note)


async def typed_in_add(state: FSMContext) -> dict[str, Any]:
    """What the /add dialogue holds (a phone typed first, a recommendation's source and
    introducer) when a Telegram contact is shared or a person picked in it: kept, under the
    shared values."""
    if not (await state.get_state() or "").startswith("AddForm"):
        return {}
    return dict((await state.get_data()).get("form") or {})


async def log_the_note(target: Message, state: FSMContext, contact: Any, note: str | None) -> None:
    """A card added for a typed note (➕ New card): the note is logged on it next, as its
    summary — the kind and the direction are asked as for any note."""
    if note and contact is not None:
        await start_touch_log(target, state, contact, summary=note, typed=True)


async def _pending_choice(
    query: CallbackQuery, state: FSMContext
) -> tuple[Message, dict[str, Any]] | None:
    """The message and the dialogue data of a choice on a possible duplicate; None (the reader
    told when the choice has expired) when there is nothing to choose for any more."""
    await query.answer()
    if not isinstance(query.message, Message):
        return None
    data = await state.get_data()
    if not data.get("pending"):
        await query.message.answer(_("This choice has expired. Add the contact again."))
        return None
    return query.message, data


async def attach_card_photo(contact: Any, state: FSMContext, ctx: Ctx) -> bool:
    """A business card's photo sent while adding goes on the new (or kept) card."""
    photo = media_svc.from_state([(await state.get_data()).get("card_photo") or {}])
    if contact is None or not photo:
        return False
    await media_svc.keep_on_card(
        ctx.session, contact, author_id=ctx.user.id, media=photo, now=ctx.now()
    )
    return True


async def pasted_contact(message: Message, ctx: Ctx) -> dict[str, Any] | bool:
    """A filter: the fields of a plain text that looks like a contact."""
    found = looks_like_contact(message.text or "", ctx.settings.default_phone_region)
    return {"pasted": found} if found is not None else False


def create_router() -> Router:
    router = router_for("adding", staff())

    @router.message(Command("add"))
    async def add(message: Message, command: CommandObject, ctx: Ctx, state: FSMContext) -> None:
        await state.clear()
        if message.photo and (photo := media_views.incoming(message)):  # "/add …" as a caption
            await state.update_data(card_photo=photo.as_dict())
        if not command.args:
            await state.set_state(AddForm.name)
            await state.update_data(form={})
            if message.photo:
                await message.answer(media_views.kept_for_card())
            text, keyboard = adding_views.add_prompt()
            await message.answer(text, reply_markup=keyboard)
            return
        parsed = parse_quick_add(command.args, ctx.settings.default_phone_region)
        if not parsed.name:
            typed = {k: v for k, v in parsed.card_fields().items() if v}
            if not typed and not parsed.tags:
                notice = adding_views.problems_text(parsed.problems)
                await message.answer(
                    adding_views.with_notice(notice, adding_views.quick_add_needs_name())
                )
                return
            # "/add +7 999 111-22-33": what was typed is kept while the name is asked
            await state.set_state(AddForm.name)
            await state.update_data(form=typed, tags=list(parsed.tags))
            notice = adding_views.problems_text(parsed.problems)
            read = adding_views.name_step_read(typed, list(parsed.tags))
            await message.answer(
                adding_views.with_notice(
                    adding_views.with_notice(notice, read), adding_views.name_question()
                )
            )
            return
        await save_or_ask_duplicate(
            message,
            ctx=ctx,
            data=parsed.card_fields(),
            tags=list(parsed.tags),
            state=state,
            notice=adding_views.problems_text(parsed.problems),
        )

    async def dialogue_n(state: FSMContext, target: Message) -> int:
        """The /add dialogue's own number, which its buttons carry (the message that asked its
        first question; set the first time a button is drawn)."""
        n = (await state.get_data()).get("n")
        if n is None:
            n = target.message_id
            await state.update_data(n=n)
        return int(n)

    async def next_question(
        target: Message, state: FSMContext, current: State, *, ctx: Ctx
    ) -> None:
        data = await state.get_data()
        form = data.get("form", {})
        later = ORDER[ORDER.index(current) + 1 :]
        if data.get("touch_note"):
            later = []  # a card for a note: the name is enough, the rest fills in later
        nxt = next((step for step in later if not form.get(field_of(step))), None)
        if nxt is None:
            tags = (await state.get_data()).get("tags", [])
            await save_or_ask_duplicate(target, ctx=ctx, data=form, tags=tags, state=state)
            return
        await state.set_state(nxt)
        kind = (await state.get_data()).get("form", {}).get("kind")
        n = await dialogue_n(state, target)
        text, markup = adding_views.wizard_question(field_of(nxt), kind, n)
        await target.answer(text, reply_markup=markup)

    @router.message(AddForm.name, F.text & ~F.text.startswith("/"))
    async def wizard_name(message: Message, state: FSMContext, ctx: Ctx) -> None:
        assert message.text is not None
        parsed = parse_quick_add(message.text, ctx.settings.default_phone_region)
        if not parsed.more_than_a_name:
            name = " ".join(message.text.split())  # cut when saved, and said
            form = (await state.get_data()).get("form", {})  # a phone or e-mail sent before it
            await state.update_data(form={**form, "name": name})
            await message.answer(adding_views.name_typed(name), reply_markup=ReplyKeyboardRemove())
            await next_question(message, state, AddForm.name, ctx=ctx)
            return
        # the whole contact in one line, as /add takes it ("Anna, Acme, CFO, +7 916…"), or a
        # phone or an e-mail before the name: every part kept where it belongs
        data = await state.get_data()
        form = {**data.get("form", {}), **{k: v for k, v in parsed.card_fields().items() if v}}
        tags = list(dict.fromkeys([*data.get("tags", []), *parsed.tags]))
        await state.update_data(form=form, tags=tags)
        notice = adding_views.problems_text(parsed.problems)
        read = adding_views.name_step_read(form, tags)
        if not form.get("name"):
            text = adding_views.with_notice(notice, read) if read else notice
            await message.answer(
                adding_views.with_notice(text, adding_views.name_question()),
                reply_markup=ReplyKeyboardRemove(),
            )
            return
        await message.answer(
            adding_views.with_notice(notice, read), reply_markup=ReplyKeyboardRemove()
        )
        await next_question(message, state, AddForm.name, ctx=ctx)

    @router.message(StateFilter(*TYPED), F.text & ~F.text.startswith("/"))
    async def wizard_text(message: Message, state: FSMContext, ctx: Ctx) -> None:
        assert message.text is not None
        current = await state.get_state()
        step = next(s for s in ORDER if s.state == current)
        field = field_of(step)
        if adding_views.is_skip(message.text):  # "-" or "skip": as the Skip button ("-" was saved)
            await next_question(message, state, step, ctx=ctx)
            return
        value: str | None = " ".join(message.text.split())
        if field == "phone":
            value = normalize_phone(message.text, ctx.settings.default_phone_region)
        elif field == "email":
            value = normalize_email(message.text)
        elif (other := phone_or_email(message.text, ctx.settings.default_phone_region)) is not None:
            # a phone or an e-mail sent as the company or the position: kept where it belongs
            form = (await state.get_data()).get("form", {})
            form[other[0]] = other[1]
            await state.update_data(form=form)
            text, markup = adding_views.wizard_question(
                field, None, await dialogue_n(state, message)
            )
            await message.answer(
                adding_views.taken_as(other[0], other[1]) + "\n\n" + text, reply_markup=markup
            )
            return
        if value is None:
            await message.answer(
                adding_views.wizard_bad_value(field, message.text),
                reply_markup=adding_views.skip_keyboard(field, await dialogue_n(state, message)),
            )
            return
        form = (await state.get_data()).get("form", {})
        form[field] = value
        await state.update_data(form=form)
        await next_question(message, state, step, ctx=ctx)

    @router.message(StateFilter(*CHOICES), F.text & ~F.text.startswith("/"))
    async def wizard_choice_typed(message: Message, state: FSMContext, ctx: Ctx) -> None:
        """Text at a step answered by buttons: a choice typed as its label ("B2B",
        "мероприятие") or Skip is taken as the tap; anything else gets the question again."""
        assert message.text is not None
        current = await state.get_state()
        step = next(s for s in ORDER if s.state == current)
        field = field_of(step)
        form = (await state.get_data()).get("form", {})
        if not adding_views.is_skip(message.text):
            code = adding_views.typed_choice(field, message.text, form.get("kind"))
            if code is None:
                text, markup = adding_views.not_a_choice(
                    field, message.text, form.get("kind"), await dialogue_n(state, message)
                )
                await message.answer(text, reply_markup=markup)
                return
            await state.update_data(form={**form, field: code})
        await next_question(message, state, step, ctx=ctx)

    @router.callback_query(StateFilter(*PICKED), PickCb.filter())
    async def wizard_pick(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, ctx: Ctx
    ) -> None:
        current = await state.get_state()
        step = next(s for s in ORDER if s.state == current)
        field = field_of(step)
        value, n = of_card(callback_data.v)
        skip = callback_data.f == "skip"
        if (
            n != str((await state.get_data()).get("n"))
            or (value if skip else callback_data.f) != field
        ):
            # under an earlier question, or another /add's: the one asked now stays
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        if not skip:
            if not is_valid_choice(field, value):
                return
            form = (await state.get_data()).get("form", {})
            form[field] = value
            await state.update_data(form=form)
        if isinstance(query.message, Message):
            await drop_keyboard(query.message)
            await next_question(query.message, state, step, ctx=ctx)

    @router.callback_query(PickCb.filter((F.f == NOTE_PICK) & (F.v == NOTE_NEW)))
    async def note_new_card(query: CallbackQuery, state: FSMContext, ctx: Ctx) -> None:
        """➕ New card under a typed note: a card is added — named as typed at "Touch with
        whom?", or the name asked — and the note is logged on it."""
        tapped = await tapped_note(query, state)
        if tapped is None:
            return
        message, note = tapped
        form = note.get("form") or {}
        await state.set_state(AddForm.name)
        await state.set_data({"form": form, "touch_note": note["text"]})
        if form.get("name"):
            await next_question(message, state, AddForm.name, ctx=ctx)
            return
        text, keyboard = adding_views.add_prompt(for_note=True)
        await message.answer(text, reply_markup=keyboard)

    @router.callback_query(CardCb.filter(F.action == CardAction.REFERRAL))
    async def referral_add(
        query: CallbackQuery, callback_data: CardCb, state: FSMContext, ctx: Ctx
    ) -> None:
        """➕ Add the person they recommend, under a promoter's words: the /add dialogue, the
        card's source a referral and its introducer the promoter."""
        promoter = await svc.get(ctx.session, ctx.viewer.scope, callback_data.id)
        if promoter is None or not isinstance(query.message, Message):
            await query.answer(_("Contact not found."), show_alert=True)
            return
        await query.answer()
        await state.clear()
        await state.set_state(AddForm.name)
        await state.update_data(form={"source": "referral", "introduced_by_id": promoter.id})
        text, keyboard = adding_views.add_prompt(introduced_by=promoter.name)
        await query.message.answer(text, reply_markup=keyboard)

    @router.callback_query(ResumeCb.filter(F.d == "add"))
    async def resume(query: CallbackQuery, callback_data: ResumeCb, state: FSMContext) -> None:
        """Back into the /add dialogue a command left, at the question it was at."""
        await query.answer()
        if not isinstance(query.message, Message) or await back_already(state, callback_data.n):
            return  # a second tap: the dialogue it took back is open now
        back = await take_back(state, callback_data.n)
        at, data = back or (None, {})
        step = next((s for s in ORDER if s.state == at), None)
        await drop_keyboard(query.message)
        if step is None or step is AddForm.name:
            await query.message.answer(adding_views.draft_gone())
            return
        await state.set_state(step)
        await state.set_data(data)
        kind = data.get("form", {}).get("kind")
        n = await dialogue_n(state, query.message)
        text, markup = adding_views.wizard_question(field_of(step), kind, n)
        await query.message.answer(text, reply_markup=markup)

    # ------------------------------------------------------------------ shared contacts, picks
    @router.message(F.contact)
    async def shared_contact(message: Message, state: FSMContext, ctx: Ctx) -> None:
        assert message.contact is not None
        c = message.contact
        data = {
            "name": " ".join(x for x in (c.first_name, c.last_name) if x),
            "phone": normalize_phone(c.phone_number, ctx.settings.default_phone_region),
            "tg_user_id": c.user_id,
        }
        await message.answer(_("Contact card received."), reply_markup=ReplyKeyboardRemove())
        data = {**await typed_in_add(state), **{k: v for k, v in data.items() if v}}
        await save_or_ask_duplicate(message, ctx=ctx, data=data, tags=[], state=state)

    @router.message(F.users_shared)
    async def picked_user(message: Message, state: FSMContext, ctx: Ctx) -> None:
        assert message.users_shared is not None
        shared = message.users_shared.users[0]
        name = " ".join(x for x in (shared.first_name, shared.last_name) if x) or (
            f"@{shared.username}" if shared.username else str(shared.user_id)
        )
        data = {"name": name, "tg_user_id": shared.user_id, "tg_username": shared.username}
        await message.answer(_("Person picked."), reply_markup=ReplyKeyboardRemove())
        data = {**await typed_in_add(state), **{k: v for k, v in data.items() if v}}
        await save_or_ask_duplicate(message, ctx=ctx, data=data, tags=[], state=state)

    # ------------------------------------------------------------------ forwarded messages
    @router.message(F.forward_origin)
    async def forwarded(message: Message, state: FSMContext, ctx: Ctx) -> None:
        origin = message.forward_origin
        data: dict[str, Any]
        if origin.type == "user":  # type: ignore[union-attr]
            sender = origin.sender_user  # type: ignore[union-attr]
            name = " ".join(x for x in (sender.first_name, sender.last_name) if x)
            data = {"name": name, "tg_user_id": sender.id, "tg_username": sender.username}
        elif origin.type == "hidden_user":  # type: ignore[union-attr]
            data = {"name": origin.sender_user_name}  # type: ignore[union-attr]
        else:
            await message.answer(adding_views.forward_not_from_a_person())
            return
        summary = (message.text or message.caption or "")[:1000]
        await state.clear()
        await state.update_data(pending=data, pending_tags=[], fwd_summary=summary)
        existing = await svc.duplicates(
            ctx.session, ctx.viewer.scope, name=data["name"], tg_user_id=data.get("tg_user_id")
        )
        text, markup = adding_views.forwarded_prompt(data["name"], existing)
        await message.answer(text, reply_markup=markup)

    # ------------------------------------------------------------------ a pasted contact
    @router.message(StateFilter(None), F.text & ~F.text.startswith("/"), pasted_contact)
    async def pasted(message: Message, pasted: QuickAdd, state: FSMContext) -> None:
        data = pasted.card_fields()  # no notes: a text with any reads as a message
        text, markup = paste_views.offer(data, list(pasted.tags))
        sent = await message.answer(text, reply_markup=markup)
        await state.update_data(paste={"mid": sent.message_id, "data": data, "tags": pasted.tags})

    @router.callback_query(paste_views.PasteCb.filter())
    async def paste_answer(
        query: CallbackQuery, callback_data: paste_views.PasteCb, ctx: Ctx, state: FSMContext
    ) -> None:
        await query.answer()
        if not isinstance(query.message, Message):
            return
        paste = (await state.get_data()).get("paste") or {}
        if paste.get("mid") != query.message.message_id:
            await drop_keyboard(query.message)
            await query.message.answer(paste_views.expired())
            return
        await state.update_data(paste=None)
        await drop_keyboard(query.message)
        if callback_data.a != "add":
            await query.message.answer(paste_views.not_added())
            return
        await save_or_ask_duplicate(
            query.message, ctx=ctx, data=paste["data"], tags=list(paste["tags"]), state=state
        )

    # ------------------------------------------------------------------ duplicates
    @router.callback_query(DupCb.filter(F.action == DupAction.OPEN))
    async def duplicate_open(query: CallbackQuery, callback_data: DupCb, ctx: Ctx) -> None:
        await query.answer()
        if not isinstance(query.message, Message):
            return
        contact = await svc.get(ctx.session, ctx.viewer.scope, callback_data.id)
        if contact is None:
            await query.message.answer(_("Contact not found."))
            return
        await views.show_card(query.message, await ctx.card(contact))

    @router.callback_query(DupCb.filter(F.action == DupAction.ADD))
    async def duplicate_add(query: CallbackQuery, ctx: Ctx, state: FSMContext) -> None:
        chosen = await _pending_choice(query, state)
        if chosen is None:
            return
        message, data = chosen
        pending = data["pending"]
        now = ctx.now()
        async with writing(ctx.session):
            if fresh := await taps.first(ctx.session, **tap_of(query), now=now):
                added = await svc.add(
                    ctx.session,
                    owner=ctx.user,
                    data=pending,
                    tags=data.get("pending_tags", []),
                    now=now,
                    viewer=ctx.viewer.scope,
                    anyway=True,
                )
                photo = await attach_card_photo(added.contact, state, ctx)
        if not fresh:
            return  # added by the first tap
        await state.clear()
        assert added.contact is not None
        text, markup = adding_views.saved(
            added.contact, left_out=left_out_text(added.left_out, pending)
        )
        if photo:
            text += "\n" + media_views.attached_to_card(added.contact.name)
        await edit_text(message, text, reply_markup=markup)
        await log_the_note(message, state, added.contact, data.get("touch_note"))

    @router.callback_query(DupCb.filter(F.action == DupAction.MERGE))
    async def duplicate_merge(
        query: CallbackQuery, callback_data: DupCb, ctx: Ctx, state: FSMContext
    ) -> None:
        chosen = await _pending_choice(query, state)
        if chosen is None:
            return
        message, data = chosen
        pending = data["pending"]
        keep = await svc.get(ctx.session, ctx.viewer.scope, callback_data.id)
        if keep is None:
            await message.answer(_("Contact not found."))
            return
        now = ctx.now()
        taken, differ = [], []
        async with writing(ctx.session):
            if fresh := await taps.first(ctx.session, **tap_of(query), now=now):
                taken, differ = await followups.merge_into(
                    ctx.session,
                    keep,
                    pending,
                    tags=data.get("pending_tags", []),
                    actor=ctx.user,
                    now=now,
                    rules=ctx.rules,
                )
                await attach_card_photo(keep, state, ctx)
        if not fresh:
            return  # merged by the first tap
        await state.clear()
        said = "\n".join(
            t for t in (left_out_text(taken, pending), not_merged_text(differ, pending, keep)) if t
        )
        await views.show_card(
            message,
            await ctx.card(keep),
            prefix=_("Merged.") + "\n" + (said + "\n" if said else "") + "\n",
        )
        await log_the_note(message, state, keep, data.get("touch_note"))

    return router
