"""/digest, /stats and the digest's section buttons — for managers and admins only.

Thin: parse the request, ask services/ for the figures, render with views/digest.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.context import Ctx
from bot.filters import leads, router_for
from bot.i18n import _
from core import metrics as m
from core.clock import Clock
from core.roles import LEADS, Role
from services import digest as dg
from services import metrics as mx
from services import reports
from services.followups import Rules
from storage.models import User
from views import charts
from views import deals as deal_views
from views import digest as view
from views.digest import DigestCb, StatsCb
from views.digest_lists import list_keyboard, list_text
from views.rendered import Composed, Rendered
from views.rendering import answer_long, h

__all__ = ["DigestCb", "StatsCb", "create_router"]


async def send_composed(message: Message, composed: Composed) -> None:
    for text, markup in composed.parts:
        await message.answer(text, reply_markup=markup)
    if composed.photo is not None:
        png, caption = composed.photo
        await message.answer_photo(BufferedInputFile(png, filename="chart.png"), caption=caption)


async def scope_name(session: AsyncSession, scope: mx.MetricScope, rep: User | None) -> str:
    """Who the figures are about, HTML-escaped."""
    team = None
    if rep is None and scope.team_id is not None:
        team = await reports.team_name(session, scope.team_id)
    return view.scope_name(
        rep_name=rep.display_name if rep is not None else None,
        team_name=team,
        own=scope.rep_id is not None,
    )


async def picker(session: AsyncSession, user: User, role: Role, period: str) -> Rendered:
    reps = await dg.reps_of(session, user, role)
    return view.picker([(rep.id, rep.display_name) for rep in reps], period)


def named(args: str | None) -> tuple[m.StatsRequest, str] | None:
    """ "/stats Rita", "/stats month Rita Rep", "/stats Rita 7d": the words before or after the
    period name the rep (the fewest that leave a period, or nothing, beside them)."""
    words = (args or "").split()
    for size in range(1, len(words) + 1):
        for name, rest in ((words[-size:], words[:-size]), (words[:size], words[size:])):
            request = m.parse_stats_args(" ".join(rest))
            if request is not None and not (request.chart or request.pick or request.username):
                return request, " ".join(name)
    return None


def _parts(ctx: Ctx) -> tuple[AsyncSession, User, Role, Clock, Settings]:
    """The request's session, reader, role, clock and settings, as the helpers here take them."""
    return ctx.session, ctx.user, ctx.viewer.role, ctx.clock, ctx.settings


def create_router() -> Router:
    router = router_for("digest", leads())

    @router.message(Command("digest"))
    async def digest_cmd(message: Message, ctx: Ctx, state: FSMContext) -> None:
        session, user, role, clock, settings = _parts(ctx)
        await state.clear()
        now, tz = clock.now(), (user.timezone or settings.default_timezone)
        prepared = await reports.prepare(session, user, role, now=now, tz=tz, rules=ctx.rules)
        await send_composed(message, await view.compose(prepared, tz, ctx.viewer.lang))

    async def show_stats(
        message: Message,
        session: AsyncSession,
        user: User,
        role: Role,
        *,
        period: str,
        rep: User | None,
        now: datetime,
        settings: Settings,
        lang: str,
    ) -> None:
        tz = user.timezone or settings.default_timezone
        scope = mx.MetricScope.rep(rep.id) if rep is not None else dg.scope_of(user, role)
        stats = await reports.stats_for(
            session, scope, period=period, now=now, tz=tz, rules=Rules.of(settings)
        )
        text = view.stats_text(
            stats,
            scope_name=await scope_name(session, scope, rep),
            period=period,
            tz=tz,
            lang=lang,
            reply_hours=settings.inbound_reply_hours,
        )
        deals = await reports.deal_stats_for(session, scope, period=period, now=now, tz=tz)
        text += "\n" + deal_views.stats_lines(deals, lang)
        await answer_long(message, text, view.stats_keyboard(period, with_picker=rep is None))

    async def send_chart(
        message: Message, session: AsyncSession, user: User, role: Role, now: datetime, tz: str
    ) -> None:
        scope = dg.scope_of(user, role)
        png = await charts.chart(await reports.chart_data(session, scope, now=now), tz)
        caption = charts.chart_caption(await scope_name(session, scope, None))
        await message.answer_photo(BufferedInputFile(png, filename="chart.png"), caption=caption)

    @router.message(Command("stats"))
    async def stats_cmd(
        message: Message, command: CommandObject, ctx: Ctx, state: FSMContext
    ) -> None:
        session, user, role, clock, settings = _parts(ctx)
        await state.clear()
        request = m.parse_stats_args(command.args)
        if request is None and (days := m.days_out_of_range(command.args)) is not None:
            await message.answer(
                _("/stats covers 1 to 365 days: “{days}” is outside that. E.g. /stats 90d.").format(
                    days=h(days[:20])
                )
            )
            return
        rep, nobody = None, ""
        if request is None and (by_name := named(command.args)) is not None:
            request, name = by_name
            reps = await reports.reps_named(session, user, role, name)
            if len(reps) > 1:  # which one
                text, markup = view.picker(
                    [(r.id, r.display_name) for r in reps], request.period, matched=name
                )
                await message.answer(text, reply_markup=markup)
                return
            if not reps:  # said, above how /stats is used
                request = None
                nobody = _("Nobody in your team is called “{name}”.").format(name=h(name[:64]))
            else:
                rep = reps[0]
        if request is None:
            await message.answer(
                (nobody + "\n\n" if nobody else "")
                + _(
                    "Usage: /stats [7d|30d|90d|month] [@username]\n"
                    "• /stats 30d — your team's metrics for the last 30 days (the default)\n"
                    "• /stats 14d — any period up to a year: /stats 2 weeks, /stats 3 months\n"
                    "• /stats month @anna — one rep, this calendar month\n"
                    "• /stats rep — pick a rep\n"
                    "• /stats chart — NPS by week and the funnel as a picture"
                )
                + "\n"
                + _("• /stats Anna — one rep by name (first or last)")
            )
            return
        now = clock.now()
        if request.chart:
            await send_chart(
                message, session, user, role, now, (user.timezone or settings.default_timezone)
            )
            return
        if request.pick:
            text, markup = await picker(session, user, role, request.period)
            await message.answer(text, reply_markup=markup)
            return
        if request.username is not None:
            rep = await dg.find_rep(session, user, role, request.username)
            if rep is None:
                await message.answer(
                    _(
                        "@{username} is not a rep in your team. /stats rep shows whom you can pick."
                    ).format(username=h(request.username))
                )
                return
        await show_stats(
            message,
            session,
            user,
            role,
            period=request.period,
            rep=rep,
            now=now,
            settings=settings,
            lang=ctx.viewer.lang,
        )

    @router.callback_query(StatsCb.filter())
    async def on_stats_button(query: CallbackQuery, callback_data: StatsCb, ctx: Ctx) -> None:
        session, user, role, clock, settings = _parts(ctx)
        message = query.message
        period = m.read_period(callback_data.p) or "30d"
        if not isinstance(message, Message):
            await query.answer()
            return
        if callback_data.a == "pick":
            await query.answer()
            text, markup = await picker(session, user, role, period)
            await message.answer(text, reply_markup=markup)
        elif callback_data.a == "chart":
            await query.answer()
            await send_chart(
                message,
                session,
                user,
                role,
                clock.now(),
                (user.timezone or settings.default_timezone),
            )
        elif callback_data.a == "rep":
            rep = await dg.find_rep(session, user, role, callback_data.r)
            if rep is None:
                await query.answer(_("This rep is not in your team."), show_alert=True)
                return
            await query.answer()
            await show_stats(
                message,
                session,
                user,
                role,
                period=period,
                rep=rep,
                now=clock.now(),
                settings=settings,
                lang=ctx.viewer.lang,
            )
        else:
            await query.answer(_("This button is no longer valid."), show_alert=True)

    @router.callback_query(DigestCb.filter())
    async def on_section(query: CallbackQuery, callback_data: DigestCb, ctx: Ctx) -> None:
        session, user, role, clock, settings = _parts(ctx)
        message = query.message
        if callback_data.u != user.id or role not in LEADS or not isinstance(message, Message):
            await query.answer(_("This list is not available to you."), show_alert=True)
            return
        if callback_data.s not in dg.SECTIONS:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        if callback_data.s == "reps":
            text, markup = await picker(session, user, role, "30d")
            await message.answer(text, reply_markup=markup)
            return
        now, tz = clock.now(), (user.timezone or settings.default_timezone)
        since = datetime.fromtimestamp(callback_data.t, tz=UTC)
        items = await dg.section_items(
            session,
            user,
            role,
            callback_data.s,
            since=since,
            now=now,
            settings_cadence=settings.cadence_days,
            stale_days=settings.stale_after_days,
        )
        waiting: list[dg.Item] = []  # the inbound list: what waits now, above the period's
        if callback_data.s == "inbound":
            waiting = await dg.waiting_items(session, user, role)
        scope = dg.scope_of(user, role)
        everyone = scope.team_id is None and scope.rep_id is None
        await answer_long(
            message,
            list_text(
                callback_data.s,
                items,
                everyone=everyone,
                since=since,
                now=now,
                tz=tz,
                lang=ctx.viewer.lang,
                waiting=waiting,
            ),
            list_keyboard(waiting + items),
        )

    return router
