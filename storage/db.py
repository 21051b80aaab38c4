"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import uow
from storage.inline_sqlite import InlineConnection
from storage.inline_sqlite import creator as inline_creator

# A writer of another process (a migration, a bench, a second bot) may hold SQLite's lock for
# a while; our own writers queue in-process (storage.uow), so this wait is only for theirs.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_from_hint(_compiler: Any, _table: Any, text: str | None) -> str | None:
    return text


# ``select().with_hint(Table, "INDEXED BY ix", "sqlite")`` pins a query's plan on SQLite, where
# ANALYZE's statistics would otherwise change it (services.rollups, rollup_marks,
# rollup_replies, digest). SQLAlchemy's SQLite compiler drops table hints (its default
# get_from_hint_text returns None): render them after the table name, as SQLite reads them.
SQLiteCompiler.get_from_hint_text = _sqlite_from_hint  # type: ignore[method-assign]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # an inline connection waits for locks itself, without blocking the loop (busy_timeout 0)
    inline = isinstance(getattr(dbapi_connection, "_connection", None), InlineConnection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={0 if inline else SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


DEFAULT_PG_POOL = (45, 15)  # Settings.db_pool_size, db_max_overflow


def pool_options(url: str, pool_size: int, max_overflow: int) -> dict[str, int]:
    """The pool's size for PostgreSQL (SQLite keeps its own)."""
    if make_url(url).get_backend_name() == "sqlite":
        return {}
    return {"pool_size": pool_size, "max_overflow": max_overflow}


# A PostgreSQL connection back from the pool is pinged first only when it sat unused this long.
# SQLAlchemy's pool_pre_ping pings at every checkout: an update checks out 1.3 times, and each
# ping is a round trip on which the update's task goes back to the end of the loop's queue.
# Under load every connection is back in use within a fraction of a second, so none is pinged;
# at a rep's pace, and for the scheduler's ticks, every one still is (a restart of the server
# fails only a statement run within this long of the connection's last use).
PING_AFTER_IDLE_S = 1.0


def ping_when_idle(engine: AsyncEngine, after: float = PING_AFTER_IDLE_S) -> None:
    """Ping a pooled connection at checkout when it was idle ``after`` seconds or more (a
    restart, a proxy's idle timeout): a dead one is replaced before use, as pool_pre_ping
    does. A connection in use a moment ago is not pinged: if the server went away meanwhile,
    the statement fails, and SQLAlchemy then renews every connection of the pool."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < after:
            return  # a new connection, or one used a moment ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure: replace the connection
            raise DisconnectionError("the pooled connection is gone") from exc
        if alive is False:
            raise DisconnectionError("the pooled connection is gone")


def create_engine(url: str, *, strict: bool = False, **kwargs: Any) -> AsyncEngine:
    """``strict``: writes only inside :func:`storage.uow.writing` (the bot runs strict).
    PostgreSQL: ``ping_after_idle_s`` (default :data:`PING_AFTER_IDLE_S`), see
    :func:`ping_when_idle`; ``pool_pre_ping=True`` pings at every checkout instead.

    SQL parameters are never logged or put into error messages (they carry personal data and
    live tokens), whatever the log level.
    """
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # readers hold a connection only between Telegram round trips (storage.uow)
            kwargs.setdefault("pool_size", 20)
            kwargs.setdefault("max_overflow", 20)
            # statements run in the loop's thread, long reads on a thread (storage.inline_sqlite)
            kwargs.setdefault("async_creator", inline_creator(parsed.database))
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        ping_after = kwargs.pop("ping_after_idle_s", PING_AFTER_IDLE_S)
        # 50 reps at once on one replica: with 10 + 20, a burst of updates queued for a
        # connection behind the whole burst's statements, and connections opened on top were
        # closed again after each burst (bench_load, PostgreSQL, 50 users / 100 ms, p95: 10 + 20
        # 444-473 ms, 20 + 30 401-452 ms, 45 + 15 385-392 ms)
        kwargs.setdefault("pool_size", DEFAULT_PG_POOL[0])
        kwargs.setdefault("max_overflow", DEFAULT_PG_POOL[1])
        if parsed.get_driver_name() == "asyncpg":
            # asyncpg prepares every statement; after five runs PostgreSQL may switch to a
            # generic plan, blind to the period's dates: the rollups' day-range reads then
            # took 130–200 ms instead of 10 at 1M cards. Planned for each run's values instead.
            settings = {"plan_cache_mode": "force_custom_plan"}
            kwargs.setdefault("connect_args", {}).setdefault("server_settings", settings)
        engine = create_async_engine(url, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            ping_when_idle(engine, ping_after)
    uow.install(engine, strict=strict)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
