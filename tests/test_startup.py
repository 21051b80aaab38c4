"""`python -m bot` starts through Telegram's transient faults, and stops with one line on a
permanent one. The real start-up (bot.__main__.serve) runs against the emulator; sleeping is
injected, so the back-off costs no time."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from pydantic import SecretStr

from bot import eager_writes
from bot.__main__ import main, serve
from bot.app import App
from bot.config import Settings
from bot.emulator import FakeTelegram, UserClient
from bot.startup import BACKOFF, COMMANDS_ATTEMPTS
from core.clock import FrozenClock
from tests import schema
from tests.conftest import ADMIN_ID, fast_limiter
from tests.logcapture import Captured, capture_logs

T = TypeVar("T")
SHORT_TIMEOUT = 0.5
"""The bot's request timeout in the test of slow answers (aiogram's default is a minute)."""
HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


class FakeSleep:
    """Records the back-off instead of waiting; ``on_call`` runs at each sleep (a test's hook)."""

    def __init__(self, on_call: Callable[[int], Any] | None = None) -> None:
        self.delays: list[float] = []
        self.on_call = on_call

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self.on_call is not None:
            result = self.on_call(len(self.delays))
            if asyncio.iscoroutine(result):
                await result
        await asyncio.sleep(0)


class Front:
    """A tiny server in front of the emulator: scripted faults the emulator cannot make (an HTML
    error page, a dropped connection, a slow answer, a redirect loop), the rest forwarded."""

    def __init__(self, emu: FakeTelegram) -> None:
        self.emu = emu
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.base_url = ""

    def fail_next(self, method: str, fault: str) -> None:
        self.faults[method].append(fault)

    async def start(self) -> Front:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/loop/{tail:.*}", self._loop)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        self._client = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _loop(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPTemporaryRedirect(str(request.url))  # to itself, for ever

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        queue = self.faults.get(request.match_info["method"])
        fault = queue.popleft() if queue else None
        if fault == "loop":
            raise web.HTTPTemporaryRedirect("/loop" + request.path)
        if fault == "html":
            return web.Response(status=502, text=HTML_PAGE, content_type="text/html")
        if fault == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if fault == "slow":
            await asyncio.sleep(SHORT_TIMEOUT + 0.3)  # the bot gives up first
        assert self._client is not None
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        try:
            async with self._client.request(
                request.method,
                self.emu.base_url + request.path_qs,
                data=await request.read(),
                headers=headers,
            ) as upstream:
                return web.Response(
                    status=upstream.status,
                    body=await upstream.read(),
                    content_type=upstream.content_type,
                )
        except (aiohttp.ClientError, ConnectionError):  # the bot gave up on this one
            return web.Response(status=502, text=HTML_PAGE, content_type="text/html")


@pytest.fixture
async def front(emu: FakeTelegram) -> AsyncIterator[Front]:
    server = await Front(emu).start()
    yield server
    await server.stop()


def bot_settings(settings: Settings, token: str, base: str) -> Settings:
    return settings.model_copy(update={"bot_token": SecretStr(token), "telegram_api_base": base})


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, sleep: FakeSleep, clock: FrozenClock, **kwargs: Any
) -> AsyncIterator[App]:
    """`python -m bot` in this process, until the block ends; yields the app once it polls."""
    ready: asyncio.Future[App] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            settings,
            sleep=sleep,
            handle_signals=False,
            handle_as_tasks=False,
            on_ready=ready.set_result,
            clock=clock,
            start_clockwork=False,
            limiter=fast_limiter(),
            **kwargs,
        )
    )
    done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        pytest.fail(f"the bot did not start: exit code {task.result()}")
    if ready not in done:
        task.cancel()
        pytest.fail("the bot did not start within 20 s")
    app = ready.result()
    try:
        yield app
    finally:
        await app.dispatcher.stop_polling()
        assert await asyncio.wait_for(task, 20) == 0


async def answers_start(emu: FakeTelegram) -> bool:
    emu.add_user(ADMIN_ID, "Ada", language_code="en")
    reply = await UserClient(emu, ADMIN_ID).send("/start")
    return "admin" in reply.text


def assert_one_line_warnings(lines: list[str], captured: Captured, token: str) -> None:
    for line in lines:
        assert "\n" not in line
    startup = [r for r in captured.records if r.name == "bot.startup"]
    assert all(r.exc_text is None and r.exc_info is None for r in startup)
    assert "Traceback" not in captured.text
    assert token not in captured.everything()
    assert token.split(":")[1] not in captured.everything()


# ---------------------------------------------------------------------- transient faults


STARTUP_METHODS = ["getMe", "deleteWebhook", "setMyCommands"]


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [
        ("500", "TelegramServerError"),
        ("502", "TelegramServerError"),
        ("429", "TelegramRetryAfter"),
        ("html", "ClientDecodeError"),
        ("drop", "TelegramNetworkError (ServerDisconnectedError)"),
        ("slow", "TelegramNetworkError (TimeoutError)"),
    ],
)
async def test_transient_faults_at_startup_are_retried_and_the_bot_starts(
    settings: Settings,
    emu: FakeTelegram,
    front: Front,
    clock: FrozenClock,
    fault: str,
    error_class: str,
) -> None:
    for method in STARTUP_METHODS:
        if fault.isdigit():
            emu.fail_next(method, int(fault), retry_after=7)
        else:
            front.fail_next(method, fault)
    sleep = FakeSleep()
    cfg = bot_settings(settings, emu.token, front.base_url)
    extra: dict[str, Any] = {}
    if fault == "slow":
        api = TelegramAPIServer.from_base(front.base_url)
        session = AiohttpSession(api=api, timeout=SHORT_TIMEOUT)
        extra["bot"] = Bot(emu.token, session=session)
    with capture_logs("INFO", secrets=[emu.token]) as captured:
        async with serving(cfg, sleep, clock, **extra) as app:
            app.bot.session.timeout = 30  # started: the rest of the chat at the usual pace
            assert await answers_start(emu)
            # the menu was set on the second try
            assert emu.commands
    warnings = captured.lines("bot.startup")
    assert len(warnings) == len(STARTUP_METHODS)  # one line per retry
    for method, line in zip(STARTUP_METHODS, warnings, strict=True):
        assert line.startswith(f"{method} failed: {error_class};"), line
    # 429: Telegram's retry_after is obeyed; otherwise the first step of the back-off
    expected = 7.0 if fault == "429" else BACKOFF.min_delay
    assert sleep.delays == [expected] * len(STARTUP_METHODS)
    assert_one_line_warnings(warnings, captured, emu.token)


async def test_telegram_unreachable_at_start_keeps_retrying_with_capped_delay(
    settings: Settings, clock: FrozenClock
) -> None:
    with socket.socket() as probe:  # a port where nothing listens (yet)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    emu = FakeTelegram()
    attempts_before_telegram_is_back = 10

    async def maybe_come_back(calls: int) -> None:
        if calls == attempts_before_telegram_is_back:
            await emu.start(port=port)

    sleep = FakeSleep(maybe_come_back)
    cfg = bot_settings(settings, emu.token, f"http://127.0.0.1:{port}")
    try:
        with capture_logs("INFO", secrets=[emu.token]) as captured:
            async with serving(cfg, sleep, clock):
                assert await answers_start(emu)
    finally:
        await emu.stop()
    schema.assert_requests_valid(emu.requests)
    warnings = captured.lines("bot.startup")
    assert len(warnings) == attempts_before_telegram_is_back
    for n, line in enumerate(warnings, start=1):
        assert line.startswith("getMe failed: TelegramNetworkError (ClientConnectorError);")
        assert f"Telegram is unreachable at http://127.0.0.1:{port}, retry {n} in" in line
    delays = sleep.delays
    assert delays[0] == BACKOFF.min_delay
    assert all(b >= a for a, b in zip(delays[:5], delays[1:6], strict=True))  # growing...
    assert max(delays) <= BACKOFF.max_delay  # ...up to the cap
    assert delays[-1] >= BACKOFF.max_delay - 1
    assert_one_line_warnings(warnings, captured, emu.token)


async def test_menu_failing_all_through_start_up_does_not_stop_the_bot(
    settings: Settings, emu: FakeTelegram, clock: FrozenClock
) -> None:
    """setMyCommands keeps failing: the bot starts without its menu and sets it later."""
    failures = COMMANDS_ATTEMPTS + 3
    for _ in range(failures):
        emu.fail_next("setMyCommands", 502)
    sleep = FakeSleep()
    cfg = bot_settings(settings, emu.token, emu.base_url)
    with capture_logs("INFO", secrets=[emu.token]) as captured:
        async with serving(cfg, sleep, clock):
            assert await answers_start(emu)
            for _ in range(500):  # the background retry, on the fake sleep
                if len(default_menus(emu)) == 3:
                    break
                await asyncio.sleep(0.01)
            assert default_menus(emu) == ["", "en", "ru"]  # all set in the end
    tried = [
        r
        for r in emu.requests
        if r.method == "setMyCommands" and r.params["scope"] == {"type": "default"}
    ]
    assert len(tried) == failures + 3
    lines = captured.lines("bot.startup")
    assert lines[COMMANDS_ATTEMPTS - 1] == (
        "setMyCommands failed: TelegramServerError; "
        "the bot starts without it and retries in the background"
    )
    assert captured.lines("bot.startup", level=20)[-1] == "setMyCommands succeeded on a later try"
    assert_one_line_warnings(lines, captured, emu.token)


def default_menus(emu: FakeTelegram) -> list[str]:
    return sorted(k.split("|")[1] for k in emu.commands if k.startswith('{"type": "default"}'))


# ---------------------------------------------------------------------- permanent faults


@contextlib.contextmanager
def background_loop() -> Iterator[Callable[[Awaitable[T]], T]]:
    """An event loop in a thread, for servers that `main()` (which runs its own loop) talks to."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)  # type: ignore[arg-type]

    try:
        yield run
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def redirect_loop() -> tuple[web.AppRunner, str]:
    async def to_itself(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(str(request.url))

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", to_itself)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def run_main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> int:
    """`python -m bot` in this process, configured by its environment as a user runs it."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no .env here
    return main([])


WRONG = "123456789:WRONG-token-that-telegram-does-not-know"


@pytest.mark.parametrize(
    ("case", "level"),
    [("wrong token", "WARNING"), ("redirect loop", "INFO"), ("invalid address", "DEBUG")],
)
def test_a_permanent_refusal_exits_2_with_one_line_and_no_token(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    level: str,
) -> None:
    with background_loop() as run:
        emu = run(FakeTelegram().start())
        runner, loop_base = run(redirect_loop())
        try:
            base = {
                "wrong token": emu.base_url,
                "redirect loop": loop_base,
                "invalid address": "http://[::1",
            }[case]
            code = run_main(
                monkeypatch, tmp_path, BOT_TOKEN=WRONG, TELEGRAM_API_BASE=base, LOG_LEVEL=level
            )
        finally:
            run(runner.cleanup())
            run(emu.stop())
    assert code == 2
    expected = {
        "wrong token": "Telegram refused BOT_TOKEN (401 Unauthorized): copy the token from "
        "@BotFather (/mybots → API Token) into .env again.",
        "redirect loop": f"TELEGRAM_API_BASE={loop_base} redirects in a loop: "
        "set it to the Bot API server's own address.",
        "invalid address": "TELEGRAM_API_BASE=http://[::1 is not a valid address.",
    }[case]
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert lines[-1] == expected
    if level == "WARNING":
        assert lines == [expected]
    assert "bot.startup" not in out.err  # not retried
    for text in (out.err, out.out):
        assert "Traceback" not in text
        assert "WRONG-token-that-telegram-does-not-know" not in text


# ---------------------------------------------------------------------- anything else


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_an_unexpected_error_at_start_up_is_one_redacted_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    level: str,
) -> None:
    token = "123456789:SECRET-part-of-the-token-xyz"

    async def broken_upgrade(engine: object, url: str, **child: object) -> None:
        raise RuntimeError(f"cannot reach https://api.telegram.org/bot{token}/getMe\nmore")

    monkeypatch.setattr("storage.migrate.upgrade_in_child", broken_upgrade)
    assert run_main(monkeypatch, tmp_path, BOT_TOKEN=token, LOG_LEVEL=level) == 1
    err = capsys.readouterr().err
    line = "python -m bot run: RuntimeError: cannot reach https://api.telegram.org/bot123456789:[redacted]/getMe"
    assert line in err.splitlines()
    assert "SECRET-part-of-the-token-xyz" not in err
    # the traceback only when asked for (DEBUG), and redacted too
    assert ("Traceback" in err) == (level == "DEBUG")
    if level == "INFO":
        assert err.strip().splitlines() == [line]


async def test_the_running_bot_writes_each_request_when_it_is_made(
    settings: Settings, emu: FakeTelegram, clock: FrozenClock
) -> None:
    """On Python 3.11 `python -m bot` gives its loop bot.eager_writes' task factory (3.12+:
    aiohttp writes eagerly itself), and the bot works through it."""
    cfg = bot_settings(settings, emu.token, emu.base_url)
    async with serving(cfg, FakeSleep(), clock):
        factory = asyncio.get_running_loop().get_task_factory()
        if eager_writes.needed():
            assert factory is eager_writes.task_factory
        else:
            assert factory is None
        assert await answers_start(emu)


async def test_dateparser_is_ready_before_the_first_update(settings, emu, clock) -> None:
    """The first step typed without a date after a restart waited ~0.6 s for dateparser to
    build its tables; start-up builds them (in a thread, while it waits on the migrations and
    Telegram), so they exist when polling begins."""
    from dateparser.timezone_parser import _build_tz_regexes

    _build_tz_regexes.cache_clear()  # as in a fresh process
    built: list[int] = []
    config = bot_settings(settings, emu.token, emu.base_url)
    async with serving(config, FakeSleep(), clock):
        built.append(_build_tz_regexes.cache_info().currsize)
    assert built == [1]
