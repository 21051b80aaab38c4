"""Bulk-loading a bench database as a restore would: the seeded tables' indexes and triggers
(the text index's, the rollups') are dropped first and the rows written without a journal; then
each index is built once, the text index and every rollup rebuilt by their set-based statements
(as the migrations do on an existing database), and the triggers put back. Keeping them during
the load maintains a dozen B-trees and four rollups row by row: 1M cards would take hours.
Used by bench_digest.py and bench_contacts.py (SQLite only)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services import rollup_marks, rollup_moves, rollup_replies, rollups
from storage.db import create_engine
from storage.migrate import upgrade


@asynccontextmanager
async def bulk_loaded(
    path: Path,
    tables: tuple[str, ...],
    *,
    before_rebuild: Callable[[AsyncConnection], Awaitable[None]] | None = None,
) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite file at ``path`` without the indexes and triggers of ``tables``, to
    seed through the engine yielded; on exit everything is built back (``before_rebuild`` runs
    first, on the connection that rebuilds) and the file is back in WAL, as the bot opens it."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    await engine.dispose()
    engine = create_engine(f"sqlite+aiosqlite:///{path}", pool_size=1, max_overflow=0)

    def unjournaled(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-400000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine.sync_engine, "connect", unjournaled)
    names = ", ".join(f"'{t}'" for t in tables)
    async with engine.connect() as conn:
        schema = (
            await conn.execute(
                text(
                    "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                    f"AND sql IS NOT NULL AND tbl_name IN ({names})"  # noqa: S608
                )
            )
        ).all()
        for kind, name, _sql in schema:
            await conn.execute(text(f'DROP {kind.upper()} "{name}"'))
        await conn.commit()
    yield engine
    t0 = time.perf_counter()
    async with engine.connect() as conn:
        for kind, _name, sql in schema:
            if kind == "index":
                await conn.execute(text(sql))
        await conn.commit()
        t1 = time.perf_counter()
        print(f"  indexes built: {t1 - t0:.1f} s", flush=True)
        if before_rebuild is not None:
            await before_rebuild(conn)
        rebuild = rollups.rebuild_sql("sqlite") + rollup_marks.rebuild_sql("sqlite")
        rebuild += rollup_replies.rebuild_sql("sqlite") + rollup_moves.rebuild_sql("sqlite")
        rebuild += ["INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')"]
        for sql in rebuild:
            await conn.execute(text(sql))
        for kind, _name, sql in schema:
            if kind == "trigger":
                await conn.execute(text(sql))
        await conn.commit()
        print(f"  rollups, text index: {time.perf_counter() - t1:.1f} s", flush=True)
    await engine.dispose()
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.connect():  # back to WAL, as the bot opens it
        pass
    await engine.dispose()
