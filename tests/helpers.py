"""Conversation helpers shared by the chat tests."""

from __future__ import annotations

from bot.emulator import UserClient
from bot.emulator.runner import EmulatedBot
from tests.conftest import ADMIN_ID


def token_of(text: str) -> str:
    return text.split("start=")[1].split()[0]


async def team_with_rep(
    tg: EmulatedBot, rep_id: int = 3003, rep_name: str = "Rita", *, language: str = "en"
) -> tuple[UserClient, UserClient, UserClient]:
    """An admin, a manager with a team, and a rep in it — set up by talking to the bot."""
    admin = tg.user(ADMIN_ID, "Ada")
    await admin.send("/start")
    reply = await admin.send("/invite manager")
    manager = tg.user(2002, "Maria")
    await manager.send(f"/start {token_of(reply.text)}")
    reply = await manager.send("/invite")
    rep = tg.user(rep_id, rep_name, language_code=language)
    await rep.send(f"/start {token_of(reply.text)}")
    return admin, manager, rep


async def another_rep(tg: EmulatedBot, manager: UserClient, rep_id: int, name: str) -> UserClient:
    reply = await manager.send("/invite")
    rep = tg.user(rep_id, name)
    await rep.send(f"/start {token_of(reply.text)}")
    return rep


async def speak(user: UserClient, language: str) -> None:
    """``user`` chooses ``language`` in /settings ("en" does nothing: it is everyone's start)."""
    if language == "ru":
        await user.send("/settings")
        await user.click("Language")
        await user.click("Русский")
