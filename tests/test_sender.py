"""Sender and RateLimiter: Telegram's limits and failures, on fake time, against the emulator."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.emulator import FakeTelegram
from bot.emulator.html import parse_html, utf16_len
from bot.sender import RateLimiter, Sender, SendStatus

USER = 4242


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
