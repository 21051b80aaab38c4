from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
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
from tests import schema, services
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


def _in_a_thread(work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work`` to its end in a loop of its own, off the main thread (whose loop, if any,
    pytest-asyncio owns)."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work())  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the migrations' head, made once per run: each test's database is a
    copy of it, so the ~0.3 s of migrations is not paid by every test (the tests of the
    migrations take an empty file: ``fresh_sqlite_url``)."""
    path = tmp_path_factory.mktemp("head") / "head.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    _in_a_thread(migrate)
    assert not path.with_name("head.db-wal").exists(), "the template's WAL was not checkpointed"
    return path


@pytest.fixture(scope="session", autouse=True)
def _drop_the_pg_template() -> Iterator[None]:
    """The run's PostgreSQL template (tests.services.PG_TEMPLATE) is dropped at its end."""
    yield
    if services.PG_TEMPLATE is not None:
        _in_a_thread(lambda: drop_pg_database(services.PG_TEMPLATE or ""))


@pytest.fixture
def fresh_sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite file: for the tests of the migrations themselves."""
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    """This test's own SQLite file, already at the migrations' head."""
    shutil.copyfile(migrated_sqlite, tmp_path / "bot.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    url, name = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path
) -> AsyncIterator[str]:
    """Each backend's database for this test, already at the migrations' head."""
    if request.param == "sqlite":
        shutil.copyfile(migrated_sqlite, tmp_path / "bot.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    url, name = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each backend's EMPTY database: for the tests of the migrations themselves."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    url, name = await create_pg_database(migrated=False)
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
