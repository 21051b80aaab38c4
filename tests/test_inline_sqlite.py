"""SQLite in the loop's thread (storage.inline_sqlite) and filters in the loop (bot.inline_filters):
cheaper per update, and never a blocked loop while another process holds the lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.inline_filters import callables
from storage import uow
from storage.db import create_engine, create_session_factory
from storage.inline_sqlite import BUSY_TIMEOUT_S, offloaded


@pytest.fixture
async def engine(tmp_path: Path):  # noqa: ANN201
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with eng.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield eng
    await eng.dispose()


def _thread_of_sqlite(dbapi_connection) -> None:  # noqa: ANN001
    dbapi_connection.create_function("thread_id", 0, threading.get_ident)


async def _thread_id(engine) -> int:  # noqa: ANN001
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        _thread_of_sqlite(raw.driver_connection._conn)
        return (await conn.execute(text("SELECT thread_id()"))).scalar_one()


async def test_statements_run_in_the_loops_thread_and_long_reads_on_a_thread(engine) -> None:
    assert await _thread_id(engine) == threading.get_ident()
    with offloaded():
        assert await _thread_id(engine) != threading.get_ident()
    assert await _thread_id(engine) == threading.get_ident()  # only inside the block


async def test_a_lock_held_by_another_process_is_waited_for_without_blocking_the_loop(
    engine, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "x.db", isolation_level=None)  # "another process"
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (v) VALUES ('theirs')")
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    async def write() -> None:
        async with create_session_factory(engine)() as session, uow.writing(session):
            await session.execute(text("INSERT INTO t (v) VALUES ('ours')"))

    beat = asyncio.create_task(heartbeat())
    ours = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not ours.done()  # still waiting for the lock...
    assert ticks >= 10  # ...while the loop goes on serving everything else
    other.execute("COMMIT")
    await asyncio.wait_for(ours, 2)
    beat.cancel()
    other.close()
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert rows == ["theirs", "ours"]


async def test_a_snapshot_that_can_no_longer_write_fails_at_once(engine, tmp_path: Path) -> None:
    """SQLITE_BUSY_SNAPSHOT cannot succeed by waiting: raised at once, not after 30 s."""
    assert BUSY_TIMEOUT_S >= 10
    async with engine.connect() as conn:
        await conn.execute(text("SELECT count(*) FROM t"))  # a read snapshot (deferred BEGIN)
        other = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
        other.execute("INSERT INTO t (v) VALUES ('newer')")
        other.close()
        with pytest.raises(Exception, match="locked"):  # noqa: PT011 - OperationalError, wrapped
            await asyncio.wait_for(
                conn.execute(text("INSERT INTO t (v) VALUES ('stale')")), timeout=2
            )


async def test_no_filter_or_handler_of_the_bot_runs_on_a_thread(tg) -> None:
    """aiogram hands plain callables to asyncio.to_thread; the bot marks them all, once."""
    objects = list(callables(tg.app.dispatcher))
    assert len(objects) > 100
    assert [o.callback for o in objects if not o.awaitable] == []
