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


async def create_pg_database() -> tuple[str, str]:
    """Create a throw-away database; returns (sqlalchemy url, name)."""
    import asyncpg

    name = f"netsales_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable(f"PostgreSQL at {PG_ADMIN_URL}", exc)
        raise
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}", name


async def drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
