"""Real services for tests: a fresh PostgreSQL database and Redis, or a visible skip.

With CI=true a missing service is a failure, not a skip.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_PREFIX = os.environ.get("TEST_REDIS_PREFIX") or f"netsales-test-{uuid.uuid4().hex[:12]}"
"""Every key the tests write to Redis starts with this (a fresh prefix per run unless set): the
tests delete their own keys only and never flush a database, which may be shared."""
if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", REDIS_PREFIX):
    raise ValueError(f"TEST_REDIS_PREFIX={REDIS_PREFIX!r}: letters, digits, '_', '.', '-' only")
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, exc: BaseException) -> None:
    reason = f"{what} is not reachable ({exc.__class__.__name__}: {exc})"
    if IN_CI:
        pytest.fail(f"{reason}; with CI=true it must run", pytrace=False)
    pytest.skip(reason)


async def delete_test_keys(client) -> int:  # noqa: ANN001 - redis.asyncio.Redis
    """Delete the keys under REDIS_PREFIX (and nothing else); returns how many."""
    keys = [key async for key in client.scan_iter(match=f"{REDIS_PREFIX}:*", count=500)]
    return await client.delete(*keys) if keys else 0


async def _admin_execute(statement: str) -> None:
    import asyncpg

    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable(f"PostgreSQL at {PG_ADMIN_URL}", exc)
        raise
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _url_of(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


PG_TEMPLATE: str | None = None
"""This run's database at the migrations' head (made on first use, dropped at the end of the
run by tests/conftest.py): a test's database is a copy of it (``CREATE DATABASE … TEMPLATE``),
which takes a fraction of the time the migrations take on every test."""


async def _pg_template() -> str:
    global PG_TEMPLATE
    if PG_TEMPLATE is None:
        from storage.db import create_engine
        from storage.migrate import upgrade

        name = f"netsales_head_{uuid.uuid4().hex[:12]}"
        await _admin_execute(f'CREATE DATABASE "{name}"')
        engine = create_engine(_url_of(name))
        try:
            await upgrade(engine)
        except BaseException:
            await engine.dispose()
            await drop_pg_database(name)
            raise
        await engine.dispose()  # no connection left on it: a template must have none
        PG_TEMPLATE = name
    return PG_TEMPLATE


async def create_pg_database(*, migrated: bool = True) -> tuple[str, str]:
    """Create a throw-away database — at the migrations' head, or empty with ``migrated=False``
    (for the tests of the migrations themselves); returns (sqlalchemy url, name)."""
    name = f"netsales_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{await _pg_template()}"' if migrated else ""
    await _admin_execute(f'CREATE DATABASE "{name}"{template}')
    return _url_of(name), name


async def drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
