from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.emulator import FakeTelegram
from bot.emulator.runner import EmulatedBot
from bot.sender import RateLimiter
from core.clock import FrozenClock
from storage.db import create_engine
from storage.migrate import upgrade
from tests import schema
from tests.services import (
    REDIS_URL,
    create_pg_database,
    delete_test_keys,
    drop_pg_database,
    unavailable,
)

ADMIN_ID = 1001


def fast_limiter() -> RateLimiter:
    """Conversation tests don't wait on real time; the limits themselves are tested apart."""
    return RateLimiter(global_rate=10_000, global_burst=10_000, chat_rate=10_000, chat_burst=10_000)


START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


async def no_wait(seconds: float) -> None:
    """Replies retried after a 429 or a 5xx don't wait on real time in chat tests."""


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    url, name = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    url, name = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(name)


@pytest.fixture
async def engine(db_url: str):  # noqa: ANN201
    eng = create_engine(db_url)
    await upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=None,
        database_url=sqlite_url,
        admin_ids=frozenset({ADMIN_ID}),
        default_language="en",
        default_timezone="UTC",
    )


@pytest.fixture
async def emu() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()
    # Every request the bot made in the test must be valid against the official schema.
    schema.assert_requests_valid(server.requests)


@pytest.fixture
async def tg(
    settings: Settings, emu: FakeTelegram, clock: FrozenClock
) -> AsyncIterator[EmulatedBot]:
    runner = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter(), request_sleep=no_wait)
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


@pytest.fixture
async def redis_db() -> AsyncIterator[object]:
    """The test Redis, with this run's keys (TEST_REDIS_PREFIX) deleted before and after: the
    database may be shared, so nothing else in it is touched."""
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        await client.aclose()
        unavailable(f"Redis at {REDIS_URL}", exc)
    await delete_test_keys(client)  # a fixed TEST_REDIS_PREFIX may have keys from a killed run
    try:
        yield client
    finally:
        await delete_test_keys(client)
        await client.aclose()
