"""Two cards are one person: everything of the dropped card moves to the kept one (touches,
events, surveys, referral links, due work, introductions), its empty fields fill the kept
card's, and the dropped card goes. Also a card being added that turns out to be an existing one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import (
    EDITABLE,
    build_search_text,
    change,
    join_tags,
    record_event,
    tag_list,
)
from services.teamcards import TeamCard, flush_checked, team_conflicts
from storage.models import IDENTITY_COLUMNS, Base, Contact, Touch, User
from storage.uow import transactional


def contact_references() -> list[Column[Any]]:
    """Every column that points at a contact card (from the models' metadata, so a new table
    with a foreign key to contacts is moved by :func:`merge` without anyone remembering to)."""
    found = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == Contact.__tablename__ and fk.column.name == "id":
                found.append(fk.parent)
    return found


# the fields a preview compares (the rest are ids, or told apart: notes, tags, the step)
COMPARED = tuple(f for f in EDITABLE if f not in ("introduced_by_id", "notes"))


@dataclass(frozen=True)
class MergePreview:
    """What :func:`merge` would do, for the rep to confirm before it is done (it cannot be
    undone). ``stamp`` changes when either card does: a confirm carrying an older one is
    refused."""

    keep: Contact
    drop: Contact
    keep_owner: str
    touches: int  # the dropped card's touches, all moved to the kept card
    step_comes_over: bool  # the kept card has no dated step and takes the dropped card's
    filled: list[tuple[str, Any]]  # (field, value) empty on the kept card, filled from the other
    differ: list[tuple[str, Any, Any]]  # (field, kept value, dropped value): the kept one wins
    new_tags: list[str]  # the other card's tags the kept card has not
    notes_added: bool
    stamp: str


def _empty(value: Any) -> bool:
    return value in (None, "")


async def preview(session: AsyncSession, keep: Contact, drop: Contact) -> MergePreview:
    """Read only: what merging ``drop`` into ``keep`` would bring over and overwrite (both cards
    are re-read from the database, so a confirm compares against their state now)."""
    if keep.id == drop.id:
        raise ValueError("a card cannot be merged into itself")
    for card in (keep, drop):
        await session.scalar(
            select(Contact).where(Contact.id == card.id).execution_options(populate_existing=True)
        )
    touches = int(
        await session.scalar(select(func.count(Touch.id)).where(Touch.contact_id == drop.id)) or 0
    )
    keep_touches = int(
        await session.scalar(select(func.count(Touch.id)).where(Touch.contact_id == keep.id)) or 0
    )
    owner = await session.get(User, keep.owner_id)
    filled, differ = [], []
    for name in COMPARED:
        mine, theirs = getattr(keep, name), getattr(drop, name)
        if _empty(theirs) or mine == theirs:
            continue
        if _empty(mine):
            filled.append((name, theirs))
        else:
            differ.append((name, mine, theirs))
    kept_tags = set(tag_list(keep.tags))
    state = [
        (
            c.id,
            c.owner_id,
            c.team_id,
            c.updated_at,
            c.archived_at,
            c.forgotten_at,
            c.last_touch_at,
            c.next_step,
            c.next_step_due,
            c.tags,
            c.notes,
        )
        for c in (keep, drop)
    ]
    state += [(touches, keep_touches), tuple(getattr(c, f) for c in (keep, drop) for f in COMPARED)]
    return MergePreview(
        keep=keep,
        drop=drop,
        keep_owner=owner.display_name if owner is not None else "—",
        touches=touches,
        step_comes_over=keep.next_step_due is None and drop.next_step_due is not None,
        filled=filled,
        differ=differ,
        new_tags=[t for t in tag_list(drop.tags) if t not in kept_tags],
        notes_added=bool(drop.notes and drop.notes not in (keep.notes or "")),
        stamp=hashlib.sha256(repr(state).encode()).hexdigest()[:10],
    )


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
    await flush_checked(session, keep, {c: getattr(keep, c) for c in IDENTITY_COLUMNS})
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
) -> tuple[list[TeamCard], list[str]]:
    """A card being added turns out to be ``keep``: its details fill the empty fields, its tags
    join, and the merge is recorded (nothing is created). Returns what was typed and not kept,
    to be said: the values another card of the team holds (they stay there), and the fields
    (phone, e-mail, Telegram) where ``keep`` has another value already (its own stays)."""
    fill = {
        k: v
        for k, v in data.items()
        if v and k in EDITABLE and getattr(keep, k, None) in (None, "")
    }
    differ = [
        k
        for k in ("phone", "email", "tg_user_id")
        if data.get(k) and getattr(keep, k, None) not in (None, "", data[k])
    ]
    taken = await team_conflicts(  # a value another card of the team holds stays there
        session, team_id=keep.team_id, owner_id=keep.owner_id, values=fill, exclude_id=keep.id
    )
    for card in taken:
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
    return taken, differ
