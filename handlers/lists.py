"""/contacts (a filtered, paged list) and /find."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.context import Ctx
from bot.filters import router_for, staff
from core import limits
from core.contactdata import phone_or_email
from core.contactfields import ENUM_FIELDS, LABEL_GROUP, LIST_FILTERS
from core.listfilter import FLAGS, ContactFilter, Meaning, Typed, fold, parse_words, screen
from core.mentions import is_only_names, is_small_talk, words
from services import contacts as svc
from services import listing, today
from services import media as media_svc
from storage.models import Contact, User
from views import contact_list as list_views
from views import contacts as views
from views import touches as touch_views
from views.callbacks import ListCb
from views.labels import typed_words
from views.rendering import edit_text
from views.states import FindForm

PAGE_SIZE = 8


def meanings(phrase: str) -> list[Meaning]:
    """What a typed phrase means to /contacts (core.listfilter.parse_words): a list (overdue,
    going cold…), "segment"/"owner" before a name, or a status, stage or source — their labels
    (and other words for them: plurals, "е" for "ё") in any language the bot speaks, or else
    their codes ("cold" is the list going cold, not the source "cold outreach")."""
    typed = fold(phrase.strip().strip(".!?,;:").strip())
    out: list[Meaning] = []
    by_code: list[Meaning] = []
    groups = (("flag", "list"), ("keyword", "filter_word"))
    for kind, group in (*groups, *((f, LABEL_GROUP.get(f, f)) for f in LIST_FILTERS)):
        codes = FLAGS if kind == "flag" else ENUM_FIELDS.get(kind, ())
        if code := typed_words(group).get(typed):
            out.append((kind, code))
        elif typed in codes:
            by_code.append((kind, typed))
    return out or by_code


async def typed_filter(ctx: Ctx, text: str) -> Typed:
    """ "/contacts lead #vip overdue": the filter; a segment or an owner named after its word
    is looked up among the viewer's (an owner: a manager's or an admin's people)."""
    segments: dict[str, str] = {}
    owners: dict[str, int] = {}
    said = {m for phrase in text.split() for m in meanings(phrase)}
    if ("keyword", "segment") in said:
        found = await listing.segments_in_scope(ctx.session, ctx.viewer.scope, limit=None)
        segments = {fold(s): s for s in reversed(found)}  # the most used spelling wins
    if ("keyword", "owner") in said and ctx.viewer.leads:
        people = await listing.owners_in_scope(ctx.session, ctx.viewer.scope)
        for person in [ctx.user, *people]:  # "Rita Rep" or "Rita"
            name = fold(person.display_name)
            for key in (name, *name.split()[:1]):
                owners.setdefault(key, person.id)
    return parse_words(text, meanings, segments=segments, owners=owners)


async def checked(ctx: Ctx, flt: ContactFilter) -> tuple[ContactFilter, User | None]:
    """The filter of a button with its owner, checked against the viewer's scope (a forged
    owner is left out, their name unsaid) and the buttons' room."""
    owner = None
    if flt.owner_id is not None:
        owner = await listing.owner_in_scope(ctx.session, ctx.viewer.scope, flt.owner_id)
        if owner is None:
            flt = flt.with_value("owner_id", None)
    if not list_views.fits(flt):
        flt = flt.with_value("segment", None)
    if not list_views.fits(flt):
        flt = flt.with_value("tag", None)
    return flt, owner


async def list_view(
    ctx: Ctx, page: int, flt: ContactFilter, owner: User | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    now = ctx.now()
    shown = await listing.list_page(
        ctx.session,
        ctx.viewer.scope,
        flt,
        page,
        PAGE_SIZE,
        now=now,
        end_of_day=today.end_of_day(now, ctx.viewer.tz),
        settings_cadence=ctx.settings.cadence_days,
    )
    return list_views.contact_list(
        shown.rows,
        total=shown.total,
        page=shown.page,
        page_size=PAGE_SIZE,
        flt=flt,
        owner=owner.display_name if owner is not None else None,
    )


ARCHIVED_FLAGS = ("-a", "--archived")


def find_args(text: str) -> tuple[str, bool]:
    """ "-a anna" -> ("anna", True): archived cards are searched only when asked for."""
    head, _sep, rest = text.strip().partition(" ")
    if head.lower() in ARCHIVED_FLAGS:
        return rest.strip(), True
    return text.strip(), False


FOUND = 10  # cards listed for a search


async def search_and_show(
    message: Message, text: str, ctx: Ctx, found: list[Contact] | None = None
) -> None:
    """/find's answer; ``found``: the search already made for ``text`` (not made again)."""
    query, archived = find_args(text)
    if not query:
        await message.answer(views.find_prompt())
        return
    scope = ctx.viewer.scope
    if found is None or query != text.strip():  # "-a anna": another search
        found = await svc.search(ctx.session, scope, query[:200], FOUND + 1, archived=archived)
    if not found and not archived:
        hidden = await svc.search(ctx.session, scope, query[:200], archived=True)
        if hidden:
            await message.answer(views.only_archived_found(query, len(hidden)))
            return
    if not found:
        await message.answer(views.nothing_found(query, retry=False))
    elif len(found) == 1:
        await views.show_card(message, await ctx.card(found[0]))
    else:  # one more than is shown: "Found 10" said nothing of the 37 others
        text, markup = views.found_list(found[:FOUND], more=len(found) > FOUND)
        await message.answer(text, reply_markup=markup)


async def phone_or_email_alone(message: Message, ctx: Ctx) -> bool:
    return phone_or_email(message.text or "", ctx.settings.default_phone_region) is not None


def create_router() -> Router:
    router = router_for("lists", staff())

    @router.message(Command("contacts"))
    async def list_contacts(
        message: Message, command: CommandObject, ctx: Ctx, state: FSMContext
    ) -> None:
        await state.clear()
        typed = await typed_filter(ctx, (command.args or "").strip())
        if typed.unknown:
            await message.answer(list_views.filter_help(typed.unknown, by_owner=ctx.viewer.leads))
            return
        if typed.conflict is not None:
            await message.answer(list_views.conflict(*typed.conflict))
            return
        if typed.missing_segment is not None and typed.flt.flag != "archived":
            found = await listing.segments_in_scope(ctx.session, ctx.viewer.scope)
            await message.answer(list_views.no_such_segment(typed.missing_segment, found))
            return
        if not list_views.fits(typed.flt):
            await message.answer(list_views.too_long(typed.flt))
            return
        flt, owner = await checked(ctx, typed.flt)
        text, markup = await list_view(ctx, 0, flt, owner)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(ListCb.filter())
    async def list_buttons(query: CallbackQuery, callback_data: ListCb, ctx: Ctx) -> None:
        """The list's buttons: a page, the filter menu, the choice of a filter's value."""
        await query.answer()
        if not isinstance(query.message, Message):
            return
        shows, field, flt = screen(callback_data.f)
        flt, owner = await checked(ctx, flt)
        name = owner.display_name if owner is not None else None
        scope = ctx.viewer.scope
        if shows == "menu":
            text, markup = list_views.filter_menu(flt, by_owner=ctx.viewer.leads, owner=name)
        elif field == "owner" and ctx.viewer.leads:
            people = await listing.owners_in_scope(ctx.session, scope)
            text, markup = list_views.owner_choice(people, flt)
        elif field == "tag":
            tags = await listing.tags_in_scope(ctx.session, scope)
            text, markup = list_views.tag_choice(tags, flt)
        elif field == "segment":
            segments = await listing.segments_in_scope(ctx.session, scope)
            text, markup = list_views.segment_choice(segments, flt)
        elif field in LIST_FILTERS:
            text, markup = list_views.filter_values(field, flt)
        else:
            text, markup = await list_view(ctx, max(0, callback_data.page), flt, owner)
        if shows == "new":  # from another message (/today's): that one stays
            await query.message.answer(text, reply_markup=markup)
        else:
            await edit_text(query.message, text, reply_markup=markup)

    @router.message(Command("find"))
    async def find(message: Message, command: CommandObject, state: FSMContext, ctx: Ctx) -> None:
        query, archived = find_args(command.args or "")
        if not query:  # "/find" or "/find -a": whom? (the archive kept in mind for the answer)
            await state.set_state(FindForm.query)
            await state.set_data({"archived": archived})
            await message.answer(views.find_prompt(archived=archived))
            return
        await state.clear()
        await search_and_show(message, command.args or "", ctx)

    @router.message(FindForm.query, F.text & ~F.text.startswith("/"))
    async def find_text(message: Message, state: FSMContext, ctx: Ctx) -> None:
        archived = (await state.get_data()).get("archived")
        await state.clear()
        text = message.text or ""
        await search_and_show(message, f"-a {text}" if archived else text, ctx)

    @router.message(StateFilter(None), F.text & ~F.text.startswith("/"), phone_or_email_alone)
    async def find_typed_number(message: Message, ctx: Ctx) -> None:
        """A phone number or an e-mail sent on its own: whose is it? (as /find would say)"""
        await search_and_show(message, message.text or "", ctx)

    @router.message(StateFilter(None), F.text & ~F.text.startswith("/"))
    async def typed_alone(message: Message, state: FSMContext, ctx: Ctx) -> None:
        """Text sent on its own: a name or a company is looked up (as /find would); anything
        longer is a note — what happened with a contact — offered to be logged as a touch on
        the card it names, or on one of the rep's latest."""
        text = (message.text or "").strip()
        scope, said = ctx.viewer.scope, words(text)
        hits: list[Contact] = []
        if 0 < len(said) <= 3:  # "Anna Smirnova", "acme": whose card is it?
            hits = await svc.search(ctx.session, scope, text[:200], FOUND + 1)
            if hits and is_only_names(text, hits[0].name, hits[0].company):
                await search_and_show(message, text, ctx, hits)
                return
        named = await svc.mentioned(ctx.session, scope, text)
        if not named and 0 < len(said) <= 3 and all(w[0].isupper() for w in said):
            await search_and_show(message, text, ctx, hits)  # a name: as /find answers it
            return
        if limits.too_long("summary", text):
            await message.answer(touch_views.summary_too_long(text))
            return
        cards = named
        if not named and len(said) >= 2:
            cards = await media_svc.recent_cards(ctx.session, scope, ctx.user.id)
        if (not cards and len(said) < 2) or is_small_talk(text):
            await message.answer(touch_views.not_understood())
            return
        offer, markup = touch_views.note_offer(text, cards, named=bool(named))
        sent = await message.answer(offer, reply_markup=markup)
        await state.update_data(note={"mid": sent.message_id, "text": text})

    return router
