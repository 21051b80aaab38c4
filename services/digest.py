"""The manager's daily digest: what it contains, the lists behind its sections, and its schedule.

The figures come from services/metrics.py (SQL aggregates); this module only assembles them for
one manager (their team, per rep) or an admin (all teams, per team), as plain data that
views/digest.py renders (through services/reports.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from core.enums import Source
from core.roles import TEAM_ROLES, Role
from core.workhours import WorkHours
from services import duework, followups
from services import metrics as mx
from storage.models import Contact, ContactEvent, DueWork, NpsCase, Survey, Team, Touch, User

DIGEST = "digest"
DEFAULT_SINCE = timedelta(hours=24)
NPS_WINDOW = timedelta(days=30)
TOP = 5  # the five oldest overdue, the five oldest cases, the five latest referrals
LIST_LIMIT = 30  # items in a section's list (behind its button)

# the digest's sections, in order; every one has a button that opens its list
SECTIONS = (
    "touches",
    "new",
    "steps",
    "overdue",
    "funnel",
    "cold",
    "stale",
    "inbound",
    "nps",
    "cases",
    "referrals",
    "reps",
)


def scope_of(user: User, role: Role) -> mx.MetricScope:
    """An admin sees everyone; a manager their team (their own cards without a team)."""
    if role is Role.ADMIN:
        return mx.MetricScope.everyone()
    if user.team_id is not None:
        return mx.MetricScope.team(user.team_id)
    return mx.MetricScope.rep(user.id)


@dataclass(frozen=True)
class Item:
    """A contact-related line of a list (which fields are set depends on the section)."""

    contact_id: int | None
    name: str
    company: str | None = None
    when: datetime | None = None
    code: str | None = None  # touch type / source / stage / case status / event field
    old: str | None = None
    new: str | None = None
    extra: str | None = None  # who (rep), a comment, a summary, who introduced
    number: int | None = None  # an NPS score; 1/0 for a step done/not done
    case_id: int | None = None  # the detractor case (the cases' list)
    forgotten: bool = False  # the card's personal data was erased (/forget): no name to show
    by_forgotten: bool = False  # the same for who introduced it (the referrals)


@dataclass(frozen=True)
class Line:
    """One rep (or team) in the breakdown."""

    key: int
    name: str
    touches: int
    new: int
    overdue: int
    cold: int
    stale: int
    missed: int
    steps_due: int
    steps_done: int


@dataclass
class Digest:
    user_id: int
    everyone: bool
    title: str | None  # the team's name; None for all teams
    since: datetime
    now: datetime
    touches: list[tuple[str, int]]
    new: list[tuple[str | None, int]]
    steps: mx.Steps
    overdue: int
    overdue_oldest: list[Item]
    moves: mx.Moves
    cold: int
    stale: int
    missed: int
    nps_since: mx.NpsFigures
    nps_30: mx.NpsFigures
    nps_prev: mx.NpsFigures
    cases: int
    cases_oldest: list[Item]
    referrals: int
    referrals_latest: list[Item]
    lines: list[Line] = field(default_factory=list)
    # inbound requests waiting for a reply now, whatever the period (a state, not a measure)
    waiting: int = 0
    waiting_oldest: list[Item] = field(default_factory=list)

    @property
    def touches_total(self) -> int:
        return sum(n for _, n in self.touches)

    @property
    def new_total(self) -> int:
        return sum(n for _, n in self.new)


async def build(
    session: AsyncSession,
    user: User,
    role: Role,
    *,
    since: datetime,
    now: datetime,
    settings_cadence: str,
    stale_days: int,
) -> Digest:
    scope = scope_of(user, role)
    everyone = scope.team_id is None and scope.rep_id is None
    title = None
    if scope.team_id is not None:
        title = await session.scalar(select(Team.name).where(Team.id == scope.team_id))
    breakdown = None
    by = "team" if everyone else "owner"
    mx.forget_memo(session)
    if scope.rep_id is None:  # per rep for a team, per team for everyone
        breakdown = await mx.breakdown(
            session,
            scope,
            since,
            now,
            now=now,
            by=by,
            settings_cadence=settings_cadence,
            stale_days=stale_days,
        )
        # the totals are the sum of the groups: the scope's cards are scanned once, not twice
        cards = mx.CardCounts.total(breakdown.cards.values())
    else:
        cards = (
            await mx.card_counts(
                session, scope, now=now, settings_cadence=settings_cadence, stale_days=stale_days
            )
        ).get(0, mx.CardCounts(0, 0, 0))
    referral_total = await session.scalar(
        select(func.count(Contact.id)).where(
            scope.contacts(),
            Contact.source == Source.REFERRAL.value,
            mx.between(Contact.created_at, since, now),
        )
    )
    digest = Digest(
        user_id=user.id,
        everyone=everyone,
        title=title,
        since=since,
        now=now,
        touches=await mx.touches_by_type(
            session, scope, since, now, by=None if breakdown is None else by
        ),
        new=await mx.new_by_source(session, scope, since, now),
        # with a breakdown, the totals are the sums of its groups (every card is in one)
        steps=(
            mx.Steps(sum(breakdown.steps_due.values()), sum(breakdown.steps_done.values()))
            if breakdown is not None
            else await mx.steps(session, scope, since, now)
        ),
        overdue=cards.overdue,
        overdue_oldest=await _overdue(session, scope, now, TOP),
        moves=await mx.moves(session, scope, since, now),
        cold=cards.cold,
        stale=cards.stale,
        missed=(
            sum(breakdown.missed.values())
            if breakdown is not None
            else await mx.missed_inbound(session, scope, since, now)
        ),
        nps_since=await mx.nps(session, scope, since, now),
        nps_30=await mx.nps(session, scope, now - NPS_WINDOW, now),
        nps_prev=await mx.nps(session, scope, now - 2 * NPS_WINDOW, now - NPS_WINDOW),
        cases=await mx.open_cases(session, scope),
        cases_oldest=await _cases(session, scope, TOP),
        referrals=int(referral_total or 0),
        referrals_latest=await _referrals(session, scope, since, now, TOP),
    )
    digest.waiting = await mx.waiting_inbound(session, scope)
    if digest.waiting:
        digest.waiting_oldest = await _waiting(session, scope, TOP)
    mx.forget_memo(session)
    if breakdown is not None:
        digest.lines = await _lines(session, scope, breakdown, by=by)
    return digest


async def _lines(
    session: AsyncSession, scope: mx.MetricScope, b: mx.Breakdown, *, by: str
) -> list[Line]:
    """The breakdown's rows, one per team member (or team), named."""
    if by == "team":
        keys = [(t.id, t.name) for t in await session.scalars(select(Team).order_by(Team.name))]
    else:
        members = await session.scalars(
            select(User)
            .where(User.team_id == scope.team_id, User.role.in_([Role.REP, Role.MANAGER]))
            .order_by(User.first_name, User.id)
        )
        keys = [(u.id, u.display_name) for u in members]
    empty = mx.CardCounts(0, 0, 0)
    return [
        Line(
            key=k,
            name=name,
            touches=b.touches.get(k, 0),
            new=b.new.get(k, 0),
            overdue=b.cards.get(k, empty).overdue,
            cold=b.cards.get(k, empty).cold,
            stale=b.cards.get(k, empty).stale,
            missed=b.missed.get(k, 0),
            steps_due=b.steps_due.get(k, 0),
            steps_done=b.steps_done.get(k, 0),
        )
        for k, name in keys
    ]


# ------------------------------------------------------------------------------- the lists
def _owner() -> Any:
    return aliased(User)


def _item(c: Contact, when: datetime | None, **fields: Any) -> Item:
    """A list's line about card ``c`` (a forgotten card is said to be one, not named "#id")."""
    return Item(c.id, c.name, c.company, when, forgotten=c.forgotten_at is not None, **fields)


async def _overdue(
    session: AsyncSession, scope: mx.MetricScope, now: datetime, limit: int
) -> list[Item]:
    owner = _owner()
    # walked in due order through the due time's index (named to SQLite), not a sort of every
    # overdue card of the scope
    rows = await session.execute(
        select(Contact, owner)
        .with_hint(Contact, "INDEXED BY ix_contacts_next_step_due", "sqlite")
        .join(owner, owner.id == Contact.owner_id)
        .where(mx.by_time(session, scope), mx.active(), Contact.next_step_due < now)
        .order_by(Contact.next_step_due, Contact.id)
        .limit(limit)
    )
    return [_item(c, c.next_step_due, extra=u.display_name, new=c.next_step) for c, u in rows.all()]


async def _waiting(session: AsyncSession, scope: mx.MetricScope, limit: int) -> list[Item]:
    """The contacts waiting longest for a reply now, each once, by its earliest request waiting:
    ``when`` is when it came, ``extra`` the owner, ``new`` what the contact wrote."""
    waiting = mx.waiting_inbound_rows(scope, unindexed=mx.on_sqlite(session)).subquery()
    first = (
        select(waiting.c.contact_id, func.min(waiting.c.ref_id).label("ref_id"))
        .group_by(waiting.c.contact_id)
        .subquery()
    )
    owner = _owner()
    rows = await session.execute(
        select(Contact, Touch, owner)
        .join(first, first.c.contact_id == Contact.id)
        .join(Touch, Touch.id == first.c.ref_id)
        .join(owner, owner.id == Contact.owner_id)
        .order_by(Touch.occurred_at, Touch.id)
        .limit(limit)
    )
    return [
        _item(c, t.occurred_at, code="waiting", extra=u.display_name, new=t.summary or None)
        for c, t, u in rows.all()
    ]


async def _cases(session: AsyncSession, scope: mx.MetricScope, limit: int) -> list[Item]:
    # the oldest open cases first, then their cards: joined before the limit, PostgreSQL read
    # the card of every open case of the team (1,844 at 1M cards) to keep five
    oldest = (
        select(NpsCase.id)
        .where(scope.cases(), NpsCase.status.in_(mx.OPEN_CASE))
        .order_by(NpsCase.opened_at, NpsCase.id)
        .limit(limit)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(NpsCase, Contact)
        .join(Contact, Contact.id == NpsCase.contact_id)
        .where(NpsCase.id.in_(oldest))
        .order_by(NpsCase.opened_at, NpsCase.id)
    )
    return [_item(c, k.opened_at, code=k.status, case_id=k.id) for k, c in rows.all()]


async def _referrals(
    session: AsyncSession, scope: mx.MetricScope, since: datetime, now: datetime, limit: int
) -> list[Item]:
    introducer = aliased(Contact)
    stmt = (
        select(Contact, introducer.name, introducer.forgotten_at)
        .outerjoin(introducer, introducer.id == Contact.introduced_by_id)
        .where(
            scope.contacts(),
            Contact.source == Source.REFERRAL.value,
            mx.between(Contact.created_at, since, now),
        )
    )
    rows = await session.execute(_newest(stmt, Contact.created_at, limit))
    return [
        _item(
            c,
            c.created_at,
            extra=None if gone else by or c.source_detail,
            by_forgotten=gone is not None,
        )
        for c, by, gone in rows.all()
    ]


async def section_items(
    session: AsyncSession,
    user: User,
    role: Role,
    section: str,
    *,
    since: datetime,
    now: datetime,
    settings_cadence: str,
    stale_days: int,
    limit: int = LIST_LIMIT,
) -> list[Item]:
    """The list behind a section's button, for the same scope and period as the digest."""
    scope = scope_of(user, role)
    owner = _owner()
    if section == "touches":
        stmt = (
            select(Touch, Contact, owner)
            .join(Contact, Contact.id == Touch.contact_id)
            .join(owner, owner.id == Touch.author_id)
            .where(mx.by_time(session, scope), mx.between(Touch.occurred_at, since, now))
        )
        rows = await session.execute(_newest(stmt, Touch.occurred_at, limit))
        return [
            _item(c, t.occurred_at, code=t.type, extra=u.display_name) for t, c, u in rows.all()
        ]
    if section == "new":
        stmt = (
            select(Contact, owner)
            .join(owner, owner.id == Contact.owner_id)
            .where(scope.contacts(), mx.between(Contact.created_at, since, now), mx.not_archived())
        )
        rows = await session.execute(_newest(stmt, Contact.created_at, limit))
        return [_item(c, c.created_at, code=c.source, extra=u.display_name) for c, u in rows.all()]
    if section == "steps":
        steps = mx.step_rows(scope, since, now, unindexed=mx.on_sqlite(session)).subquery()
        rows = await session.execute(
            select(Contact, steps.c.due_at, steps.c.done)
            .join(steps, steps.c.contact_id == Contact.id)
            .order_by(steps.c.done, steps.c.due_at)
            .limit(limit)
        )
        return [
            _item(c, _aware(due), new=c.next_step, number=int(done or 0))
            for c, due, done in rows.all()
        ]
    if section == "overdue":
        return await _overdue(session, scope, now, limit)
    if section == "funnel":
        stmt = (
            select(ContactEvent, Contact)
            .join(Contact, Contact.id == ContactEvent.contact_id)
            .where(
                mx.by_time(session, scope),
                ContactEvent.field.in_(["stage", "status"]),
                mx.between(ContactEvent.at, since, now),
            )
        )
        rows = await session.execute(_newest(stmt, ContactEvent.at, limit))
        return [
            _item(c, e.at, code=e.field, old=e.old_value, new=e.new_value) for e, c in rows.all()
        ]
    if section in ("cold", "stale"):
        if section == "cold":
            cond = await mx.cold_condition(
                session, scope, now=now, settings_cadence=settings_cadence
            )
            order = func.coalesce(Contact.last_touch_at, Contact.created_at)
        else:
            cond = mx.stale_condition(now, stale_days)
            order = Contact.verified_at
        rows = await session.execute(
            select(Contact, owner)
            .join(owner, owner.id == Contact.owner_id)
            .where(scope.contacts(), cond)
            .order_by(order, Contact.id)
            .limit(limit)
        )
        return [
            _item(
                c,
                (c.last_touch_at or c.created_at) if section == "cold" else c.verified_at,
                code=c.stage,
                extra=u.display_name,
                # never touched: the date is when it was added, not a last touch
                new="added" if section == "cold" and c.last_touch_at is None else None,
            )
            for c, u in rows.all()
        ]
    if section == "inbound":
        missed = mx.missed_inbound_rows(
            scope, since, now, unindexed=mx.on_sqlite(session)
        ).subquery()
        rows = await session.execute(
            select(Contact, Touch)
            .join(missed, missed.c.contact_id == Contact.id)
            .join(Touch, Touch.id == missed.c.ref_id)
            .order_by(Touch.occurred_at.desc())
            .limit(limit)
        )
        return [_item(c, t.occurred_at, extra=t.summary or None) for c, t in rows.all()]
    if section == "nps":
        stmt = (
            select(Survey, Contact)
            .join(Contact, Contact.id == Survey.contact_id)
            .where(
                scope.surveys(),
                Survey.score.is_not(None),
                mx.between(Survey.answered_at, since, now),
            )
        )
        rows = await session.execute(_newest(stmt, Survey.answered_at, limit))
        return [_item(c, s.answered_at, extra=s.comment, number=s.score) for s, c in rows.all()]
    if section == "cases":
        return await _cases(session, scope, limit)
    if section == "referrals":
        return await _referrals(session, scope, since, now, limit)
    raise ValueError(f"unknown section {section!r}")


async def waiting_items(
    session: AsyncSession, user: User, role: Role, *, limit: int = LIST_LIMIT
) -> list[Item]:
    """Above the inbound section's list: the requests waiting for a reply now, oldest first,
    whatever the period (they stay listed until answered)."""
    return await _waiting(session, scope_of(user, role), limit)


def _newest(stmt: Select[Any], at: InstrumentedAttribute[Any], limit: int) -> Select[Any]:
    """The first ``limit`` rows of ``stmt``, the latest by ``at`` first (ties: the later row)."""
    return stmt.order_by(at.desc(), at.class_.id.desc()).limit(limit)


def _aware(value: Any) -> datetime | None:
    """Aggregated datetimes come back as text/naive on SQLite: make them aware UTC."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=ZoneInfo("UTC"))


# ------------------------------------------------------------------------------ scheduling
def next_digest(now: datetime, tz: str, wh: WorkHours, at: time) -> tuple[date, datetime]:
    """The next digest moment at or after ``now``: ``at`` local time on a working day."""
    zone = ZoneInfo(tz)
    day = now.astimezone(zone).date()
    for _ in range(8):
        if day.isoweekday() in wh.days:
            moment = datetime.combine(day, at, zone).astimezone(ZoneInfo("UTC"))
            if moment >= now:
                return day, moment
        day += timedelta(days=1)
    raise AssertionError("unreachable: at least one working day a week")


def digest_key(user_id: int, local_date: date) -> str:
    return f"digest:{user_id}:{local_date.isoformat()}"


async def plan_digests(
    session: AsyncSession,
    *,
    now: datetime,
    at: time,
    admin_ids: frozenset[int],
    default_tz: str,
) -> int:
    """Every manager and admin has their next digest scheduled: one row per user and local
    date (its key), due at ``at`` in their time zone on their next working day. Cheap enough for
    every tick: one query for the leads, one for the keys that exist, inserts only for the new."""
    leads = list(
        await session.scalars(
            select(User).where(
                or_(User.role == Role.MANAGER, User.tg_id.in_(list(admin_ids))),
                User.reachable.is_(True),
            )
        )
    )
    if not leads:
        return 0
    planned = []
    for user in leads:
        day, due = next_digest(
            now, followups.user_tz(user, default_tz), followups.user_hours(user), at
        )
        planned.append((user, digest_key(user.id, day), due))
    existing = set(
        await session.scalars(
            select(DueWork.key).where(DueWork.key.in_([key for _, key, _ in planned]))
        )
    )
    added = 0
    for user, key, due in planned:
        if key in existing:
            continue
        added += await duework.schedule(
            session,
            kind=DIGEST,
            key=key,
            chat_id=user.tg_id,
            user_id=user.id,
            due_at=due,
            now=now,
        )
    return added


async def last_digest_at(
    session: AsyncSession, user_id: int, *, exclude_id: int | None = None
) -> datetime | None:
    """Where this user's previous digest's period ended (None: never): when it was taken to be
    written (claimed), not when its send ended — what happened while it was being written and
    sent (a reply alert delivered in the same round) was in neither digest."""
    stmt = select(func.max(func.coalesce(DueWork.claimed_at, DueWork.sent_at))).where(
        DueWork.kind == DIGEST, DueWork.user_id == user_id, DueWork.sent_at.is_not(None)
    )
    if exclude_id is not None:
        stmt = stmt.where(DueWork.id != exclude_id)
    return _aware(await session.scalar(stmt))


async def since_for(
    session: AsyncSession, user_id: int, now: datetime, *, exclude_id: int | None = None
) -> datetime:
    """ "Since the last digest": where that digest's period ended, or the last 24 hours."""
    last = await last_digest_at(session, user_id, exclude_id=exclude_id)
    return last if last is not None and last < now else now - DEFAULT_SINCE


async def reps_of(session: AsyncSession, user: User, role: Role) -> list[User]:
    """Whom a lead may look at in /stats: their team's reps (every rep for an admin)."""
    stmt = select(User).where(User.role.in_(sorted(TEAM_ROLES)))
    if role is not Role.ADMIN:
        stmt = stmt.where(User.team_id == user.team_id, User.team_id.is_not(None))
    return list(await session.scalars(stmt.order_by(User.first_name, User.id).limit(60)))


async def find_rep(session: AsyncSession, user: User, role: Role, key: int | str) -> User | None:
    """A rep by id or @username, only within the lead's reach."""
    cond = User.id == key if isinstance(key, int) else func.lower(User.username) == key.lower()
    stmt = select(User).where(cond, User.role.in_(sorted(TEAM_ROLES)))
    if role is not Role.ADMIN:
        stmt = stmt.where(and_(User.team_id == user.team_id, User.team_id.is_not(None)))
    return await session.scalar(stmt.limit(1))
