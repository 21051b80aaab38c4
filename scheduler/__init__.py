"""APScheduler is only the clock: jobs take no state but ids and read due work from the database.

The job store is in memory and private to this process (never shared between replicas); every
piece of due work lives in the database and is claimed atomically, so a restart loses nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.config import Settings
    from bot.sender import Sender
    from core.clock import Clock

log = logging.getLogger(__name__)

Worker = Callable[["Clockwork"], Awaitable[int]]


class Clockwork:
    """Owns the scheduler and the list of due-work workers run on every tick."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        sender: Sender,
        i18n: I18n,
        settings: Settings,
        interval_seconds: int = 30,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.sender = sender
        self.i18n = i18n
        self.settings = settings
        self.interval_seconds = interval_seconds
        self.workers: list[Worker] = []
        self.daily: list[Worker] = []
        self.scheduler: AsyncIOScheduler | None = None
        # identifies this process's claims; a restarted process gets a new one
        self.worker_id = f"{uuid.uuid4().hex[:12]}"

    def register(self, worker: Worker) -> None:
        self.workers.append(worker)

    def register_daily(self, worker: Worker) -> None:
        self.daily.append(worker)

    async def tick(self) -> dict[str, Any]:
        """Run every interval worker once; a failing worker is logged, the others still run."""
        return await self._run(self.workers)

    async def run_daily(self) -> dict[str, Any]:
        return await self._run(self.daily)

    async def _run(self, workers: list[Worker]) -> dict[str, Any]:
        done: dict[str, Any] = {}
        for worker in workers:
            name = getattr(worker, "__name__", repr(worker))
            try:
                done[name] = await worker(self)
            except Exception:
                log.exception("due-work worker %s failed", name)
                done[name] = None
        return done

    def start(self) -> None:
        if self.scheduler is not None:
            return
        self.scheduler = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone="UTC")
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.interval_seconds,
            id="tick",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        # the daily checks run hourly: each owner's checks land inside their own working hours,
        # and the database keys make a repeated scan add nothing twice
        self.scheduler.add_job(
            self.run_daily,
            "cron",
            minute=5,
            id="daily",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
