"""Buttons that create something do it once: the same button on the same message, tapped twice
(or twenty times at once), does its work once.

A use case calls :func:`first` inside its own write block: the tap is recorded in the same
transaction as the work, so a tap whose work failed can be tried again, and a unique key makes
the second of two concurrent taps find the first (on PostgreSQL it waits for it to commit).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ButtonTap
from storage.uow import end_read, in_write, transactional

KEPT_FOR = timedelta(days=2)


async def first(
    session: AsyncSession, *, chat_id: int, message_id: int, data: str, now: datetime
) -> bool:
    """True for the first tap of this button on this message (call it inside a write block)."""
    if not in_write():
        raise RuntimeError("record a tap in the write block of the work it guards")
    result = await session.execute(
        _record_tap(session.bind.dialect.name),
        {"chat_id": chat_id, "message_id": message_id, "data": data[:64], "at": now},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@functools.cache
def _record_tap(dialect: str) -> Any:
    """Built once per dialect: every button tap runs it."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    columns = ("chat_id", "message_id", "data", "at")
    table = ButtonTap.__table__  # not the entity: that would make it an ORM bulk insert
    return (
        insert(table)
        .values({n: bindparam(n, type_=table.c[n].type) for n in columns})
        .on_conflict_do_nothing(index_elements=["chat_id", "message_id", "data"])
    )


async def forget_old(session: AsyncSession, *, now: datetime) -> int:
    """Taps older than :data:`KEPT_FOR` (nobody taps a two-day-old button twice by accident).
    A read comes first, so a day with nothing to forget takes no write lock."""
    old = ButtonTap.at < now - KEPT_FOR
    if await session.scalar(select(ButtonTap.chat_id).where(old).limit(1)) is None:
        await end_read(session)
        return 0
    await end_read(session)
    return await _forget(session, old)


@transactional
async def _forget(session: AsyncSession, old: ColumnElement[bool]) -> int:
    result = await session.execute(delete(ButtonTap).where(old))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
