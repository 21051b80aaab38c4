"""/team for managers and admins: each member's numbers, the team's name, and a member's work
handed to a colleague in one step (services.team; texts in views.team)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.context import Ctx
from bot.filters import leads
from bot.routing import FeatureRouter
from core.roles import Role
from services import team as svc
from views import team as view
from views.rendering import answer_long
from views.team import TeamCb


class TeamForm(StatesGroup):
    name = State()


def create_router() -> Router:
    router = FeatureRouter(name="team")
    router.message.filter(leads())
    router.callback_query.filter(leads())

    async def team_view(ctx: Ctx, team_id: int) -> svc.TeamView | None:
        return await svc.team_view(
            ctx.session,
            team_id,
            now=ctx.now(),
            tz=ctx.viewer.tz,
            settings_cadence=ctx.settings.cadence_days,
            stale_days=ctx.settings.stale_after_days,
        )

    async def show(message: Message, ctx: Ctx, team_id: int) -> None:
        found = await team_view(ctx, team_id)
        if found is None:
            await message.answer(view.not_found())
            return
        text, markup = view.team_message(
            found,
            own=ctx.viewer.team_id == team_id,
            tz=ctx.viewer.tz,
            lang=ctx.viewer.lang,
            can_hand_over=True,
        )
        await answer_long(message, text, markup)

    async def rename(message: Message, ctx: Ctx, team_id: int, name: str) -> bool:
        if not svc.may_manage(ctx.user, ctx.viewer.role, team_id):
            await message.answer(view.not_found())
            return True
        new = await svc.rename(ctx.session, team_id, name)
        if new is None or new.value is None:
            await message.answer(view.bad_name())
            return False
        await message.answer(view.renamed(new.value, cut=new.cut))
        return True

    @router.message(Command("team"))
    async def team_cmd(
        message: Message, command: CommandObject, ctx: Ctx, state: FSMContext
    ) -> None:
        await state.clear()
        args = (command.args or "").strip()
        if ctx.viewer.role is Role.ADMIN and ctx.viewer.team_id is None:
            text, markup = view.teams_list(await svc.teams(ctx.session))
            await answer_long(message, text, markup)
            return
        team_id = ctx.viewer.team_id
        if team_id is None:
            await message.answer(view.no_team())
            return
        word, _sep, rest = args.partition(" ")
        if word.lower() in ("name", "rename"):
            if rest.strip():
                await rename(message, ctx, team_id, rest)
                return
            await start_naming(message, ctx, state, team_id)
            return
        await show(message, ctx, team_id)

    async def start_naming(message: Message, ctx: Ctx, state: FSMContext, team_id: int) -> None:
        found = await team_view(ctx, team_id)
        if found is None or not svc.may_manage(ctx.user, ctx.viewer.role, team_id):
            await message.answer(view.not_found())
            return
        await state.set_state(TeamForm.name)
        await state.update_data(team_id=team_id)
        await message.answer(view.ask_name(found.name))

    @router.message(StateFilter(TeamForm.name), F.text & ~F.text.startswith("/"))
    async def name_typed(message: Message, ctx: Ctx, state: FSMContext) -> None:
        data = await state.get_data()
        if await rename(message, ctx, int(data.get("team_id", 0)), message.text or ""):
            await state.clear()

    @router.callback_query(TeamCb.filter())
    async def team_button(
        query: CallbackQuery, callback_data: TeamCb, ctx: Ctx, state: FSMContext
    ) -> None:
        message = query.message
        team_id = callback_data.t
        if not isinstance(message, Message) or not svc.may_manage(
            ctx.user, ctx.viewer.role, team_id
        ):
            await query.answer(view.not_found(), show_alert=True)
            return
        action = callback_data.a
        if action == "show":
            await query.answer()
            await show(message, ctx, team_id)
        elif action == "name":
            await query.answer()
            await start_naming(message, ctx, state, team_id)
        elif action == "off":
            await query.answer()
            people = await svc.leavers(ctx.session, ctx.user, ctx.viewer.role, team_id)
            text, markup = view.pick_leaving(team_id, people)
            await message.answer(text, reply_markup=markup)
        elif action in ("heir", "ask", "do"):
            await hand_over(query, message, callback_data, ctx)
        elif action == "no":
            await query.answer()
            await message.answer(view.cancelled())
        else:
            await query.answer(view.not_found(), show_alert=True)

    async def hand_over(query: CallbackQuery, message: Message, cb: TeamCb, ctx: Ctx) -> None:
        leaving = await svc.find_leaver(ctx.session, ctx.user, ctx.viewer.role, cb.u)
        if leaving is None or leaving.team_id != cb.t:
            await query.answer(view.not_found(), show_alert=True)
            return
        if cb.a == "heir":
            await query.answer()
            text, markup = view.pick_heir(cb.t, leaving, await svc.heirs(ctx.session, leaving))
            await message.answer(text, reply_markup=markup)
            return
        heir = await svc.find_heir(ctx.session, leaving, cb.v)
        if heir is None:
            await query.answer(view.not_found(), show_alert=True)
            return
        if cb.a == "ask":
            await query.answer()
            text, markup = view.confirm(
                cb.t,
                leaving,
                heir,
                await svc.preview(ctx.session, leaving),
                no_manager=await svc.leaves_no_manager(ctx.session, leaving),
            )
            await message.answer(text, reply_markup=markup)
            return
        leaving_name, heir_name = leaving.display_name, heir.display_name
        done = await svc.deactivate(
            ctx.session, leaving, heir, actor=ctx.user, now=ctx.now(), rules=ctx.rules
        )
        # committed: now it may be said
        await query.answer()
        await message.answer(
            view.handed_over(leaving_name, heir_name, done, heir_is_you=heir.id == ctx.user.id)
        )

    return router
