"""/start (with and without an invite payload) and /help."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import set_user_commands
from bot.config import Settings
from bot.i18n import _, user_language
from bot.routing import FeatureRouter
from bot.sender import Sender
from core.clock import Clock
from core.roles import STAFF, Role
from services import relay
from services.access import InviteProblem, accept_invite
from services.reports import team_name
from storage.models import User
from views.labels import role_name
from views.rendering import h
from views.team import left_access


def help_text(role: Role | None) -> str:
    if role is None:
        return _(
            "I help sales teams turn business networking into a managed process: contacts, "
            "touches, next steps, reminders, client feedback and a daily digest.\n\n"
            "Access is by invitation only. Ask your manager or administrator for an invite link "
            "and open it here.\n\n"
            "/settings — language and time zone\n/forget — delete what I hold about you"
        )
    if role is Role.CLIENT:
        return _(
            "After a service you may get a short question about how it went. "
            "Just tap a number.\n\n/stop — no more surveys\n/settings — language and time zone"
            "\n/forget — delete what I hold about you"
        )
    lines = [
        _("<b>Contacts</b>"),
        _("/add — add a contact (or /add Name, Company, +phone, e-mail @username #tag)"),
        _("/find text — search by name, company, phone, e-mail, @username or #tag"),
        _("/find -a text — the same, archived cards included (/find leaves them out)"),
        _("/contacts — your contacts, with filters"),
        _("Share a Telegram contact with me to add it in one tap."),
        "",
        _("<b>Touches and next steps</b>"),
        _("/log — log a call, meeting, message… and set the next step"),
        _("/today — overdue, due today and contacts going cold"),
        _("/delivered Name — a service was delivered: the client gets the NPS question"),
        "",
        _("<b>Network</b>"),
        _("/network — brokers between groups, ties going cold, accounts missing a role"),
        _("/intro Company or Name — who can introduce you: a warm path"),
        "",
        _("<b>Data</b>"),
        _("/export — CSV and vCard · /import — upload a CSV or vCard file"),
    ]
    if role in (Role.MANAGER, Role.ADMIN):
        lines += [
            "",
            _("<b>Team</b>"),
            _("/team — your team: each rep's numbers, rename, hand over a rep's work"),
            _("/digest — the daily digest now · /stats 30d — the method's measures"),
            _("/nps — NPS by team, rep, segment, with comments"),
            _("/cases — open detractor cases: owner, age, deadline, actions"),
            _("/forget Name — erase a contact's personal data (logged)"),
        ]
        if role is Role.ADMIN:
            lines.append(_("/invite — invite a manager (a new team) or a rep into a team"))
        else:
            lines.append(_("/invite — invite a rep into your team"))
    lines += [
        "",
        _("/settings — language, time zone, working hours"),
        _("/cancel — leave any dialogue"),
    ]
    return "\n".join(lines)


async def client_help(session: AsyncSession, tg_id: int, role: Role | None) -> str | None:
    """For a person on a card (their Telegram account linked): where their messages go, and
    the client's help; None for anyone else."""
    if role not in (None, Role.CLIENT):
        return None
    rep = await relay.rep_of(session, tg_id)
    if rep is None:
        return None
    where = _("Write here: your message reaches <b>{name}</b>.").format(name=h(rep.display_name))
    return where + "\n\n" + help_text(Role.CLIENT)


def create_router() -> Router:
    router = FeatureRouter(name="start")

    @router.message(CommandStart(deep_link=True))
    async def start_with_payload(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        user: User,
        role: Role | None,
        clock: Clock,
        bot: Bot,
        i18n: I18n,
        state: FSMContext,
        sender: Sender,
    ) -> None:
        await state.clear()
        payload = command.args or ""
        result = await accept_invite(
            session, user=user, current_role=role, token=payload, now=clock.now()
        )
        if result.problem is InviteProblem.ALREADY_MEMBER:
            await message.answer(
                _("You already have access as {role}. /help shows what you can do.").format(
                    role=role_name(role)
                )
            )
            return
        if result.problem is InviteProblem.USED and role in STAFF:
            # their own link opened again (or a colleague's): they are in, nothing to ask for
            team = await team_name(session, user.team_id) if user.team_id else None
            text = (
                _(
                    "You are already in the team <b>{team}</b> as {role}. /help shows what you "
                    "can do."
                ).format(team=h(team), role=role_name(role))
                if team
                else _("You already have access as {role}. /help shows what you can do.").format(
                    role=role_name(role)
                )
            )
            await message.answer(text)
            return
        if result.problem is not None:
            texts = {
                # an invite's, a survey's or a referral's link that is gone (a survey's after
                # /forget): not "ask the person who invited you" to a client
                InviteProblem.INVALID: _(
                    "This link is not valid: it may have been replaced or withdrawn. Ask the "
                    "person who sent it to you for a new one."
                ),
                InviteProblem.EXPIRED: _(
                    "This invite link has expired. Ask for a new one from the person who "
                    "invited you."
                ),
                InviteProblem.USED: _(
                    "This invite link has already been used. Invite links work only once; "
                    "ask for a new one."
                ),
                InviteProblem.NO_TEAM: _(
                    "The team this link invites you to no longer exists. Ask for a new link."
                ),
            }
            await message.answer(texts.get(result.problem, texts[InviteProblem.INVALID]))
            return
        assert result.role is not None and result.team is not None
        await message.answer(
            _("Welcome, {name}! You joined the team <b>{team}</b> as {role}.").format(
                name=h(user.display_name), team=h(result.team.name), role=role_name(result.role)
            )
            + "\n\n"
            + help_text(result.role)
        )
        lang = i18n.current_locale
        await set_user_commands(bot, i18n, message.chat.id, result.role, lang)
        if result.inviter is not None and result.inviter.tg_id != message.chat.id:
            inviter = result.inviter
            lang = user_language(inviter.language, inviter.tg_language, i18n.default_locale)
            with i18n.use_locale(lang):
                text = _("{name} accepted your invite and joined as {role}.").format(
                    name=h(user.display_name), role=role_name(result.role)
                )
            await sender.send(result.inviter.tg_id, text)

    @router.message(CommandStart())
    async def start(
        message: Message,
        role: Role | None,
        user: User | None,
        settings: Settings,
        bot: Bot,
        i18n: I18n,
        state: FSMContext,
        session: AsyncSession,
        first_visit: bool = False,
    ) -> None:
        await state.clear()
        if left := left_access(user, default_tz=settings.default_timezone):
            await message.answer(left)
            # their menu still lists the team's commands: a stranger's from now on
            await set_user_commands(bot, i18n, message.chat.id, None, i18n.current_locale)
            return
        if text := await client_help(session, message.chat.id, role):
            await message.answer(_("Hello!") + " " + text)
            return
        if role is None:
            await message.answer(_("Hello!") + " " + help_text(None))
            return
        greeting = (
            _(
                "Hello and welcome! You are signed in as {role}."
            )  # an admin (from ADMIN_IDS), first time
            if first_visit
            else _("Hello again! You are signed in as {role}.")
        )
        await message.answer(greeting.format(role=role_name(role)) + "\n\n" + help_text(role))
        await set_user_commands(bot, i18n, message.chat.id, role, i18n.current_locale)

    @router.message(Command("help"))
    async def help_(
        message: Message,
        role: Role | None,
        user: User | None,
        settings: Settings,
        session: AsyncSession,
    ) -> None:
        # someone whose access was turned off is told so, as /start does, not "invitation only"
        left = left_access(user, default_tz=settings.default_timezone) if role is None else None
        client = None if left else await client_help(session, message.chat.id, role)
        await message.answer(left or client or help_text(role))

    return router
