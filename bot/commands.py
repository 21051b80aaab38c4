"""The command menu (setMyCommands) per language and per role."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramNetworkError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n

from bot.i18n import LANGUAGES, N_
from core.roles import Role, allowed_commands

log = logging.getLogger(__name__)

DESCRIPTIONS: dict[str, str] = {
    "start": N_("Start the bot"),
    "help": N_("What I can do for you"),
    "settings": N_("Language, time zone and working hours"),
    "stop": N_("Stop surveys"),
    "add": N_("Add a contact"),
    "find": N_("Find a contact"),
    "contacts": N_("My contacts"),
    "log": N_("Log a touch"),
    "today": N_("My day: overdue and due today"),
    "digest": N_("The daily digest: what moved, what is stuck"),
    "stats": N_("Metrics: reach, conversion, NPS (7d, 30d, 90d, month)"),
    "team": N_("My team"),
    "invite": N_("Invite a manager or a rep"),
    "export": N_("Export contacts (CSV, vCard)"),
    "import": N_("Import contacts from CSV or vCard"),
    "cancel": N_("Leave the current dialogue"),
    "delivered": N_("Service delivered: log it and ask the client for NPS"),
    "nps": N_("NPS by team, rep, segment"),
    "cases": N_("Open detractor cases"),
    "forget": N_("Erase personal data"),
    "network": N_("Network: brokers, ties to revive, accounts missing roles"),
    "intro": N_("A warm path to a company or a person"),
}


def command_list(i18n: I18n, role: Role | None, lang: str) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=i18n.gettext(DESCRIPTIONS[name], locale=lang))
        for name in allowed_commands(role)
    ]


async def set_default_commands(bot: Bot, i18n: I18n) -> None:
    """Strangers' menu for every language. A refusal is logged; the bot runs on."""
    for lang in ("", *LANGUAGES):
        try:
            await bot.set_my_commands(
                command_list(i18n, None, lang or "en"),
                scope=BotCommandScopeDefault(),
                language_code=lang or None,
            )
        except (TelegramAPIError, ClientDecodeError) as exc:  # an error page is no JSON
            log.warning("setMyCommands (default, %r) refused: %s", lang, str(exc).splitlines()[0])


async def set_user_commands(
    bot: Bot, i18n: I18n, chat_id: int, role: Role | None, lang: str
) -> None:
    try:
        await bot.set_my_commands(
            command_list(i18n, role, lang), scope=BotCommandScopeChat(chat_id=chat_id)
        )
    except (TelegramAPIError, TelegramNetworkError) as exc:
        log.warning("setMyCommands for chat %s refused: %s", chat_id, exc)
