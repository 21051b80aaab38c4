"""The app factory: everything long-lived is built here and handed to handlers as workflow data."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import dedup, fast_client, inline_filters, metrics, reliability
from bot.commands import set_default_commands
from bot.config import Settings
from bot.dialogues import KeptMemoryStorage
from bot.i18n import LocaleMiddleware, create_i18n
from bot.limiter import SharedReplyLimit, create_limiter
from bot.middlewares import (
    CommandLeavesDialogue,
    DbSessionMiddleware,
    TapLeavesDialogue,
    UpdateLogMiddleware,
    UserMiddleware,
    ViewerMiddleware,
)
from bot.routing import GatedDispatcher
from bot.sender import RateLimiter, Sender
from core.clock import Clock, SystemClock
from handlers import get_routers
from scheduler import Clockwork, delivery, digest, followup_jobs, nps_jobs
from scheduler import cases as case_jobs
from scheduler import network as network_jobs
from scheduler import team as team_jobs
from storage.db import create_engine, create_session_factory, pool_options
from storage.repo import users as users_repo
from storage.uow import write_session
from views import adding as adding_views
from views import deals as deal_views
from views import touches as touch_views

log = logging.getLogger(__name__)


def create_bot(settings: Settings, token: str | None = None) -> Bot:
    api = TelegramAPIServer.from_base(settings.telegram_api_base)
    secret = token or (settings.bot_token.get_secret_value() if settings.bot_token else "")
    fast_client.install_fast_post_init()
    return Bot(
        token=secret,
        session=fast_client.FormSession(api=api),
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
        # a replica that died or stalled holding a user's lock frees it after the update lease
        lock = {"timeout": max(settings.update_lease_seconds, 5)}
        return storage, storage.create_isolation(lock_kwargs=lock)
    return KeptMemoryStorage(), SimpleEventIsolation()


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
    gate: dedup.UpdateGate = field(default_factory=dedup.MemoryUpdateGate)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set to stop ``serve()`` (the webhook mode's signal handlers set it too)."""

    async def close(self) -> None:
        await self.keep_dialogues()
        await self.gate.close()
        close_limiter = getattr(self.sender.limiter, "close", None)
        if close_limiter is not None:
            await close_limiter()
        await self.dispatcher.storage.close()
        await self.dispatcher.fsm.events_isolation.close()
        await self.bot.session.close()
        await self.engine.dispose()

    async def keep_dialogues(self) -> None:
        """Dialogues in memory are written to the database for the next start (bot.dialogues);
        a failure to keep them is logged, never raised: the app closes all the same."""
        storage = self.dispatcher.storage
        if not isinstance(storage, KeptMemoryStorage):
            return
        try:
            await storage.keep(self.session_factory, self.clock.now())
        except Exception as exc:  # noqa: BLE001 - closing goes on
            log.warning("dialogues not kept for the next start: %s", type(exc).__name__)


def register_renderers(clockwork: Clockwork) -> None:
    """Every kind of due work the services schedule gets its renderer (tests check that none
    is missing: a kind without one stays pending and fails loudly, it is never marked done)."""
    for module in (followup_jobs, nps_jobs, digest, case_jobs, team_jobs):
        clockwork.register_renderers(module.renderers())


def register_jobs(clockwork: Clockwork) -> None:
    """The renderers, and the clock's jobs: on each tick the digests are planned and what is
    due is delivered; once a day the follow-up scan runs."""
    register_renderers(clockwork)
    clockwork.register(digest.plan_digest_work)
    clockwork.register(delivery.deliver_due)
    clockwork.register_daily(followup_jobs.daily_scan)


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
    engine = engine or create_engine(
        settings.database_url,
        strict=True,
        **pool_options(settings.database_url, settings.db_pool_size, settings.db_max_overflow),
    )
    session_factory = create_session_factory(engine)
    bot = bot or create_bot(settings)
    reliability.install(bot, sleep=request_sleep or asyncio.sleep)
    limiter = limiter or (sender.limiter if sender is not None else create_limiter(settings))
    # below the retries, so each attempt is fenced, limited and counted
    bot.session.middleware(dedup.FenceRequests())
    bot.session.middleware(SharedReplyLimit(limiter))
    bot.session.middleware(metrics.CountRequests())
    dedup.fence_commits()
    i18n = create_i18n(settings.default_language)

    async def mark_unreachable(chat_id: int) -> None:
        # its own short unit of work: the update that hit the 403 has committed before talking
        async with write_session(session_factory) as session:
            user = await users_repo.get_by_tg_id(session, chat_id)
            if user is not None:
                user.reachable = False

    sender = sender or Sender(bot, limiter, on_unreachable=mark_unreachable)
    # what the scheduler and the handlers (as workflow data) are both given
    shared = {
        "session_factory": session_factory,
        "clock": clock,
        "sender": sender,
        "i18n": i18n,
        "settings": settings,
    }
    clockwork = Clockwork(**shared, interval_seconds=settings.scheduler_interval_seconds)
    register_jobs(clockwork)
    storage, isolation = create_fsm(settings)
    dp = GatedDispatcher(storage=storage, events_isolation=isolation, **shared, clockwork=clockwork)
    gate = dedup.create_gate(settings)
    dedup.install(dp, gate)
    dp.update.outer_middleware(metrics.UpdateMetrics())
    dp.update.outer_middleware(UpdateLogMiddleware())
    dp.update.outer_middleware(reliability.CallbackAnswersAlongside())
    dp.update.outer_middleware(DbSessionMiddleware(session_factory))
    dp.update.outer_middleware(UserMiddleware())
    dp.update.outer_middleware(LocaleMiddleware(i18n, settings.default_language))
    dp.update.outer_middleware(ViewerMiddleware())
    # the dialogues whose typed answers a command or another flow's button must not lose
    kept_dialogues = {
        "AddForm": ("add", adding_views.left_unsaved),
        "NextForm": ("", touch_views.step_left),
        "LogForm": ("log", touch_views.touch_left),
        "DealForm": ("", deal_views.deal_left),
    }
    dp.message.outer_middleware(CommandLeavesDialogue(kept_dialogues))
    dp.callback_query.middleware(TapLeavesDialogue(kept_dialogues))  # inner: knows the handler
    dp.include_routers(*get_routers())
    inline_filters.run_inline(dp)  # F.text & co. in the loop, not through to_thread

    async def on_startup(bot: Bot) -> None:
        if isinstance(storage, KeptMemoryStorage):
            await storage.restore(session_factory)
        await set_default_commands(bot, i18n)
        if start_clockwork:
            clockwork.start()
            network_jobs.schedule_weekly(clockwork)  # the network analysis: hourly look, weekly run

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
        gate=gate,
    )
