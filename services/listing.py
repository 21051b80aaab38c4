"""/contacts: a page of the viewer's cards under a filter (status, stage, source, tag, archived,
overdue, going cold, owner), sorted by name or by last touch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cadence import effective_cadence, is_going_cold
from core.enums import Status
from core.roles import Role
from services.scope import Scope
from storage.models import Contact, Team, User


@dataclass
class ContactFilter:
    status: str | None = None
    stage: str | None = None
    source: str | None = None
    tag: str | None = None
    archived: bool = False
    overdue: bool = False  # an active card whose next step is past due
    cold: bool = False  # going cold, as core.cadence.is_going_cold says
    owner_id: int | None = None  # one owner's cards (within the viewer's scope)
    by_touch: bool = False  # sorted by last touch, the longest untouched first


def _apply_filter(
    stmt: Select[Any], flt: ContactFilter, now: datetime | None = None
) -> Select[Any]:
    if flt.archived:
        stmt = stmt.where(Contact.archived_at.is_not(None))
    else:
        stmt = stmt.where(Contact.archived_at.is_(None))
    if flt.status:
        stmt = stmt.where(Contact.status == flt.status)
    if flt.stage:
        stmt = stmt.where(Contact.stage == flt.stage)
    if flt.source:
        stmt = stmt.where(Contact.source == flt.source)
    if flt.tag:
        stmt = stmt.where(Contact.tags.like(f"%;{flt.tag};%"))
    if flt.owner_id is not None:
        stmt = stmt.where(Contact.owner_id == flt.owner_id)
    if (flt.overdue or flt.cold) and now is not None:
        stmt = stmt.where(Contact.status != Status.LOST.value)
        if flt.overdue:
            stmt = stmt.where(Contact.next_step_due < now)
        if flt.cold:
            stmt = stmt.where(Contact.next_step_due.is_(None))
    return stmt


def _list_order(flt: ContactFilter) -> tuple[Any, ...]:
    if flt.by_touch:  # never touched first (by when added), then the longest untouched
        quiet = func.coalesce(Contact.last_touch_at, Contact.created_at)
        return (Contact.last_touch_at.is_not(None), quiet, Contact.id)
    return (Contact.name, Contact.id)


async def list_page(
    session: AsyncSession,
    scope: Scope,
    flt: ContactFilter,
    page: int,
    page_size: int = 8,
    *,
    now: datetime | None = None,
    settings_cadence: str | None = None,
) -> tuple[list[Contact], int]:
    """One page of the scope's cards under a filter; overdue and going cold are as of ``now``
    (going cold with the stage cadence of each card's team over ``settings_cadence``)."""
    if flt.cold and now is not None:
        return await _cold_page(session, scope, flt, page, page_size, now, settings_cadence)
    base = _apply_filter(select(Contact).where(scope.condition()), flt, now)
    total = await session.scalar(
        _apply_filter(select(func.count(Contact.id)).where(scope.condition()), flt, now)
    )
    rows = await session.scalars(
        base.order_by(*_list_order(flt)).offset(page * page_size).limit(page_size)
    )
    return list(rows), int(total or 0)


async def _cold_page(
    session: AsyncSession,
    scope: Scope,
    flt: ContactFilter,
    page: int,
    page_size: int,
    now: datetime,
    settings_cadence: str | None,
) -> tuple[list[Contact], int]:
    """Going cold is decided by core.cadence.is_going_cold, the one definition; SQL only
    narrows the candidates to cards quiet for longer than the shortest cadence."""
    teams = dict((await session.execute(select(Team.id, Team.cadence))).all())
    cadences = {t: effective_cadence(settings_cadence, text) for t, text in teams.items()}
    cadences[None] = effective_cadence(settings_cadence, None)
    shortest = min((d for c in cadences.values() for d in c.values()), default=None)
    if shortest is None:
        return [], 0
    quiet = func.coalesce(Contact.last_touch_at, Contact.created_at)
    stmt = _apply_filter(
        select(
            Contact.id,
            Contact.team_id,
            Contact.stage,
            Contact.last_touch_at,
            Contact.created_at,
            Contact.next_step_due,
        ).where(scope.condition(), quiet < now - timedelta(days=shortest)),
        flt,
        now,
    ).order_by(*_list_order(flt))
    ids = [
        row.id
        for row in (await session.execute(stmt)).all()
        if is_going_cold(
            stage=row.stage,
            last_touch_at=_utc(row.last_touch_at),
            created_at=_utc(row.created_at),
            next_step_due=row.next_step_due,
            now=now,
            cadence=cadences.get(row.team_id, cadences[None]),
        )
    ]
    shown = ids[page * page_size : (page + 1) * page_size]
    found = {c.id: c for c in await session.scalars(select(Contact).where(Contact.id.in_(shown)))}
    return [found[i] for i in shown if i in found], len(ids)


def _utc(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


async def owners_in_scope(session: AsyncSession, scope: Scope) -> list[User]:
    """Whose cards a manager (their team's reps and managers) or an admin (every rep and
    manager) can list by owner; nobody for a rep."""
    staff = User.role.in_([Role.REP.value, Role.MANAGER.value])
    if scope.role is Role.MANAGER and scope.team_id is not None:
        where = [staff, User.team_id == scope.team_id]
    elif scope.role is Role.ADMIN:
        where = [staff]
    else:
        return []
    rows = await session.scalars(select(User).where(*where).order_by(User.id).limit(30))
    return list(rows)
