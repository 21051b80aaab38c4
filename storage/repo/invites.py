from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Invite


async def create(
    session: AsyncSession,
    *,
    token: str,
    role: str,
    team_id: int | None,
    created_by_id: int,
    now: datetime,
    ttl: timedelta,
) -> Invite:
    invite = Invite(
        token=token,
        role=role,
        team_id=team_id,
        created_by_id=created_by_id,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invite)
    await session.flush()
    return invite


async def get_by_token(session: AsyncSession, token: str) -> Invite | None:
    return await session.scalar(select(Invite).where(Invite.token == token))


async def claim(session: AsyncSession, invite_id: int, user_id: int, now: datetime) -> bool:
    """Mark the invite used, atomically: only one of two concurrent openers wins."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.used_at.is_(None), Invite.expires_at > now)
        .values(used_at=now, used_by_id=user_id)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
