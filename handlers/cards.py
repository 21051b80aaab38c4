"""A contact card's buttons: one handler per action, routed by CardCb's action.

Every handler gets the card already checked against the viewer's scope (bot.middlewares
.CardInScope); it parses the rest of the button, calls one service and renders a view."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.context import Ctx
from bot.filters import router_for, staff
from bot.i18n import _
from bot.middlewares import CardInScope
from bot.routing import FeatureRouter
from core.contactdata import is_name, normalize_tag
from core.contactfields import ENUM_FIELDS, TEXT_FIELDS, TYPED_CHECKS, is_valid_choice
from core.enums import Stage
from core.exchange import split_tags
from services import cards, delivered, followups, merging, taps
from services import contacts as svc
from services.viewer import Viewer
from storage.models import Contact
from storage.uow import writing
from views import contacts as views
from views import delivered as delivered_views
from views import introducers as intro_views
from views import merge as merge_views
from views import timeline as timeline_views
from views.adding import cut_notice
from views.callbacks import CardAction, CardCb
from views.rendering import answer_long, drop_keyboard, edit_text, tap_of
from views.states import EditForm, IntroForm, MergeForm
from views.teamcards import refused_as_taken
from views.touches import note_expired, start_next_step, start_touch_log


async def save_introducer(
    target: Message, ctx: Ctx, contact: Contact, introducer: Contact | None
) -> bool:
    """Record who introduced the card's person (None: nobody), then show the card; a circle
    (the introducer came through this very card) is refused."""
    if introducer is not None and await svc.introduced_through(ctx.session, contact.id, introducer):
        await target.answer(intro_views.loop(contact.name, introducer.name))
        return False
    await followups.set_introducer(
        ctx.session, contact, introducer, actor=ctx.user, now=ctx.now(), rules=ctx.rules
    )
    await views.show_card(target, await ctx.card(contact), prefix=_("Saved.") + "\n\n")
    return True


async def other_card(
    query: CallbackQuery, callback_data: CardCb, contact: Contact, ctx: Ctx
) -> Contact | None:
    """The other card a button names in its value (to merge with, the introducer), checked
    against the viewer's scope: None, and the tapper told, when it is not theirs to see."""
    other_id = int(callback_data.value) if callback_data.value.isdigit() else 0
    other = await svc.get(ctx.session, ctx.viewer.scope, other_id)
    if other is None or other.id == contact.id:
        await query.answer(_("Contact not found."), show_alert=True)
        return None
    await query.answer()
    return other


class StalePreview(Exception):
    """A merge confirmed from a preview that no longer holds (rolls the write block back)."""


def on(*actions: CardAction) -> Any:
    return CardCb.filter(F.action.in_(set(actions)))


def message_of(query: CallbackQuery) -> Message:
    """The message a card's button is on (a card is never sent as an inline message)."""
    assert isinstance(query.message, Message)
    return query.message


async def reply(query: CallbackQuery, rendered: tuple[str, InlineKeyboardMarkup | None]) -> None:
    """Answer the tap, and under the card with a rendered text and its keyboard."""
    text, markup = rendered
    await query.answer()
    await message_of(query).answer(text, reply_markup=markup)


async def stale(query: CallbackQuery) -> None:
    """A button whose choice no longer holds (the field, the value or the person is gone)."""
    await query.answer(_("This button is no longer valid."), show_alert=True)


async def refuse(query: CallbackQuery, taken: svc.AlreadyInTeam) -> None:
    """A change refused because another live card of the team holds the phone (or e-mail)."""
    await query.answer()
    await message_of(query).answer(refused_as_taken(taken.cards))


def create_router() -> Router:
    router = router_for("cards", staff())
    router.callback_query.middleware(CardInScope())

    async def show(
        message: Message, ctx: Ctx, contact: Contact, *, edit: bool = False, prefix: str = ""
    ) -> None:
        await views.show_card(
            message,
            await ctx.card(contact),
            edit=edit,
            prefix=prefix,
        )

    @router.callback_query(on(CardAction.OPEN))
    async def open_card(query: CallbackQuery, contact: Contact, ctx: Ctx) -> None:
        await query.answer()
        await show(message_of(query), ctx, contact)

    @router.callback_query(on(CardAction.STATUS, CardAction.STAGE, CardAction.ASK))
    async def choose_value(query: CallbackQuery, callback_data: CardCb, contact: Contact) -> None:
        field = callback_data.value if callback_data.action is CardAction.ASK else None
        field = field or callback_data.action.value
        if field not in ENUM_FIELDS:
            await stale(query)
            return
        await reply(query, views.choose_value(contact, field))

    @router.callback_query(on(CardAction.SET))
    async def set_value(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, ctx: Ctx
    ) -> None:
        field, _sep, value = callback_data.value.partition("=")
        if not is_valid_choice(field, value):
            await stale(query)
            return
        await followups.change(
            ctx.session, contact, actor=ctx.user, now=ctx.now(), rules=ctx.rules, **{field: value}
        )
        await query.answer(_("Saved."))
        # at "retention & referral" a contact or lead is offered ⭐ Mark as client (conversion
        # and retention count clients: the stage alone leaves them out)
        offer = (field, value) == ("stage", Stage.RETENTION.value)
        offer = offer and delivered.may_become_client(contact)
        data = await ctx.card(contact)
        await views.show_card(message_of(query), data, edit=True, offer_client=offer)

    @router.callback_query(on(CardAction.ARCHIVE, CardAction.RESTORE))
    async def archive_or_restore(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, ctx: Ctx
    ) -> None:
        now, rules = ctx.now(), ctx.rules
        archive = callback_data.action is CardAction.ARCHIVE
        try:
            async with writing(ctx.session):
                if fresh := await taps.first(ctx.session, **tap_of(query), now=now):
                    if archive:
                        await followups.archive(
                            ctx.session, contact, actor=ctx.user, now=now, rules=rules
                        )
                    else:
                        await followups.restore(
                            ctx.session, contact, actor=ctx.user, now=now, rules=rules
                        )
        except svc.AlreadyInTeam as taken:  # restored: a live teammate's card has its phone
            await refuse(query, taken)
            return
        if not fresh:
            await query.answer(_("Already done."))
            return
        await query.answer(_("Archived.") if archive else _("Restored."))
        await show(message_of(query), ctx, contact, edit=True)

    @router.callback_query(on(CardAction.TIMELINE))
    async def timeline(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, ctx: Ctx
    ) -> None:
        await query.answer()
        page = int(callback_data.value) if callback_data.value.isdigit() else 0
        found = await cards.timeline_page(ctx.session, contact, page)
        text, markup = timeline_views.timeline(
            contact,
            found.items,
            found.names,
            page=page,
            more=found.more,
            tz=ctx.viewer.tz,
            lang=ctx.viewer.lang,
        )
        await answer_long(message_of(query), text, reply_markup=markup)

    @router.callback_query(on(CardAction.EDIT))
    async def edit_menu(query: CallbackQuery, contact: Contact, viewer: Viewer) -> None:
        await reply(query, views.edit_menu(contact, leads=viewer.leads))

    @router.callback_query(on(CardAction.EDIT_FIELD))
    async def edit_field(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, state: FSMContext
    ) -> None:
        field = callback_data.value
        if field not in TEXT_FIELDS:
            await stale(query)
            return
        await query.answer()
        await state.set_state(EditForm.value)
        await state.update_data(cid=contact.id, field=field)
        current = (
            getattr(contact, field)
            if field != "tags"
            else " ".join("#" + t for t in svc.tag_list(contact.tags))
        )
        await message_of(query).answer(views.edit_prompt(field, current))

    @router.callback_query(on(CardAction.MERGE))
    async def merge_ask(query: CallbackQuery, contact: Contact, state: FSMContext) -> None:
        await query.answer()
        await state.set_state(MergeForm.query)
        await state.update_data(cid=contact.id)
        await message_of(query).answer(views.merge_prompt(contact))

    @router.callback_query(on(CardAction.MERGE_WITH))
    async def merge_with(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, ctx: Ctx
    ) -> None:
        """The first tap only shows what the merge would do: it cannot be undone."""
        other = await other_card(query, callback_data, contact, ctx)
        if other is None:
            return
        found = await merging.preview(ctx.session, contact, other)
        text, markup = merge_views.preview(found, tz=ctx.viewer.tz, lang=ctx.viewer.lang)
        await message_of(query).answer(text, reply_markup=markup)

    @router.callback_query(on(CardAction.MERGE_OK))
    async def merge_confirmed(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, ctx: Ctx, state: FSMContext
    ) -> None:
        other_id, _sep, stamp = callback_data.value.partition(".")
        now, scope = ctx.now(), ctx.viewer.scope
        try:
            async with writing(ctx.session):
                if fresh := await taps.first(ctx.session, **tap_of(query), now=now):
                    # both cards again, in the scope and as they are now: the preview still holds?
                    keep = await svc.get(ctx.session, scope, contact.id)
                    other = await svc.get(ctx.session, scope, int(other_id or 0))
                    if keep is None or other is None or other.id == keep.id:
                        raise StalePreview
                    if (await merging.preview(ctx.session, keep, other)).stamp != stamp:
                        raise StalePreview
                    await followups.merge(
                        ctx.session, keep, other, actor=ctx.user, now=now, rules=ctx.rules
                    )
        except StalePreview:  # nothing written, the tap not recorded either
            await query.answer(merge_views.stale(), show_alert=True)
            await drop_keyboard(message_of(query))
            return
        if not fresh:
            await query.answer(merge_views.already_merged())
            return
        await query.answer(_("Merged."))
        await state.clear()
        await drop_keyboard(message_of(query))
        await show(message_of(query), ctx, contact, prefix=_("Merged.") + "\n\n")

    @router.callback_query(on(CardAction.MERGE_NO))
    async def merge_cancelled(query: CallbackQuery, state: FSMContext) -> None:
        await query.answer()
        await state.clear()
        await edit_text(message_of(query), merge_views.cancelled())

    @router.callback_query(on(CardAction.INTRO))
    async def intro_ask(
        query: CallbackQuery, contact: Contact, ctx: Ctx, state: FSMContext
    ) -> None:
        await query.answer()
        await state.set_state(IntroForm.query)
        await state.update_data(cid=contact.id)
        introducer = await cards.introducer_name(ctx.session, contact)
        await message_of(query).answer(views.intro_prompt(contact, introducer))

    @router.callback_query(on(CardAction.INTRO_BY))
    async def intro_by(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, ctx: Ctx, state: FSMContext
    ) -> None:
        other = await other_card(query, callback_data, contact, ctx)
        if other is None:
            return
        await drop_keyboard(message_of(query))
        if await save_introducer(message_of(query), ctx, contact, other):
            await state.clear()

    @router.callback_query(on(CardAction.OWNER))
    async def owner_pick(query: CallbackQuery, contact: Contact, ctx: Ctx) -> None:
        people = await svc.owner_candidates(ctx.session, ctx.viewer.scope, contact)
        if not ctx.viewer.leads or not people:
            await query.answer(_("There is nobody to hand this card to."), show_alert=True)
            return
        await reply(query, views.owner_picker(contact, people))

    @router.callback_query(on(CardAction.OWNER_TO))
    async def owner_to(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, ctx: Ctx
    ) -> None:
        people = await svc.owner_candidates(ctx.session, ctx.viewer.scope, contact)
        chosen = next((p for p in people if str(p.id) == callback_data.value), None)
        if not ctx.viewer.leads or chosen is None:
            await stale(query)
            return
        try:
            await followups.change_owner(
                ctx.session, contact, chosen, actor=ctx.user, now=ctx.now(), rules=ctx.rules
            )
        except svc.AlreadyInTeam as taken:
            await refuse(query, taken)
            return
        await query.answer(_("Saved."))
        prefix = _("{name} now owns this card.").format(name=views.h(chosen.display_name))
        await show(message_of(query), ctx, contact, prefix=prefix + "\n\n")

    @router.callback_query(on(CardAction.NOTES))
    async def full_notes(query: CallbackQuery, contact: Contact) -> None:
        await query.answer()
        await answer_long(message_of(query), views.full_notes_text(contact))

    @router.callback_query(on(CardAction.VERIFY))
    async def verify(query: CallbackQuery, contact: Contact, ctx: Ctx) -> None:
        now = ctx.now()
        async with writing(ctx.session):
            if fresh := await taps.first(ctx.session, **tap_of(query), now=now):
                await followups.mark_verified(
                    ctx.session, contact, actor=ctx.user, now=now, rules=ctx.rules
                )
        await query.answer(_("Marked as verified.") if fresh else _("Already done."))

    @router.callback_query(on(CardAction.DELIVERED))
    async def deliver(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, ctx: Ctx, bot: Bot
    ) -> None:
        await query.answer()
        done = await delivered.deliver(
            ctx.session,
            contact,
            actor=ctx.user,
            now=ctx.now(),
            rules=ctx.survey_rules,
            tap=tap_of(query),
        )
        message = message_of(query)
        if done.touch is None:
            await message.answer(delivered_views.already_logged(contact))
            return
        on_card = callback_data.value != delivered_views.PICKED
        offer = delivered.may_become_client(contact)
        await message.answer(
            delivered_views.logged(contact),
            reply_markup=None if on_card else delivered_views.logged_keyboard(contact),
        )
        await delivered_views.tell(
            message, done, contact, bot=bot, settings=ctx.settings, lang=ctx.viewer.lang
        )
        if on_card and offer:  # the card itself offers ⭐ Mark as client (and shows the touch)
            data = await ctx.card(contact)
            await views.show_card(message, data, edit=True, offer_client=True)

    @router.callback_query(on(CardAction.CLIENT))
    async def make_client(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, ctx: Ctx
    ) -> None:
        changed = await delivered.make_client(
            ctx.session, contact, actor=ctx.user, now=ctx.now(), follow=ctx.rules
        )
        message = message_of(query)
        on_card = callback_data.value == views.ON_CARD
        if not changed:
            await query.answer(delivered_views.not_marked_client(contact))
        else:
            await query.answer(_("Saved."))
        if on_card:  # the card again, without the offer (and with the new status)
            await show(message, ctx, contact, edit=True)
        elif changed:
            await edit_text(message, delivered_views.marked_client(contact))
        else:
            await drop_keyboard(message)

    @router.callback_query(on(CardAction.NOTE_LOG))
    async def log_note(query: CallbackQuery, contact: Contact, state: FSMContext) -> None:
        """A card picked for a note typed outside any dialogue: the note is the touch's summary."""
        message = message_of(query)
        note = (await state.get_data()).get("note") or {}
        if note.get("mid") != message.message_id or not note.get("text"):
            await query.answer(note_expired(), show_alert=True)
            return
        await query.answer()
        await drop_keyboard(message)
        await start_touch_log(message, state, contact, summary=note["text"], typed=True)

    @router.callback_query(on(CardAction.LOG, CardAction.FORWARD_LOG))
    async def log_touch(
        query: CallbackQuery, callback_data: CardCb, contact: Contact, state: FSMContext
    ) -> None:
        await query.answer()
        forwarded = callback_data.action is CardAction.FORWARD_LOG
        summary = (await state.get_data()).get("fwd_summary", "") if forwarded else ""
        await start_touch_log(message_of(query), state, contact, summary=summary)

    @router.callback_query(on(CardAction.NEXT))
    async def next_step(query: CallbackQuery, contact: Contact, state: FSMContext) -> None:
        await query.answer()
        await start_next_step(message_of(query), state, contact)

    return router


def create_dialogue_router() -> Router:
    """The card's typed answers: a new value for a field, the card to merge with."""
    router = FeatureRouter(name="card-dialogues")
    router.message.filter(staff())

    @router.message(MergeForm.query, F.text & ~F.text.startswith("/"))
    async def merge_pick(message: Message, state: FSMContext, ctx: Ctx) -> None:
        cid = int((await state.get_data()).get("cid", 0))
        text = (message.text or "")[:200]
        found = [c for c in await svc.search(ctx.session, ctx.viewer.scope, text) if c.id != cid]
        if not found:
            await message.answer(views.nothing_found(text, retry=True))
            return
        question, markup = views.merge_candidates(cid, found)
        await message.answer(question, reply_markup=markup)

    @router.message(IntroForm.query, F.text & ~F.text.startswith("/"))
    async def intro_pick(message: Message, state: FSMContext, ctx: Ctx) -> None:
        cid = int((await state.get_data()).get("cid", 0))
        contact = await svc.get(ctx.session, ctx.viewer.scope, cid)
        text = (message.text or "").strip()[:200]
        if contact is None:
            await state.clear()
            await message.answer(_("Contact not found."))
            return
        if text == "-":
            await state.clear()
            await save_introducer(message, ctx, contact, None)
            return
        hits = await svc.search(ctx.session, ctx.viewer.scope, text)
        found = [c for c in hits if c.id != cid]
        if not found and hits:  # only the card itself: not "Nothing found"
            await message.answer(intro_views.itself(contact.name))
        elif not found:
            await message.answer(views.nothing_found(text, retry=True))
        elif len(found) == 1:
            if await save_introducer(message, ctx, contact, found[0]):
                await state.clear()  # a circle refused: the name is asked again
        else:
            question, markup = views.intro_candidates(cid, found)
            await message.answer(question, reply_markup=markup)

    @router.message(EditForm.value, F.text)
    async def edit_value(message: Message, ctx: Ctx, state: FSMContext) -> None:
        assert message.text is not None
        data = await state.get_data()
        contact = await svc.get(ctx.session, ctx.viewer.scope, int(data.get("cid", 0)))
        field = data.get("field", "")
        if contact is None or field not in TEXT_FIELDS:
            await state.clear()
            await message.answer(_("Contact not found."))
            return
        raw = message.text.strip()
        value: Any = None if raw == "-" else raw
        if field == "name" and value is None:
            await message.answer(_("The name cannot be empty. Send a name, or /cancel."))
            return
        if field == "name" and not is_name(raw):
            await message.answer(views.not_a_name(raw))
            return
        check = TYPED_CHECKS.get(field)
        if value is not None and check is not None:
            value = check(raw, ctx.settings.default_phone_region)
            if value is None:
                await message.answer(views.bad_typed_value(field, raw))
                return
        if field == "tags":  # "b;c", "#a, b" as /import reads them; nothing dropped unsaid
            value = split_tags(raw) if value else []
            if bad := [t for t in value if normalize_tag(t) is None]:
                await message.answer(views.bad_tags(bad))
                return
        try:
            await followups.change(
                ctx.session,
                contact,
                actor=ctx.user,
                now=ctx.now(),
                rules=ctx.rules,
                **{field: value},
            )
        except svc.AlreadyInTeam as taken:
            await state.clear()
            await message.answer(refused_as_taken(taken.cards))
            return
        await state.clear()
        if field == "notes" and views.notes_are_long(contact.notes):
            await answer_long(message, views.full_notes_text(contact))  # what was saved, in full
        cut = cut_notice({field: raw}) if field != "tags" else ""
        await views.show_card(
            message,
            await ctx.card(contact),
            prefix=_("Saved.") + (" " + cut if cut else "") + "\n\n",
        )

    return router
