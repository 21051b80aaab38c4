"""Contacts and touches: create, find, deduplicate, merge, change, log, timeline.

Every read goes through a Scope, so a rep sees only their own cards, a manager their team's and
an admin everything; a card outside the scope is simply "not found".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.cadence import effective_cadence, is_going_cold
from core.contactdata import digits_only, normalize_tag, search_key
from core.dedupe import is_close_match
from core.enums import Stage, Status
from core.roles import Role
from services import search as search_engine
from storage.models import IDENTITY_COLUMNS, Base, Contact, ContactEvent, Team, Touch, User
from storage.uow import transactional, writing

EDITABLE = (
    "name",
    "company",
    "position",
    "kind",
    "segment",
    "icp_fit",
    "icp_criterion",
    "influence",
    "source",
    "source_detail",
    "introduced_by_id",
    "status",
    "stage",
    "phone",
    "email",
    "tg_username",
    "tg_user_id",
    "notes",
)
TRACKED = ("status", "stage")


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: Role
    team_id: int | None

    @classmethod
    def of(cls, user: User, role: Role) -> Scope:
        return cls(user.id, role, user.team_id)

    def condition(self) -> ColumnElement[bool]:
        if self.role is Role.ADMIN:
            return true()
        if self.role is Role.MANAGER and self.team_id is not None:
            return or_(Contact.team_id == self.team_id, Contact.owner_id == self.user_id)
        return Contact.owner_id == self.user_id


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


def join_tags(tags: Iterable[str]) -> str:
    clean = [t for t in (normalize_tag(x) for x in tags) if t]
    unique, _dropped = limits.fit_tags(clean)
    return f";{';'.join(unique)};" if unique else ""


def tag_list(stored: str | None) -> list[str]:
    return [t for t in (stored or "").split(";") if t]


def build_search_text(c: Contact) -> str:
    parts = [
        c.name,
        c.company or "",
        c.position or "",
        c.email or "",
        c.tg_username or "",
        " ".join(tag_list(c.tags)),
        digits_only(c.phone or ""),
    ]
    return search_key(" ".join(p for p in parts if p))


def _clip(name: str, value: Any) -> Any:
    """Text is cleaned and fitted to its field (core.limits); other values pass as they are."""
    if isinstance(value, str):
        return limits.fit(name, value).value
    return value


@transactional
async def create(
    session: AsyncSession,
    *,
    owner: User,
    data: Mapping[str, Any],
    now: datetime,
    tags: Iterable[str] = (),
) -> Contact:
    contact = Contact(
        owner_id=owner.id,
        team_id=owner.team_id,
        name=(_clip("name", data.get("name")) or "?"),
        status=data.get("status") or Status.CONTACT.value,
        stage=data.get("stage") or Stage.IDENTIFICATION.value,
        icp_fit=data.get("icp_fit") or "unknown",
        tags=join_tags(tags),
        search_text="",
        created_at=now,
        updated_at=now,
        verified_at=now,
    )
    for name in EDITABLE:
        if name in ("name", "status", "stage", "icp_fit"):
            continue
        if data.get(name) is not None:
            setattr(contact, name, _clip(name, data[name]))
    contact.search_text = build_search_text(contact)
    session.add(contact)
    await session.flush()
    session.add(
        ContactEvent(
            contact_id=contact.id,
            actor_id=owner.id,
            field="created",
            new_value=contact.name,
            at=now,
        )
    )
    return contact


# ------------------------------------------------------------------ one card per person, per team
# A phone, an e-mail or a Telegram id belongs to one live card of a team (a card without a team:
# of its owner). The database holds the rule (partial unique indexes, migration 0013); these
# functions ask first, so that a person gets an answer rather than an error, and turn the
# database's refusal, when a race gets past the question, into the same answer.


@dataclass(frozen=True)
class TeamCard:
    """A live card of the team that already holds a phone, e-mail or Telegram id. Someone whose
    scope does not cover it (a rep, a teammate's card) is told only its name and its owner:
    ``contact`` is then None."""

    id: int
    name: str
    owner: str
    field: str  # phone | email | tg_user_id
    contact: Contact | None = None

    @property
    def visible(self) -> bool:
        return self.contact is not None


class AlreadyInTeam(Exception):
    """A change would give a card a phone, e-mail or Telegram id another live card of the team
    holds: nothing was changed."""

    def __init__(self, cards: list[TeamCard]) -> None:
        super().__init__(", ".join(f"{c.field} of #{c.id}" for c in cards))
        self.cards = cards


def team_of(team_id: int | None, owner_id: int) -> ColumnElement[bool]:
    """The cards among which the rule holds: the team's, or the owner's when there is no team."""
    if team_id is not None:
        return Contact.team_id == team_id
    return and_(Contact.team_id.is_(None), Contact.owner_id == owner_id)


def _rule_key(team_id: int | None, owner_id: int) -> tuple[str, int]:
    return ("team", team_id) if team_id is not None else ("own", owner_id)


def live() -> ColumnElement[bool]:
    return and_(Contact.archived_at.is_(None), Contact.forgotten_at.is_(None))


async def team_conflicts(
    session: AsyncSession,
    *,
    team_id: int | None,
    owner_id: int,
    values: Mapping[str, Any],
    viewer: Scope | None = None,
    exclude_id: int | None = None,
) -> list[TeamCard]:
    """The live cards of the team (``team_id``, or ``owner_id``'s own without a team) that hold
    one of ``values``' phone, e-mail or Telegram id, each with the first field it shares. The
    cards in ``viewer``'s scope come with the card; the others with their name and owner only."""
    exact = [getattr(Contact, c) == values[c] for c in IDENTITY_COLUMNS if values.get(c)]
    if not exact:
        return []
    seen = case((viewer.condition(), 1), else_=0) if viewer is not None else literal(0)
    stmt = (
        select(Contact, User, seen)
        .join(User, User.id == Contact.owner_id)
        .where(team_of(team_id, owner_id), live(), or_(*exact))
        .order_by(Contact.created_at, Contact.id)
        .limit(5)
    )
    if exclude_id is not None:
        stmt = stmt.where(Contact.id != exclude_id)
    found = []
    for card, owner, visible in (await session.execute(stmt)).all():
        shared = next(
            c for c in IDENTITY_COLUMNS if values.get(c) and getattr(card, c) == values[c]
        )
        found.append(
            TeamCard(card.id, card.name, owner.display_name, shared, card if visible else None)
        )
    return found


@dataclass
class Added:
    """What :func:`add` did: the new card, or (``contact`` None) the cards that already hold its
    phone, e-mail or Telegram id. ``left_out``: the values not saved because other cards hold
    them (when asked to add anyway)."""

    contact: Contact | None = None
    conflicts: list[TeamCard] = field(default_factory=list)
    left_out: list[TeamCard] = field(default_factory=list)


async def add(
    session: AsyncSession,
    *,
    owner: User,
    data: Mapping[str, Any],
    now: datetime,
    tags: Iterable[str] = (),
    viewer: Scope | None = None,
    anyway: bool = False,
) -> Added:
    """A new card, unless the team has a live card with its phone, e-mail or Telegram id: then
    the answer names them and nothing is saved (``anyway``: it is saved without those values).

    The question is asked inside the write transaction, and the insert runs in a savepoint: when
    two adds of one phone race (PostgreSQL lets both ask before either commits), the unique
    index makes the loser's insert fail, and the loser asks again and gets the winner's card."""
    values, tags = dict(data), list(tags)
    left_out: list[TeamCard] = []
    async with writing(session):
        for _attempt in range(3):
            conflicts = await team_conflicts(
                session, team_id=owner.team_id, owner_id=owner.id, values=values, viewer=viewer
            )
            if conflicts and not anyway:
                return Added(conflicts=conflicts)
            for card in conflicts:
                values[card.field] = None
                left_out.append(card)
            try:
                async with session.begin_nested():
                    contact = await create(session, owner=owner, data=values, tags=tags, now=now)
            except IntegrityError:
                continue  # a card with the same value was committed meanwhile: ask again
            return Added(contact=contact, left_out=left_out)
    raise RuntimeError("a card could not be added: its values kept being taken")


async def _check_identity(
    session: AsyncSession, contact: Contact, changes: Mapping[str, Any]
) -> None:
    """Raise :class:`AlreadyInTeam` when ``changes`` give the card a value another holds."""
    values = {c: changes[c] for c in IDENTITY_COLUMNS if changes.get(c) is not None}
    if not values or contact.archived_at is not None or contact.forgotten_at is not None:
        return
    cards = await team_conflicts(
        session,
        team_id=contact.team_id,
        owner_id=contact.owner_id,
        values=values,
        exclude_id=contact.id,
    )
    if cards:
        raise AlreadyInTeam(cards)


async def _flush_checked(
    session: AsyncSession, contact: Contact, values: Mapping[str, Any]
) -> None:
    """Flush in a savepoint: a value taken by a concurrent transaction is refused as
    :class:`AlreadyInTeam` (whose cards are read again), not as a database error."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        with session.no_autoflush:
            cards = await team_conflicts(
                session,
                team_id=contact.team_id,
                owner_id=contact.owner_id,
                values=values,
                exclude_id=contact.id,
            )
        raise AlreadyInTeam(cards) from None


async def get(session: AsyncSession, scope: Scope, contact_id: int) -> Contact | None:
    return await session.scalar(select(Contact).where(Contact.id == contact_id, scope.condition()))


async def duplicates(
    session: AsyncSession,
    scope: Scope,
    *,
    name: str | None,
    company: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    tg_user_id: int | None = None,
    exclude_id: int | None = None,
    limit: int = 5,
) -> list[Contact]:
    """Exact match on phone, e-mail or Telegram id; close match on name + company."""
    exact: list[ColumnElement[bool]] = []
    if phone:
        exact.append(Contact.phone == phone)
    if email:
        exact.append(Contact.email == email)
    if tg_user_id:
        exact.append(Contact.tg_user_id == tg_user_id)
    base = select(Contact).where(scope.condition(), Contact.archived_at.is_(None))
    if exclude_id is not None:
        base = base.where(Contact.id != exclude_id)
    found: dict[int, Contact] = {}
    if exact:
        for c in await session.scalars(base.where(or_(*exact)).limit(limit)):
            found[c.id] = c
    if name:
        # candidates share a word of the name (in either script); rapidfuzz decides
        words = [w for w in search_key(name).split() if len(w) >= 3][:4]
        if words:
            like = or_(*[Contact.search_text.like(f"%{w[:4]}%") for w in words])
            for c in await session.scalars(base.where(like).limit(200)):
                if c.id not in found and is_close_match(name, company, c.name, c.company):
                    found[c.id] = c
                if len(found) >= limit:
                    break
    return list(found.values())[:limit]


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


async def search(
    session: AsyncSession,
    scope: Scope,
    query: str,
    limit: int = 10,
    *,
    archived: bool = False,
    forgotten: bool = False,
) -> list[Contact]:
    """Name, company, phone (any format), e-mail, @username, #tag; tolerant of typos and of
    Cyrillic/Latin; best first. Archived and forgotten cards only when asked for.

    Through the text indexes (services/search.py: SQLite FTS5 trigram, PostgreSQL pg_trgm)."""
    return await search_engine.find(
        session, scope, query, limit, archived=archived, forgotten=forgotten
    )


@transactional
async def record_event(
    session: AsyncSession,
    contact: Contact,
    *,
    actor_id: int | None,
    field: str,
    old: Any,
    new: Any,
    now: datetime,
) -> None:
    session.add(
        ContactEvent(
            contact_id=contact.id,
            actor_id=actor_id,
            field=field,
            old_value=None if old is None else str(old)[:512],
            new_value=None if new is None else str(new)[:512],
            at=now,
        )
    )


@transactional
async def change(
    session: AsyncSession,
    contact: Contact,
    *,
    actor: User,
    now: datetime,
    **changes: Any,
) -> list[str]:
    """Apply field changes; status and stage changes are recorded with who and when. A phone,
    e-mail or Telegram id another live card of the team holds raises :class:`AlreadyInTeam`."""
    await _check_identity(
        session,
        contact,
        {
            k: _clip(k, v)
            for k, v in changes.items()
            if k in IDENTITY_COLUMNS and v != getattr(contact, k)
        },
    )
    changed = []
    for name, value in changes.items():
        if name not in EDITABLE and name != "tags":
            raise ValueError(f"not editable: {name}")
        if name == "tags":
            value = join_tags(value)
        else:
            value = _clip(name, value)
        if name == "name" and not value:
            continue
        old = getattr(contact, name)
        if old == value:
            continue
        setattr(contact, name, value)
        changed.append(name)
        if name in TRACKED:
            await record_event(
                session, contact, actor_id=actor.id, field=name, old=old, new=value, now=now
            )
    if changed:
        contact.updated_at = now
        contact.search_text = build_search_text(contact)
    if set(changed) & set(IDENTITY_COLUMNS):
        await _flush_checked(session, contact, {c: getattr(contact, c) for c in IDENTITY_COLUMNS})
    return changed


@transactional
async def mark_verified(
    session: AsyncSession, contact: Contact, actor: User, now: datetime
) -> None:
    contact.verified_at = now
    await record_event(
        session, contact, actor_id=actor.id, field="verified", old=None, new=None, now=now
    )


@transactional
async def archive(session: AsyncSession, contact: Contact, actor: User, now: datetime) -> None:
    contact.archived_at = now
    contact.updated_at = now
    await record_event(
        session, contact, actor_id=actor.id, field="archived", old=None, new=None, now=now
    )


@transactional
async def restore(session: AsyncSession, contact: Contact, actor: User, now: datetime) -> None:
    """Back from the archive, unless a live card of the team holds its phone, e-mail or Telegram
    id by now (:class:`AlreadyInTeam`: merge them instead)."""
    if contact.forgotten_at is None:
        cards = await team_conflicts(
            session,
            team_id=contact.team_id,
            owner_id=contact.owner_id,
            values={c: getattr(contact, c) for c in IDENTITY_COLUMNS},
            exclude_id=contact.id,
        )
        if cards:
            raise AlreadyInTeam(cards)
    contact.archived_at = None
    contact.updated_at = now
    await record_event(
        session, contact, actor_id=actor.id, field="restored", old=None, new=None, now=now
    )


@transactional
async def log_touch(
    session: AsyncSession,
    contact: Contact,
    *,
    author: User,
    type_: str,
    direction: str,
    summary: str,
    now: datetime,
) -> Touch:
    touch = Touch(
        contact_id=contact.id,
        author_id=author.id,
        type=type_,
        direction=direction,
        summary=limits.fit("summary", summary).value or "",
        occurred_at=now,
    )
    session.add(touch)
    contact.last_touch_at = now
    contact.updated_at = now
    await session.flush()
    return touch


@transactional
async def set_next_step(
    session: AsyncSession,
    contact: Contact,
    *,
    actor: User,
    text: str | None,
    due: datetime | None,
    reason: str | None,
    now: datetime,
) -> None:
    """A next step with its due time, or none with a reason (lost, not a fit…)."""
    contact.next_step = limits.fit("next_step", text).value
    contact.next_step_due = due
    contact.no_next_step_reason = None if due else limits.fit("reason", reason).value
    contact.updated_at = now
    await record_event(
        session,
        contact,
        actor_id=actor.id,
        field="next_step",
        old=None,
        new=(f"{contact.next_step or ''} @ {due.isoformat()}" if due else f"- {reason or ''}"),
        now=now,
    )


@dataclass
class TimelineItem:
    kind: str  # "touch" or an event field
    at: datetime
    actor_id: int | None
    a: str | None = None  # touch type / old value
    b: str | None = None  # direction / new value
    text: str | None = None  # touch summary
    extra: dict[str, Any] = field(default_factory=dict)


async def timeline(
    session: AsyncSession, contact_id: int, page: int, page_size: int = 10
) -> tuple[list[TimelineItem], bool]:
    """Touches and changes, newest first; returns (items, has_more)."""
    touches = select(
        literal("touch").label("kind"),
        Touch.occurred_at.label("at"),
        Touch.author_id.label("actor_id"),
        Touch.type.label("a"),
        Touch.direction.label("b"),
        Touch.summary.label("text"),
        Touch.id.label("id"),
    ).where(Touch.contact_id == contact_id)
    events = select(
        ContactEvent.field.label("kind"),
        ContactEvent.at.label("at"),
        ContactEvent.actor_id.label("actor_id"),
        ContactEvent.old_value.label("a"),
        ContactEvent.new_value.label("b"),
        literal(None).label("text"),
        ContactEvent.id.label("id"),
    ).where(ContactEvent.contact_id == contact_id)
    union = touches.union_all(events).subquery()
    rows = await session.execute(
        select(union)
        .order_by(union.c.at.desc(), union.c.id.desc())
        .offset(page * page_size)
        .limit(page_size + 1)
    )
    items = []
    for row in rows.all():
        at = row.at
        if isinstance(at, str):  # SQLite gives back text from a UNION
            at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        item = TimelineItem(row.kind, at, row.actor_id, row.a, row.b, row.text)
        item.extra = event_details(item.kind, item.b)
        items.append(item)
    return items[:page_size], len(items) > page_size


def event_details(kind: str, value: str | None) -> dict[str, Any]:
    """What a stored event value means, for the timeline to show it in words.

    A next step is stored as "text @ <ISO due>", "- <reason>" (none planned) or "✓ text"
    (done): ``{"step", "due"}``, ``{"reason"}`` or ``{"step", "done": True}``. A case move is
    "status" or "status: note": ``{"status", "note"}``. Anything else: ``{}``."""
    value = value or ""
    if kind == "next_step":
        if value.startswith(DONE_MARK):
            return {"step": value[len(DONE_MARK) :], "done": True}
        if value.startswith("- "):
            return {"reason": value[2:]}
        step, sep, when = value.rpartition(" @ ")
        if sep:
            try:
                due = datetime.fromisoformat(when)
            except ValueError:
                return {"step": value}
            return {"step": step, "due": due if due.tzinfo else due.replace(tzinfo=UTC)}
        return {"step": value}
    if kind == "nps_case":
        status, _sep, note = value.partition(": ")
        return {"status": status, "note": note}
    return {}


def contact_references() -> list[Column[Any]]:
    """Every column that points at a contact card (from the models' metadata, so a new table
    with a foreign key to contacts is moved by :func:`merge` without anyone remembering to)."""
    found = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == Contact.__tablename__ and fk.column.name == "id":
                found.append(fk.parent)
    return found


@transactional
async def merge(
    session: AsyncSession, keep: Contact, drop: Contact, *, actor: User, now: datetime
) -> Contact:
    """Merge ``drop`` into ``keep``: both histories stay, empty fields are filled, tags united.

    Everything that hangs off the dropped card — touches, events, surveys, referral links, NPS
    cases, due work, the cards it introduced — moves to the kept card before the dropped card
    is deleted, so nothing is lost to an ``ON DELETE CASCADE``. The due work is re-planned by
    ``services.followups.merge``, the use case that calls this.
    """
    if keep.id == drop.id:
        raise ValueError("a card cannot be merged into itself")
    dropped = {name: getattr(drop, name) for name in EDITABLE}
    # the dropped card lets go of its phone, e-mail and Telegram id first: one live card per
    # value in a team (migration 0013), and the kept card may be about to take them
    for name in IDENTITY_COLUMNS:
        setattr(drop, name, None)
    await session.flush()
    for name in EDITABLE:
        if getattr(keep, name) in (None, "") and dropped[name] not in (None, ""):
            setattr(keep, name, dropped[name])
    if keep.duplicate_of == drop.id:
        keep.duplicate_of = None  # the card it repeated is now itself
    if keep.introduced_by_id in (keep.id, drop.id):
        keep.introduced_by_id = None  # introduced by the card it now is
    keep.tags = join_tags(tag_list(keep.tags) + tag_list(drop.tags))
    if drop.notes and keep.notes and drop.notes not in keep.notes:
        keep.notes = f"{keep.notes}\n\n{drop.notes}"
    if drop.last_touch_at and (not keep.last_touch_at or drop.last_touch_at > keep.last_touch_at):
        keep.last_touch_at = drop.last_touch_at
    if drop.next_step_due and not keep.next_step_due:
        keep.next_step, keep.next_step_due = drop.next_step, drop.next_step_due
        keep.no_next_step_reason = None
    keep.timezone = keep.timezone or drop.timezone
    keep.language = keep.language or drop.language
    if drop.nps_stopped_at and not keep.nps_stopped_at:
        keep.nps_stopped_at = drop.nps_stopped_at  # the client's /stop holds for the person
    keep.verified_at = max(keep.verified_at, drop.verified_at)
    keep.created_at = min(keep.created_at, drop.created_at)
    keep.updated_at = now
    keep.search_text = build_search_text(keep)
    await session.flush()
    references = contact_references()
    for column in references:
        stmt = update(column.table).where(column == drop.id)
        if column.table is Contact.__table__:
            stmt = stmt.where(column.table.c.id != keep.id)
        await session.execute(
            stmt.values({column.name: keep.id}).execution_options(synchronize_session=False)
        )
    for column in references:
        left = await session.scalar(select(func.count()).where(column == drop.id))
        if left:  # pragma: no cover - the loop above moved them all
            raise RuntimeError(f"{column.table.name}.{column.name} still points at the card")
    await session.execute(
        update(Contact)
        .where(Contact.duplicate_of == drop.id, Contact.id != keep.id)
        .values(duplicate_of=keep.id)
        .execution_options(synchronize_session=False)
    )
    await record_event(
        session, keep, actor_id=actor.id, field="merged", old=drop.name, new=keep.name, now=now
    )
    await _flush_checked(session, keep, {c: getattr(keep, c) for c in IDENTITY_COLUMNS})
    await session.execute(delete(Contact).where(Contact.id == drop.id))
    session.expunge(drop)
    return keep


@transactional
async def merge_into(
    session: AsyncSession,
    keep: Contact,
    data: Mapping[str, Any],
    *,
    tags: Iterable[str] = (),
    actor: User,
    now: datetime,
) -> Contact:
    """A card being added turns out to be ``keep``: its details fill the empty fields, its tags
    join, and the merge is recorded (nothing is created)."""
    fill = {
        k: v
        for k, v in data.items()
        if v and k in EDITABLE and getattr(keep, k, None) in (None, "")
    }
    for card in await team_conflicts(  # a value another card of the team holds stays there
        session, team_id=keep.team_id, owner_id=keep.owner_id, values=fill, exclude_id=keep.id
    ):
        fill.pop(card.field, None)
    await change(session, keep, actor=actor, now=now, **fill)
    tags = list(tags)
    if tags:
        await change(session, keep, actor=actor, now=now, tags=tag_list(keep.tags) + tags)
    await record_event(
        session,
        keep,
        actor_id=actor.id,
        field="merged",
        old=data.get("name"),
        new=keep.name,
        now=now,
    )
    return keep


@transactional
async def change_owner(
    session: AsyncSession, contact: Contact, owner: User, *, actor: User, now: datetime
) -> bool:
    """Hand the card to another person (and their team); False when nothing changes."""
    if contact.owner_id == owner.id:
        return False
    moves = _rule_key(owner.team_id, owner.id) != _rule_key(contact.team_id, contact.owner_id)
    if moves and contact.archived_at is None and contact.forgotten_at is None:
        cards = await team_conflicts(  # into another team: its cards must not hold its values
            session,
            team_id=owner.team_id,
            owner_id=owner.id,
            values={c: getattr(contact, c) for c in IDENTITY_COLUMNS},
            exclude_id=contact.id,
        )
        if cards:
            raise AlreadyInTeam(cards)
    previous = await session.get(User, contact.owner_id)
    contact.owner_id = owner.id
    contact.team_id = owner.team_id
    contact.updated_at = now
    await record_event(
        session,
        contact,
        actor_id=actor.id,
        field="owner",
        old=previous.display_name if previous else None,
        new=owner.display_name,
        now=now,
    )
    return True


async def owner_candidates(session: AsyncSession, scope: Scope, contact: Contact) -> list[User]:
    """Who a card can be handed to: a manager's team (reps and managers); for an admin, the
    card's team, or every rep and manager when the card has none. Nobody for a rep."""
    staff = User.role.in_([Role.REP.value, Role.MANAGER.value])
    if scope.role is Role.MANAGER and scope.team_id is not None:
        where = [staff, User.team_id == scope.team_id]
    elif scope.role is Role.ADMIN:
        where = [staff] + ([User.team_id == contact.team_id] if contact.team_id else [])
    else:
        return []
    rows = await session.scalars(select(User).where(*where).order_by(User.id).limit(30))
    return list(rows)


DONE_MARK = "✓ "


@transactional
async def close_step(session: AsyncSession, contact: Contact, *, actor: User, now: datetime) -> str:
    """The open next step is done: it leaves the card (the history keeps it, marked done)."""
    text = contact.next_step or ""
    contact.next_step = None
    contact.next_step_due = None
    contact.no_next_step_reason = None
    contact.updated_at = now
    await record_event(
        session,
        contact,
        actor_id=actor.id,
        field="next_step",
        old=text,
        new=DONE_MARK + text,
        now=now,
    )
    return text


async def closed_step(session: AsyncSession, contact_id: int) -> str | None:
    """The text of the step last closed as done, if nothing was planned since (else None)."""
    event = await session.scalar(
        select(ContactEvent)
        .where(ContactEvent.contact_id == contact_id, ContactEvent.field == "next_step")
        .order_by(ContactEvent.id.desc())
        .limit(1)
    )
    if event is None or not (event.new_value or "").startswith(DONE_MARK):
        return None
    return event.old_value or ""


async def all_for_export(session: AsyncSession, scope: Scope, batch: int = 1000):  # noqa: ANN201
    """Stream the scope's contacts in id order, a batch at a time (memory stays flat)."""
    last = 0
    while True:
        rows = list(
            await session.scalars(
                select(Contact)
                .where(scope.condition(), Contact.id > last)
                .order_by(Contact.id)
                .limit(batch)
            )
        )
        if not rows:
            return
        for c in rows:
            yield c
        last = rows[-1].id
