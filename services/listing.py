"""/contacts: a page of the viewer's cards under a filter (status, stage, source, tag, segment,
owner and one of overdue, due today, going cold, waiting for a reply, archived, combined), sorted
by name or by last touch; and what the filter's choices offer (the scope's tags, segments,
owners)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.listfilter import ContactFilter
from core.roles import Role
from services import duework, followups
from services.scope import Scope
from storage import conditions
from storage.models import Contact, DueWork, User

__all__ = ["ContactFilter", "ListPage", "list_page", "owner_in_scope", "owners_in_scope"]

# a request waiting for the owner's reply (/today's "Waiting for your reply")
WAITING = (duework.PENDING, duework.CLAIMED, duework.SENT)


@dataclass
class ListPage:
    rows: list[Contact]
    total: int
    page: int  # the page shown: the one asked for, or the last one when it is past the end


def waiting_for_reply() -> ColumnElement[bool]:
    """A card with an inbound request still waiting for its owner's reply."""
    return exists().where(
        DueWork.contact_id == Contact.id,
        DueWork.kind == followups.INBOUND_REP,
        DueWork.status.in_(WAITING),
    )


async def _conditions(
    session: AsyncSession,
    flt: ContactFilter,
    now: datetime,
    end_of_day: datetime | None,
    settings_cadence: str | None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        Contact.archived_at.is_not(None)
        if flt.flag == "archived"
        else Contact.archived_at.is_(None)
    ]
    for field in ("status", "stage", "source", "segment"):
        if (value := getattr(flt, field)) is not None:
            where.append(getattr(Contact, field) == value)
    if flt.tag:
        where.append(Contact.tags.like(f"%;{flt.tag};%"))
    if flt.owner_id is not None:
        where.append(Contact.owner_id == flt.owner_id)
    # a step the rep set is theirs to do whatever the card's status, a lost one's too (as
    # /today lists it); going cold leaves lost cards out
    if flt.flag == "overdue":
        where.append(Contact.next_step_due < now)
    elif flt.flag == "today":
        where.append(and_(Contact.next_step_due >= now, Contact.next_step_due < end_of_day))
    elif flt.flag == "cold":
        default, per_team = await conditions.team_cadences(session, settings_cadence)
        where.append(conditions.active())
        where.append(conditions.going_cold(default, now, per_team=per_team))
    elif flt.flag == "waiting":
        where.append(waiting_for_reply())
    return where


def _list_order(flt: ContactFilter) -> tuple[Any, ...]:
    if flt.by_touch:  # never touched first (by when added), then the longest untouched
        return (Contact.last_touch_at.is_not(None), conditions.quiet_since(), Contact.id)
    return (Contact.name, Contact.id)


async def list_page(
    session: AsyncSession,
    scope: Scope,
    flt: ContactFilter,
    page: int,
    page_size: int = 8,
    *,
    now: datetime,
    end_of_day: datetime | None = None,
    settings_cadence: str | None = None,
) -> ListPage:
    """One page of the scope's cards under a filter, as of ``now`` (due today: before
    ``end_of_day``; going cold: with the stage cadence of each card's team over
    ``settings_cadence``). A page past the end (the filter narrowed the list since, a forged
    button) is the last one."""
    where = [scope.condition(), *await _conditions(session, flt, now, end_of_day, settings_cadence)]
    total = int(await session.scalar(select(func.count(Contact.id)).where(*where)) or 0)
    page = max(0, min(page, (total - 1) // page_size if total else 0))
    rows = await session.scalars(
        select(Contact)
        .where(*where)
        .order_by(*_list_order(flt))
        .offset(page * page_size)
        .limit(page_size)
    )
    return ListPage(list(rows), total, page)


CHOICES = 30  # tags, segments or owners a filter's choice offers


async def tags_in_scope(session: AsyncSession, scope: Scope) -> list[str]:
    """The tags on the scope's live cards, the most used first."""
    stored = await session.scalars(
        select(Contact.tags).where(
            scope.condition(), Contact.archived_at.is_(None), Contact.tags.is_not(None)
        )
    )
    counts = Counter(t for tags in stored for t in (tags or "").split(";") if t)
    return [t for t, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:CHOICES]


async def segments_in_scope(
    session: AsyncSession, scope: Scope, limit: int | None = CHOICES
) -> list[str]:
    """The segments of the scope's live cards as stored, the most used first."""
    rows = await session.execute(
        select(Contact.segment, func.count(Contact.id).label("n"))
        .where(
            scope.condition(),
            Contact.archived_at.is_(None),
            Contact.segment.is_not(None),
            Contact.segment != "",
        )
        .group_by(Contact.segment)
        .order_by(func.count(Contact.id).desc(), Contact.segment)
        .limit(limit)
    )
    return [segment for segment, _n in rows.all()]


def _owners(scope: Scope) -> Select[Any] | None:
    staff = User.role.in_([Role.REP.value, Role.MANAGER.value])
    if scope.role is Role.MANAGER and scope.team_id is not None:
        return select(User).where(staff, User.team_id == scope.team_id)
    if scope.role is Role.ADMIN:
        return select(User).where(staff)
    return None


async def owners_in_scope(session: AsyncSession, scope: Scope) -> list[User]:
    """Whose cards a manager (their team's reps and managers) or an admin (every rep and
    manager) can list by owner; nobody for a rep."""
    owners = _owners(scope)
    if owners is None:
        return []
    return list(await session.scalars(owners.order_by(User.id).limit(CHOICES)))


async def owner_in_scope(session: AsyncSession, scope: Scope, user_id: int) -> User | None:
    """The person whose cards the viewer may list by owner: themselves, or one of
    :func:`owners_in_scope` (the list is more than its first few); None for anyone else."""
    if user_id == scope.user_id:
        return await session.get(User, user_id)
    owners = _owners(scope)
    if owners is None:
        return None
    return await session.scalar(owners.where(User.id == user_id))
