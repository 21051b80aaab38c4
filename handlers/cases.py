"""/cases: the open detractor cases for managers and admins, each opening its actions.

Thin: the list and the case come from services (services.cases, services.nps), the texts from
views.cases; the actions on a case (take, contacted, resolve) stay with handlers/nps.py."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.context import Ctx
from bot.filters import leads
from bot.i18n import _
from bot.routing import FeatureRouter
from services import cases, nps, nps_cards
from views import cases as view
from views.callbacks import CaseCb
from views.rendering import answer_long


def create_router() -> Router:
    router = FeatureRouter(name="cases")
    router.message.filter(leads())
    router.callback_query.filter(leads())

    @router.message(Command("cases"))
    async def cases_cmd(message: Message, ctx: Ctx, state: FSMContext) -> None:
        await state.clear()
        cards = await cases.open_cases(ctx.session, ctx.viewer.scope)
        text, markup = view.case_list(
            cards, now=ctx.now(), sla_hours=ctx.settings.nps_case_sla_hours
        )
        await answer_long(message, text, markup)

    @router.callback_query(CaseCb.filter(F.a == "open"))
    async def open_case(query: CallbackQuery, callback_data: CaseCb, ctx: Ctx) -> None:
        # the id in the button is never trusted: the case must be in the viewer's scope
        case_row = await nps.get_case_for(ctx.session, callback_data.id, ctx.user, ctx.viewer.role)
        if case_row is None or not isinstance(query.message, Message):
            await query.answer(_("Case not found."), show_alert=True)
            return
        await query.answer()
        card = await nps_cards.case_card(ctx.session, case_row, later=True)
        text, markup = view.case_message(card, ctx.now(), ctx.viewer.tz, ctx.viewer.lang)
        await query.message.answer(text, reply_markup=markup)

    return router
