"""Reports ready to render, as plain data for views/digest.py: the digest with its Monday chart,
the chart alone, /stats (and the rep a /stats names). The figures come from services.digest and
services.metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.contactdata import translit
from core.metrics import period_bounds
from core.nextstep import local_day
from core.roles import TEAM_ROLES, Role
from services import deals as deals_svc
from services import digest as dg
from services import metrics as mx
from services import network as network_svc
from services.followups import Rules
from storage.inline_sqlite import offload
from storage.models import Team, User

NAME_MIN_SCORE = 75  # a typo's closeness (rapidfuzz) for a rep's name, as /find takes typos
PEOPLE_LIMIT = 2_000  # people a name is looked for among (an admin's every team)


def _name_key(text: str | None) -> str:
    """A name as it is compared: casefolded, "ё" as "е", Cyrillic in Latin letters."""
    return " ".join(translit((text or "").casefold().replace("ё", "е")).split())


def names_matching(query: str, people: Sequence[User]) -> list[User]:
    """Who ``query`` names, by the closest way any of them is named: a first name, a last name,
    the name shown or the @username said whole; else the start of one of them; else one of them
    with a typo (rapidfuzz, as /find). Case, "ё" and the script do not matter ("rita", "Рита")."""
    q = _name_key(query.lstrip("@"))
    if not q:
        return []
    tiers: list[list[User]] = [[], [], []]
    for person in people:
        names = {
            _name_key(n)
            for n in (person.first_name, person.last_name, person.display_name, person.username)
        } - {""}
        words = {w for n in names for w in n.split()} | names
        if q in names:
            tiers[0].append(person)
        elif any(w.startswith(q) for w in words):
            tiers[1].append(person)
        elif max((fuzz.ratio(q, w) for w in words), default=0) >= NAME_MIN_SCORE:
            tiers[2].append(person)
    return next((tier for tier in tiers if tier), [])


async def reps_named(session: AsyncSession, user: User, role: Role, query: str) -> list[User]:
    """The reps within the lead's reach (services.digest.find_rep's) that ``query`` names."""
    stmt = select(User).where(User.role.in_(sorted(TEAM_ROLES)))
    if role is not Role.ADMIN:
        stmt = stmt.where(User.team_id == user.team_id, User.team_id.is_not(None))
    people = await session.scalars(stmt.order_by(User.first_name, User.id).limit(PEOPLE_LIMIT))
    return names_matching(query, list(people))


async def team_name(session: AsyncSession, team_id: int) -> str | None:
    return await session.scalar(select(Team.name).where(Team.id == team_id))


@dataclass(frozen=True)
class Chart:
    """What the chart draws: NPS by week (oldest first) and the active cards by stage."""

    weeks: list[mx.WeekNps]
    funnel: list[tuple[str, int]]


@dataclass(frozen=True)
class Prepared:
    """A digest ready to render: its figures, and the chart on Mondays."""

    digest: dg.Digest
    chart: Chart | None
    weekly: bool = False  # Monday: the chart and the "Network" section
    network: network_svc.Overview | None = None
    deals: deals_svc.DealFigures | None = None  # pipeline now, won since the last digest


def is_monday(now: datetime, tz: str) -> bool:
    return now.astimezone(ZoneInfo(tz)).isoweekday() == 1


@offload
async def chart_data(session: AsyncSession, scope: mx.MetricScope, *, now: datetime) -> Chart:
    weeks = await mx.nps_by_week(session, scope, end=now)
    return Chart(weeks=weeks, funnel=await mx.funnel_by_stage(session, scope))


@offload
async def prepare(
    session: AsyncSession,
    user: User,
    role: Role,
    *,
    now: datetime,
    tz: str,
    rules: Rules,
    exclude_id: int | None = None,
) -> Prepared:
    """The digest for ``user`` since their last one (``exclude_id``: the digest being sent now,
    which is not "the last one"); the chart too when it is Monday in ``tz``."""
    cadence, stale_days = _card_rules(rules)
    since = await dg.since_for(session, user.id, now, exclude_id=exclude_id)
    digest = await dg.build(
        session,
        user,
        role,
        since=since,
        now=now,
        settings_cadence=cadence,
        stale_days=stale_days,
    )
    deals = await deals_svc.figures(
        session, dg.scope_of(user, role), since, now, today=local_day(now, tz)
    )
    if not is_monday(now, tz):
        return Prepared(digest, None, deals=deals)
    chart = await chart_data(session, dg.scope_of(user, role), now=now)
    overview = await network_svc.digest_overview(session, user, role)
    return Prepared(digest, chart, True, overview, deals=deals)


def _card_rules(rules: Rules) -> tuple[str, int]:
    """The cadence and the stale-data days a report judges cards by (the bot's settings give both:
    ``Rules.of``)."""
    assert rules.cadence is not None and rules.stale_days is not None
    return rules.cadence, rules.stale_days


@offload
async def stats_for(
    session: AsyncSession,
    scope: mx.MetricScope,
    *,
    period: str,
    now: datetime,
    tz: str,
    rules: Rules,
) -> mx.Stats:
    """/stats: the method's measures over ``period`` (see core.metrics.period_bounds)."""
    start, end = period_bounds(period, now, tz)
    cadence, stale_days = _card_rules(rules)
    assert rules.inbound_reply_hours is not None
    return await mx.stats(
        session,
        scope,
        start,
        end,
        now=now,
        settings_cadence=cadence,
        stale_days=stale_days,
        reply_hours=rules.inbound_reply_hours,
    )


async def deal_stats_for(
    session: AsyncSession, scope: mx.MetricScope, *, period: str, now: datetime, tz: str
) -> deals_svc.DealFigures:
    """/stats' deal lines: pipeline, won and conversion to a deal over ``period``."""
    start, end = period_bounds(period, now, tz)
    return await deals_svc.figures(session, scope, start, end, today=local_day(now, tz))
