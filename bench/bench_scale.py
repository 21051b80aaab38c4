"""Scale-out: updates/s and p50/p99 for one and for three bot replicas (webhook mode) on
PostgreSQL and Redis, against a bare aiogram echo bot in webhook mode, under the same load.

    python bench/bench_scale.py                     # 60 users, 100 ms round trip, 20 s a run
    python bench/bench_scale.py --users 30 --seconds 10 --latency 100

Every replica is a real process started the way production starts it (``python -m bot`` with
WEBHOOK_URL, see the README's "Deployment"), behind a loopback round-robin proxy (what nginx does
in deploy/nginx.conf). Telegram is the emulator, with ``--latency`` ms of round trip on every
Bot API request. Each simulated user (a rep of a team, seeded as in bench_load.py) posts an update
through the proxy, waits for the 200 (the bot answers the webhook once the update is handled,
reply included), and posts the next: /find, a card, /settings in turn. Latency of an update: from
the post to the 200. The echo bot answers each message with its text (one Router, one handler,
aiogram's SimpleRequestHandler), the floor of what aiogram does per update.

Prints updates/s, p50 and p99 for each setup, then the ratios: three replicas over one (the
issue's target: at least 2.5x) and each over the echo bot. On a machine with fewer cores than
replicas the three share the cores, and the ratio says more about the cores than the code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bench.bench_load import Stats, pg_create, pg_drop, seed  # noqa: E402
from bot.emulator import FakeTelegram  # noqa: E402

SECRET = "bench-scale-secret"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy:
    """Round robin; on a refused connection or a 503 the next replica (as deploy/nginx.conf)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = itertools.count()
        self.port = free_port()
        self.runner: web.AppRunner | None = None
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=60)
        )

    async def forward(self, request: web.Request) -> web.Response:
        assert self.http is not None
        body = await request.read()
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": SECRET,
        }
        first = next(self.turn)
        status = 502
        for i in range(len(self.ports)):
            port = self.ports[(first + i) % len(self.ports)]
            try:
                async with self.http.post(
                    f"http://127.0.0.1:{port}/hook", data=body, headers=headers
                ) as resp:
                    status = resp.status
                    await resp.read()
            except aiohttp.ClientConnectionError:
                continue
            if status != 503:
                break
        return web.Response(status=status)

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        if self.runner is not None:
            await self.runner.cleanup()


# ---------------------------------------------------------------------------- the echo bot
async def echo_child(port: int) -> None:
    from aiogram import Bot, Dispatcher, Router
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode
    from aiogram.types import Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application

    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    dp = Dispatcher()
    dp.include_router(router)
    bot = Bot(
        os.environ["BOT_TOKEN"],
        session=AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"])),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token=SECRET).register(
        app, path="/hook"
    )
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


# ---------------------------------------------------------------------------- the run
class Setup:
    def __init__(self, kind: str, replicas: int, emu: FakeTelegram, db_url: str | None) -> None:
        self.kind = kind
        self.emu = emu
        self.ports = [free_port() for _ in range(replicas)]
        self.db_url = db_url
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = Path(tempfile.mkdtemp(prefix="bench-scale-"))

    def env(self, port: int, proxy_port: int) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": self.emu.token,
            "TELEGRAM_API_BASE": self.emu.base_url,
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        if self.kind == "bot":
            env |= {
                "DATABASE_URL": self.db_url or "",
                "REDIS_URL": REDIS_URL,
                "REDIS_PREFIX": f"bench-scale-{uuid.uuid4().hex[:8]}",
                "WEBHOOK_URL": f"http://127.0.0.1:{proxy_port}/hook",
                "WEBHOOK_SECRET": SECRET,
                "SCHEDULER_INTERVAL_SECONDS": "60",
                # as the README's deployment: three replicas within max_connections (100)
                "DB_POOL_SIZE": "20",
                "DB_MAX_OVERFLOW": "10",
            }
        return env

    async def start(self, proxy_port: int) -> None:
        for i, port in enumerate(self.ports):
            args = (
                [sys.executable, "-m", "bot"]
                if self.kind == "bot"
                else [sys.executable, str(SCRIPT), "--child-echo", str(port)]
            )
            log = (self.logs / f"{self.kind}{i}.log").open("wb")
            self.procs.append(
                subprocess.Popen(  # noqa: ASYNC220 - returns at once
                    args, env=self.env(port, proxy_port), cwd=self.logs, stdout=log, stderr=log
                )
            )
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            for port, proc in zip(self.ports, self.procs, strict=True):
                path = "/healthz" if self.kind == "bot" else "/hook"
                for _ in range(1200):
                    if proc.poll() is not None:
                        raise RuntimeError(f"a {self.kind} process exited; see {self.logs}")
                    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                        async with http.get(f"http://127.0.0.1:{port}{path}") as resp:
                            if resp.status in (200, 405):
                                break
                    await asyncio.sleep(0.1)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def load(
    emu: FakeTelegram, proxy: Proxy, users: dict[int, str], seconds: float, seed_: int
) -> Stats:
    """``users``: chat id → the company whose contacts it looks up (the echo bot: any text)."""
    stats = Stats()
    ids = itertools.count(1_000_000 * seed_)
    deadline = time.perf_counter() + seconds
    url = f"http://127.0.0.1:{proxy.port}/hook"
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=60)
    ) as http:

        async def user(uid: int) -> None:
            rng = random.Random(uid)
            texts = [f"/find {users[uid]}", "/settings", "/contacts"]
            while time.perf_counter() < deadline:
                chat = emu.chats[uid]
                chat.started = True
                mid = chat.next_message_id
                chat.next_message_id += 1
                message = {
                    "message_id": mid,
                    "date": int(time.time()),
                    "chat": emu.chat_json(uid),
                    "from": chat.user,
                    "text": rng.choice(texts),
                }
                update = {"update_id": next(ids), "message": message}
                started = time.perf_counter()
                async with http.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                ) as resp:
                    await resp.read()
                    if resp.status != 200:
                        stats.request_errors[str(resp.status)] += 1
                        continue
                stats.latencies.append(time.perf_counter() - started)
                stats.updates += 1

        begun = time.perf_counter()
        await asyncio.gather(*(user(u) for u in users))
        stats.elapsed = time.perf_counter() - begun
    return stats


async def run_setup(
    kind: str, replicas: int, args: argparse.Namespace, db_url: str | None, reps: list[Any]
) -> Stats:
    emu = FakeTelegram(round_trip=args.latency / 1000)
    await emu.start()
    if kind == "bot":
        users = {r.uid: r.company for r in reps}
    else:
        users = {7000 + i: "Echo" for i in range(args.users)}
    for uid in users:
        emu.add_user(uid, f"User {uid}", started=True)
    setup = Setup(kind, replicas, emu, db_url)
    proxy = Proxy(setup.ports)
    await proxy.start()
    try:
        await setup.start(proxy.port)
        await load(emu, proxy, users, min(3.0, args.seconds), 1)  # warm-up
        return await load(emu, proxy, users, args.seconds, 2)
    finally:
        setup.stop()
        await proxy.stop()
        await emu.stop()


def row(name: str, s: Stats) -> str:
    errors = sum(s.request_errors.values())
    return (
        f"{name:<22} {s.rate:8.1f} upd/s   p50 {s.pct(50):7.1f} ms   p99 {s.pct(99):7.1f} ms"
        f"   errors {errors}"
    )


async def run(args: argparse.Namespace) -> int:
    created = await pg_create()
    if isinstance(created, str):
        print(created)
        return 1
    db_url, name = created
    try:
        from storage.db import create_engine
        from storage.migrate import upgrade

        engine = create_engine(db_url)
        await upgrade(engine)
        await engine.dispose()
        reps = await seed(db_url, args.users)
        print(
            f"{args.users} users, {args.latency:.0f} ms round trip, {args.seconds:.0f} s a run, "
            f"{os.cpu_count()} cores"
        )
        echo = await run_setup("echo", 1, args, None, [])
        print(row("aiogram echo (1)", echo), flush=True)
        one = await run_setup("bot", 1, args, db_url, reps)
        print(row("bot, 1 replica", one), flush=True)
        three = await run_setup("bot", 3, args, db_url, reps)
        print(row("bot, 3 replicas", three), flush=True)
        print(
            f"three / one replica: {three.rate / one.rate:.2f}x updates/s (target >= 2.5x); "
            f"one / echo: {one.rate / echo.rate:.2f}x; three / echo: {three.rate / echo.rate:.2f}x; "
            f"p50 one / echo: {one.pct(50) / echo.pct(50):.2f}x"
        )
    finally:
        await pg_drop(name)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--latency", type=float, default=100.0, help="Bot API round trip, ms")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--child-echo", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_echo:
        asyncio.run(echo_child(args.child_echo))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
