"""/contacts (a filtered, paged list) and /find."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.context import Ctx
from bot.filters import router_for, staff
from core import limits
from core.contactdata import normalize_tag, phone_or_email
from core.contactfields import ENUM_FIELDS, LABEL_GROUP, LIST_FILTERS
from core.mentions import is_only_names, is_small_talk, words
from services import contacts as svc
from services import listing
from services import media as media_svc
from storage.models import Contact, User
from views import contacts as views
from views import touches as touch_views
from views.callbacks import ListCb
from views.labels import typed_code
from views.rendering import edit_text
from views.states import FindForm

PAGE_SIZE = 8


SORT_BY_TOUCH = views.SORT_BY_TOUCH
FLAGS = ("overdue", "cold")  # filters without a value ("overdue=1")


def split_sort(f: str) -> tuple[str, bool]:
    """ "status=lead~t" -> ("status=lead", True)."""
    if f.endswith(SORT_BY_TOUCH):
        return f[: -len(SORT_BY_TOUCH)], True
    return f, False


def filter_from_text(arg: str) -> str:
    """ "#event" -> "tag=event"; "lead" -> "status=lead"; "overdue" -> "overdue=1"; "" when it
    is none of these."""
    if arg.startswith("#"):
        tag = normalize_tag(arg)
        return f"tag={tag}" if tag else ""
    code = arg.lower()
    if code in FLAGS:
        return f"{code}=1"
    for field in LIST_FILTERS:
        if code in ENUM_FIELDS[field]:
            return f"{field}={code}"
    for field in LIST_FILTERS:  # a label, as the cards show it ("лид", "вебинар", "развитие")
        if (typed := typed_code(LABEL_GROUP.get(field, field), arg)) in ENUM_FIELDS[field]:
            return f"{field}={typed}"
    return ""


def parse_filter(f: str) -> listing.ContactFilter:
    f, by_touch = split_sort(f)
    flt = listing.ContactFilter(by_touch=by_touch)
    field, _sep, value = f.partition("=")
    if field in LIST_FILTERS and value in ENUM_FIELDS.get(field, ()):
        setattr(flt, field, value)
    elif field == "tag" and value:
        flt.tag = value
    elif field == "archived":
        flt.archived = True
    elif field in FLAGS:
        setattr(flt, field, True)
    elif field == "owner" and value.isdigit():
        flt.owner_id = int(value)  # only cards in the viewer's scope are ever listed
    return flt


async def list_view(ctx: Ctx, page: int, f: str) -> tuple[str, InlineKeyboardMarkup]:
    flt = parse_filter(f)
    rows, total = await listing.list_page(
        ctx.session,
        ctx.viewer.scope,
        flt,
        page,
        PAGE_SIZE,
        now=ctx.now(),
        settings_cadence=ctx.settings.cadence_days,
    )
    owner = await ctx.session.get(User, flt.owner_id) if flt.owner_id is not None else None
    shown, by_touch = split_sort(f)
    return views.contact_list(
        rows,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        f=shown,
        by_touch=by_touch,
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
        arg = (command.args or "").strip()
        flt = filter_from_text(arg) if arg else ""
        if arg and flt and not views.filter_fits(flt):
            await message.answer(views.filter_too_long())
            return
        if arg and not flt:
            await message.answer(views.filter_help())
            return
        text, markup = await list_view(ctx, 0, flt)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(ListCb.filter(F.f == "menu"))
    async def filter_menu(query: CallbackQuery, ctx: Ctx) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            text, markup = views.filter_menu(by_owner=ctx.viewer.leads)
            await edit_text(query.message, text, reply_markup=markup)

    @router.callback_query(ListCb.filter(F.f.endswith("=?")))
    async def filter_values(query: CallbackQuery, callback_data: ListCb, ctx: Ctx) -> None:
        await query.answer()
        field = callback_data.f[:-2]
        if not isinstance(query.message, Message):
            return
        if field == "owner":
            people = await listing.owners_in_scope(ctx.session, ctx.viewer.scope)
            text, markup = views.owner_filter(people)
            await edit_text(query.message, text, reply_markup=markup)
        elif field in LIST_FILTERS:
            text, markup = views.filter_values(field)
            await edit_text(query.message, text, reply_markup=markup)

    @router.callback_query(ListCb.filter())
    async def list_page(query: CallbackQuery, callback_data: ListCb, ctx: Ctx) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            text, markup = await list_view(ctx, max(0, callback_data.page), callback_data.f)
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
