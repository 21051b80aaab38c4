"""Three real bot processes (webhook mode) on PostgreSQL and Redis behind a round-robin proxy.

"Telegram" here is the emulator (the Bot API) plus a feeder that posts updates to the proxy and
resends any update that got no 200, as Telegram does, and resends some that did (duplicates).
Many users run a three-step dialogue (/settings → Time zone → a city) whose steps land on
different replicas; reminders fall due meanwhile. One replica is killed (SIGKILL) mid-stream and
another stalled (SIGSTOP) past its leases, then woken (SIGCONT). Afterwards: every reply and every
reminder arrived exactly once, every dialogue completed, and the emulator never answered 429.

Faults strike at a point where nothing of the replica is half done at Telegram: the proxy stops
passing it updates until the ones it has are answered, its requests are then held at the
emulator before they take effect, and after a moment (SETTLE: a reminder that went out has its
row closed) the signal is sent and the held ones fail without effect. A message that reached
Telegram and whose sending was never recorded cannot be undone by anyone, so that is not what
this test is about; what is: updates resent to it while it is dead or stalled, its claims on
due work and its FSM locks outliving it, and what it does when it wakes up.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.emulator import FakeTelegram
from bot.emulator.server import RateLimits
from services import duework, followups
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Contact, Team, User
from storage.uow import write_session
from tests.services import REDIS_PREFIX, REDIS_URL

ROOT = Path(__file__).resolve().parent.parent
SECRET = "replicas-secret_0123456789"
USERS = list(range(5000, 5030))
REPS_NOW = list(range(9000, 9030))
REPS_LATER = list(range(9100, 9115))
UPSTREAM_TIMEOUT = 3.0
SETTLE = 1.5  # after its requests are held, what a replica was doing after its last one ends


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Telegram(FakeTelegram):
    """The emulator, listening on one extra port per replica, so it knows who asks; requests of
    a replica can be held before they take effect, then failed without effect."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.holding: set[int] = set()
        self.held: dict[int, list[asyncio.Future[bool]]] = defaultdict(list)

    async def add_port(self) -> int:
        assert self._runner is not None
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _handle(self, request: web.Request) -> web.Response:
        port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
        if port in self.holding:
            future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self.held[port].append(future)
            if not await future:
                return self._html_response(502)  # never reached Telegram
        return await super()._handle(request)

    def hold(self, port: int) -> None:
        self.holding.add(port)

    def fail_held(self, port: int) -> None:
        self.holding.discard(port)
        for future in self.held.pop(port, []):
            if not future.done():
                future.set_result(False)


class Proxy:
    """Round robin over the replicas, like deploy/nginx.conf: on a refused connection or a 503
    the next replica; on a timeout the caller (Telegram) gets 504 and resends later."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = itertools.count()
        self.runner: web.AppRunner | None = None
        self.port = free_port()
        self.http: aiohttp.ClientSession | None = None
        self.draining: set[int] = set()
        self.inflight: dict[int, int] = defaultdict(int)

    async def drained(self, port: int, within: float = 15.0) -> None:
        """Stop passing updates to ``port``; return once the ones it has are answered."""
        self.draining.add(port)
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        while self.inflight[port] and loop.time() < end:  # noqa: ASYNC110 - a counter
            await asyncio.sleep(0.02)
        assert not self.inflight[port], "the replica did not finish its updates"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/tg/hook", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT))

    async def forward(self, request: web.Request) -> web.Response:
        assert self.http is not None
        body = await request.read()
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": request.headers.get(
                "X-Telegram-Bot-Api-Secret-Token", ""
            ),
        }
        first = next(self.turn)
        status = 502
        for i in range(len(self.ports)):
            port = self.ports[(first + i) % len(self.ports)]
            if port in self.draining:
                continue
            self.inflight[port] += 1
            try:
                async with self.http.post(
                    f"http://127.0.0.1:{port}/tg/hook", data=body, headers=headers
                ) as resp:
                    status = resp.status
                    await resp.read()
            except aiohttp.ClientConnectionError:
                status = 502
                continue
            except TimeoutError:
                return web.Response(status=504)
            finally:
                self.inflight[port] -= 1
            if status != 503:
                break
        return web.Response(status=status)

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        if self.runner is not None:
            await self.runner.cleanup()


async def seed(url: str, emu: Telegram, now: datetime, reps: list[int], due_in: timedelta) -> None:
    """A rep per chat, each with a contact whose next step's reminder is due at now + due_in."""
    async with write_session(create_session_factory(engine := create_engine(url))) as s:
        team = Team(name=f"Sales {reps[0]}", created_at=now)
        s.add(team)
        await s.flush()
        for chats, due in ((reps, now + due_in),):
            for chat in chats:
                emu.add_user(chat, f"Rep {chat}", started=True)
                rep = User(
                    tg_id=chat,
                    first_name=f"Rep {chat}",
                    role="rep",
                    team_id=team.id,
                    created_at=now,
                    last_seen_at=now,
                )
                s.add(rep)
                await s.flush()
                contact = Contact(
                    owner_id=rep.id,
                    team_id=team.id,
                    name=f"Client {chat}",
                    next_step=f"step {chat}",
                    next_step_due=due,
                    created_at=now,
                    updated_at=now,
                    verified_at=now,
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
                    now=now,
                    payload={"step_due": due.isoformat()},
                )
    await engine.dispose()


class Feeder:
    """Telegram's side of the webhook: resend until a 200; a few resent after the 200 too."""

    def __init__(self, emu: Telegram, proxy_port: int, rng: random.Random) -> None:
        self.emu = emu
        self.url = f"http://127.0.0.1:{proxy_port}/tg/hook"
        self.rng = rng
        self.ids = itertools.count(1)
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT + 1))
        self.resent = 0

    async def deliver(self, update: dict[str, Any]) -> None:
        while True:
            try:
                async with self.http.post(
                    self.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                ) as resp:
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            if status == 200:
                break
            await asyncio.sleep(0.3)
        if self.rng.random() < 0.3:  # Telegram did not get our answer: it sends it again
            self.resent += 1
            await self.deliver_once_more(update)

    async def deliver_once_more(self, update: dict[str, Any]) -> None:
        while True:
            try:
                async with self.http.post(
                    self.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                ) as resp:
                    if resp.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.3)

    def message(self, user_id: int, text: str) -> dict[str, Any]:
        chat = self.emu.chats[user_id]
        chat.started = True
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message = {
            "message_id": message_id,
            "date": int(self.emu.now()),
            "chat": self.emu.chat_json(user_id),
            "from": chat.user,
            "text": text,
        }
        chat.messages[message_id] = message
        return {"update_id": next(self.ids), "message": message}

    def tap(self, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        query_id = f"q{next(self.ids)}"
        self.emu.callback_answers[query_id] = None
        self.emu._callback_chats[query_id] = user_id
        return {
            "update_id": next(self.ids),
            "callback_query": {
                "id": query_id,
                "from": self.emu.chats[user_id].user,
                "message": message,
                "chat_instance": str(user_id),
                "data": data,
            },
        }


def texts(emu: Telegram, chat_id: int) -> list[str]:
    return [
        str(r.params.get("text", ""))
        for r in emu.requests
        if r.ok and r.chat_id == chat_id and r.method in ("sendMessage", "editMessageText")
    ]


def button(message: dict[str, Any], label: str) -> str:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for b in row:
            if label in b.get("text", ""):
                return b["callback_data"]
    raise AssertionError(f"no {label!r} button in {message.get('text')!r}")


async def dialogue(feeder: Feeder, user_id: int, delay: float) -> None:
    await asyncio.sleep(delay)
    await feeder.deliver(feeder.message(user_id, "/settings"))
    chat = feeder.emu.chats[user_id]
    menu = next(
        m
        for m in reversed(chat.messages.values())
        if m["from"]["id"] == feeder.emu.bot_id and "reply_markup" in m
    )
    await asyncio.sleep(feeder.rng.uniform(0.05, 0.4))
    await feeder.deliver(feeder.tap(user_id, menu, button(menu, "Time zone")))
    await asyncio.sleep(feeder.rng.uniform(0.05, 0.4))
    await feeder.deliver(feeder.message(user_id, "Novosibirsk"))


class Replica:
    def __init__(self, index: int, env: dict[str, str], tmp: Path, api_port: int) -> None:
        self.index = index
        self.api_port = api_port
        self.web_port = free_port()
        self.log = tmp / f"replica{index}.log"
        self.env = {
            **env,
            "WEB_PORT": str(self.web_port),
            "TELEGRAM_API_BASE": f"http://127.0.0.1:{api_port}",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, cwd: Path) -> None:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                [sys.executable, "-m", "bot"], env=self.env, cwd=cwd, stdout=log, stderr=log
            )

    async def healthy(self, http: aiohttp.ClientSession, within: float = 120) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        while loop.time() < end:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-3000:]
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(f"http://127.0.0.1:{self.web_port}/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"replica {self.index} not healthy: {self.log.read_text()[-3000:]}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)


@pytest.fixture
async def telegram() -> AsyncIterator[Telegram]:
    emu = Telegram(rate_limits=RateLimits())
    await emu.start()
    yield emu
    await emu.stop()


async def test_three_replicas_exactly_once_through_a_kill_and_a_stall(
    redis_db, pg_url: str, telegram: Telegram, tmp_path: Path
) -> None:
    emu = telegram
    rng = random.Random(12)
    engine = create_engine(pg_url)
    await upgrade(engine)  # once, before the replicas (each would find nothing to do)
    await engine.dispose()
    await seed(pg_url, emu, datetime.now(UTC), REPS_NOW, timedelta(minutes=-1))
    for user in USERS:
        emu.add_user(user, f"User {user}")

    api_ports = [await emu.add_port() for _ in range(3)]
    replicas: list[Replica] = []
    proxy: Proxy | None = None
    env = {
        **{k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME", "LANG")},
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": emu.token,
        "DATABASE_URL": pg_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": REDIS_PREFIX,
        "WEBHOOK_SECRET": SECRET,
        "WEB_HOST": "127.0.0.1",
        "LOG_LEVEL": os.environ.get("REPLICA_LOG_LEVEL", "WARNING"),
        "CLAIM_LEASE_SECONDS": "10",
        "UPDATE_LEASE_SECONDS": "8",
        "SCHEDULER_INTERVAL_SECONDS": "1",
    }
    proxy_port = free_port()
    env["WEBHOOK_URL"] = f"http://127.0.0.1:{proxy_port}/tg/hook"
    replicas = [Replica(i, env, tmp_path, api_ports[i]) for i in range(3)]
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2))
    feeder: Feeder | None = None
    try:
        for r in replicas:
            r.start(tmp_path)
        for r in replicas:
            await r.healthy(http)
        proxy = Proxy([r.web_port for r in replicas])
        proxy.port = proxy_port
        await proxy.start()
        feeder = Feeder(emu, proxy_port, rng)
        killed, stalled = replicas[0], replicas[1]

        async def strike(victim: Replica, sig: int) -> None:
            """At a point where nothing of the victim is half done: no update of it in flight
            (the proxy passes it none meanwhile), and its due-work requests held before they
            take effect; then the signal, the held requests fail, and the proxy passes it
            updates again (refused while it is dead, timing out while it is stalled)."""
            await proxy.drained(victim.web_port)
            emu.hold(victim.api_port)
            await asyncio.sleep(SETTLE)
            victim.signal(sig)
            emu.fail_held(victim.api_port)
            proxy.draining.discard(victim.web_port)

        async def faults() -> None:
            await asyncio.sleep(2.0)
            await strike(killed, signal.SIGKILL)
            await asyncio.sleep(0.5)
            await strike(stalled, signal.SIGSTOP)
            await asyncio.sleep(12)  # past the claim lease (10 s) and the update lease (8 s)
            stalled.signal(signal.SIGCONT)

        # these fall due while the faults strike
        await seed(pg_url, emu, datetime.now(UTC), REPS_LATER, timedelta(seconds=2.5))
        fault_task = asyncio.create_task(faults())
        dialogues = [dialogue(feeder, u, rng.uniform(0, 5)) for u in USERS]
        await asyncio.wait_for(asyncio.gather(*dialogues), 40)

        def delivered() -> bool:
            return all(any(f"step {c}" in t for t in texts(emu, c)) for c in REPS_NOW + REPS_LATER)

        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while not (delivered() and fault_task.done()) and loop.time() < end:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        await fault_task
        await stalled.healthy(http)  # awake again, and taking updates
        await asyncio.sleep(2.5)  # what the woken replica still had in hand would show now

        assert killed.proc is not None and killed.proc.wait(5) == -signal.SIGKILL
        for user in USERS:
            got = texts(emu, user)
            assert sum("Time zone" in t and "type a city" not in t for t in got[:1]) == 1, got
            assert sum("type a city" in t for t in got) == 1, (user, got)
            assert sum("Novosibirsk, UTC+7" in t for t in got) == 1, (user, got)
        for chat in REPS_NOW + REPS_LATER:
            assert sum(f"step {chat}" in t for t in texts(emu, chat)) == 1, (chat, texts(emu, chat))
        assert not [r for r in emu.requests if "Too Many Requests" in (r.error or "")]
        assert feeder.resent > 0
        # every reply once: as many replies as steps, no more
        replies = [
            r
            for r in emu.requests
            if r.ok and r.method in ("sendMessage", "editMessageText") and r.chat_id in USERS
        ]
        assert len(replies) == 3 * len(USERS), [(r.chat_id, r.params.get("text")) for r in replies]
    finally:
        if feeder is not None:
            await feeder.http.close()
        for r in replicas:
            if r.proc is not None and r.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    r.proc.send_signal(signal.SIGCONT)
                    r.proc.terminate()
        for r in replicas:
            if r.proc is not None:
                try:
                    r.proc.wait(15)
                except subprocess.TimeoutExpired:
                    r.proc.kill()
                    r.proc.wait(5)
        if proxy is not None:
            await proxy.stop()
        await http.close()
