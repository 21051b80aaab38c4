"""The due-work queue: schedule idempotently, claim atomically, finish once.

Claims are fenced: every claim writes a fresh random ``claim_token`` on the row, and renewing
(the heartbeat), finishing and releasing all check it in the same statement that changes the
row. A worker whose lease ran out and whose row was claimed again by someone else holds a stale
token: none of its writes match, so it can never close or release what it no longer owns.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DueWork, JobRun

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
    token: str = ""  # the fencing token of this claim
    claimed_at: datetime | None = None  # when this claim's lease started


# the columns a claim returns as they are (due_at goes through UTCDateTime: aware UTC)
_RETURNED = (
    "id",
    "kind",
    "key",
    "chat_id",
    "user_id",
    "contact_id",
    "ref_id",
    "due_at",
    "attempts",
)


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


def new_token() -> str:
    return secrets.token_hex(16)


def _is_postgresql(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int = 100,
    kinds: Iterable[str] | None = None,
    skip_chats: Collection[int] = (),
) -> list[Claimed]:
    """Claim due rows atomically: ``UPDATE … RETURNING``; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL.

    Each call writes a fresh fencing token on the rows it claims. A row claimed by a worker that
    stopped renewing it (its lease ran out) is due again, so a crash between claim and send
    leads to one delivery, not zero. ``skip_chats``: chats this worker is already sending to
    (a slow or hanging chat takes one worker, never all of them).
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
    if skip_chats:
        pick = pick.where(DueWork.chat_id.not_in(list(skip_chats)))
    if _is_postgresql(session):
        # a CTE, materialised: evaluated once. (``id IN (subquery … LIMIT n FOR UPDATE SKIP
        # LOCKED)`` may be run again per row by PostgreSQL and claim far more than n rows.)
        picked = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
    else:
        picked = pick.cte("picked")
    token = new_token()
    stmt = (
        update(DueWork)
        .where(DueWork.id == picked.c.id, due)
        .values(
            status=CLAIMED,
            claimed_at=now,
            claimed_by=worker[:64],
            claim_token=token,
            attempts=DueWork.attempts + 1,
        )
        .returning(*(getattr(DueWork, c) for c in _RETURNED), DueWork.payload)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(stmt)).all()
    claimed = [
        Claimed(
            **{c: getattr(r, c) for c in _RETURNED},
            payload=json.loads(r.payload) if r.payload else {},
            token=token,
            claimed_at=now,
        )
        for r in rows
    ]
    return sorted(claimed, key=lambda c: (c.due_at, c.id))


async def claim_one(
    session: AsyncSession,
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
    skip_chats: Collection[int] = (),
) -> Claimed | None:
    """The most overdue row not for ``skip_chats``, claimed with its own token (or None)."""
    items = await claim(
        session, now=now, worker=worker, lease=lease, limit=1, skip_chats=skip_chats
    )
    return items[0] if items else None


def _held(item_id: int, token: str) -> Any:
    return and_(DueWork.id == item_id, DueWork.status == CLAIMED, DueWork.claim_token == token)


async def _update_held(session: AsyncSession, item_id: int, token: str, **values: Any) -> bool:
    """Update a claimed row only under the current claim's token; False when the claim was lost."""
    result = await session.execute(
        update(DueWork)
        .where(_held(item_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def renew(session: AsyncSession, item_id: int, *, token: str, now: datetime) -> bool:
    """The heartbeat: extend the lease; False when the claim was lost (taken over, cancelled)."""
    return await _update_held(session, item_id, token, claimed_at=now)


async def finish(
    session: AsyncSession,
    item_id: int,
    *,
    token: str,
    status: str,
    now: datetime,
    late: bool = False,
) -> bool:
    """Close a claimed row — only with the current claim's token; False when the claim was lost."""
    return await _update_held(
        session,
        item_id,
        token,
        status=status,
        sent_at=now if status == SENT else None,
        late=late,
        claim_token=None,
    )


async def release(
    session: AsyncSession,
    item_id: int,
    *,
    token: str,
    retry_at: datetime | None,
    refund: bool = False,
) -> bool:
    """Give a claimed row back for a later try at ``retry_at`` (None: at once, its due time
    kept), or fail it after ``MAX_ATTEMPTS`` tries.

    ``refund``: the try did not happen (a shutdown), so it does not count as an attempt.
    Returns False when the claim was lost.
    """
    attempts = DueWork.attempts - 1 if refund else DueWork.attempts
    values: dict[str, Any] = {
        "status": case((attempts >= MAX_ATTEMPTS, FAILED), else_=PENDING),
        "attempts": attempts,
        "claimed_by": None,
        "claim_token": None,
    }
    if retry_at is not None:
        values["due_at"] = retry_at
    return await _update_held(session, item_id, token, **values)


# ------------------------------------------------------------------ once-per-period job runs
RUNNING, RUN_DONE, RUN_FAILED = "running", "done", "failed"


async def claim_run(
    session: AsyncSession,
    *,
    job: str,
    period: str,
    now: datetime,
    worker: str,
    stale_after: timedelta,
) -> str | None:
    """Claim the run of ``job`` for ``period`` (e.g. a day); returns its token, or None when
    another replica has run it, or is running it. A failed run, or one whose runner vanished
    (still running after ``stale_after``), is claimed again."""
    token = new_token()
    values = {
        "job": job[:64],
        "period": period[:32],
        "status": RUNNING,
        "token": token,
        "claimed_by": worker[:64],
        "started_at": now,
    }
    insert = pg_insert if _is_postgresql(session) else sqlite_insert
    stmt = insert(JobRun).values(**values).on_conflict_do_nothing(index_elements=["job", "period"])
    if (await session.execute(stmt)).rowcount:  # type: ignore[attr-defined]
        return token
    retaken = await session.execute(
        update(JobRun)
        .where(
            JobRun.job == values["job"],
            JobRun.period == values["period"],
            or_(
                JobRun.status == RUN_FAILED,
                and_(JobRun.status == RUNNING, JobRun.started_at < now - stale_after),
            ),
        )
        .values(status=RUNNING, token=token, claimed_by=values["claimed_by"], started_at=now)
        .execution_options(synchronize_session=False)
    )
    return token if retaken.rowcount else None  # type: ignore[attr-defined]


async def finish_run(
    session: AsyncSession, *, job: str, period: str, token: str, ok: bool, now: datetime
) -> bool:
    result = await session.execute(
        update(JobRun)
        .where(JobRun.job == job[:64], JobRun.period == period[:32], JobRun.token == token)
        .values(status=RUN_DONE if ok else RUN_FAILED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
