"""The SQL form of the card definitions in core: a card in play, going cold, stale data.

Every query that asks "which cards are going cold" builds its condition here, from
``core.cadence.cold_cutoffs``, so the followups' daily scan, /today, the digest and /stats
agree with ``core.cadence.is_going_cold`` (the same rule for one card in Python).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cadence import Cadence, cold_cutoffs, effective_cadence, is_going_cold
from core.enums import Status
from storage.models import Contact, Team


def active() -> ColumnElement[bool]:
    """A card in play: not archived, not lost."""
    return and_(Contact.archived_at.is_(None), Contact.status != Status.LOST.value)


def quiet_since() -> Any:
    """core.cadence.quiet_since in SQL: the last touch, or the creation if never touched."""
    return func.coalesce(Contact.last_touch_at, Contact.created_at)


def _quiet_too_long(cadence: Cadence, now: datetime) -> ColumnElement[bool]:
    conds = [
        and_(Contact.stage == stage, quiet_since() < cutoff)
        for stage, cutoff in cold_cutoffs(cadence, now).items()
    ]
    return or_(*conds) if conds else false()


def going_cold(
    cadence: Cadence, now: datetime, *, per_team: Mapping[int, Cadence] | None = None
) -> ColumnElement[bool]:
    """Cards going cold now (core.cadence.cold_cutoffs): no next step, quiet since before their
    stage's cutoff. ``per_team``: teams with a cadence of their own are judged by it, every other
    card by ``cadence``. (Live cards only when combined with :func:`active`.)"""
    if not per_team:
        quiet = _quiet_too_long(cadence, now)
    else:
        others = or_(Contact.team_id.is_(None), Contact.team_id.not_in(list(per_team)))
        by_cadence: dict[tuple[tuple[str, int], ...], list[int]] = {}
        for team_id, own in per_team.items():
            by_cadence.setdefault(tuple(sorted(own.items())), []).append(team_id)
        quiet = or_(
            and_(others, _quiet_too_long(cadence, now)),
            *(
                and_(Contact.team_id.in_(ids), _quiet_too_long(dict(own), now))
                for own, ids in by_cadence.items()
            ),
        )
    return and_(Contact.next_step_due.is_(None), quiet)


def stale(now: datetime, stale_days: int) -> ColumnElement[bool]:
    """Stale data: a card not verified within the window (live cards only with :func:`active`)."""
    return Contact.verified_at < now - timedelta(days=stale_days)


async def team_cadences(
    session: AsyncSession, settings_cadence: str | None
) -> tuple[Cadence, dict[int, Cadence]]:
    """The default cadence and the cadence of each team that has its own."""
    default = effective_cadence(settings_cadence, None)
    teams = (await session.execute(select(Team.id, Team.cadence))).all()
    return default, {t: effective_cadence(settings_cadence, text) for t, text in teams if text}


async def team_cadence(
    session: AsyncSession, team_id: int | None, settings_cadence: str | None
) -> Cadence:
    """The cadence that applies to one team's cards (the settings' when it has none)."""
    text = await session.scalar(select(Team.cadence).where(Team.id == team_id)) if team_id else None
    return effective_cadence(settings_cadence, text)


async def is_card_going_cold(
    session: AsyncSession, contact: Contact, *, settings_cadence: str | None, now: datetime
) -> bool:
    """core.cadence.is_going_cold for one card, by its team's cadence (a live card is assumed)."""
    return is_going_cold(
        stage=contact.stage,
        last_touch_at=contact.last_touch_at,
        created_at=contact.created_at,
        next_step_due=contact.next_step_due,
        now=now,
        cadence=await team_cadence(session, contact.team_id, settings_cadence),
    )
