"""The due-work queue: schedule idempotently, claim atomically, finish once."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DueWork

PENDING, CLAIMED, SENT, DONE, CANCELLED, FAILED = (
    "pending",
    "claimed",
    "sent",
    "done",
    "cancelled",
    "failed",
)
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    key: str
    chat_id: int
    user_id: int | None
    contact_id: int | None
    ref_id: int | None
    payload: dict[str, Any]
    due_at: datetime
    attempts: int


async def schedule(
    session: AsyncSession,
    *,
    kind: str,
    key: str,
    chat_id: int,
    due_at: datetime,
    now: datetime,
    user_id: int | None = None,
    contact_id: int | None = None,
    ref_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Insert unless a row with this key exists; returns True when a row was added."""
    values = {
        "kind": kind,
        "key": key[:128],
        "chat_id": chat_id,
        "user_id": user_id,
        "contact_id": contact_id,
        "ref_id": ref_id,
        "payload": json.dumps(payload) if payload else None,
        "due_at": due_at,
        "status": PENDING,
        "attempts": 0,
        "late": False,
        "created_at": now,
    }
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(DueWork).values(**values).on_conflict_do_nothing(index_elements=["key"])
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def cancel(
    session: AsyncSession,
    *,
    kinds: Iterable[str],
    contact_id: int,
    status: str = CANCELLED,
    include_sent: bool = False,
) -> int:
    """Settle open work for a contact (``include_sent``: also work already delivered)."""
    open_states = [PENDING, CLAIMED, SENT] if include_sent else [PENDING, CLAIMED]
    result = await session.execute(
        update(DueWork)
        .where(
            DueWork.contact_id == contact_id,
            DueWork.kind.in_(list(kinds)),
            DueWork.status.in_(open_states),
        )
        .values(status=status)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int = 100,
    kinds: Iterable[str] | None = None,
) -> list[Claimed]:
    """Claim due rows atomically: ``UPDATE … RETURNING``; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL.

    A row claimed by a worker that died (its lease ran out) is due again, so a crash between
    claim and send leads to one delivery, not zero.
    """
    due = and_(
        DueWork.due_at <= now,
        or_(
            DueWork.status == PENDING,
            and_(DueWork.status == CLAIMED, DueWork.claimed_at < now - lease),
        ),
    )
    pick = select(DueWork.id).where(due).order_by(DueWork.due_at, DueWork.id).limit(limit)
    if kinds is not None:
        pick = pick.where(DueWork.kind.in_(list(kinds)))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(DueWork)
        .where(DueWork.id.in_(pick.scalar_subquery()), due)
        .values(status=CLAIMED, claimed_at=now, claimed_by=worker, attempts=DueWork.attempts + 1)
        .returning(
            DueWork.id,
            DueWork.kind,
            DueWork.key,
            DueWork.chat_id,
            DueWork.user_id,
            DueWork.contact_id,
            DueWork.ref_id,
            DueWork.payload,
            DueWork.due_at,
            DueWork.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(stmt)).all()
    claimed = [
        Claimed(
            id=r.id,
            kind=r.kind,
            key=r.key,
            chat_id=r.chat_id,
            user_id=r.user_id,
            contact_id=r.contact_id,
            ref_id=r.ref_id,
            payload=json.loads(r.payload) if r.payload else {},
            due_at=r.due_at,  # RETURNING goes through UTCDateTime: aware UTC
            attempts=r.attempts,
        )
        for r in rows
    ]
    return sorted(claimed, key=lambda c: (c.due_at, c.id))


async def finish(
    session: AsyncSession,
    item_id: int,
    *,
    worker: str,
    status: str,
    now: datetime,
    late: bool = False,
) -> bool:
    """Close a claimed row — only by the worker that holds the claim."""
    result = await session.execute(
        update(DueWork)
        .where(DueWork.id == item_id, DueWork.status == CLAIMED, DueWork.claimed_by == worker)
        .values(status=status, sent_at=now if status == SENT else None, late=late)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release(
    session: AsyncSession, item_id: int, *, worker: str, retry_at: datetime, attempts: int
) -> None:
    """Give a claimed row back for a later try, or fail it after too many attempts."""
    await session.execute(
        update(DueWork)
        .where(DueWork.id == item_id, DueWork.claimed_by == worker, DueWork.status == CLAIMED)
        .values(
            status=FAILED if attempts >= MAX_ATTEMPTS else PENDING,
            due_at=retry_at,
            claimed_by=None,
        )
    )
