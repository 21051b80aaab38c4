"""The NPS figures for /nps: answers (promoters, passives, detractors), deliveries by group; the
latest comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.nps import nps
from services.scope import Scope
from storage.models import Contact, Survey, Team, User


@dataclass
class Row:
    label: str
    answers: int
    promoters: int
    detractors: int
    delivered: int

    @property
    def passives(self) -> int:
        """The answers neither a promoter's nor a detractor's (7 or 8)."""
        return self.answers - self.promoters - self.detractors

    @property
    def score(self) -> int | None:
        return nps(self.promoters, self.detractors, self.answers)

    @property
    def response_rate(self) -> float | None:
        return self.answers / self.delivered if self.delivered else None


async def summary(
    session: AsyncSession, scope: Scope, *, start: datetime, end: datetime, group: str
) -> list[Row]:
    """Answers, promoters, detractors and deliveries in [start, end), grouped by team, rep,
    segment or kind — one aggregate query."""
    keys = {
        "all": None,
        "team": Survey.team_id,
        "rep": Survey.rep_id,
        "segment": Contact.segment,
        "kind": Contact.kind,
    }
    key = keys[group]
    answered = (Survey.answered_at >= start) & (Survey.answered_at < end)
    delivered = (Survey.delivered_at >= start) & (Survey.delivered_at < end)
    cols = [
        func.sum(case((answered, 1), else_=0)),
        func.sum(case((answered & (Survey.score >= 9), 1), else_=0)),
        func.sum(case((answered & (Survey.score <= 6), 1), else_=0)),
        func.sum(case((delivered, 1), else_=0)),
    ]
    stmt = (
        select(key if key is not None else func.min(Survey.id), *cols)
        .join(Contact, Contact.id == Survey.contact_id)
        .where(scope.condition(), answered | delivered)
    )
    if key is not None:
        stmt = stmt.group_by(key)
    rows = []
    for k, a, p, d, dl in (await session.execute(stmt)).all():
        if not (a or dl):
            continue
        rows.append(
            Row(
                str(k) if k is not None else "", int(a or 0), int(p or 0), int(d or 0), int(dl or 0)
            )
        )
    return rows


async def row_names(session: AsyncSession, group: str, rows: list[Row]) -> dict[str, str]:
    """What a summary's rows are called: a team's name, a rep's — whoever they are now (an
    administrator who sells, someone who has left) — B2B or B2C; only the rows' own are read."""
    ids = [int(r.label) for r in rows if r.label.isdigit()]
    if group == "team" and ids:
        teams = await session.scalars(select(Team).where(Team.id.in_(ids)))
        return {str(t.id): t.name for t in teams}
    if group == "rep" and ids:
        users = await session.scalars(select(User).where(User.id.in_(ids)))
        return {str(u.id): u.display_name for u in users}
    if group == "kind":
        return {"b2b": "B2B", "b2c": "B2C"}
    return {}


async def latest_comments(
    session: AsyncSession, scope: Scope, *, limit: int = 5
) -> list[tuple[Survey, Contact]]:
    rows = await session.execute(
        select(Survey, Contact)
        .join(Contact, Contact.id == Survey.contact_id)
        .where(scope.condition(), Survey.comment.is_not(None))
        .order_by(Survey.commented_at.desc())
        .limit(limit)
    )
    return [(s, c) for s, c in rows.all()]
