"""Deep links into the bot (invites, surveys, referrals), built by aiogram.

The link carries a secret token: it goes into a message to its one reader and nowhere else —
never into a log line (bot.logs redacts registered tokens as a second line of defence).
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.utils.deep_linking import create_start_link


async def start_link(bot: Bot, token: str) -> str:
    """``https://t.me/<bot>?start=<token>``; the bot's username comes from the cached getMe."""
    return await create_start_link(bot, token)
