from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.roles import Role
from storage.models import Team, User


class TelegramProfile(Protocol):
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None


def is_outdated(
    user: User, profile: TelegramProfile, *, now: datetime, resolution: timedelta
) -> bool:
    """Whether the stored person differs from what Telegram says, or was last seen too long ago."""
    return (
        user.first_name != profile.first_name[:256]
        or user.last_name != ((profile.last_name or None) and profile.last_name[:256])
        or user.username != profile.username
        or user.tg_language != profile.language_code
        or not user.reachable
        or now - user.last_seen_at >= resolution
    )


async def upsert_from_telegram(
    session: AsyncSession,
    *,
    tg_id: int,
    first_name: str,
    last_name: str | None,
    username: str | None,
    language_code: str | None,
    now: datetime,
) -> User:
    user = await session.scalar(select(User).where(User.tg_id == tg_id))
    if user is None:
        user = User(
            tg_id=tg_id,
            first_name=first_name[:256],
            last_name=(last_name or None) and last_name[:256],
            username=username,
            tg_language=language_code,
            reachable=True,
            created_at=now,
            last_seen_at=now,
        )
        session.add(user)
        await session.flush()
        return user
    user.first_name = first_name[:256]
    user.last_name = (last_name or None) and last_name[:256]
    user.username = username
    user.tg_language = language_code
    user.last_seen_at = now
    user.reachable = True
    return user


_BY_TG_ID = select(User).where(User.tg_id == bindparam("tg_id"))  # every update: built once


async def get_by_tg_id(session: AsyncSession, tg_id: int) -> User | None:
    return await session.scalar(_BY_TG_ID, {"tg_id": tg_id})


async def get(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def team_members(session: AsyncSession, team_id: int) -> list[User]:
    rows = await session.scalars(
        select(User).where(User.team_id == team_id).order_by(User.role, User.first_name)
    )
    return list(rows)


async def team_leads(
    session: AsyncSession,
    team_id: int | None,
    admin_ids: Collection[int],
    *,
    besides: int | None = None,
) -> list[User]:
    """Who answers for a team: its managers; when it has none (a card outside any team, a team
    whose manager left), the administrators (``admin_ids``: their Telegram ids) who have talked
    to the bot, so an alert never goes nowhere. ``besides``: not that user. By id, then by
    Telegram id."""
    if team_id is not None:
        stmt = select(User).where(User.team_id == team_id, User.role == Role.MANAGER)
        if besides is not None:
            stmt = stmt.where(User.id != besides)
        managers = list(await session.scalars(stmt.order_by(User.id)))
        if managers:
            return managers
    if not admin_ids:
        return []
    stmt = select(User).where(User.tg_id.in_(sorted(admin_ids)))
    if besides is not None:
        stmt = stmt.where(User.id != besides)
    return list(await session.scalars(stmt.order_by(User.tg_id)))


async def create_team(session: AsyncSession, name: str, now: datetime) -> Team:
    team = Team(name=name[:128], created_at=now)
    session.add(team)
    await session.flush()
    return team


async def get_team(session: AsyncSession, team_id: int) -> Team | None:
    return await session.get(Team, team_id)


async def list_teams(session: AsyncSession) -> list[tuple[Team, int]]:
    rows = await session.execute(
        select(Team, func.count(User.id))
        .outerjoin(User, User.team_id == Team.id)
        .group_by(Team.id)
        .order_by(Team.name)
    )
    return [(team, count) for team, count in rows.all()]
