"""/cases: the open detractor cases a lead may act on, and the news of a case as plain data for
views.cases. Reads only; the cases' rules (open, move, escalate) live in services.nps.cases."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.nps import OPEN_CASES
from core.roles import Role
from services.nps_cards import CaseCard, case_card
from services.scope import Scope
from storage.models import NpsCase, User

LIST_LIMIT = 30  # cases on /cases (the oldest deadlines first)


def _in_scope(scope: Scope) -> ColumnElement[bool]:
    """An admin's cases are everyone's; a manager's, their team's (as services.nps.get_case_for)."""
    if scope.role is Role.ADMIN:
        return true()
    if scope.role is Role.MANAGER and scope.team_id is not None:
        return NpsCase.team_id == scope.team_id
    return false()


async def open_cases(
    session: AsyncSession, scope: Scope, limit: int = LIST_LIMIT
) -> list[CaseCard]:
    """The cases not resolved yet, the nearest (or most overdue) deadline first."""
    rows = await session.scalars(
        select(NpsCase)
        .where(_in_scope(scope), NpsCase.status.in_(OPEN_CASES))
        .order_by(NpsCase.deadline_at, NpsCase.id)
        .limit(limit)
    )
    return [await case_card(session, row) for row in rows]


@dataclass(frozen=True)
class CaseNews:
    """What changed on a case (``move``) and who changed it, for one person."""

    card: CaseCard
    move: str  # take | contacted | resolve | escalated
    by_name: str | None  # None: the deadline passed (escalated by the bot)
    by_admin: bool
    to_rep: bool  # the notice goes to the case's rep (else to a manager)


async def case_news(
    session: AsyncSession,
    case_id: int | None,
    *,
    move: str,
    by: int | None,
    to_rep: bool,
    admin_ids: frozenset[int],
) -> CaseNews | None:
    case_row = await session.get(NpsCase, case_id) if case_id else None
    if case_row is None:
        return None
    actor = await session.get(User, by) if by else None
    return CaseNews(
        card=await case_card(session, case_row),
        move=move,
        by_name=actor.display_name if actor else None,
        by_admin=actor is not None and actor.tg_id in admin_ids,
        to_rep=to_rep,
    )
