"""Due-work delivery under faults and with several replicas, on virtual time.

Every replica is a real app (its own engine, Sender, aiogram HTTP client, Clockwork) on one real
database, talking to the emulator. Time is a FrozenClock moved by ``VirtualTime``: heartbeats,
back-offs, 429 waits, idle polls and the shutdown grace all sleep on it, so a 340-second story
takes a fraction of a second.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from aiogram.methods import SendMessage
from sqlalchemy import event, func, insert, select

from bot.app import App, build_app, create_bot
from bot.config import Settings
from bot.sender import RateLimiter, SendStatus
from core.clock import FrozenClock
from scheduler import Clockwork
from scheduler.followup_jobs import daily_scan
from services import duework, followups
from services.followups import daily as followups_daily
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Contact, DueWork, JobRun, Team, User
from storage.uow import write_session
from tests import schema
from tests.conftest import ADMIN_ID
from tests.test_sender import FaultyTelegram, until

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, inside working hours


# --------------------------------------------------------------------------- virtual time
class VirtualTime:
    """A FrozenClock and a sleep that waits for it. ``advance`` moves the clock from one
    sleeper's deadline to the next, waking them in order, and after each wake waits (in real
    time, briefly) until every woken task has gone back to sleep or ended — so a heartbeat has
    renewed before the clock moves past its next beat."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None], asyncio.Task[Any]]] = []
        self._seq = itertools.count()
        self._awake: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    def park(self) -> None:
        """The current task waits on something else now: it no longer counts as awake."""
        task = asyncio.current_task()
        if task is not None:
            self._awake.discard(task)
        self._changed.set()

    async def sleep(self, seconds: float) -> None:
        self.park()
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        when = self.clock.now() + timedelta(seconds=seconds)
        task = asyncio.current_task()
        assert task is not None
        heapq.heappush(self._sleepers, (when, next(self._seq), future, task))
        await future

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._awake.discard(task)
        self._changed.set()

    def _next(self) -> datetime | None:
        while self._sleepers and self._sleepers[0][2].done():  # cancelled sleeps
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    async def _settle(self, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while self._awake:
                self._changed.clear()
                await self._changed.wait()

    async def _wake_next(self) -> None:
        when = self._next()
        assert when is not None
        self.clock.set(max(when, self.clock.now()))
        while (first := self._next()) is not None and first <= when:
            _when, _seq, future, task = heapq.heappop(self._sleepers)
            self._awake.add(task)
            task.add_done_callback(self._done)
            future.set_result(None)
        await self._settle()

    async def advance(self, seconds: float) -> None:
        target = self.clock.now() + timedelta(seconds=seconds)
        while (when := self._next()) is not None and when <= target:
            await self._wake_next()
        self.clock.set(target)

    async def run_until(self, done: Callable[[], Awaitable[bool]], limit: float) -> None:
        """Let virtual time run (sleeper to sleeper) until ``done()``; at most ``limit`` s."""
        end = self.clock.now() + timedelta(seconds=limit)
        while not await done():
            await asyncio.sleep(0.002)  # the untracked work (claims, sends) moves on too
            when = self._next()
            if when is None:
                continue
            assert when <= end, "virtual time ran out before the work was done"
            await self._wake_next()


class Freezer:
    """A frozen process: its sleeps end on virtual time, then wait until it thaws."""

    def __init__(self, vt: VirtualTime) -> None:
        self.vt = vt
        self.thawed = asyncio.Event()
        self.thawed.set()

    async def sleep(self, seconds: float) -> None:
        await self.vt.sleep(seconds)
        if not self.thawed.is_set():
            self.vt.park()
            await self.thawed.wait()


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime(FrozenClock(START))


@pytest.fixture
async def faulty(vt: VirtualTime) -> AsyncIterator[FaultyTelegram]:
    server = FaultyTelegram(now=vt.monotonic)  # requests are stamped with virtual time
    await server.start()
    yield server
    await server.stop()
    schema.assert_requests_valid(server.requests)


Replicas = Callable[..., Awaitable[App]]


@pytest.fixture
async def replicas(vt: VirtualTime, faulty: FaultyTelegram) -> AsyncIterator[Replicas]:
    """Builds bot replicas on one database; each is stopped (gracefully) at the end."""
    apps: list[App] = []

    async def make(url: str, *, lease: int = 300, concurrency: int = 4, sleep: Any = None) -> App:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=None,
            database_url=url,
            telegram_api_base=faulty.base_url,
            admin_ids=frozenset({ADMIN_ID}),
            default_language="en",
            default_timezone="UTC",
            claim_lease_seconds=lease,
        )
        sleep = sleep or vt.sleep
        engine = create_engine(url, strict=True)  # writes only inside units of work
        if not apps:
            await upgrade(engine)
        app = build_app(
            settings,
            clock=vt.clock,
            engine=engine,
            bot=create_bot(settings, token=faulty.token),
            limiter=RateLimiter(
                global_rate=10_000,
                global_burst=10_000,
                chat_rate=10_000,
                chat_burst=10_000,
                monotonic=vt.monotonic,
                sleep=sleep,
            ),
            start_clockwork=False,
        )
        app.sender.sleep = sleep
        app.clockwork.sleep = sleep
        app.clockwork.concurrency = concurrency
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.clockwork.shutdown(grace=0)
        await app.sender.settle(within=1)
        await app.close()


async def seed(
    app: App,
    faulty: FaultyTelegram,
    chats: list[int],
    *,
    due: datetime = START,
    per_chat: int = 1,
) -> list[str]:
    """A rep per chat, ``per_chat`` contacts each with a next step due at ``due`` and its
    reminder in the queue. Returns the steps' texts (each names one reminder)."""
    steps: list[str] = []
    async with write_session(app.session_factory) as s:
        team = Team(name="Sales", created_at=START)
        s.add(team)
        await s.flush()
        for chat in chats:
            faulty.add_user(chat, f"Rep {chat}", started=True)
            rep = User(
                tg_id=chat,
                first_name=f"Rep {chat}",
                role="rep",
                team_id=team.id,
                created_at=START,
                last_seen_at=START,
            )
            s.add(rep)
            await s.flush()
            for n in range(per_chat):
                step = f"step {chat}-{n}"
                contact = Contact(
                    owner_id=rep.id,
                    team_id=team.id,
                    name=f"Client {chat}-{n}",
                    next_step=step,
                    next_step_due=due,
                    created_at=START,
                    updated_at=START,
                    verified_at=START,
                )
                s.add(contact)
                await s.flush()
                await duework.schedule(
                    s,
                    kind=followups.REMINDER,
                    key=f"rem:{contact.id}",
                    chat_id=chat,
                    user_id=rep.id,
                    contact_id=contact.id,
                    due_at=due,
                    now=START,
                    payload={"step_due": due.isoformat()},
                )
                steps.append(step)
    return steps


def deliveries(faulty: FaultyTelegram, step: str) -> list[float]:
    """When (virtual time) each delivered copy of the reminder for ``step`` arrived."""
    return [
        r.at
        for r in faulty.requests
        if r.method == "sendMessage" and r.ok and f"<b>Next step</b>: {step}\n" in r.params["text"]
    ]


async def statuses(app: App) -> dict[str, int]:
    async with app.session_factory() as s:
        rows = await s.execute(select(DueWork.status, func.count()).group_by(DueWork.status))
        return dict(rows.all())  # type: ignore[arg-type]


async def row_of(app: App, step: str) -> DueWork:
    async with app.session_factory() as s:
        row = await s.scalar(
            select(DueWork)
            .join(Contact, Contact.id == DueWork.contact_id)
            .where(Contact.next_step == step)
        )
        assert row is not None
        return row


def slow_sends(app: App, vt: VirtualTime, seconds: float) -> None:
    """Every sendMessage of this replica takes ``seconds`` of virtual time (a slow network)."""

    async def middleware(make_request, bot, method):  # noqa: ANN001, ANN202
        if isinstance(method, SendMessage):
            await vt.sleep(seconds)
        return await make_request(bot, method)

    app.bot.session.middleware(middleware)


# ---------------------------------------------------------------------------------- claims
async def test_a_claim_takes_exactly_one_row_and_skips_busy_chats(
    db_url: str, replicas: Replicas, faulty: FaultyTelegram
) -> None:
    app = await replicas(db_url)
    await seed(app, faulty, [11, 12, 13], per_chat=20)
    lease = timedelta(minutes=5)
    async with write_session(app.session_factory) as s:
        one = await duework.claim_one(s, now=START, worker="w", lease=lease)
        assert one is not None and one.chat_id == 11 and one.token
        two = await duework.claim_one(s, now=START, worker="w", lease=lease, skip_chats=[11])
        assert two is not None and two.chat_id == 12 and two.token != one.token
    assert (await statuses(app))["claimed"] == 2  # not the whole table (PostgreSQL's IN + LIMIT)


async def test_a_chat_is_free_once_its_delivery_is_done_before_the_callbacks_run() -> None:
    """A delivery task is done one loop step before its done-callbacks run; a claim made in
    that step skipped the chat as busy, and a tick's drain() returned with that chat's row
    pending (an admin's escalation notice was missing now and then behind their digest)."""
    from scheduler.delivery import DeliveryPool

    pool = DeliveryPool(None, concurrency=4)  # type: ignore[arg-type]  # no claim is made
    row = partial(duework.Claimed, kind="k", key="k", user_id=None, contact_id=None, ref_id=None)
    loop = asyncio.get_running_loop()
    finished, running = loop.create_future(), loop.create_future()
    pool.inflight[finished] = row(id=1, chat_id=1001, payload={}, due_at=START, attempts=1)
    pool.inflight[running] = row(id=2, chat_id=2002, payload={}, due_at=START, attempts=1)
    finished.set_result(None)  # done; its callbacks only scheduled
    assert pool.busy_chats() == {2002}
    running.cancel()


async def test_a_stale_token_can_neither_renew_nor_close_nor_release(
    db_url: str, replicas: Replicas, faulty: FaultyTelegram
) -> None:
    app = await replicas(db_url)
    [step] = await seed(app, faulty, [21])
    lease = timedelta(seconds=30)
    async with write_session(app.session_factory) as s:
        first = await duework.claim_one(s, now=START, worker="a", lease=lease)
    later = START + lease + timedelta(seconds=1)  # its worker stalled past the lease
    async with write_session(app.session_factory) as s:
        second = await duework.claim_one(s, now=later, worker="b", lease=lease)
    assert first is not None and second is not None and first.id == second.id
    async with write_session(app.session_factory) as s:
        assert not await duework.renew(s, first.id, token=first.token, now=later)
        assert not await duework.finish(
            s, first.id, token=first.token, status=duework.SENT, now=later
        )
        assert not await duework.release(s, first.id, token=first.token, retry_at=later)
        assert await duework.renew(s, second.id, token=second.token, now=later)
        assert await duework.finish(
            s, second.id, token=second.token, status=duework.SENT, now=later
        )
    row = await row_of(app, step)
    assert row.status == "sent" and row.attempts == 2 and row.claim_token is None


# ---------------------------------------------------------------------- one slow chat
async def test_a_hanging_chat_does_not_delay_another_chats_reminder(
    sqlite_url: str, replicas: Replicas, faulty: FaultyTelegram, vt: VirtualTime
) -> None:
    app = await replicas(sqlite_url)
    app.sender.request_timeout = 60  # real seconds: it hangs for the whole test
    [stuck] = await seed(app, faulty, [31])
    [healthy] = await seed(app, faulty, [32], due=START + timedelta(seconds=60))
    faulty.hanging.add(31)
    app.clockwork.pool.start()  # the bot's delivery loop
    await until(lambda: faulty.stuck == 1)
    await vt.advance(60)  # the healthy one falls due while the other still hangs
    await until(lambda: bool(deliveries(faulty, healthy)))
    [at] = deliveries(faulty, healthy)
    due = (START + timedelta(seconds=60)).timestamp()
    assert at - due <= app.clockwork.poll_seconds  # found by the next poll, not after the hang
    assert faulty.stuck == 1 and deliveries(faulty, stuck) == []


async def test_a_long_retry_after_delays_no_other_row_and_the_heartbeat_keeps_the_claim(
    pg_url: str, replicas: Replicas, faulty: FaultyTelegram, vt: VirtualTime
) -> None:
    # as measured: the default 300 s lease, and a 429 with retry_after=170 twice
    a = await replicas(pg_url)
    b = await replicas(pg_url)
    slow, *others = await seed(a, faulty, [41, 42, 43])
    faulty.fail_chat(41, 429, retry_after=170)
    faulty.fail_chat(41, 429, retry_after=170)
    tick = asyncio.create_task(a.clockwork.tick())
    await until(lambda: all(deliveries(faulty, step) for step in others))
    for step in others:
        assert deliveries(faulty, step) == [START.timestamp()]  # at once, not after 170 s
    await vt.advance(170)  # the first wait; the second 429
    await vt.advance(150)  # 320 s: past the lease, but the heartbeat renewed it
    assert await b.clockwork.tick() == {"plan_digest_work": 0, "deliver_due": 0}
    await vt.advance(20)  # the second wait is over
    await tick
    assert deliveries(faulty, slow) == [(START + timedelta(seconds=340)).timestamp()]
    assert await b.clockwork.tick() == {"plan_digest_work": 0, "deliver_due": 0}
    assert await statuses(a) == {"sent": 3}
    assert a.sender.stats["retry_after"] == 2


# --------------------------------------------------------------------------- two replicas
async def test_two_replicas_with_a_short_lease_and_slow_sends_deliver_each_row_once(
    pg_url: str, replicas: Replicas, faulty: FaultyTelegram, vt: VirtualTime
) -> None:
    # as measured: a 30 s lease (here 10 s, the least the settings allow) and sends of 1 s
    # (here 3 s); some chats also answer 429 with a wait longer than the lease
    a = await replicas(pg_url, lease=10, concurrency=3)
    b = await replicas(pg_url, lease=10, concurrency=3)
    chats = list(range(51, 61))
    steps = await seed(a, faulty, chats, per_chat=4)
    for chat in chats[:3]:
        faulty.fail_chat(chat, 429, retry_after=15)
    for app in (a, b):
        slow_sends(app, vt, 3)
        app.clockwork.pool.start()

    async def all_closed() -> bool:
        return (await statuses(a)).get("sent") == len(steps)

    await vt.run_until(all_closed, limit=600)
    for step in steps:
        assert len(deliveries(faulty, step)) == 1, step
    handled = a.clockwork.pool.handled + b.clockwork.pool.handled
    assert a.clockwork.pool.handled and b.clockwork.pool.handled  # both replicas took part
    assert handled >= len(steps)


async def test_a_worker_stalled_past_its_lease_never_sends_what_was_taken_over(
    pg_url: str, replicas: Replicas, faulty: FaultyTelegram, vt: VirtualTime
) -> None:
    freezer = Freezer(vt)
    a = await replicas(pg_url, lease=30, sleep=freezer.sleep)  # its sleeps can freeze
    b = await replicas(pg_url, lease=30)
    [stalled, fine] = await seed(a, faulty, [61, 62])
    faulty.fail_chat(61, 502)  # a 5xx: a back-off before the retry ...
    freezer.thawed.clear()  # ... during which the whole process stalls, heartbeat included
    tick = asyncio.create_task(a.clockwork.tick())
    await until(lambda: bool(deliveries(faulty, fine)))
    await until(lambda: any(r.error == "Oops" for r in faulty.requests))
    await vt.advance(31)  # the lease runs out; no heartbeat renews it
    await b.clockwork.tick()  # the other replica takes the row over and delivers it
    assert len(deliveries(faulty, stalled)) == 1
    freezer.thawed.set()  # the stalled worker wakes up and would retry its send
    await asyncio.wait_for(tick, 5)
    assert len(deliveries(faulty, stalled)) == 1  # never twice
    assert a.sender.stats["sent"] == 1 and b.sender.stats["sent"] == 1
    row = await row_of(a, stalled)
    assert row.status == "sent" and row.claim_token is None


# ------------------------------------------------------------------------------ shutdown
async def test_shutdown_lets_a_short_send_finish_and_puts_a_hanging_one_back_at_once(
    db_url: str,
    replicas: Replicas,
    faulty: FaultyTelegram,
    vt: VirtualTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = await replicas(db_url)
    app.sender.request_timeout = 60
    [hanging, retried] = await seed(app, faulty, [71, 72])
    faulty.hanging.add(71)
    faulty.fail_chat(72, 502)  # a 0.5 s back-off, then it goes out: inside the grace period
    app.clockwork.start()
    # the warning is logged right before the back-off sleep starts: once it is there, the
    # sleep is on the virtual clock (the recorded "Oops" alone is too early under load)
    await until(
        lambda: faulty.stuck == 1 and "attempt 1: Telegram server says - Oops" in caplog.text
    )
    caplog.clear()
    stopping = asyncio.create_task(app.clockwork.shutdown())  # a grace of 5 s
    await vt.advance(0.5)
    await until(lambda: bool(deliveries(faulty, retried)))
    await vt.advance(5)
    await asyncio.wait_for(stopping, 5)
    assert (await row_of(app, retried)).status == "sent"
    row = await row_of(app, hanging)
    assert (row.status, row.attempts, row.claim_token, row.due_at) == ("pending", 0, None, START)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text
    # another replica delivers it right away, not after the 300 s lease
    other = await replicas(db_url)
    faulty.hanging.clear()
    await other.clockwork.tick()
    assert deliveries(faulty, hanging) == [START.timestamp() + 5.5]


# ----------------------------------------------------------------------- unknown kinds
async def test_due_work_of_an_unknown_kind_is_never_marked_done(
    sqlite_url: str, replicas: Replicas, caplog: pytest.LogCaptureFixture, vt: VirtualTime
) -> None:
    app = await replicas(sqlite_url)
    async with write_session(app.session_factory) as s:
        await duework.schedule(
            s, kind="from_the_future", key="x:1", chat_id=81, due_at=START, now=START
        )
    for attempt in range(1, duework.MAX_ATTEMPTS + 1):
        await app.clockwork.tick()
        async with app.session_factory() as s:
            row = await s.scalar(select(DueWork))
        assert row is not None and row.attempts == attempt
        assert row.status == ("failed" if attempt == duework.MAX_ATTEMPTS else "pending")
        vt.clock.set(row.due_at)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == duework.MAX_ATTEMPTS
    assert "from_the_future" in errors[0].getMessage()


# ---------------------------------------------------------------------------- daily jobs
async def test_daily_jobs_run_once_a_day_whatever_the_number_of_replicas(
    pg_url: str, replicas: Replicas, vt: VirtualTime
) -> None:
    a = await replicas(pg_url)
    b = await replicas(pg_url)
    runs: list[str] = []
    failures = [True]  # the first run of the second day fails

    async def count_me(cw: Clockwork) -> int:
        runs.append(cw.worker_id)
        if len(runs) == 2 and failures.pop():
            raise RuntimeError("the database went away")
        return len(runs)

    for app in (a, b):
        app.clockwork.register_daily(count_me)
    await asyncio.gather(a.clockwork.run_daily(), b.clockwork.run_daily())
    await a.clockwork.run_daily()
    await vt.advance(3600)
    await b.clockwork.run_daily()
    assert len(runs) == 1  # once on the first day, by either replica
    vt.clock.set(START + timedelta(days=1))
    await a.clockwork.run_daily()
    assert len(runs) == 2  # the second day's run fails ...
    await b.clockwork.run_daily()
    assert len(runs) == 3  # ... so the next attempt (an hour later) runs it again
    await asyncio.gather(a.clockwork.run_daily(), b.clockwork.run_daily())
    assert len(runs) == 3
    async with a.session_factory() as s:
        rows = (await s.execute(select(JobRun.job, JobRun.period, JobRun.status))).all()
    assert sorted(rows) == [
        ("count_me", "2026-11-23", "done"),
        ("count_me", "2026-11-24", "done"),
        ("daily_scan", "2026-11-23", "done"),
        ("daily_scan", "2026-11-24", "done"),
    ]


async def test_the_daily_scan_writes_in_short_batches(
    sqlite_url: str,
    replicas: Replicas,
    faulty: FaultyTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = await replicas(sqlite_url)
    await seed(app, faulty, [91])
    async with write_session(app.session_factory) as s:
        owner = await s.scalar(select(User))
        assert owner is not None
        await s.execute(
            insert(Contact),
            [
                {
                    "owner_id": owner.id,
                    "name": f"Old {i}",
                    "created_at": START,
                    "updated_at": START,
                    "verified_at": START - timedelta(days=400),
                }
                for i in range(25)
            ],
        )
    # batches of 10 instead of 1000, so a few rows show it
    monkeypatch.setattr(
        followups_daily, "_schedule_each", partial(followups_daily._schedule_each, batch=10)
    )
    write_blocks: list[str] = []

    @event.listens_for(app.engine.sync_engine, "before_cursor_execute")
    def spot(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement == "BEGIN IMMEDIATE":
            write_blocks.append(statement)

    counts = await daily_scan(app.clockwork)
    assert counts == {"cold": 0, "stale": 25}
    assert len(write_blocks) == 3  # a short write transaction per batch, not one long one


# ------------------------------------------------------------------ the unreachable hook
async def test_marking_a_chat_unreachable_never_deadlocks_with_the_update_that_sent(
    db_url: str, replicas: Replicas, faulty: FaultyTelegram
) -> None:
    app = await replicas(db_url)
    app.sender.unreachable_hook_wait = 0.2
    await seed(app, faulty, [95])
    await faulty.set_blocked(95, notify=False)
    # an update's own transaction holds the user's row (it just touched last_seen_at, say,
    # through code that does not use units of work yet)
    legacy = create_engine(db_url)
    try:
        async with create_session_factory(legacy)() as update_session:
            user = await update_session.scalar(select(User).where(User.tg_id == 95))
            assert user is not None
            user.last_seen_at = START + timedelta(seconds=1)
            await update_session.flush()
            result = await asyncio.wait_for(app.sender.send(95, "You are invited"), 5)
            assert result.status is SendStatus.UNREACHABLE  # the send did not wait for the hook
            await update_session.commit()
    finally:
        await legacy.dispose()
    await app.sender.settle(within=2)  # the hook finished once the update's row was free
    async with app.session_factory() as s:
        user = await s.scalar(select(User).where(User.tg_id == 95))
        assert user is not None and user.reachable is False


# ------------------------------------------------------------------ writing renderers
async def test_a_renderer_that_writes_runs_in_a_write_block_that_checks_the_claim(
    sqlite_url: str, replicas: Replicas, vt: VirtualTime
) -> None:
    from services import nps

    app = await replicas(sqlite_url)  # a strict engine: a write outside a block would raise
    async with write_session(app.session_factory) as s:
        # a deadline reminder for a case that is gone: the renderer finds nothing to fan out
        await duework.schedule(
            s, kind=nps.CASE_DUE, key="casedue:1", chat_id=1, ref_id=404, due_at=START, now=START
        )
    await app.clockwork.tick()
    assert await statuses(app) == {"done": 1}


# ------------------------------------------------------------------ fencing, as a property
LEASE = timedelta(seconds=30)


def test_fencing_tokens_let_only_the_current_holder_act(tmp_path: Any) -> None:
    """Any interleaving of claims, renewals, closes and releases by three workers, with the
    clock moving: the database agrees with a model where only the latest claim's token works,
    a claim is taken over only after its lease, and the row is sent at most once."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from storage.db import create_session_factory as factory_for

    loop = asyncio.new_event_loop()
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fence.db'}", strict=True)
    loop.run_until_complete(upgrade(engine))
    factory = factory_for(engine)
    op = st.tuples(
        st.sampled_from(["claim", "renew", "finish", "release", "wait"]),
        st.integers(0, 2),  # the worker
        st.integers(0, 45),  # seconds, for "wait"
    )

    async def run(ops: list[tuple[str, int, int]]) -> None:
        async with write_session(factory) as s:
            await s.execute(DueWork.__table__.delete())
            await duework.schedule(s, kind="x", key="x", chat_id=1, due_at=START, now=START)
            row_id = await s.scalar(select(DueWork.id))
        now = START
        tokens: dict[int, str] = {}
        model = {"status": "pending", "token": None, "claimed_at": START, "sent": 0, "tries": 0}
        async with write_session(factory) as s:  # one transaction: the statements are the test
            for name, worker, seconds in ops:
                if name == "wait":
                    now += timedelta(seconds=seconds)
                    continue
                held = model["status"] == "claimed" and tokens.get(worker) == model["token"]
                if name == "claim":
                    free = model["status"] == "pending" or (
                        model["status"] == "claimed" and model["claimed_at"] < now - LEASE
                    )
                    got = await duework.claim_one(s, now=now, worker=str(worker), lease=LEASE)
                    assert (got is not None) == free
                    if got is not None:
                        assert got.token not in tokens.values()  # fresh for every claim
                        tokens[worker] = got.token
                        model.update(status="claimed", token=got.token, claimed_at=now)
                        model["tries"] += 1
                        assert got.attempts == model["tries"]
                    continue
                token = tokens.get(worker, "none")
                if name == "renew":
                    assert await duework.renew(s, row_id, token=token, now=now) == held
                    if held:
                        model["claimed_at"] = now
                elif name == "finish":
                    assert (
                        await duework.finish(s, row_id, token=token, status=duework.SENT, now=now)
                        == held
                    )
                    if held:
                        model.update(status="sent", sent=model["sent"] + 1)
                else:
                    assert await duework.release(s, row_id, token=token, retry_at=None) == held
                    if held:
                        spent = model["tries"] >= duework.MAX_ATTEMPTS
                        model["status"] = "failed" if spent else "pending"
        row = await _only_row(factory)
        assert (row.status, row.attempts) == (model["status"], model["tries"])
        assert model["sent"] <= 1

    @settings(max_examples=25, deadline=None)
    @given(st.lists(op, max_size=25))
    def check(ops: list[tuple[str, int, int]]) -> None:
        loop.run_until_complete(run(ops))

    try:
        check()
    finally:
        loop.run_until_complete(engine.dispose())
        loop.close()


async def _only_row(factory: Any) -> DueWork:
    async with factory() as s:
        row = await s.scalar(select(DueWork))
        assert row is not None
        return row
