"""Imports that are over: a user's earlier staged import retired, staged rows purged."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import (
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.exchange.common import (
    APPLIED,
    EXPIRED,
    FAILED,
    PREVIEW_TTL,
    PURGE_BATCH,
    REPLACED,
    STAGED,
    STAGING,
)
from storage.models import (
    Import,
    ImportRow,
)
from storage.uow import writing

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- housekeeping


async def _retire(session: AsyncSession, *, user_id: int, now: datetime) -> None:
    """A new file replaces the user's earlier preview; anyone's preview expires after a day
    (and a staging that never finished, a crash, fails). Their rows go in :func:`_purge`."""
    await session.execute(
        update(Import)
        .where(Import.user_id == user_id, Import.status == STAGED)
        .values(status=REPLACED, finished_at=now)
    )
    old = Import.created_at < now - PREVIEW_TTL
    await session.execute(
        update(Import).where(Import.status == STAGED, old).values(status=EXPIRED, finished_at=now)
    )
    await session.execute(
        update(Import).where(Import.status == STAGING, old).values(status=FAILED, finished_at=now)
    )


async def _purge(session: AsyncSession, import_id: int | None = None) -> None:
    """Delete staged rows no longer needed (one import's, or of every finished import), a batch
    per write block."""
    if import_id is not None:
        which = ImportRow.import_id == import_id
    else:
        done = select(Import.id).where(Import.status.not_in((STAGING, STAGED, APPLIED)))
        which = ImportRow.import_id.in_(done.scalar_subquery())
    while True:
        async with writing(session):
            chunk = select(ImportRow.id).where(which).limit(PURGE_BATCH).scalar_subquery()
            result = await session.execute(delete(ImportRow).where(ImportRow.id.in_(chunk)))
        if (result.rowcount or 0) < PURGE_BATCH:  # type: ignore[attr-defined]
            return


async def _give_up(session: AsyncSession, import_id: int) -> None:
    """After a failure: the import is marked failed and its staged rows go (best effort: the
    database may be what failed; then the next import's housekeeping does it)."""
    try:
        await session.rollback()  # a read that failed leaves its transaction unusable
        async with writing(session):
            await session.execute(
                update(Import).where(Import.id == import_id).values(status=FAILED)
            )
        await _purge(session, import_id)
    except Exception:
        log.exception("could not clean up import %s", import_id)
