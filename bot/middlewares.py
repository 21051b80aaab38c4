"""Outer middlewares: a DB session per update, then the current user and their role."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.roles import effective_role
from storage.repo import users as users_repo
from storage.uow import writing

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """Opens one session per update; commits when the handler returns, rolls back on error."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.session_factory() as session:
            data["session"] = session
            try:
                result = await handler(event, data)
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
            return result


class UserMiddleware(BaseMiddleware):
    """Loads (or records) the Telegram user and resolves their role on the server side."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        data["user"] = None
        data["role"] = None
        if tg_user is not None and not tg_user.is_bot:
            session: AsyncSession = data["session"]
            settings = data["settings"]
            async with writing(session):  # committed before the handler runs
                user = await users_repo.upsert_from_telegram(
                    session,
                    tg_id=tg_user.id,
                    first_name=tg_user.first_name,
                    last_name=tg_user.last_name,
                    username=tg_user.username,
                    language_code=tg_user.language_code,
                    now=data["clock"].now(),
                )
            data["user"] = user
            data["role"] = effective_role(user.role, user.tg_id, settings.admin_ids)
        return await handler(event, data)


class UpdateLogMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update):
            log.debug("update %s (%s)", event.update_id, event.event_type)
        return await handler(event, data)
