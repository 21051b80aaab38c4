"""The app factory: everything long-lived is built here and handed to handlers as workflow data."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import reliability
from bot.commands import set_default_commands
from bot.config import Settings
from bot.i18n import LocaleMiddleware, create_i18n
from bot.middlewares import (
    CommandLeavesDialogue,
    DbSessionMiddleware,
    UpdateLogMiddleware,
    UserMiddleware,
)
from bot.sender import RateLimiter, Sender
from core.clock import Clock, SystemClock
from handlers import get_routers
from scheduler import Clockwork
from storage.db import create_engine, create_session_factory
from storage.repo import users as users_repo
from storage.uow import write_session

log = logging.getLogger(__name__)


def create_bot(settings: Settings, token: str | None = None) -> Bot:
    api = TelegramAPIServer.from_base(settings.telegram_api_base)
    secret = token or (settings.bot_token.get_secret_value() if settings.bot_token else "")
    return Bot(
        token=secret,
        session=AiohttpSession(api=api),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_fsm(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    """Redis when several replicas run (shared FSM, per-user event isolation), memory otherwise."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        storage = RedisStorage.from_url(
            settings.redis_url,
            key_builder=DefaultKeyBuilder(prefix=settings.redis_prefix, with_destiny=True),
        )
        return storage, storage.create_isolation()
    return MemoryStorage(), SimpleEventIsolation()


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    bot: Bot
    dispatcher: Dispatcher
    i18n: I18n
    clock: Clock
    sender: Sender
    clockwork: Clockwork

    async def close(self) -> None:
        await self.dispatcher.storage.close()
        await self.dispatcher.fsm.events_isolation.close()
        await self.bot.session.close()
        await self.engine.dispose()


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
    bot: Bot | None = None,
    sender: Sender | None = None,
    limiter: RateLimiter | None = None,
    start_clockwork: bool = True,
    request_sleep: Callable[[float], Awaitable[Any]] | None = None,
) -> App:
    """``request_sleep``: how direct replies wait on a 429 or back off (tests inject it)."""
    clock = clock or SystemClock()
    engine = engine or create_engine(settings.database_url, strict=True)
    session_factory = create_session_factory(engine)
    bot = bot or create_bot(settings)
    reliability.install(bot, sleep=request_sleep or asyncio.sleep)
    i18n = create_i18n(settings.default_language)

    async def mark_unreachable(chat_id: int) -> None:
        # its own short unit of work: the update that hit the 403 has committed before talking
        async with write_session(session_factory) as session:
            user = await users_repo.get_by_tg_id(session, chat_id)
            if user is not None:
                user.reachable = False

    sender = sender or Sender(bot, limiter, on_unreachable=mark_unreachable)
    clockwork = Clockwork(
        session_factory=session_factory,
        clock=clock,
        sender=sender,
        i18n=i18n,
        settings=settings,
        interval_seconds=settings.scheduler_interval_seconds,
    )
    import scheduler.nps_jobs  # noqa: F401 - registers the NPS renderers
    from scheduler.delivery import daily_scan, deliver_due
    from scheduler.digest import plan_digest_work  # registers the digest renderer too

    clockwork.register(plan_digest_work)
    clockwork.register(deliver_due)
    clockwork.register_daily(daily_scan)
    storage, isolation = create_fsm(settings)
    dp = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        settings=settings,
        session_factory=session_factory,
        clock=clock,
        i18n=i18n,
        sender=sender,
        clockwork=clockwork,
    )
    dp.update.outer_middleware(UpdateLogMiddleware())
    dp.update.outer_middleware(reliability.CallbackAnswersAlongside())
    dp.update.outer_middleware(DbSessionMiddleware(session_factory))
    dp.update.outer_middleware(UserMiddleware())
    dp.update.outer_middleware(LocaleMiddleware(i18n, settings.default_language))
    dp.message.outer_middleware(CommandLeavesDialogue())
    routers = get_routers()
    from handlers import network as network_handlers

    # /network and /intro: before the inbound and fallback routers, which take any message
    at = next(i for i, r in enumerate(routers) if r.name in ("inbound", "fallback"))
    routers.insert(at, network_handlers.create_router())
    dp.include_routers(*routers)

    async def on_startup(bot: Bot) -> None:
        await set_default_commands(bot, i18n)
        if start_clockwork:
            clockwork.start()
            from scheduler.network import schedule_weekly

            schedule_weekly(clockwork)  # the network analysis: an hourly look, a weekly run

    async def on_shutdown() -> None:
        await clockwork.shutdown()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return App(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        bot=bot,
        dispatcher=dp,
        i18n=i18n,
        clock=clock,
        sender=sender,
        clockwork=clockwork,
    )
