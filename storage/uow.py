"""Units of work: reads never write, and a use case's writes are one short write transaction.

The rules, enforced here rather than left to convention:

- **Writes only inside** :func:`writing`. On an engine made with ``strict=True`` (the bot's), an
  INSERT, UPDATE or DELETE outside a write block raises :class:`WriteOutsideUnitOfWork`.
- **SQLite takes the write lock up front**: a write block starts with ``BEGIN IMMEDIATE`` (reads
  start with a plain deferred ``BEGIN`` and never block a writer in WAL mode), and the writers of
  one process queue on an asyncio lock instead of spinning in SQLite's busy handler. A deferred
  transaction that later writes is what fails with "database is locked"; this never happens.
- **Commit, then talk**: :func:`assert_no_open_write` raises :class:`TalkInsideTransaction` when
  the current task holds an open write transaction. The bot's request middleware calls it before
  every Telegram request, so no message can report a write that might still be rolled back, and
  no lock is ever held across a round trip to Telegram.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.inline_sqlite import InlineConnection

_writing: ContextVar[AsyncSession | None] = ContextVar("uow_writing", default=None)
_migrating: ContextVar[bool] = ContextVar("uow_migrating", default=False)
_locks: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()

_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class TalkInsideTransaction(RuntimeError):
    """A Telegram request was made while a write transaction was open."""


class WriteOutsideUnitOfWork(RuntimeError):
    """A statement that writes ran outside :func:`writing`."""


class UnsavedChanges(RuntimeError):
    """ORM objects were changed outside a write block and would be silently lost."""


def in_write() -> bool:
    return _writing.get() is not None


def assert_no_open_write(what: str) -> None:
    if in_write():
        raise TalkInsideTransaction(
            f"{what} requested while a write transaction is open: commit, then talk"
        )


@asynccontextmanager
async def migrating() -> AsyncIterator[None]:
    """Schema migrations write outside units of work (and take SQLite's lock up front)."""
    token = _migrating.set(True)
    try:
        yield
    finally:
        _migrating.reset(token)


def _writer_lock(session: AsyncSession) -> asyncio.Lock | None:
    bind = session.bind
    if bind is None or bind.dialect.name != "sqlite":
        return None
    sync_engine = bind.sync_engine if isinstance(bind, AsyncEngine) else bind.engine  # type: ignore[union-attr]
    lock = _locks.get(sync_engine)
    if lock is None:
        lock = _locks[sync_engine] = asyncio.Lock()
    return lock


def has_pending_changes(session: AsyncSession) -> bool:
    sync = session.sync_session
    return bool(sync.new or sync.deleted or any(sync.is_modified(o) for o in sync.dirty))


@asynccontextmanager
async def writing(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """One short write transaction on ``session``: committed when the block ends, rolled back
    if it raises. Objects loaded before stay usable (``expire_on_commit=False``).

    Nested blocks on the same session join the outer one; a write block on another session
    inside a write block is refused (on SQLite it would wait for itself).
    """
    current = _writing.get()
    if current is session:
        yield session
        return
    if current is not None:
        raise RuntimeError("a write block on another session inside a write block")
    if session.in_transaction():
        if has_pending_changes(session):
            raise UnsavedChanges("changes made before the write block; make them inside it")
        await session.commit()  # ends the read snapshot; nothing to flush
    lock = _writer_lock(session)
    if lock is not None:
        await lock.acquire()
    token = _writing.set(session)
    try:
        async with session.begin():
            yield session
    finally:
        _writing.reset(token)
        if lock is not None:
            lock.release()


P = ParamSpec("P")
R = TypeVar("R")


def transactional(
    fn: Callable[Concatenate[AsyncSession, P], Awaitable[R]],
) -> Callable[Concatenate[AsyncSession, P], Awaitable[R]]:
    """A use case whose writes are one unit of work: the body runs in :func:`writing` on the
    session it is given (joining the caller's write block, if any) and is committed on return."""

    @functools.wraps(fn)
    async def wrapper(session: AsyncSession, *args: P.args, **kwargs: P.kwargs) -> R:
        async with writing(session):
            return await fn(session, *args, **kwargs)

    return wrapper


@asynccontextmanager
async def write_session(factory: Any) -> AsyncIterator[AsyncSession]:
    """A fresh session with one write transaction (for work outside an update)."""
    async with factory() as session, writing(session):
        yield session


async def end_read(session: AsyncSession) -> None:
    """End a read transaction (releases SQLite's snapshot and PostgreSQL's connection)."""
    if session.in_transaction() and not in_write():
        if has_pending_changes(session):
            raise UnsavedChanges("ORM objects changed outside a write block")
        await session.commit()


# ---------------------------------------------------------------------------- engine hooks
def install(engine: AsyncEngine, *, strict: bool) -> None:
    """Hook an engine: SQLite's BEGIN mode, and (strict) no writes outside units of work."""
    sync_engine = engine.sync_engine
    if engine.dialect.name == "sqlite":

        @event.listens_for(sync_engine, "connect")
        def _manual_transactions(dbapi_connection: Any, _record: Any) -> None:
            # the driver must not open transactions on its own: we emit BEGIN ourselves
            dbapi_connection.isolation_level = None

        @event.listens_for(sync_engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = in_write() or _migrating.get()
            if not immediate:
                # a read's BEGIN takes no lock (it cannot wait): straight to SQLite, not
                # through a statement's whole execution (a read transaction per update)
                driver = conn.connection.driver_connection
                if isinstance(driver, InlineConnection):
                    driver.begin_deferred()
                    return
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    if strict:

        @event.listens_for(sync_engine, "before_cursor_execute")
        def _only_in_units_of_work(
            conn: Connection, cursor: Any, statement: str, *_args: Any
        ) -> None:
            head = statement.lstrip()[:8].upper()
            if head.startswith(_DML) and not (in_write() or _migrating.get()):
                raise WriteOutsideUnitOfWork(
                    "writes belong inside storage.uow.writing(): " + statement[:80]
                )
