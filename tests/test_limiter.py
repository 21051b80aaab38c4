"""Telegram's limits are the bot's: two Senders (two replicas) sharing the limiter in Redis stay
under them together; with a limiter each, they would go over."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.emulator import FakeTelegram
from bot.emulator.wire import Bucket
from bot.limiter import RedisRateLimiter
from bot.sender import RateLimiter, Sender
from tests.services import REDIS_PREFIX
from tests.test_sender import FakeTime, make_bot


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def timed_emu(fake: FakeTime) -> AsyncIterator[FakeTelegram]:
    """The emulator records when each request took effect on the fake clock."""
    server = FakeTelegram(now=fake.monotonic)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bots(timed_emu: FakeTelegram) -> AsyncIterator[tuple[Bot, Bot]]:
    a = make_bot(timed_emu.base_url, timed_emu.token)
    b = make_bot(timed_emu.base_url, timed_emu.token)
    try:
        yield a, b
    finally:
        await a.session.close()
        await b.session.close()


def shared(redis_db, fake: FakeTime) -> RedisRateLimiter:  # noqa: ANN001
    return RedisRateLimiter(redis_db, REDIS_PREFIX, now=fake.monotonic, sleep=fake.sleep)


def refused_by_telegram(emu: FakeTelegram, *, rate: float, burst: float, chat: bool) -> int:
    """How many of the sends Telegram's buckets (the emulator's: 30/s overall with bursts of
    30, 1/s a chat with bursts of 3) would have answered with a 429."""
    sends = [r for r in emu.requests if r.method == "sendMessage" and r.ok]
    buckets: dict[int, Bucket] = {}
    refused = 0
    for r in sends:
        key = r.params["chat_id"] if chat else 0
        bucket = buckets.setdefault(key, Bucket(rate, burst, r.at))
        if not bucket.take(r.at):
            refused += 1
    return refused


async def send_alternately(senders: list[Sender], chats: list[int]) -> None:
    for i, chat in enumerate(chats):
        result = await senders[i % len(senders)].send(chat, f"message {i}")
        assert result.ok


async def test_two_replicas_share_the_overall_limit(
    redis_db, fake: FakeTime, timed_emu: FakeTelegram, bots: tuple[Bot, Bot]
) -> None:
    chats = list(range(2000, 2120))
    for chat in chats:
        timed_emu.add_user(chat, "U", started=True)
    senders = [Sender(bot, shared(redis_db, fake), sleep=fake.sleep) for bot in bots]
    await send_alternately(senders, chats)
    assert refused_by_telegram(timed_emu, rate=30, burst=30, chat=False) == 0
    # and no slower than the limit: 120 messages after a burst of 25, at 29.5 a second
    assert fake.now - 1000.0 == pytest.approx((120 - 25) / 29.5, abs=0.05)
    assert max(fake.sleeps) < 1.0  # nobody waited more than a slot


async def test_two_replicas_share_a_chats_limit(
    redis_db, fake: FakeTime, timed_emu: FakeTelegram, bots: tuple[Bot, Bot]
) -> None:
    timed_emu.add_user(77, "Busy", started=True)
    senders = [Sender(bot, shared(redis_db, fake), sleep=fake.sleep) for bot in bots]
    await send_alternately(senders, [77] * 12)
    assert refused_by_telegram(timed_emu, rate=1, burst=3, chat=True) == 0
    assert fake.now - 1000.0 == pytest.approx(12 - 2, abs=0.05)


async def test_a_group_gets_twenty_a_minute(redis_db, fake: FakeTime) -> None:
    limiter = shared(redis_db, fake)
    for _ in range(23):
        await limiter.acquire(-100500)
    # a burst of 3, then one every 3 s: 20 more take a minute
    assert fake.now - 1000.0 == pytest.approx(60, abs=0.05)


async def test_a_429_holds_the_chat_on_every_replica(redis_db, fake: FakeTime) -> None:
    first, second = shared(redis_db, fake), shared(redis_db, fake)
    await first.penalize(5, chat_id=9)
    await second.acquire(9)
    assert fake.now - 1000.0 == pytest.approx(5, abs=0.01)
    fake.sleeps.clear()
    await second.acquire(10)  # another chat goes on
    assert fake.sleeps == []
    await second.penalize(3, chat_id=11)  # a second chat within the window: the bot's flood
    start = fake.now
    await first.acquire(12)
    assert fake.now - start == pytest.approx(3, abs=0.01)


async def test_without_sharing_two_replicas_would_go_over(
    fake: FakeTime, timed_emu: FakeTelegram, bots: tuple[Bot, Bot]
) -> None:
    """The control: an in-process limiter each, and Telegram would refuse some."""
    chats = list(range(3000, 3120))
    for chat in chats:
        timed_emu.add_user(chat, "U", started=True)
    senders = [
        Sender(bot, RateLimiter(monotonic=fake.monotonic, sleep=fake.sleep), sleep=fake.sleep)
        for bot in bots
    ]
    await send_alternately(senders, chats)
    assert refused_by_telegram(timed_emu, rate=30, burst=30, chat=False) > 0
