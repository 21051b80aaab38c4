"""Sender and RateLimiter: Telegram's limits and failures, on fake time, against the emulator."""

from __future__ import annotations

import asyncio
import socket
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.emulator import FakeTelegram
from bot.emulator.html import parse_html, utf16_len
from bot.emulator.server import ApiError
from bot.sender import RateLimiter, Sender, SendStatus, sender_managed
from tests import schema

USER = 4242


class FaultyTelegram(FakeTelegram):
    """The emulator with a few more of the network's faults, for these tests: requests to a
    chat that hang (never answered), an HTML error page instead of Telegram's JSON (a proxy in
    front of it), and an error for one chat's next send."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hanging: set[int] = set()  # every sendMessage to these chats hangs
        self.hang_next: dict[int, int] = defaultdict(int)  # chat → its next N sends hang
        self.stuck = 0  # requests hanging right now
        self.html_pages = 0  # the next N sendMessage calls get an HTML 502 page
        self.chat_failures: dict[int, deque[ApiError]] = defaultdict(deque)
        self._released = asyncio.Event()

    def fail_chat(self, chat_id: int, code: int, retry_after: int | None = None) -> None:
        description = f"Too Many Requests: retry after {retry_after}" if code == 429 else "Oops"
        self.chat_failures[chat_id].append(ApiError(code, description, retry_after))

    async def _handle(self, request: web.Request) -> web.Response:
        if self.html_pages and request.match_info["method"] == "sendMessage":
            self.html_pages -= 1
            return web.Response(
                status=502,
                text="<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>",
                content_type="text/html",
            )
        return await super()._handle(request)

    async def m_sendMessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            if self.chat_failures[chat_id]:
                raise self.chat_failures[chat_id].popleft()
            if chat_id in self.hanging or self.hang_next[chat_id]:
                self.hang_next[chat_id] = max(0, self.hang_next[chat_id] - 1)
                self.stuck += 1
                try:
                    await self._released.wait()  # until the emulator stops
                finally:
                    self.stuck -= 1
                raise ApiError(500, "Internal Server Error")
        return await super().m_sendMessage(params, files)

    async def stop(self) -> None:
        self._released.set()
        await super().stop()


@pytest.fixture
async def faulty() -> AsyncIterator[FaultyTelegram]:
    server = FaultyTelegram()
    await server.start()
    yield server
    await server.stop()
    schema.assert_requests_valid(server.requests)


async def until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Wait (real time, briefly) for something the bot does on its own."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not predicate():
        if loop.time() > end:
            raise TimeoutError(f"not within {within} s")
        await asyncio.sleep(0.005)


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it.

    Like a real sleep, a fake one always lets at least a nanosecond pass: the limiter may ask
    for a rounding-error delay (1e-17 s), which would not move a float clock at 1000.0.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 1e-9)

    @property
    def elapsed(self) -> float:
        return sum(self.sleeps)


def make_bot(base_url: str, token: str) -> Bot:
    return Bot(
        token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


@pytest.fixture
async def bot(emu: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(emu.base_url, emu.token)
    try:
        yield bot
    finally:
        await bot.session.close()


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def telegram_limiter(fake: FakeTime) -> RateLimiter:
    """Telegram's own figures: 30/s overall, 1/s per chat with bursts of 3."""
    return RateLimiter(
        global_rate=30,
        global_burst=30,
        chat_rate=1,
        chat_burst=3,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
    )


def sender_for(bot: Bot, fake: FakeTime, **kwargs) -> Sender:  # noqa: ANN003
    limiter = telegram_limiter(fake)
    return Sender(bot, limiter, sleep=fake.sleep, **kwargs)


def sent_texts(emu: FakeTelegram) -> list[str]:
    return [r.params["text"] for r in emu.requests if r.method == "sendMessage" and r.ok]


async def test_429_waits_retry_after_then_delivers_once(
    bot: Bot, emu: FakeTelegram, fake: FakeTime
) -> None:
    emu.add_user(USER, "Uma", started=True)
    emu.fail_next("sendMessage", 429, retry_after=3)
    sender = sender_for(bot, fake)

    result = await sender.send(USER, "Reminder: call Anna")

    assert result.status is SendStatus.SENT
    assert len(result.message_ids) == 1
    assert fake.sleeps == [3]
    assert sent_texts(emu) == ["Reminder: call Anna"]
    assert [r.ok for r in emu.requests if r.method == "sendMessage"] == [False, True]
    assert sender.stats["retry_after"] == 1 and sender.stats["sent"] == 1


async def test_429_pauses_the_whole_bot(bot: Bot, emu: FakeTelegram, fake: FakeTime) -> None:
    emu.add_user(USER, "Uma", started=True)
    emu.add_user(USER + 1, "Ivan", started=True)
    sender = sender_for(bot, fake)
    sender.limiter.penalize(2)  # as after a 429 elsewhere
    await sender.send(USER + 1, "two")
    assert fake.elapsed == pytest.approx(2, abs=0.05)
    assert sent_texts(emu) == ["two"]


async def test_never_started_is_unreachable_without_retry(
    bot: Bot, emu: FakeTelegram, fake: FakeTime
) -> None:
    emu.add_user(USER, "Shy")  # never pressed Start
    reported: list[int] = []

    async def on_unreachable(chat_id: int) -> None:
        reported.append(chat_id)

    sender = sender_for(bot, fake, on_unreachable=on_unreachable)
    result = await sender.send(USER, "Hello")

    assert result.status is SendStatus.UNREACHABLE
    assert "can't initiate conversation" in (result.error or "")
    assert reported == [USER]
    assert fake.sleeps == []
    assert len([r for r in emu.requests if r.method == "sendMessage"]) == 1


async def test_blocked_is_unreachable(bot: Bot, emu: FakeTelegram, fake: FakeTime) -> None:
    emu.add_user(USER, "Gone", started=True)
    await emu.set_blocked(USER, notify=False)
    reported: list[int] = []

    async def on_unreachable(chat_id: int) -> None:
        reported.append(chat_id)

    result = await sender_for(bot, fake, on_unreachable=on_unreachable).send(USER, "Hi")
    assert result.status is SendStatus.UNREACHABLE and "blocked" in (result.error or "")
    assert reported == [USER]


@pytest.mark.parametrize("code", [500, 502])
async def test_server_error_is_retried_with_backoff(
    bot: Bot, emu: FakeTelegram, fake: FakeTime, code: int
) -> None:
    emu.add_user(USER, "Uma", started=True)
    emu.fail_next("sendMessage", code)
    emu.fail_next("sendMessage", code)
    sender = sender_for(bot, fake)

    result = await sender.send(USER, "Digest")

    assert result.status is SendStatus.SENT
    assert fake.sleeps == [0.5, 1.0]
    assert sent_texts(emu) == ["Digest"]
    assert sender.stats["network_errors"] == 2


async def test_bad_request_is_not_retried(bot: Bot, emu: FakeTelegram, fake: FakeTime) -> None:
    emu.add_user(USER, "Uma", started=True)
    result = await sender_for(bot, fake).send(USER, "<b>broken")
    assert result.status is SendStatus.FAILED
    assert "parse entities" in (result.error or "").lower()
    assert fake.sleeps == []


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_network_down_fails_after_max_attempts(fake: FakeTime) -> None:
    bot = make_bot(f"http://127.0.0.1:{closed_port()}", "123:abc")
    try:
        sender = sender_for(bot, fake, max_attempts=4)
        result = await sender.send(USER, "Nobody hears this")
    finally:
        await bot.session.close()
    assert result.status is SendStatus.FAILED
    assert fake.sleeps == [0.5, 1.0, 2.0]
    assert sender.stats["network_errors"] == 4


async def test_long_text_is_split_with_keyboard_on_last_part(
    bot: Bot, emu: FakeTelegram, fake: FakeTime
) -> None:
    emu.add_user(USER, "Uma", started=True)
    lines = [f"<b>Contact {i}</b> — Company &amp; Sons, +7 900 000 {i:04d}" for i in range(300)]
    text = "\n".join(lines)
    assert utf16_len(parse_html(text)) > 2 * 4096
    kb = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Open", callback_data="open")]]
    )

    result = await sender_for(bot, fake).send(USER, text, reply_markup=kb)

    assert result.status is SendStatus.SENT
    sends = [r for r in emu.requests if r.method == "sendMessage"]
    assert len(sends) >= 3 and all(r.ok for r in sends)
    assert len(result.message_ids) == len(sends)
    for r in sends:
        assert utf16_len(r.params["text"]) <= 4096
    assert [("reply_markup" in r.params) for r in sends] == [False] * (len(sends) - 1) + [True]
    # nothing lost: every contact arrives, in order
    shown = "\n".join(parse_html(r.params["text"]) for r in sends)
    assert [f"Contact {i}" in shown for i in range(300)] == [True] * 300
    assert shown.index("Contact 299") > shown.index("Contact 0")
    # the per-chat limit spaced the parts (a burst of 3, then one a second)
    assert fake.elapsed == pytest.approx(max(0, len(sends) - 3), abs=0.01)


# ---------------------------------------------------------------------- RateLimiter


async def test_global_limit_30_per_second(fake: FakeTime) -> None:
    limiter = telegram_limiter(fake)
    for chat in range(100):
        await limiter.acquire(chat)
    assert fake.elapsed == pytest.approx((100 - 30) / 30, abs=0.05)


async def test_first_30_go_out_at_once(fake: FakeTime) -> None:
    limiter = telegram_limiter(fake)
    for chat in range(30):
        await limiter.acquire(chat)
    assert fake.sleeps == []
    await limiter.acquire(31)
    assert fake.elapsed == pytest.approx(1 / 30)


async def test_per_chat_limit_one_per_second_burst_3(fake: FakeTime) -> None:
    limiter = telegram_limiter(fake)
    for _ in range(10):
        await limiter.acquire(7)
    assert fake.elapsed == pytest.approx(7, abs=0.01)


async def test_per_chat_limit_does_not_hold_other_chats(fake: FakeTime) -> None:
    limiter = telegram_limiter(fake)
    for _ in range(3):
        await limiter.acquire(7)
    await limiter.acquire(8)
    assert fake.sleeps == []


async def test_buckets_refill_with_time(fake: FakeTime) -> None:
    limiter = telegram_limiter(fake)
    for _ in range(3):
        await limiter.acquire(7)
    fake.now += 3  # three quiet seconds
    for _ in range(3):
        await limiter.acquire(7)
    assert fake.sleeps == []


async def test_default_limits_stay_within_telegrams(fake: FakeTime) -> None:
    limiter = RateLimiter(monotonic=fake.monotonic, sleep=fake.sleep)
    for chat in range(300):
        await limiter.acquire(chat)
    # 300 messages to 300 chats: no faster than 30 a second after the first burst of ≤30
    assert fake.elapsed >= (300 - 30) / 30 - 0.01
    fake.sleeps.clear()
    for _ in range(10):
        await limiter.acquire(1)
    assert fake.elapsed >= 10 - 3 - 0.01  # one a second per chat after a burst of ≤3


async def test_penalize_holds_everyone_for_retry_after(fake: FakeTime) -> None:
    limiter = telegram_limiter(fake)
    limiter.penalize(5)
    await limiter.acquire(1)
    assert fake.elapsed == pytest.approx(5, abs=0.01)


async def test_html_error_page_is_retried_like_a_5xx(
    faulty: FaultyTelegram, fake: FakeTime
) -> None:
    faulty.add_user(USER, "Uma", started=True)
    faulty.html_pages = 2  # a proxy's "502 Bad Gateway" page, twice
    bot = make_bot(faulty.base_url, faulty.token)
    try:
        sender = sender_for(bot, fake)
        result = await sender.send(USER, "Reminder")
    finally:
        await bot.session.close()
    assert result.status is SendStatus.SENT
    assert fake.sleeps == [0.5, 1.0]  # back-off, as for a 5xx
    assert sent_texts(faulty) == ["Reminder"]
    assert sender.stats["network_errors"] == 2


async def test_html_error_pages_until_the_last_attempt_fail_the_send(
    faulty: FaultyTelegram, fake: FakeTime
) -> None:
    faulty.add_user(USER, "Uma", started=True)
    faulty.html_pages = 3
    bot = make_bot(faulty.base_url, faulty.token)
    try:
        result = await sender_for(bot, fake, max_attempts=3).send(USER, "Reminder")
    finally:
        await bot.session.close()
    assert result.status is SendStatus.FAILED and "not JSON" in (result.error or "")
    assert sent_texts(faulty) == []


async def test_a_request_that_hangs_times_out_and_is_retried(
    faulty: FaultyTelegram, fake: FakeTime
) -> None:
    faulty.add_user(USER, "Uma", started=True)
    faulty.hang_next[USER] = 1
    bot = make_bot(faulty.base_url, faulty.token)
    try:
        sender = sender_for(bot, fake, request_timeout=0.05)  # 50 ms of real time
        result = await sender.send(USER, "Reminder")
    finally:
        await bot.session.close()
    assert result.status is SendStatus.SENT
    assert sender.stats["timeouts"] == 1 and sender.stats["network_errors"] == 1
    assert fake.sleeps == [0.5]
    assert sent_texts(faulty) == ["Reminder"]


async def test_a_hanging_chat_holds_up_no_other_chat(faulty: FaultyTelegram) -> None:
    faulty.add_user(USER, "Stuck", started=True)
    faulty.add_user(USER + 1, "Fine", started=True)
    faulty.hanging.add(USER)
    bot = make_bot(faulty.base_url, faulty.token)
    sender = Sender(bot, RateLimiter(), request_timeout=60)
    try:
        stuck = asyncio.create_task(sender.send(USER, "first"))
        queued = asyncio.create_task(sender.send(USER, "second"))  # waits behind it, in order
        await until(lambda: faulty.stuck == 1)
        result = await asyncio.wait_for(sender.send(USER + 1, "Hello"), 5)
        assert result.status is SendStatus.SENT
        assert sent_texts(faulty) == ["Hello"]
        assert not stuck.done() and not queued.done()
        assert faulty.stuck == 1  # the same chat's next message did not go out past the first
        stuck.cancel()
        queued.cancel()
        await asyncio.gather(stuck, queued, return_exceptions=True)
    finally:
        await bot.session.close()


async def test_guard_stops_a_send_before_the_request(
    bot: Bot, emu: FakeTelegram, fake: FakeTime
) -> None:
    emu.add_user(USER, "Uma", started=True)
    sender = sender_for(bot, fake)
    result = await sender.send(USER, "Not mine any more", guard=lambda: False)
    assert result.status is SendStatus.ABORTED
    assert [r for r in emu.requests if r.method == "sendMessage"] == []
    assert sender.stats["aborted"] == 1


async def test_sender_marks_its_own_requests(bot: Bot, emu: FakeTelegram, fake: FakeTime) -> None:
    emu.add_user(USER, "Uma", started=True)
    seen: list[tuple[str, bool]] = []

    async def middleware(make_request, bot, method):  # noqa: ANN001, ANN202
        seen.append((type(method).__name__, sender_managed.get()))
        return await make_request(bot, method)

    bot.session.middleware(middleware)
    await sender_for(bot, fake).send(USER, "From the Sender")
    await bot.send_message(USER, "A direct reply")
    assert seen == [("SendMessage", True), ("SendMessage", False)]
    assert sender_managed.get() is False


async def test_a_429_for_one_chat_holds_only_that_chat(fake: FakeTime) -> None:
    limiter = telegram_limiter(fake)
    limiter.penalize(170, chat_id=7)
    for chat in range(8, 20):
        await limiter.acquire(chat)
    assert fake.sleeps == []  # the others go on
    await limiter.acquire(7)
    assert fake.elapsed == pytest.approx(170, abs=0.01)


async def test_429s_for_several_chats_at_once_hold_the_whole_bot(fake: FakeTime) -> None:
    limiter = telegram_limiter(fake)
    limiter.penalize(5, chat_id=7)
    limiter.penalize(5, chat_id=8)  # a second chat flooded meanwhile: the bot's flood
    await limiter.acquire(9)
    assert fake.elapsed == pytest.approx(5, abs=0.01)


async def test_429_on_one_chat_does_not_delay_another_chats_send(
    faulty: FaultyTelegram, fake: FakeTime
) -> None:
    faulty.add_user(USER, "Slow", started=True)
    faulty.add_user(USER + 1, "Fine", started=True)
    faulty.fail_chat(USER, 429, retry_after=170)
    bot = make_bot(faulty.base_url, faulty.token)
    gate = asyncio.Event()
    sleeps: list[float] = []

    async def held_sleep(seconds: float) -> None:  # the 429 wait lasts until we say so
        sleeps.append(seconds)
        await gate.wait()
        fake.now += seconds

    limiter = RateLimiter(monotonic=fake.monotonic, sleep=fake.sleep)
    sender = Sender(bot, limiter, sleep=held_sleep)
    try:
        slow = asyncio.create_task(sender.send(USER, "later"))
        await until(lambda: sleeps == [170])
        result = await asyncio.wait_for(sender.send(USER + 1, "now"), 5)
        assert result.status is SendStatus.SENT and fake.sleeps == []
        gate.set()
        assert (await slow).status is SendStatus.SENT
    finally:
        await bot.session.close()
    assert sent_texts(faulty) == ["now", "later"]


async def test_a_send_inside_a_write_block_is_refused(
    bot: Bot, sqlite_url: str, fake: FakeTime
) -> None:
    from storage.db import create_engine, create_session_factory
    from storage.uow import TalkInsideTransaction, writing

    engine = create_engine(sqlite_url)
    try:
        async with create_session_factory(engine)() as session, writing(session):
            with pytest.raises(TalkInsideTransaction):
                await sender_for(bot, fake).send(USER, "commit, then talk")
    finally:
        await engine.dispose()


async def test_direct_replies_never_wait_for_the_overall_limit_bulk_sends_do(
    fake: FakeTime,
) -> None:
    limiter = telegram_limiter(fake)
    for _ in range(100):  # a burst of replies far over 30/s: none of them waits
        await limiter.note_global()
    assert fake.sleeps == []
    await limiter.acquire(7)  # a notification after them waits behind them, at most a burst
    burst, rate = limiter.global_bucket.burst, limiter.global_bucket.rate
    assert 0 < fake.elapsed <= (burst + 1) / rate + 0.01
