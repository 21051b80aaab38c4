"""/invite for admins and managers."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Ctx
from bot.filters import leads, router_for
from bot.i18n import _, ngettext
from bot.links import start_link
from core.roles import Role
from services.access import InviteProblem, create_invite
from storage.repo import users as users_repo
from views.callbacks import InviteCb
from views.keyboards import InlineKeyboard
from views.labels import role_name
from views.rendering import edit_text, h


def _role_keyboard(role: Role) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    if role is Role.ADMIN:
        kb.button(text=_("Manager (new team)"), callback_data=InviteCb(role="manager"))
        kb.button(text=_("Manager of a team"), callback_data=InviteCb(role=TEAM_MANAGER))
    kb.button(text=_("Sales rep"), callback_data=InviteCb(role="rep"))
    kb.adjust(1)
    return kb.as_markup()


# InviteCb(role=TEAM_MANAGER): an administrator invites a manager into an existing team (one
# whose manager left, or a second one); the team is asked for next
TEAM_MANAGER = "tmgr"


async def _teams_keyboard(session: AsyncSession, role: str = "rep") -> InlineKeyboardMarkup | None:
    teams = await users_repo.list_teams(session)
    if not teams:
        return None
    kb = InlineKeyboard()
    for team, count in teams[:50]:
        kb.button(
            text=f"{team.name[:40]} ({count})", callback_data=InviteCb(role=role, team_id=team.id)
        )
    kb.adjust(1)
    return kb.as_markup()


def create_router() -> Router:
    router = router_for("invite", leads())

    async def issue(
        target: Message, ctx: Ctx, bot: Bot, invited: Role, team_id: int | None
    ) -> None:
        result = await create_invite(
            ctx.session,
            inviter=ctx.user,
            inviter_role=ctx.viewer.role,
            role=invited,
            team_id=team_id,
            now=ctx.now(),
            ttl=timedelta(days=ctx.settings.invite_ttl_days),
        )
        if result.problem is InviteProblem.NO_TEAM:
            await target.answer(_("There is no such team. Invite a manager first: /invite"))
            return
        if result.problem is not None or result.invite is None:
            await target.answer(_("You cannot invite a {role}.").format(role=role_name(invited)))
            return
        link = await start_link(bot, result.invite.token)
        await target.answer(
            ngettext(
                "Invite for a {role}. Send this link to the person; it works once and expires "
                "in {days} day:\n\n{link}",
                "Invite for a {role}. Send this link to the person; it works once and expires "
                "in {days} days:\n\n{link}",
                ctx.settings.invite_ttl_days,
            ).format(role=role_name(invited), days=ctx.settings.invite_ttl_days, link=h(link))
        )

    @router.message(Command("invite"))
    async def invite(message: Message, command: CommandObject, ctx: Ctx, bot: Bot) -> None:
        role = ctx.viewer.role
        arg = (command.args or "").strip().lower()
        wanted = {"manager": Role.MANAGER, "rep": Role.REP}.get(arg)
        if wanted is None and arg:
            await message.answer(_("Use /invite, /invite manager or /invite rep."))
            return
        if role is Role.MANAGER:
            if wanted is Role.MANAGER:
                await message.answer(_("Only an administrator can invite managers."))
                return
            await issue(message, ctx, bot, Role.REP, ctx.user.team_id)
            return
        if wanted is Role.MANAGER:
            await issue(message, ctx, bot, Role.MANAGER, None)
            return
        if wanted is Role.REP:
            kb = await _teams_keyboard(ctx.session)
            if kb is None:
                await message.answer(_("There are no teams yet. Invite a manager first."))
                return
            await message.answer(_("Into which team?"), reply_markup=kb)
            return
        await message.answer(_("Whom do you want to invite?"), reply_markup=_role_keyboard(role))

    @router.callback_query(InviteCb.filter())
    async def invite_cb(query: CallbackQuery, callback_data: InviteCb, ctx: Ctx, bot: Bot) -> None:
        await query.answer()
        if not isinstance(query.message, Message):
            return
        if callback_data.role == TEAM_MANAGER and ctx.viewer.role is Role.ADMIN:
            kb = await _teams_keyboard(ctx.session, role="manager")
            if kb is None:
                await query.message.answer(_("There are no teams yet. Invite a manager first."))
                return
            await edit_text(query.message, _("Which team will they manage?"), reply_markup=kb)
            return
        invited = {"manager": Role.MANAGER, "rep": Role.REP}.get(callback_data.role)
        if invited is None:
            await query.message.answer(_("This button is no longer valid."))
            return
        if ctx.viewer.role is Role.ADMIN and invited is Role.REP and not callback_data.team_id:
            kb = await _teams_keyboard(ctx.session)
            if kb is None:
                await query.message.answer(_("There are no teams yet. Invite a manager first."))
                return
            await edit_text(query.message, _("Into which team?"), reply_markup=kb)
            return
        await issue(query.message, ctx, bot, invited, callback_data.team_id or None)

    @router.callback_query(F.data.startswith("inv:"))
    async def stale(query: CallbackQuery) -> None:  # malformed invite buttons
        await query.answer(_("This button is no longer valid."), show_alert=True)

    return router
