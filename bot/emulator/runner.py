"""Run the real bot (real Dispatcher, real aiogram HTTP client) against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, Unpack

from aiogram import Router

from bot.app import App, build_app, create_bot
from bot.config import Settings
from bot.emulator.client import UserClient
from bot.emulator.server import FakeTelegram
from bot.emulator.wire import Profile
from core.clock import Clock
from storage.migrate import upgrade


class EmulatedBot:
    """The app polling the emulator. ``extra_routers`` (for tests, e.g. a handler that raises) are
    placed ahead of the feature routers; a router can be attached to one started bot only.

    ``handle_as_tasks=True`` handles every update in its own task, as production does
    (bot/__main__.py), so updates pushed at once are handled concurrently and :meth:`settle`
    waits for them; the chat tests keep the default (one update after another), which is what
    ``UserClient`` relies on to know an update has been handled.
    """

    def __init__(
        self,
        settings: Settings,
        emu: FakeTelegram,
        *,
        clock: Clock | None = None,
        start_clockwork: bool = False,
        extra_routers: Sequence[Router] = (),
        handle_as_tasks: bool = False,
        **app_kwargs: Any,
    ) -> None:
        self.emu = emu
        self.settings = settings.model_copy(update={"telegram_api_base": emu.base_url})
        self.clock = clock
        self.start_clockwork = start_clockwork
        self.extra_routers = tuple(extra_routers)
        self.handle_as_tasks = handle_as_tasks
        self.app_kwargs = app_kwargs
        self.app: App | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> App:
        bot = create_bot(self.settings, token=self.emu.token)
        app = build_app(
            self.settings,
            clock=self.clock,
            bot=bot,
            start_clockwork=self.start_clockwork,
            **self.app_kwargs,
        )
        await upgrade(app.engine)
        if self.extra_routers:
            # ahead of the feature routers (the fallback would answer first otherwise)
            dp = app.dispatcher
            dp.include_routers(*self.extra_routers)
            added = dp.sub_routers[-len(self.extra_routers) :]
            del dp.sub_routers[-len(self.extra_routers) :]
            dp.sub_routers[0:0] = added
        self.app = app
        self._task = asyncio.create_task(
            app.dispatcher.start_polling(
                app.bot,
                handle_as_tasks=self.handle_as_tasks,
                handle_signals=False,
                close_bot_session=False,
            )
        )
        # wait until the first getUpdates has been answered: the bot is live
        marker = await self.emu.push_update("edited_message", self._noop_message())
        await self.emu.wait_processed(marker, within=15)
        return app

    def _noop_message(self) -> dict[str, Any]:
        # an update type no router handles: it only proves the polling loop is live
        return {
            "message_id": 0,
            "date": 0,
            "edit_date": 0,
            "chat": {"id": -1, "type": "channel", "title": "warm-up"},
            "text": "warm-up",
        }

    async def settle(self, update_id: int, within: float = 15.0) -> None:
        """Wait until ``update_id`` (and every update before it) has been fully handled."""
        await self.emu.wait_processed(update_id, within)
        assert self.app is not None
        tasks = set(self.app.dispatcher._handle_update_tasks)  # the handlers still running
        if tasks:
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), within)

    async def stop(self) -> None:
        if self.app is None:
            return
        with contextlib.suppress(RuntimeError):
            await self.app.dispatcher.stop_polling()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        # as in production: updates still being handled finish before the session closes
        pending = set(getattr(self.app.dispatcher, "_handle_update_tasks", ()))
        if pending:
            await asyncio.wait(pending, timeout=10)
        await self.app.close()
        self.app = None

    def user(self, user_id: int, first_name: str, **profile: Unpack[Profile]) -> UserClient:
        self.emu.add_user(user_id, first_name, **profile)
        return UserClient(self.emu, user_id)
