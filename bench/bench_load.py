"""Closed-loop load: simulated reps talk to the real bot through the emulator.

    python bench/bench_load.py                 # 20/50/100 users x 0/50/100 ms, SQLite and PG
    python bench/bench_load.py --quick         # 20 and 50 users x 0 and 100 ms, SQLite (~1 min)
    python bench/bench_load.py --users 50 --latency 100 --seconds 20 --db pg

Each simulated user is a rep of a team (seeded in the database inside ``storage.uow.writing``,
with contacts of their own) and sends its next update only after the bot has finished with the
previous one. A round of the script: ``/find <company>``, open a card from the list, the
timeline, back to the card, log a touch (type, direction, summary, next step, when, confirm),
``/add`` a contact, ``/find <name>``.

The bot runs in a process of its own, started the way production starts it: ``bot.__main__.serve``
(``build_app``, migrations, long polling with ``handle_as_tasks=True``, the clockwork, the default
rate limiter), pointed at the emulator. The only addition is a wrapper around
``Dispatcher.feed_update`` that prints ``D <update_id>`` when the bot has finished with an update
(and ``E <message>`` for each error it logs). The emulator and the users live in this process, on
the other core. A bare aiogram echo bot (one Router answering each message), run the same way,
is the baseline.

Latency of an update: from the moment the user's update is queued in the emulator to the moment
the bot's last answer for it took effect in the chat (the emulator's record of that request).
Errors: the bot's "Sorry, something went wrong" answers, requests the emulator refused or failed,
updates not handled within ``--timeout``, and answers the script could not go on from.
See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import logging
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher, Router  # noqa: E402
from aiogram.types import Message, Update  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.emulator.client import buttons_of, plain  # noqa: E402
from bot.emulator.server import FakeTelegram, Recorded  # noqa: E402
from core.roles import Role  # noqa: E402
from services import contacts as contacts_svc  # noqa: E402
from storage.db import create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Team, User  # noqa: E402
from storage.uow import writing  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_ID = 1001
REP_BASE = 500_000
MANAGER_BASE = 400_000
ECHO_BASE = 700_000
TEAM_SIZE = 10
CONTACTS_EACH = 12  # 4 at the rep's "own" company (the /find list), 8 elsewhere
SORRY = "Sorry, something went wrong"

FIRST = "Anna Ivan Olga Pavel Maria Oleg Elena Boris Irina Denis Vera Roman".split()
LAST = "Smirnova Petrov Orlova Volkov Sokolova Lebedev Kozlova Novikov Morozova Popov".split()
OTHER_COMPANIES = "Acme Globex Initech Umbrella Hooli Vandelay Ромашка Вектор".split()

# targets from the issue "Durable under load"
TARGET_RATIO = 0.5  # throughput vs the echo bot at 20 and 50 users with a 100 ms round trip
TARGET_P95_RTTS = 3.0  # p95 at 50 users, in round trips
TARGET_SERVICE_RATIO = 2.5  # one update's service time vs the echo bot's, no latency
TARGET_RSS_MB = 200.0


# ---------------------------------------------------------------------------- measuring
class Tracker:
    """Knows when the bot has finished with an update, from the ``D <update_id>`` lines its
    process prints, and counts the errors it logs (``E <message>`` lines)."""

    def __init__(self) -> None:
        self.done: dict[int, float] = {}
        self.pushed: set[int] = set()
        self.waiters: dict[int, asyncio.Future[float]] = {}
        self.idle = asyncio.Event()  # nothing pushed is still being handled
        self.errors = ErrorCount()
        self.gc_pauses: list[float] = []  # the bot's full collections, ms
        # the bot's own clock (the same machine): when it began and ended each update
        self.began: dict[int, float] = {}
        self.ended: dict[int, float] = {}

    def feed(self, line: str) -> None:
        kind, _, rest = line.partition(" ")
        if kind == "S":
            update_id_text, _, at_text = rest.partition(" ")
            self.began[int(update_id_text)] = float(at_text)
        elif kind == "D":
            update_id_text, _, at_text = rest.partition(" ")
            update_id, at = int(update_id_text), time.time()
            if at_text:
                self.ended[update_id] = float(at_text)
            self.done[update_id] = at
            self.pushed.discard(update_id)
            if not self.pushed:
                self.idle.set()
            waiter = self.waiters.pop(update_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(at)
        elif kind == "E":
            self.errors.add(rest)
        elif kind == "G":
            self.gc_pauses.append(float(rest))

    def push(self, update_id: int) -> None:
        if update_id not in self.done:
            self.pushed.add(update_id)
            self.idle.clear()

    async def wait(self, update_id: int, within: float) -> float | None:
        if update_id in self.done:
            return self.done[update_id]
        waiter = asyncio.get_running_loop().create_future()
        self.waiters[update_id] = waiter
        try:
            return await asyncio.wait_for(waiter, within)
        except TimeoutError:
            self.waiters.pop(update_id, None)
            return None

    async def drain(self, within: float = 60.0) -> int:
        """Wait for updates still being handled (a timed-out one may still run); how many are
        left after ``within`` seconds."""
        if self.pushed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.idle.wait(), within)
        return len(self.pushed)


@dataclass
class ErrorCount:
    count: int = 0
    first: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.first) < 3:
            self.first.append(text[:200])


class ReportErrors(logging.Handler):
    """In the bot's process: every record at ERROR and above becomes an ``E`` line."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage().splitlines()[0][:160]
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{record.exc_info[1].__class__.__name__}]"
        report("E " + text)


def report_gc_pauses() -> None:
    """In the bot's process: ``G <ms>`` for every full (generation 2) collection."""
    started: list[float] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            report(f"G {(time.perf_counter() - started[0]) * 1000:.1f}")

    gc.callbacks.append(callback)


def report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # to the last answer, seconds
    busy: list[float] = field(default_factory=list)  # to the bot's end of the update, seconds
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    updates: int = 0
    sorry: int = 0
    timeouts: int = 0
    unexpected: int = 0
    request_errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    logged: ErrorCount | None = None  # what the bot logged at ERROR during the level
    cpu_bot: float = 0.0  # share of one core the bot's process used during the level, %
    cpu_bench: float = 0.0  # the same for this process (emulator and users)
    gc_pauses: list[float] = field(default_factory=list)  # the bot's full collections, ms
    requests: dict[str, list[int]] = field(default_factory=dict)  # Bot API calls per update
    # where an update's time went, seconds: until the bot began it (the long poll), in the bot,
    # and from the bot's end to the last answer (negative: that answer was in before the end)
    phases: dict[str, list[float]] = field(
        default_factory=lambda: {"to the bot": [], "in the bot": [], "to the answer": []}
    )
    kind_phases: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # by step
    batches: list[int] = field(default_factory=list)  # updates in each getUpdates answer

    @property
    def errors(self) -> int:
        return self.sorry + self.timeouts + self.unexpected + sum(self.request_errors.values())

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float, values: list[float] | None = None) -> float:
        """The q-th percentile (nearest rank) of the latencies, in milliseconds."""
        ordered = sorted(self.latencies if values is None else values)
        if not ordered:
            return float("nan")
        k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
        return ordered[k] * 1000


class Unexpected(Exception):
    """The bot's answer was not what the script can go on from."""


class TimeUp(Exception):
    """The level's time is up: no new step starts (the one in flight is never cut)."""


class Inbox:
    """Routes every request the emulator records to the simulated user it was addressed to."""

    def __init__(self, emu: FakeTelegram) -> None:
        self.boxes: dict[int, list[Recorded]] = {}
        self.failed: Counter[str] = Counter()
        emu.request_listeners.append(self._on_request)

    def _on_request(self, record: Recorded) -> None:
        if not record.ok or record.lost:
            what = record.error or "answer lost"
            self.failed[f"{record.method}: {what[:70]}"] += 1
        box = self.boxes.get(record.chat_id) if record.chat_id is not None else None
        if box is not None:
            box.append(record)


class SimUser:
    def __init__(
        self, emu: FakeTelegram, tracker: Tracker, inbox: Inbox, uid: int, timeout: float
    ) -> None:
        self.emu, self.tracker, self.uid, self.timeout = emu, tracker, uid, timeout
        self.box: list[Recorded] = []
        inbox.boxes[uid] = self.box
        self.with_buttons: dict[str, Any] | None = None
        self.stats = Stats()
        self.n = 0
        self.deadline = float("inf")

    async def _step(self, kind: str, push: Callable[[], Awaitable[int]]) -> list[Recorded]:
        if time.time() >= self.deadline:
            raise TimeUp
        self.box.clear()
        started = time.time()
        update_id = await push()
        self.tracker.push(update_id)
        finished = await self.tracker.wait(update_id, self.timeout)
        records = list(self.box)
        if finished is None:
            self.stats.timeouts += 1
            raise Unexpected("timeout")
        self.stats.updates += 1
        last = max((r.at for r in records), default=finished)
        latency = max(0.0, last - started)
        self.stats.latencies.append(latency)
        self.stats.busy.append(max(0.0, finished - started))
        self.stats.by_kind.setdefault(kind, []).append(latency)
        self.stats.requests.setdefault(kind, []).append(len(records))
        began = self.tracker.began.pop(update_id, None)
        ended = self.tracker.ended.pop(update_id, None)
        if began is not None and ended is not None:
            phases = self.stats.phases
            phases["to the bot"].append(max(0.0, began - started))
            phases["in the bot"].append(max(0.0, ended - began))
            phases["to the answer"].append(last - ended)
            by_kind = self.stats.kind_phases.setdefault(kind, {p: [] for p in phases})
            by_kind["to the bot"].append(max(0.0, began - started))
            by_kind["in the bot"].append(max(0.0, ended - began))
            by_kind["to the answer"].append(last - ended)
            if os.environ.get("BENCH_TRACE") == kind:  # one step's updates, one line each
                sent = [(r.method, round(1000 * (r.at - started))) for r in records]
                print(
                    f"TRACE {kind} at {started:.3f}: began +{1000 * (began - started):.0f} ms, "
                    f"ended +{1000 * (ended - started):.0f} ms, requests {sent}",
                    flush=True,
                )
        texts = [self._text(r) for r in records if r.ok]
        if any(SORRY in t for t in texts):
            self.stats.sorry += 1
            raise Unexpected("sorry")
        if any(not r.ok for r in records):
            raise Unexpected("request refused")  # counted by the Inbox
        for r in records:
            if r.ok and isinstance(r.result, dict) and buttons_of(r.result):
                self.with_buttons = r.result
        return records

    @staticmethod
    def _text(record: Recorded) -> str:
        if isinstance(record.result, dict):
            return plain(record.result.get("text") or record.result.get("caption"))
        return str(record.params.get("text") or "")

    async def send(self, text: str, kind: str) -> str:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]

        async def push() -> int:
            update_id, _ = await self.emu.user_message(self.uid, **content)
            return update_id

        records = await self._step(kind, push)
        return "\n".join(self._text(r) for r in records if r.ok)

    def buttons(self) -> list[str]:
        return [b["text"] for b in buttons_of(self.with_buttons)]

    async def click(self, label: str, kind: str) -> str:
        target = self.with_buttons
        found = buttons_of(target)
        exact = [b for b in found if b["text"] == label]
        partial = [b for b in found if label.lower() in b["text"].lower()]
        chosen = (exact or partial or [None])[0]
        if target is None or chosen is None or "callback_data" not in chosen:
            raise Unexpected(f"no button {label!r} in {[b['text'] for b in found]}")
        message, data = target, chosen["callback_data"]

        async def push() -> int:
            return await self.emu.user_callback(self.uid, message, data)

        records = await self._step(kind, push)
        return "\n".join(self._text(r) for r in records if r.ok)


def expect(text: str, *needles: str) -> None:
    if not any(n in text for n in needles):
        raise Unexpected(f"expected {needles!r}, got {text[:120]!r}")


# ---------------------------------------------------------------------------- the scripts
@dataclass
class Rep:
    index: int
    uid: int
    company: str
    names: list[str]  # the contacts at the rep's own company


async def rep_round(user: SimUser, rep: Rep, rng: random.Random) -> None:
    expect(await user.send(f"/find {rep.company}", "find"), "Found")
    name = rng.choice(rep.names)
    expect(await user.click(name, "open card"), name)
    expect(await user.click("Timeline", "timeline"), "Timeline")
    expect(await user.click("Open card", "open card"), name)
    expect(await user.click("Log touch", "touch log"), "What kind?")
    await user.click("call", "touch log")
    await user.click("outbound", "touch log")
    expect(await user.send(f"Talked about the pilot, round {user.n}", "touch log"), "Touch saved")
    expect(await user.send("send the proposal", "touch log"), "When?")
    expect(await user.click("In 3 days", "touch log"), "Right?")
    expect(await user.click("Confirm", "touch log"), "Next step saved")
    user.n += 1
    reply = await user.send(f"/add Lead {rep.index}-{user.n}, Newco {rep.index}", "add")
    if "Add anyway" in user.buttons() and "Saved" not in reply:
        reply = await user.click("Add anyway", "add anyway")
    expect(reply, "Saved")
    reply = await user.send(f"/find {rng.choice(rep.names)}", "find")
    expect(reply, "Status:", "Found")


async def echo_round(user: SimUser, rep: Rep, rng: random.Random) -> None:
    user.n += 1
    text = f"hello {user.n}"
    expect(await user.send(text, "echo"), text)


Round = Callable[[SimUser, Rep, random.Random], Awaitable[None]]


async def run_level(
    emu: FakeTelegram,
    users: list[SimUser],
    reps: list[Rep],
    script: Round,
    seconds: float,
    inbox: Inbox,
) -> Stats:
    """Every user runs rounds of ``script`` until the time is up (a round is cut short there)."""
    for u in users:
        u.stats = Stats()
    inbox.failed.clear()
    emu.requests.clear()  # memory: the inbox keeps what the users need
    deadline = time.time() + seconds
    for u in users:
        u.deadline = deadline

    async def loop(user: SimUser, rep: Rep) -> None:
        rng = random.Random(user.uid)
        while True:
            try:
                await script(user, rep, rng)
            except TimeUp:
                return
            except Unexpected as exc:
                if str(exc) not in ("timeout", "sorry", "request refused"):
                    user.stats.unexpected += 1
                user.with_buttons = None
                with contextlib.suppress(Unexpected, TimeUp):
                    await user.send("/cancel", "cancel")

    started = time.time()
    await asyncio.gather(*(loop(u, r) for u, r in zip(users, reps, strict=False)))
    total = Stats(elapsed=time.time() - started)
    for u in users:
        total.latencies += u.stats.latencies
        total.busy += u.stats.busy
        for kind, values in u.stats.by_kind.items():
            total.by_kind.setdefault(kind, []).extend(values)
        for kind, counts in u.stats.requests.items():
            total.requests.setdefault(kind, []).extend(counts)
        for phase, values in u.stats.phases.items():
            total.phases[phase].extend(values)
        for kind, phases in u.stats.kind_phases.items():
            into = total.kind_phases.setdefault(kind, {p: [] for p in phases})
            for phase, values in phases.items():
                into[phase].extend(values)
        total.updates += u.stats.updates
        total.sorry += u.stats.sorry
        total.timeouts += u.stats.timeouts
        total.unexpected += u.stats.unexpected
    total.request_errors = Counter(inbox.failed)
    return total


# ---------------------------------------------------------------------------- the bots
def settings_for(url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=None,
        database_url=url,
        admin_ids=frozenset({ADMIN_ID}),
        default_language="en",
        default_timezone="UTC",
        log_level="WARNING",
    )


def _noop_update() -> dict[str, Any]:
    # an update type no router handles: it only proves the polling loop is live
    return {
        "message_id": 0,
        "date": 0,
        "edit_date": 0,
        "chat": {"id": -1, "type": "channel", "title": "warm-up"},
        "text": "warm-up",
    }


async def seed(url: str, n: int) -> list[Rep]:
    """Migrate, then teams of TEAM_SIZE reps (and a manager each), every rep with CONTACTS_EACH
    contacts: written with the storage models and the contacts service, in one unit of work."""
    engine = create_engine(url)
    await upgrade(engine)
    now = datetime.now(UTC)
    reps: list[Rep] = []
    try:
        async with create_session_factory(engine)() as session, writing(session):
            rep_users: list[User] = []
            for t in range((n + TEAM_SIZE - 1) // TEAM_SIZE):
                team = Team(name=f"Team {t + 1}", created_at=now)
                session.add(team)
                await session.flush()
                manager = _staff(MANAGER_BASE + t, f"Manager{t + 1}", Role.MANAGER, team.id, now)
                session.add(manager)
                for i in range(t * TEAM_SIZE, min(n, (t + 1) * TEAM_SIZE)):
                    rep_users.append(_staff(REP_BASE + i, f"Rep{i + 1}", Role.REP, team.id, now))
            session.add_all(rep_users)
            await session.flush()
            for i, rep in enumerate(rep_users):
                company = f"Firm{i + 1:03d}"
                names = []
                for k in range(CONTACTS_EACH):
                    name = f"{FIRST[(i + k) % len(FIRST)]} {LAST[(3 * i + k) % len(LAST)]}"
                    own = k < 4
                    if own:
                        names.append(name)
                    data = {
                        "name": name,
                        "company": company if own else OTHER_COMPANIES[k % len(OTHER_COMPANIES)],
                        "phone": f"+7999{i:03d}{k:04d}",
                    }
                    await contacts_svc.create(session, owner=rep, data=data, now=now)
                reps.append(Rep(i + 1, rep.tg_id, company, names))
    finally:
        await engine.dispose()
    return reps


def _staff(tg_id: int, name: str, role: Role, team_id: int, now: datetime) -> User:
    return User(
        tg_id=tg_id,
        first_name=name,
        tg_language="en",
        language="en",
        role=role.value,
        team_id=team_id,
        reachable=True,
        created_at=now,
        last_seen_at=now,
    )


# ---------------------------------------------------------------------------- the bot's process
def instrument_dispatcher() -> None:
    """Report ``D <update_id>`` when the dispatcher has finished with an update (its handlers,
    middlewares and error handler; what a polling task runs)."""
    original = Dispatcher.feed_update
    profiler = PROFILER

    async def feed_update(self: Dispatcher, bot: Bot, update: Update, **kwargs: Any) -> Any:
        if profiler is not None and not PROFILING:
            PROFILING.append(True)
            profiler.enable()
        report(f"S {update.update_id} {time.time():.6f}")
        try:
            return await original(self, bot, update, **kwargs)
        finally:
            report(f"D {update.update_id} {time.time():.6f}")

    Dispatcher.feed_update = feed_update  # type: ignore[method-assign]


async def child(kind: str) -> None:
    """The bot (or the echo bot) in its own process; settings come from the environment."""
    try:
        await _child(kind)
    finally:
        if PROFILER is not None and PROFILING:
            PROFILER.disable()
            PROFILER.dump_stats(f"{os.environ['BENCH_PROFILE']}.{kind}")


# BENCH_PROFILE=<path>: the child profiles itself (cProfile) from its first update to its stop
# and writes <path>.bot / <path>.echo; read them with pstats.
PROFILER = cProfile.Profile(time.process_time) if os.environ.get("BENCH_PROFILE") else None
PROFILING: list[bool] = []


async def _child(kind: str) -> None:
    root = logging.getLogger()
    root.handlers[:] = [ReportErrors()]
    root.setLevel(logging.WARNING)
    instrument_dispatcher()
    report_gc_pauses()
    api, token = os.environ["TELEGRAM_API_BASE"], os.environ["BOT_TOKEN"]
    if kind == "bot":
        from bot.__main__ import serve

        settings = settings_for(os.environ["DATABASE_URL"]).model_copy(
            update={"telegram_api_base": api, "bot_token": SecretStr(token)}
        )
        await serve(settings)  # production's own entry point
        return
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode

    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    dp = Dispatcher()
    dp.include_router(router)
    bot = Bot(
        token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(api)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    try:
        await dp.start_polling(bot, handle_as_tasks=True, close_bot_session=False)
    finally:
        pending = set(getattr(dp, "_handle_update_tasks", ()))
        if pending:
            await asyncio.wait(pending, timeout=10)
        await bot.session.close()


@dataclass
class Harness:
    """One bot process polling one emulator, with its users."""

    emu: FakeTelegram
    proc: asyncio.subprocess.Process
    tracker: Tracker
    inbox: Inbox
    users: list[SimUser]
    reps: list[Rep]
    script: Round
    reader: asyncio.Task[None]
    stderr: Any

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)  # aiogram stops polling, serve cleans up
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader
        self.stderr.close()
        await self.emu.stop()

    def memory(self) -> tuple[float, float] | None:
        if self.proc.returncode is not None:
            return None
        return proc_memory(self.proc.pid)


async def start(kind: str, url: str, n: int, update_timeout: float, tmp: Path) -> Harness:
    """Seed (for the bot), start the emulator and the bot's process, wait until it polls."""
    emu = FakeTelegram()
    await emu.start()
    if kind == "bot":
        reps, script = await seed(url, n), rep_round
    else:
        reps, script = [Rep(i + 1, ECHO_BASE + i, "", []) for i in range(n)], echo_round
    for rep in reps:
        emu.add_user(rep.uid, f"User{rep.index}", started=True)
    env = dict(
        os.environ,
        BOT_TOKEN=emu.token,
        TELEGRAM_API_BASE=emu.base_url,
        DATABASE_URL=url,
        PYTHONPATH=str(ROOT),
    )
    stderr = (tmp / f"{kind}-{uuid.uuid4().hex[:6]}.stderr").open("w+")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--child",
        kind,
        cwd=str(ROOT),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
    )
    tracker = Tracker()

    async def read() -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            tracker.feed(line.decode().rstrip("\n"))

    reader = asyncio.create_task(read())
    inbox = Inbox(emu)
    users = [SimUser(emu, tracker, inbox, r.uid, update_timeout) for r in reps]
    h = Harness(emu, proc, tracker, inbox, users, reps, script, reader, stderr)
    marker = await emu.push_update("edited_message", _noop_update())
    try:
        await emu.wait_processed(marker, within=90)
    except TimeoutError:
        stderr.seek(0)
        tail = stderr.read()[-2000:]
        await h.stop()
        raise RuntimeError(f"the {kind} process did not start:\n{tail}") from None
    return h


async def level(h: Harness, n: int, rtt_ms: float, seconds: float) -> Stats:
    h.emu.set_round_trip(rtt_ms / 1000)
    # this process's own full collections (aiogram alone is 200k+ objects, ~150 ms a pass) must
    # not show up as the bot's latency: what exists now is left out of the collector's passes
    gc.collect()
    gc.freeze()
    errors = h.tracker.errors
    errors.count, errors.first = 0, []
    h.tracker.gc_pauses.clear()
    bot_cpu, bench_cpu = proc_cpu(h.proc.pid), time.process_time()
    batches: list[int] = []
    poll = h.emu.m_getUpdates

    async def counted_poll(params: dict[str, Any], files: dict[str, Any]) -> Any:
        answer = await poll(params, files)
        if answer:
            batches.append(len(answer))
        return answer

    h.emu.m_getUpdates = counted_poll  # type: ignore[method-assign]
    try:
        stats = await run_level(h.emu, h.users[:n], h.reps[:n], h.script, seconds, h.inbox)
    finally:
        del h.emu.m_getUpdates  # the class's own again
    stats.batches = batches
    if stats.elapsed:
        stats.cpu_bot = (proc_cpu(h.proc.pid) - bot_cpu) / stats.elapsed * 100
        stats.cpu_bench = (time.process_time() - bench_cpu) / stats.elapsed * 100
    left = await h.tracker.drain()
    h.emu.set_round_trip(0)
    stats.logged = ErrorCount(errors.count, list(errors.first))
    stats.gc_pauses = list(h.tracker.gc_pauses)
    if left:
        print(f"    ! {left} updates still being handled 60 s after the level ended")
    return stats


# ---------------------------------------------------------------------------- RSS after start
def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def measure_rss(tmp: Path) -> tuple[float, float] | str:
    """Start a real ``python -m bot`` (SQLite file, clockwork on) against an emulator of its
    own; once it has handled its first update, read VmRSS and VmHWM from /proc."""
    emu = FakeTelegram()
    await emu.start()
    env = dict(
        os.environ,
        BOT_TOKEN=emu.token,
        TELEGRAM_API_BASE=emu.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'rss.db'}",
        LOG_LEVEL="WARNING",
        REDIS_URL="",
        PYTHONPATH=str(ROOT),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=str(ROOT),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        marker = await emu.push_update("edited_message", _noop_update())
        try:
            await emu.wait_processed(marker, within=60)
        except TimeoutError:
            return "the bot did not start within 60 s"
        await asyncio.sleep(1.0)  # the clockwork's first tick, set-up requests
        return proc_memory(proc.pid)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await emu.stop()


async def aiogram_floor() -> float | None:
    """RSS in MB of a process that only imports aiogram (the floor under any aiogram bot)."""
    code = (
        "import re, aiogram; print(re.search(r'VmRSS:\\s+(\\d+)', "
        "open('/proc/self/status').read()).group(1))"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    try:
        return int(out.decode().strip()) / 1024
    except ValueError:
        return None


def load_average() -> str:
    one, five, _ = os.getloadavg()
    busy = one > 0.5 * (os.cpu_count() or 1)
    return f"load average {one:.2f} / {five:.2f}" + (
        " - the machine is busy with other work: figures are not comparable" if busy else ""
    )


# ---------------------------------------------------------------------------- PostgreSQL
async def pg_create() -> tuple[str, str] | str:
    try:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means: no PostgreSQL here
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({exc.__class__.__name__}: {exc})"
    name = f"netsales_load_{uuid.uuid4().hex[:10]}"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}", name


async def pg_drop(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# ---------------------------------------------------------------------------- report
def mark(ok: bool) -> str:
    return "ok" if ok else "MISS"


def error_text(s: Stats) -> str:
    if not s.errors:
        return "0"
    parts = [f"{s.errors}"]
    detail = []
    if s.sorry:
        detail.append(f"sorry {s.sorry}")
    req = sum(s.request_errors.values())
    if req:
        detail.append(f"refused {req}")
    if s.timeouts:
        detail.append(f"timeout {s.timeouts}")
    if s.unexpected:
        detail.append(f"other {s.unexpected}")
    if detail:
        parts.append("(" + ", ".join(detail) + ")")
    return " ".join(parts)


def phase_text(s: Stats, digits: int = 0, phases: dict[str, list[float]] | None = None) -> str:
    return ", ".join(
        f"{phase} {s.pct(50, v):.{digits}f}/{s.pct(95, v):.{digits}f}"
        for phase, v in (s.phases if phases is None else phases).items()
        if v
    )


def print_details(s: Stats) -> None:
    for what, count in s.request_errors.most_common(3):
        print(f"        refused x{count}: {what}")
    if s.logged is not None and s.logged.count:
        print(f"        the bot logged {s.logged.count} errors, e.g. {s.logged.first[0]}")
    if s.gc_pauses:
        print(
            f"        the bot's process: {len(s.gc_pauses)} full garbage collections, "
            f"longest {max(s.gc_pauses):.0f} ms"
        )


HEADER = (
    f"  {'users':>5} {'rtt':>6} {'msg/s':>7} {'echo':>7} {'ratio':>6} "
    f"{'p50':>6} {'p95':>6} {'p99':>6} {'cpu bot/bench':>14}  errors"
)


def print_row(n: int, rtt: int, s: Stats, echo: Stats | None) -> None:
    echo_rate, ratio = f"{'-':>7}", f"{'-':>6}"
    if echo is not None and echo.rate:
        echo_rate, ratio = f"{echo.rate:7.1f}", f"{s.rate / echo.rate:6.2f}"
    print(
        f"  {n:>5} {rtt:>4}ms {s.rate:7.1f} {echo_rate} {ratio} "
        f"{s.pct(50):6.0f} {s.pct(95):6.0f} {s.pct(99):6.0f} "
        f"{s.cpu_bot:6.0f}%/{s.cpu_bench:4.0f}%    {error_text(s)}"
    )
    print_details(s)
    if s.batches:
        sizes = sorted(s.batches)
        print(
            f"        updates per getUpdates answer: p50 {sizes[len(sizes) // 2]}, "
            f"max {sizes[-1]} ({len(sizes)} answers with updates)"
        )


def machine() -> str:
    import platform

    import aiogram
    import sqlalchemy

    return (
        f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}, "
        f"Python {platform.python_version()}, aiogram {aiogram.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}"
    )


# ---------------------------------------------------------------------------- main
async def run(args: argparse.Namespace) -> int:
    logging.getLogger().setLevel(logging.WARNING)
    users_levels, rtts = args.users, args.latency
    print(f"bench_load: {machine()}")
    print(
        f"users {users_levels}, round trips {rtts} ms, {args.seconds:g} s per level, "
        f"db {args.db}, per-update timeout {args.timeout:g} s"
    )
    print(f"at the start: {load_average()}")
    misses: list[str] = []
    with tempfile.TemporaryDirectory(prefix="netsales-load-") as tmpdir:
        tmp = Path(tmpdir)
        # the echo bot starts meanwhile (CPU does not change an RSS); no level runs before both
        rss, floor, echo = await asyncio.gather(
            measure_rss(tmp),
            aiogram_floor(),
            start("echo", "", max(users_levels), args.timeout, tmp),
        )
        if isinstance(rss, str):
            print(f"\nRSS after start: not measured ({rss})")
        else:
            ok = rss[0] <= TARGET_RSS_MB
            print(
                f"\nRSS after start of `python -m bot` (SQLite, clockwork on): {rss[0]:.0f} MB "
                f"(peak {rss[1]:.0f} MB)   target <= {TARGET_RSS_MB:.0f} MB: {mark(ok)}"
            )
            if floor is not None:
                print(f"  (a process that only imports aiogram: {floor:.0f} MB)")
            if not ok:
                misses.append(f"RSS after start {rss[0]:.0f} MB")

        echo_stats, echo_service = await run_echo(args, echo)
        dbs = ["sqlite", "pg"] if args.db == "both" else [args.db]
        for db in dbs:
            pg_name = None
            if db == "sqlite":
                url, title = f"sqlite+aiosqlite:///{tmp / 'load.db'}", "SQLite (a file)"
            else:
                made = await pg_create()
                if isinstance(made, str):
                    print(f"\nPostgreSQL: skipped, {made}")
                    continue
                url, pg_name = made
                title = "PostgreSQL (a throw-away database on 127.0.0.1:5432)"
            try:
                await run_db(args, tmp, title, url, echo_stats, echo_service, misses)
            finally:
                if pg_name:
                    await pg_drop(pg_name)

    print(f"\nat the end: {load_average()}")
    print("\nTargets (issue 'Durable under load'):")
    for miss in misses:
        print(f"  MISS  {miss}")
    if not misses:
        print("  all met")
    return 0


async def run_echo(
    args: argparse.Namespace, echo: Harness
) -> tuple[dict[tuple[int, int], Stats], Stats]:
    stats: dict[tuple[int, int], Stats] = {}
    try:
        await level(echo, min(5, len(echo.users)), 0, 1.0)  # warm-up
        service = await level(echo, 1, 0, args.service_seconds)
        print("\nEcho bot (baseline): a bare aiogram Router answering each message")
        print(
            f"  one user, no latency: service time p50 {service.pct(50, service.busy):.2f} ms "
            f"(last answer after {service.pct(50):.1f} ms)"
        )
        print(f"    where the time went, p50/p95 ms: {phase_text(service, digits=2)}")
        print(HEADER)
        for rtt in args.latency:
            for n in args.users:
                s = await level(echo, n, rtt, args.seconds)
                stats[(n, rtt)] = s
                print_row(n, rtt, s, None)
                if rtt > 0:
                    print(f"        where the time went, p50/p95 ms: {phase_text(s)}")
    finally:
        await echo.stop()
    return stats, service


async def run_db(
    args: argparse.Namespace,
    tmp: Path,
    title: str,
    url: str,
    echo_stats: dict[tuple[int, int], Stats],
    echo_service: Stats,
    misses: list[str],
) -> None:
    started = time.time()
    h = await start("bot", url, max(args.users), args.timeout, tmp)
    tag = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    try:
        print(
            f"\n{title}: {len(h.reps)} reps with {CONTACTS_EACH} contacts each seeded "
            f"and the bot started in {time.time() - started:.1f} s"
        )
        await level(h, min(5, len(h.users)), 0, 1.0)  # warm-up
        service = await level(h, 1, 0, args.service_seconds)
        bot_p50, echo_p50 = service.pct(50, service.busy), echo_service.pct(50, echo_service.busy)
        ratio = bot_p50 / echo_p50
        ok = ratio <= TARGET_SERVICE_RATIO and not service.errors
        print(
            f"  one user, no latency: service time p50 {bot_p50:.2f} ms (last answer after "
            f"{service.pct(50):.1f} ms); echo {echo_p50:.2f} ms; ratio {ratio:.2f}, target <= "
            f"{TARGET_SERVICE_RATIO:g}: {mark(ok)}; errors {error_text(service)}"
        )
        kinds = ", ".join(
            f"{k} {statistics.median(v) * 1000:.1f} ms / {statistics.mean(service.requests[k]):.1f}"
            for k, v in sorted(service.by_kind.items())
        )
        print(f"    by step, p50 to the last answer / Bot API requests per update: {kinds}")
        print(f"    where the time went, p50/p95 ms: {phase_text(service, digits=2)}")
        print_details(service)
        if not ok:
            misses.append(f"{tag}: service time {ratio:.2f}x the echo bot's")
        print(HEADER)
        for rtt in args.latency:
            for n in args.users:
                s = await level(h, n, rtt, args.seconds)
                echo = echo_stats.get((n, rtt))
                print_row(n, rtt, s, echo)
                notes = [f"0 errors: {mark(not s.errors)}"]
                if s.errors:
                    misses.append(f"{tag} {n} users {rtt} ms: {error_text(s)} errors")
                if rtt == 100 and n in (20, 50) and echo is not None:
                    r = s.rate / echo.rate if echo.rate else 0.0
                    notes.append(f"msg/s >= {TARGET_RATIO:g}x echo: {mark(r >= TARGET_RATIO)}")
                    if r < TARGET_RATIO:
                        misses.append(f"{tag} {n} users {rtt} ms: throughput {r:.2f}x echo")
                if rtt > 0:
                    steps = ", ".join(
                        f"{kind} {s.pct(50, v):.0f}/{s.pct(95, v):.0f}"
                        for kind, v in sorted(s.by_kind.items())
                    )
                    print(f"        by step, p50/p95 ms: {steps}")
                    print(f"        where the time went, p50/p95 ms: {phase_text(s)}")
                    for kind, phases in sorted(s.kind_phases.items()):
                        print(f"          {kind}: {phase_text(s, phases=phases)}")
                if n == 50 and rtt > 0:
                    bound = TARGET_P95_RTTS * rtt
                    notes.append(f"p95 <= {bound:.0f} ms: {mark(s.pct(95) <= bound)}")
                    if s.pct(95) > bound:
                        misses.append(
                            f"{tag} 50 users {rtt} ms: p95 {s.pct(95):.0f} ms > {bound:.0f} ms"
                        )
                print("        targets: " + "; ".join(notes))
        memory = h.memory()
        if memory is not None:
            print(f"  the bot's process: RSS {memory[0]:.0f} MB now, peak {memory[1]:.0f} MB")
    finally:
        await h.stop()


def _int_list(value: str) -> list[int]:
    return [int(x) for x in value.split(",") if x.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=_int_list, help="comma-separated, default 20,50,100")
    parser.add_argument("--latency", type=_int_list, help="round trips in ms, default 0,50,100")
    parser.add_argument("--seconds", type=float, help="per level, default 10")
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], help="default both")
    parser.add_argument("--quick", action="store_true", help="20,50 users; 0,100 ms; 3 s; SQLite")
    parser.add_argument("--timeout", type=float, default=15.0, help="per update, seconds")
    parser.add_argument("--child", choices=["bot", "echo"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(child(args.child))
        return 0
    quick = args.quick
    args.users = args.users or ([20, 50] if quick else [20, 50, 100])
    args.latency = args.latency or ([0, 100] if quick else [0, 50, 100])
    args.seconds = args.seconds or (3.0 if quick else 10.0)
    args.db = args.db or ("sqlite" if quick else "both")
    args.service_seconds = 2.0 if quick else 5.0
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
