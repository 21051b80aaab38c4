"""A contact's deals: the card's 💼 Deals button, a new deal (amount, then the expected close
date), and on a deal: its amount, its close date, its title, won or lost (asked once more:
one tap to say yes). A new deal left by a command is kept, and ↩️ Back goes on with it.

Thin: every button gets the card already checked against the viewer's scope (CardInScope) and
the deal is looked up only among that card's deals; one service call; render through views."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.context import Ctx
from bot.filters import staff
from bot.i18n import _
from bot.middlewares import CardInScope, back_already, take_back
from bot.routing import FeatureRouter
from core.deals import (
    MAX_TITLE,
    SKIP,
    DealStatus,
    default_currency,
    format_money,
    read_close_on,
    read_money,
)
from core.nextstep import Reading, read_when
from services import contacts as contacts_svc
from services import deals as svc
from storage.models import Contact, Deal
from views import deals as views
from views.callbacks import ResumeCb
from views.deals import DealAction, DealCb, DealForm
from views.rendering import drop_keyboard, edit_text


def on(*actions: DealAction):  # noqa: ANN201
    return DealCb.filter(F.a.in_(set(actions)))


async def _currency(ctx: Ctx) -> str:
    return default_currency(ctx.viewer.lang, await svc.last_currency(ctx.session, ctx.user.id))


def card(
    contact: Contact, deal: Deal, ctx: Ctx, *, prefix: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The deal as the viewer sees it (their language, today and time zone)."""
    lang, tz = ctx.viewer.lang, ctx.viewer.tz
    return views.deal_card(contact, deal, lang, prefix=prefix, today=ctx.today(), tz=tz)


def bad_close_on(raw: str, day: Any, ctx: Ctx) -> str:
    """Why a typed close date was not taken; a day no calendar has ("31 февраля") said so."""
    tz, lang = ctx.viewer.tz, ctx.viewer.lang
    impossible = (
        day is None
        and read_when(raw, now=ctx.now(), tz=tz, lang_hint=lang).status is Reading.NO_SUCH_DAY
    )
    return views.bad_close_on(raw, day, lang, no_such_day=impossible)


def create_router() -> Router:
    router = FeatureRouter(name="deals")
    router.message.filter(staff())
    router.callback_query.filter(staff())
    router.callback_query.middleware(CardInScope())

    async def show_list(message: Message, ctx: Ctx, contact: Contact, *, prefix: str = "") -> None:
        deals = await svc.deals_of(ctx.session, contact)
        text, markup = views.deals_list(
            contact, deals, ctx.viewer.lang, prefix=prefix, today=ctx.today()
        )
        await message.answer(text, reply_markup=markup)

    async def deal_of(query: CallbackQuery, callback_data: DealCb, contact: Contact, ctx: Ctx):  # noqa: ANN202
        deal = await svc.get(ctx.session, contact, callback_data.d)
        if deal is None:
            await query.answer(_("This deal is gone."), show_alert=True)
        return deal

    @router.callback_query(on(DealAction.LIST))
    async def deals_list(
        query: CallbackQuery, contact: Contact, ctx: Ctx, state: FSMContext
    ) -> None:
        await query.answer()
        await state.clear()
        assert isinstance(query.message, Message)
        await show_list(query.message, ctx, contact)

    @router.callback_query(on(DealAction.NEW))
    async def new_deal(query: CallbackQuery, contact: Contact, ctx: Ctx, state: FSMContext) -> None:
        await query.answer()
        await state.set_state(DealForm.amount)
        # a deal of its own: nothing of an earlier one left halfway; the name: for deal_left
        await state.set_data({"cid": contact.id, "cname": contact.name})
        assert isinstance(query.message, Message)
        await query.message.answer(views.ask_amount(contact, await _currency(ctx)))

    @router.callback_query(on(DealAction.OPEN))
    async def open_deal(
        query: CallbackQuery, callback_data: DealCb, contact: Contact, ctx: Ctx
    ) -> None:
        if (deal := await deal_of(query, callback_data, contact, ctx)) is None:
            return
        await query.answer()
        assert isinstance(query.message, Message)
        text, markup = card(contact, deal, ctx)
        await query.message.answer(text, reply_markup=markup)

    @router.callback_query(on(DealAction.AMOUNT, DealAction.CLOSE_ON, DealAction.TITLE))
    async def edit_deal(
        query: CallbackQuery, callback_data: DealCb, contact: Contact, ctx: Ctx, state: FSMContext
    ) -> None:
        if (deal := await deal_of(query, callback_data, contact, ctx)) is None:
            return
        await query.answer()
        form, question = {
            DealAction.AMOUNT: (DealForm.edit_amount, views.ask_new_amount(deal, ctx.viewer.lang)),
            DealAction.CLOSE_ON: (DealForm.edit_close_on, views.ask_close_on()),
            DealAction.TITLE: (DealForm.edit_title, views.ask_title(deal)),
        }[callback_data.a]
        await state.set_state(form)
        await state.update_data(cid=contact.id, did=deal.id)
        assert isinstance(query.message, Message)
        await query.message.answer(question)

    @router.callback_query(on(DealAction.WON, DealAction.LOST, DealAction.CARD))
    async def ask_close(
        query: CallbackQuery, callback_data: DealCb, contact: Contact, ctx: Ctx
    ) -> None:
        """🏆 Won / ✖️ Lost: asked once more, in place (« Back: the deal as it was)."""
        if (deal := await deal_of(query, callback_data, contact, ctx)) is None:
            return
        await query.answer()
        assert isinstance(query.message, Message)
        if callback_data.a is DealAction.CARD or deal.status != DealStatus.OPEN.value:
            text, markup = card(contact, deal, ctx)
        else:
            won = callback_data.a is DealAction.WON
            lang = ctx.viewer.lang
            text, markup = views.confirm_close(contact, deal, lang, won=won, today=ctx.today())
        await edit_text(query.message, text, reply_markup=markup)

    @router.callback_query(on(DealAction.WON_SURE, DealAction.LOST_SURE))
    async def close_deal(
        query: CallbackQuery, callback_data: DealCb, contact: Contact, ctx: Ctx
    ) -> None:
        if (deal := await deal_of(query, callback_data, contact, ctx)) is None:
            return
        won = callback_data.a is DealAction.WON_SURE
        closed = await svc.close(
            ctx.session, deal, contact, won=won, actor=ctx.user, now=ctx.now(), rules=ctx.rules
        )
        await query.answer(views.closed_text(won) if closed else _("Already done."))
        assert isinstance(query.message, Message)
        text, markup = card(contact, deal, ctx)
        await edit_text(query.message, text, reply_markup=markup)

    return router


def create_dialogue_router() -> Router:
    """The typed answers: a new deal's amount and close date; a deal's new amount or date."""
    router = FeatureRouter(name="deal-dialogues")
    router.message.filter(staff())
    router.callback_query.filter(staff())

    async def card_and_deal(ctx: Ctx, state: FSMContext) -> tuple[Contact | None, Deal | None]:
        data = await state.get_data()
        contact = await contacts_svc.get(ctx.session, ctx.viewer.scope, int(data.get("cid", 0)))
        deal = None
        if contact is not None and data.get("did"):
            deal = await svc.get(ctx.session, contact, int(data["did"]))
        return contact, deal

    async def gone(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("Contact not found."))

    @router.message(DealForm.amount, F.text & ~F.text.startswith("/"))
    async def new_amount(message: Message, ctx: Ctx, state: FSMContext) -> None:
        raw, lang = message.text or "", ctx.viewer.lang
        found = read_money(raw, lang=lang, default_currency=await _currency(ctx))
        kept = (await state.get_data()).get("title") or ""
        if found.money is None and not kept and raw.strip() and not any(c.isdigit() for c in raw):
            # "Website audit" first: what the deal is for, kept; only the amount is asked
            await state.update_data(title=" ".join(raw.split())[:MAX_TITLE])
            await message.answer(views.title_kept(raw))
            return
        if found.money is None:
            await message.answer(views.bad_amount(raw, found))
            return
        money, title = found.money, found.title or kept
        shown = format_money(money.amount, money.currency, lang)  # for deal_left
        await state.update_data(
            amount=str(money.amount), currency=money.currency, title=title, shown=shown
        )
        await state.set_state(DealForm.close_on)
        await message.answer(views.ask_close_on())

    @router.message(DealForm.close_on, F.text & ~F.text.startswith("/"))
    async def new_close_on(message: Message, ctx: Ctx, state: FSMContext) -> None:
        raw = message.text or ""
        ok, day = read_close_on(raw, now=ctx.now(), tz=ctx.viewer.tz, lang=ctx.viewer.lang)
        if not ok:
            await message.answer(bad_close_on(raw, day, ctx))
            return
        contact, _deal = await card_and_deal(ctx, state)
        data = await state.get_data()
        if contact is None:
            await gone(message, state)
            return
        await svc.create(
            ctx.session,
            contact,
            money=svc.money_of(data["amount"], data["currency"]),
            title=data.get("title", ""),
            close_on=day,
            actor=ctx.user,
            now=ctx.now(),
            rules=ctx.rules,
        )
        await state.clear()
        deals = await svc.deals_of(ctx.session, contact)
        text, markup = views.deals_list(
            contact, deals, ctx.viewer.lang, prefix=views.deal_saved(), today=ctx.today()
        )
        await message.answer(text, reply_markup=markup)

    async def edit_deal(
        message: Message,
        ctx: Ctx,
        state: FSMContext,
        read: Callable[[str, Deal], tuple[bool, Any]],
        bad: Callable[[str, Any], str],
        save: Callable[..., Awaitable[object]],
    ) -> None:
        """One field of a deal typed in: read it, or say why not; save it; show the deal."""
        contact, deal = await card_and_deal(ctx, state)
        if contact is None or deal is None:
            await gone(message, state)
            return
        raw = message.text or ""
        ok, value = read(raw, deal)
        if not ok:
            await message.answer(bad(raw, value))
            return
        await save(ctx.session, deal, value, now=ctx.now())
        await state.clear()
        text, markup = card(contact, deal, ctx, prefix=views.deal_saved())
        await message.answer(text, reply_markup=markup)

    @router.message(DealForm.edit_amount, F.text & ~F.text.startswith("/"))
    async def edit_amount(message: Message, ctx: Ctx, state: FSMContext) -> None:
        def read(raw: str, deal: Deal) -> tuple[bool, Any]:
            found = read_money(raw, lang=ctx.viewer.lang, default_currency=deal.currency)
            return found.money is not None, found.money or found

        def bad(raw: str, found: Any) -> str:
            return views.bad_amount(raw, found)

        await edit_deal(message, ctx, state, read, bad, svc.set_amount)

    @router.message(DealForm.edit_title, F.text & ~F.text.startswith("/"))
    async def edit_title(message: Message, ctx: Ctx, state: FSMContext) -> None:
        def read(raw: str, _deal: Deal) -> tuple[bool, Any]:
            return True, "" if raw.strip() in SKIP else " ".join(raw.split())[:MAX_TITLE]

        await edit_deal(message, ctx, state, read, lambda raw, _v: "", svc.set_title)

    @router.message(DealForm.edit_close_on, F.text & ~F.text.startswith("/"))
    async def edit_close_on(message: Message, ctx: Ctx, state: FSMContext) -> None:
        def read(raw: str, _deal: Deal) -> tuple[bool, Any]:
            return read_close_on(raw, now=ctx.now(), tz=ctx.viewer.tz, lang=ctx.viewer.lang)

        def bad(raw: str, day: Any) -> str:
            return bad_close_on(raw, day, ctx)

        await edit_deal(message, ctx, state, read, bad, svc.set_close_on)

    @router.callback_query(ResumeCb.filter(F.d == "deal"))
    async def resume(
        query: CallbackQuery, callback_data: ResumeCb, state: FSMContext, ctx: Ctx
    ) -> None:
        """Back into the new deal a command left (views.deal_left), at the question it was at."""
        await query.answer()
        if not isinstance(query.message, Message) or await back_already(state, callback_data.n):
            return  # a second tap: the dialogue it took back is open now
        back = await take_back(state, callback_data.n)
        await drop_keyboard(query.message)
        at, data = back or (None, {})
        scope, cid = ctx.viewer.scope, int(data.get("cid", 0))
        contact = await contacts_svc.get(ctx.session, scope, cid) if back else None
        if contact is None or at not in (DealForm.amount.state, DealForm.close_on.state):
            await query.message.answer(views.deal_gone())  # what the rep is in now: kept
            return
        await state.set_data(data)
        if at == DealForm.close_on.state and data.get("amount"):
            await state.set_state(DealForm.close_on)
            await query.message.answer(views.given_so_far(data) + views.ask_close_on())
        else:
            await state.set_state(DealForm.amount)
            await query.message.answer(views.title_kept(data.get("title") or ""))

    return router
