"""Contacts and touches: create, find, deduplicate, merge, change, log, timeline.

Every read goes through a Scope, so a rep sees only their own cards, a manager their team's and
an admin everything; a card outside the scope is simply "not found".
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.contactdata import digits_only, normalize_tag, search_key
from core.contactfields import PROFILE_FIELDS, STATE_AND_REACH_FIELDS
from core.dedupe import is_close_match
from core.enums import Stage, Status
from core.mentions import name_probes, named_by
from core.roles import Role
from services import search as search_engine
from services.scope import Scope
from services.teamcards import AlreadyInTeam as AlreadyInTeam  # handlers catch it from here
from services.teamcards import (
    TeamCard,
    check_identity,
    flush_checked,
    refuse_held,
    rule_key,
    team_conflicts,
)
from storage.models import IDENTITY_COLUMNS, Contact, ContactEvent, Touch, User
from storage.uow import transactional, writing

EDITABLE = (*PROFILE_FIELDS, "introduced_by_id", *STATE_AND_REACH_FIELDS, "notes")
TRACKED = ("status", "stage")


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


@functools.cache
def _get_in(kind: str) -> Select[tuple[Contact]]:
    return select(Contact).where(
        Contact.id == bindparam("contact_id"),
        Contact.forgotten_at.is_(None),
        Scope.bound_condition(kind),
    )


async def get(session: AsyncSession, scope: Scope, contact_id: int) -> Contact | None:
    """A live card in the scope; an erased one (/forget) is gone for every button and dialogue:
    nothing is written to it again (:func:`erased` tells it apart from a card never seen)."""
    return await session.scalar(_get_in(scope.kind), {"contact_id": contact_id, **scope.params})


async def introduced_through(session: AsyncSession, contact_id: int, introducer: Contact) -> bool:
    """True when ``introducer`` came (directly or through others) by way of ``contact_id``: to
    make it the card's introducer would close a circle."""
    seen: set[int] = set()
    current = introducer.introduced_by_id
    while current is not None and current not in seen and len(seen) < 1000:
        if current == contact_id:
            return True
        seen.add(current)
        current = await session.scalar(
            select(Contact.introduced_by_id).where(Contact.id == current)
        )
    return False


async def erased(session: AsyncSession, scope: Scope, contact_id: int) -> bool:
    return (
        await session.scalar(
            select(Contact.id).where(
                Contact.id == contact_id, Contact.forgotten_at.is_not(None), scope.condition()
            )
        )
        is not None
    )


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
    """Exact match on phone, e-mail or Telegram id; close match on name + company (a company
    known on one side only does not rule a card out)."""
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
                # a company on one side only does not clear it: "Anna Smirnova" added when
                # "Anna Smirnova, Acme" exists is asked about (it was saved twice, unasked)
                close = is_close_match(
                    name, company, c.name, c.company, one_sided_company_matches=True
                )
                if c.id not in found and close:
                    found[c.id] = c
                if len(found) >= limit:
                    break
    return list(found.values())[:limit]


# Name, company, phone (any format), e-mail, @username, #tag; tolerant of typos and of
# Cyrillic/Latin; best first. Archived and forgotten cards only when asked for. Through the text
# indexes (services/search.py: SQLite FTS5 trigram, PostgreSQL pg_trgm).
search = search_engine.find


async def mentioned(
    session: AsyncSession, scope: Scope, text: str, limit: int = 5
) -> list[Contact]:
    """The live cards a typed note names ("Позвонил Петру Сидорову…": core.mentions), those it
    names most first; the search is asked once for each stem of a capitalised word."""
    probes = name_probes(text)
    scored: dict[int, tuple[int, int, Contact]] = {}
    for probe in probes:
        for c in await search(session, scope, probe, limit=10):
            if c.id not in scored and (hits := named_by(probes, c.name, c.company)):
                scored[c.id] = (-hits, len(scored), c)
    return [c for *_, c in sorted(scored.values(), key=lambda t: t[:2])][:limit]


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
    await check_identity(
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
        await flush_checked(session, contact, {c: getattr(contact, c) for c in IDENTITY_COLUMNS})
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
        await refuse_held(session, contact)
    contact.archived_at = None
    contact.updated_at = now
    await record_event(
        session, contact, actor_id=actor.id, field="restored", old=None, new=None, now=now
    )


class NewTouch(TypedDict):
    """A touch as it is logged (services.followups.log_touch passes it on as it is)."""

    author: User
    type_: str
    direction: str
    summary: str


class NextStep(TypedDict):
    """A next step with its due time, or none with a reason."""

    actor: User
    text: str | None
    due: datetime | None
    reason: str | None


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


@transactional
async def change_owner(
    session: AsyncSession, contact: Contact, owner: User, *, actor: User, now: datetime
) -> bool:
    """Hand the card to another person (and their team); False when nothing changes."""
    if contact.owner_id == owner.id:
        return False
    moves = rule_key(owner.team_id, owner.id) != rule_key(contact.team_id, contact.owner_id)
    if moves and contact.archived_at is None and contact.forgotten_at is None:
        # into another team: its cards must not hold its values
        await refuse_held(session, contact, into=owner)
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
