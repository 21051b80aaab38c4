"""PostgreSQL's pool: a connection that sat idle is pinged before use and replaced when the
server dropped it; one used a moment ago is not pinged (a ping is a round trip per update)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from tests.services import PG_ADMIN_URL


async def _drop_connections(url: str) -> int:
    """The server ends every connection to the test's database (a restart, an idle timeout)."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        return len(
            await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
        )
    finally:
        await admin.close()


def _count_pings(engine: AsyncEngine) -> list[int]:
    dialect = engine.sync_engine.dialect
    pings = [0]
    ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings[0] += 1
        return ping(dbapi_connection)

    dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


@contextlib.asynccontextmanager
async def pool(url: str, **options: Any) -> AsyncIterator[tuple[AsyncEngine, list[int]]]:
    """The bot's engine (``storage.db.create_engine``) with its pings counted."""
    engine = create_engine(url, **options)
    try:
        yield engine, _count_pings(engine)
    finally:
        await engine.dispose()


async def _one(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT 1"))).scalar_one()


async def test_a_connection_that_sat_idle_is_pinged_and_replaced_when_gone(pg_url: str) -> None:
    # every connection back counts as idle
    async with pool(pg_url, ping_after_idle_s=0.0) as (engine, pings):
        assert await _one(engine) == 1
        assert pings == [0]  # a new connection is not pinged
        assert await _drop_connections(pg_url) == 1
        assert await _one(engine) == 1  # no error: the ping found it gone, a new one was opened
        assert pings == [1]


async def test_a_connection_used_a_moment_ago_is_not_pinged(pg_url: str) -> None:
    # a moment, however slow the machine
    async with pool(pg_url, ping_after_idle_s=3600.0) as (engine, pings):
        for _ in range(5):
            assert await _one(engine) == 1
        assert pings == [0]
        # the price: a connection the server dropped a moment ago fails its next statement;
        # SQLAlchemy then renews the pool, and the next use works
        assert await _drop_connections(pg_url) == 1
        with pytest.raises(DBAPIError) as failed:
            await _one(engine)
        assert failed.value.connection_invalidated
        assert await _one(engine) == 1


async def test_by_default_a_connection_back_within_the_second_is_not_pinged(
    pg_url: str,
) -> None:
    async with pool(pg_url) as (engine, pings):
        for _ in range(3):
            assert await _one(engine) == 1  # each back in the pool for milliseconds
        assert pings == [0]


async def test_pre_ping_at_every_checkout_can_still_be_chosen(pg_url: str) -> None:
    async with pool(pg_url, pool_pre_ping=True) as (engine, _):
        assert await _one(engine) == 1
        await _drop_connections(pg_url)
        assert await _one(engine) == 1
