"""APScheduler is only the clock: jobs take no state but ids and read due work from the database.

The job store is in memory and private to this process (never shared between replicas); every
piece of due work lives in the database and is claimed atomically, one row at a time, by a
delivery loop with bounded concurrency (scheduler.delivery.DeliveryPool), so a restart loses
nothing and a slow row delays no other. The daily jobs claim their day in the database
(table job_runs), so they run once a day in total, however many replicas run.

What renders each kind of due work, and which jobs run, is registered on the Clockwork by the
app factory (bot.app.register_jobs); a kind nobody registered is never marked done.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from services import duework
from storage.uow import write_session

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.config import Settings
    from bot.sender import Sender, SendStatus
    from core.clock import Clock
    from scheduler.delivery import DeliveryPool
    from storage.models import User
    from views.rendered import Composed, Rendered

log = logging.getLogger(__name__)

Worker = Callable[["Clockwork"], Awaitable[Any]]
Sleep = Callable[[float], Awaitable[Any]]
# (session, claimed row, its user, clockwork) -> what to send, or None: nothing (the row is done)
Renderer = Callable[
    ["AsyncSession", duework.Claimed, "User | None", "Clockwork"],
    Awaitable["Rendered | Composed | None"],
]
# what happens after a send, by kind (in the closing write block): e.g. a survey marked delivered
AfterSend = Callable[["AsyncSession", duework.Claimed, "SendStatus", "Clockwork"], Awaitable[None]]


@dataclass(frozen=True)
class RendererSpec:
    """How one kind of due work is rendered. Renderers read (a read session, before the send);
    one that writes — a fan-out into other rows — says ``writes=True`` and runs in a write
    block that first checks the claim is still held."""

    kind: str
    render: Renderer
    writes: bool = False
    after_send: AfterSend | None = None


# a daily run still "running" after this long lost its runner (a crash): it is run again
DAILY_RUN_STALE = timedelta(hours=1)


@dataclass(kw_only=True, eq=False)
class Clockwork:
    """Owns the scheduler, the delivery loop, and the workers run on every tick and daily.

    ``concurrency``: rows delivered at once; ``poll_seconds``: how often an idle delivery loop
    looks for newly due rows; ``grace_seconds``: how long a shutdown lets rows in flight
    finish; ``sleep``: the sleep of the heartbeats, the idle loop and the grace period (tests
    inject a virtual one).
    """

    session_factory: async_sessionmaker[AsyncSession]
    clock: Clock
    sender: Sender
    i18n: I18n
    settings: Settings
    interval_seconds: int = 30
    concurrency: int = 32
    poll_seconds: float = 2.0
    grace_seconds: float = 5.0
    sleep: Sleep = asyncio.sleep
    workers: list[Worker] = field(default_factory=list, init=False)
    daily: list[Worker] = field(default_factory=list, init=False)
    renderers: dict[str, RendererSpec] = field(default_factory=dict, init=False)
    scheduler: AsyncIOScheduler | None = field(default=None, init=False)
    _pool: DeliveryPool | None = field(default=None, init=False, repr=False)
    # identifies this process's claims; a restarted process gets a new one
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12], init=False)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.claim_lease_seconds)

    @property
    def pool(self) -> DeliveryPool:
        if self._pool is None:
            from scheduler.delivery import DeliveryPool

            self._pool = DeliveryPool(self, self.concurrency)
        return self._pool

    def register_renderer(
        self,
        kind: str,
        render: Renderer,
        *,
        writes: bool = False,
        after_send: AfterSend | None = None,
    ) -> None:
        """The renderer of one kind of due work; a kind is registered once."""
        if kind in self.renderers:
            raise ValueError(f"a renderer for due work of kind {kind!r} is already registered")
        self.renderers[kind] = RendererSpec(kind, render, writes, after_send)

    def register_renderers(self, specs: Iterable[RendererSpec]) -> None:
        for spec in specs:
            self.register_renderer(
                spec.kind, spec.render, writes=spec.writes, after_send=spec.after_send
            )

    def register(self, worker: Worker) -> None:
        self.workers.append(worker)

    def register_daily(self, worker: Worker) -> None:
        self.daily.append(worker)

    async def tick(self) -> dict[str, Any]:
        """Run every interval worker once; a failing worker is logged, the others still run."""
        done: dict[str, Any] = {}
        for worker in self.workers:
            name = _name(worker)
            try:
                done[name] = await worker(self)
            except Exception:
                log.exception("due-work worker %s failed", name)
                done[name] = None
        return done

    async def run_daily(self) -> dict[str, Any]:
        """Run each daily worker unless today's run is already claimed (by this replica or
        another); a failed run is given up, so a later call (the next hour) runs it again."""
        done: dict[str, Any] = {}
        day = self.clock.now().date().isoformat()
        for worker in self.daily:
            name = _name(worker)
            async with write_session(self.session_factory) as session:
                token = await duework.claim_run(
                    session,
                    job=name,
                    period=day,
                    now=self.clock.now(),
                    worker=self.worker_id,
                    stale_after=DAILY_RUN_STALE,
                )
            if token is None:
                log.debug("daily job %s for %s: already run", name, day)
                done[name] = None
                continue
            ok = False
            try:
                done[name] = await worker(self)
                ok = True
            except Exception:
                log.exception("daily job %s failed", name)
                done[name] = None
            finally:
                async with write_session(self.session_factory) as session:
                    await duework.finish_run(
                        session, job=name, period=day, token=token, ok=ok, now=self.clock.now()
                    )
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
        # hourly: the first run of a day (on any replica) claims and runs the day's jobs; the
        # others find the day claimed. A failed or lost run is taken again the next hour.
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
        self.pool.start()

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop the clock and stop claiming; rows in flight get ``grace`` seconds to finish,
        and any still unfinished goes back to pending at once (not after its lease)."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        grace = self.grace_seconds if grace is None else grace
        if self._pool is not None:
            await self._pool.stop(grace)
        await self.sender.settle(within=grace)  # unreachable marks still being written


def _name(worker: Worker) -> str:
    return getattr(worker, "__name__", repr(worker))
