"""/network, /intro and the network picture — thin: parse, ask services.network, render with
views.network. Managers see their team; reps their own contacts; admins everyone."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.context import Ctx
from bot.filters import router_for, staff
from bot.i18n import _
from core.roles import Role
from services import network as svc
from storage.models import NetworkRun, User
from storage.uow import end_read
from views import network as views
from views.rendering import answer_long, h


async def scope_title(session: AsyncSession, scope: svc.NetScope) -> str:
    if scope.owner is not None or scope.rep_id is not None:
        return _("your contacts")
    if scope.team_id is not None:
        name = await svc.team_name(session, scope.team_id)
        return _("team {name}").format(name=h(name or ""))
    return _("all teams")


async def fresh_run(
    message: Message, ctx: Ctx, factory: async_sessionmaker[AsyncSession], scope: svc.NetScope
) -> NetworkRun | None:
    """The scope's stored run, computed now (with a progress message) when none is fresh; None
    (the reader told so) when there is still none."""
    session = ctx.session
    run = await svc.latest_run(session, scope)
    if not await svc.needs_run(session, run, scope, ctx.now()):
        return run
    await end_read(session)
    await message.answer(views.computing_text())
    await svc.compute(
        factory,
        scope,
        now=ctx.now(),
        settings_cadence=ctx.settings.cadence_days,
        stale_days=ctx.settings.stale_after_days,
    )
    run = await svc.latest_run(session, scope)
    if run is None:
        await end_read(session)
        await message.answer(views.no_run_text())
    return run


def create_router() -> Router:
    router = router_for("network", staff())

    @router.message(Command("network"))
    async def network_cmd(
        message: Message,
        ctx: Ctx,
        session_factory: async_sessionmaker[AsyncSession],
        state: FSMContext,
    ) -> None:
        await state.clear()
        scope = svc.scope_for(ctx.user, ctx.viewer.role)
        run = await fresh_run(message, ctx, session_factory, scope)
        if run is None:
            return
        ov = await svc.overview(ctx.session, run, owner=scope.owner)
        title = await scope_title(ctx.session, scope)
        await end_read(ctx.session)
        text, markup = views.overview_text(ov, scope=title, tz=ctx.viewer.tz, lang=ctx.viewer.lang)
        await answer_long(message, text, reply_markup=markup)

    @router.message(Command("intro"))
    async def intro_cmd(
        message: Message,
        command: CommandObject,
        ctx: Ctx,
        session_factory: async_sessionmaker[AsyncSession],
        state: FSMContext,
    ) -> None:
        await state.clear()
        query = (command.args or "").strip()[:100]
        if not query:
            await message.answer(views.intro_usage())
            return
        scope = svc.scope_for(ctx.user, ctx.viewer.role)
        run = await fresh_run(message, ctx, session_factory, scope)
        if run is None:
            return
        result = await svc.intro(ctx.session, run, query, who=ctx.viewer.scope, owner=scope.owner)
        await end_read(ctx.session)
        text, markup = views.intro_text(query, result)
        await answer_long(message, text, reply_markup=markup)

    @router.callback_query(views.NetCb.filter())
    async def on_button(
        query: CallbackQuery,
        callback_data: views.NetCb,
        session: AsyncSession,
        user: User,
        role: Role,
    ) -> None:
        if not isinstance(query.message, Message) or callback_data.a != "pic":
            await query.answer()
            return
        scope = svc.scope_for(user, role)  # from the tapper, never from the button
        run = await svc.latest_run(session, scope)
        if run is None:
            await end_read(session)
            await query.answer(views.no_run_text(), show_alert=True)
            return
        pic = await svc.picture(session, run, owner=scope.owner)
        await end_read(session)
        await query.answer()
        png = await asyncio.to_thread(
            views.picture_png, pic, title=_("Network"), broker_label=_("broker")
        )
        await query.message.answer_photo(
            BufferedInputFile(png, filename="network.png"),
            caption=views.picture_caption(len(pic.nodes)),
        )

    return router
