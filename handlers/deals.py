"""A contact's deals: the card's 💼 Deals button, a new deal (amount, then the expected close
date), and on a deal: its amount, its close date, won or lost.

Thin: every button gets the card already checked against the viewer's scope (CardInScope) and
the deal is looked up only among that card's deals; one service call; render through views."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.context import Ctx
from bot.filters import staff
from bot.i18n import _
from bot.middlewares import CardInScope
from bot.routing import FeatureRouter
from core.deals import default_currency, parse_money, read_close_on
from core.nextstep import Reading, read_when
from services import contacts as contacts_svc
from services import deals as svc
from storage.models import Contact, Deal
from views import deals as views
from views.deals import DealAction, DealCb, DealForm
from views.rendering import edit_text


def on(*actions: DealAction):  # noqa: ANN201
    return DealCb.filter(F.a.in_(set(actions)))


async def _currency(ctx: Ctx) -> str:
    return default_currency(ctx.viewer.lang, await svc.last_currency(ctx.session, ctx.user.id))


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
        await state.update_data(cid=contact.id)
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
        text, markup = views.deal_card(contact, deal, ctx.viewer.lang, today=ctx.today())
        await query.message.answer(text, reply_markup=markup)

    @router.callback_query(on(DealAction.AMOUNT, DealAction.CLOSE_ON))
    async def edit_deal(
        query: CallbackQuery, callback_data: DealCb, contact: Contact, ctx: Ctx, state: FSMContext
    ) -> None:
        if (deal := await deal_of(query, callback_data, contact, ctx)) is None:
            return
        await query.answer()
        amount = callback_data.a is DealAction.AMOUNT
        await state.set_state(DealForm.edit_amount if amount else DealForm.edit_close_on)
        await state.update_data(cid=contact.id, did=deal.id)
        assert isinstance(query.message, Message)
        await query.message.answer(
            views.ask_new_amount(deal, ctx.viewer.lang) if amount else views.ask_close_on()
        )

    @router.callback_query(on(DealAction.WON, DealAction.LOST))
    async def close_deal(
        query: CallbackQuery, callback_data: DealCb, contact: Contact, ctx: Ctx
    ) -> None:
        if (deal := await deal_of(query, callback_data, contact, ctx)) is None:
            return
        won = callback_data.a is DealAction.WON
        closed = await svc.close(
            ctx.session, deal, contact, won=won, actor=ctx.user, now=ctx.now(), rules=ctx.rules
        )
        await query.answer(views.closed_text(won) if closed else _("Already done."))
        assert isinstance(query.message, Message)
        text, markup = views.deal_card(contact, deal, ctx.viewer.lang, today=ctx.today())
        await edit_text(query.message, text, reply_markup=markup)

    return router


def create_dialogue_router() -> Router:
    """The typed answers: a new deal's amount and close date; a deal's new amount or date."""
    router = FeatureRouter(name="deal-dialogues")
    router.message.filter(staff())

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
        raw = message.text or ""
        found = parse_money(raw, lang=ctx.viewer.lang, default_currency=await _currency(ctx))
        kept = (await state.get_data()).get("title") or ""
        if found is None and not kept and raw.strip() and not any(c.isdigit() for c in raw):
            # "Website audit" first: what the deal is for, kept; only the amount is asked
            await state.update_data(title=" ".join(raw.split())[:200])
            await message.answer(views.title_kept(raw))
            return
        if found is None:
            await message.answer(views.bad_amount(raw))
            return
        money, title = found
        title = title or kept
        await state.update_data(amount=str(money.amount), currency=money.currency, title=title)
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
        text, markup = views.deal_card(
            contact, deal, ctx.viewer.lang, prefix=views.deal_saved(), today=ctx.today()
        )
        await message.answer(text, reply_markup=markup)

    @router.message(DealForm.edit_amount, F.text & ~F.text.startswith("/"))
    async def edit_amount(message: Message, ctx: Ctx, state: FSMContext) -> None:
        def read(raw: str, deal: Deal) -> tuple[bool, Any]:
            found = parse_money(raw, lang=ctx.viewer.lang, default_currency=deal.currency)
            return found is not None, found[0] if found is not None else None

        def bad(raw: str, _value: Any) -> str:
            return views.bad_amount(raw)

        await edit_deal(message, ctx, state, read, bad, svc.set_amount)

    @router.message(DealForm.edit_close_on, F.text & ~F.text.startswith("/"))
    async def edit_close_on(message: Message, ctx: Ctx, state: FSMContext) -> None:
        def read(raw: str, _deal: Deal) -> tuple[bool, Any]:
            return read_close_on(raw, now=ctx.now(), tz=ctx.viewer.tz, lang=ctx.viewer.lang)

        def bad(raw: str, day: Any) -> str:
            return bad_close_on(raw, day, ctx)

        await edit_deal(message, ctx, state, read, bad, svc.set_close_on)

    return router
