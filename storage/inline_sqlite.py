"""SQLite without a thread hop per call: the connection SQLAlchemy's aiosqlite dialect drives,
run in the event loop's own thread.

Why: aiosqlite runs every call (cursor, execute, fetch, commit) on a worker thread and wakes the
loop through its self-pipe when it is done. For the bot's statements, which take tens of
microseconds in SQLite itself, those hand-overs were most of the cost of an update: a point
``SELECT`` cost about 1 ms of CPU through aiosqlite against 16 µs through ``sqlite3`` directly
(``bench/bench_load.py`` shows the effect on a whole update).

What makes running SQLite in the loop safe here:

- **Waiting for a lock never blocks the loop.** The connection's ``busy_timeout`` is 0, so SQLite
  answers SQLITE_BUSY at once instead of sleeping in its busy handler; :meth:`_run` then waits
  with ``asyncio.sleep`` (backing off up to 50 ms) and tries again, up to the same 30 s SQLite
  would have waited. A statement that got SQLITE_BUSY did nothing, so trying again is what
  SQLite's own handler does. SQLITE_BUSY_SNAPSHOT (a read transaction that can no longer write)
  cannot succeed by waiting and is raised at once. The bot's own writers queue on an asyncio
  lock before ``BEGIN IMMEDIATE`` (storage.uow), so only another process's writer is waited for.
- **Long work goes to a thread.** Inside :func:`offloaded` (reports, the digest, imports and
  exports, the weekly network analysis: code that reads many rows), the calls of the current
  task run on a worker thread of this connection, as aiosqlite would run them, and the loop
  keeps serving other updates meanwhile.

Interactive statements (a card, a page of a list, a search, a short write) stay in the loop.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

BUSY_TIMEOUT_S = 30.0
_SQLITE_BUSY = 5
_SQLITE_BUSY_SNAPSHOT = 517

_offload: ContextVar[bool] = ContextVar("sqlite_offload", default=False)

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def offloaded() -> Iterator[None]:
    """SQLite calls made by the current task inside this block run on a worker thread."""
    token = _offload.set(True)
    try:
        yield
    finally:
        _offload.reset(token)


def offload(fn: Callable[P, Any]) -> Callable[P, Any]:
    """Decorate an ``async`` function that reads many rows: its SQLite calls run on a thread."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        with offloaded():
            return await fn(*args, **kwargs)

    return wrapper


def _is_retryable_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # not raised by SQLite itself
        return False
    return code & 0xFF == _SQLITE_BUSY and code != _SQLITE_BUSY_SNAPSHOT


class InlineConnection:
    """The part of ``aiosqlite.Connection`` that SQLAlchemy's aiosqlite adapter uses."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._tx = _InlineQueue()
        self._executor: ThreadPoolExecutor | None = None

    async def _run(self, fn: Callable[..., R], *args: Any) -> R:
        deadline: float | None = None
        delay = 0.001
        while True:
            try:
                if _offload.get():
                    if self._executor is None:
                        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite")
                    loop = asyncio.get_running_loop()
                    return await loop.run_in_executor(self._executor, functools.partial(fn, *args))
                return fn(*args)
            except sqlite3.OperationalError as exc:
                if not _is_retryable_busy(exc):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + BUSY_TIMEOUT_S
                if now >= deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)

    def begin_deferred(self) -> None:
        """``BEGIN`` (deferred): takes no lock, so it never waits (storage.uow's begin hook)."""
        self._conn.execute("BEGIN")

    # -- what the adapter calls
    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def commit(self) -> None:
        await self._run(self._conn.commit)

    async def rollback(self) -> None:
        await self._run(self._conn.rollback)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is None:
            return
        self._connection = None
        try:
            self._conn.close()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=False)

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()
            if self._executor is not None:
                self._executor.shutdown(wait=False)


class _InlineQueue:
    """The adapter sets ``isolation_level`` by putting a call on aiosqlite's queue and awaiting
    its future: run the call at once and complete the future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting adapter
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineCursor:
    def __init__(self, conn: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._conn = conn
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        if parameters is None:
            await self._conn._run(self._cursor.execute, sql)
        else:
            await self._conn._run(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> InlineCursor:
        await self._conn._run(self._cursor.executemany, sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return await self._conn._run(self._cursor.fetchone)

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        if size is None:
            return await self._conn._run(self._cursor.fetchmany)
        return await self._conn._run(self._cursor.fetchmany, size)

    async def fetchall(self) -> list[Any]:
        return await self._conn._run(self._cursor.fetchall)

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


def creator(database: str) -> Callable[[], Any]:
    """``async_creator`` for ``create_async_engine``: an inline connection to ``database``."""

    async def connect() -> InlineConnection:
        # as aiosqlite opens it; storage.db sets the pragmas (busy_timeout 0: waits are ours)
        # timeout=0: SQLite never sleeps in its busy handler here, not even in the pragmas
        conn = sqlite3.connect(database, timeout=0, check_same_thread=False)
        return InlineConnection(conn)

    return connect
