"""Import, step 1: a staged row while its batch is built, and the cards rows are matched to
(reads only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import contacts as contacts_svc
from services import teamcards
from services.exchange.common import UPDATE
from services.exchange.rows import _Parsed
from storage.models import IDENTITY_COLUMNS, Contact, User


@dataclass(eq=False)
class _Slot:
    """A staged row while its batch is being built: a new card or the changes to one card."""

    action: str
    line: int
    values: dict[str, Any]
    base: Any = None  # update: the card as read (create: None)
    contact_id: int | None = None
    base_updated_at: datetime | None = None
    seq: int | None = None
    staged: bool = False  # written (a staged row is known by its line within the import)


# the values a row without an id is matched by: a card, or an earlier row of the file
_KEYS = ("phone", "email", "tg_user_id")

# what a staged row takes from its slot as it is
_SLOT_COLUMNS = ("line", "action", "seq", "contact_id", "base_updated_at")


_Holder = tuple[int, str, str]  # a card of the team: id, name, owner's name
_IDENTITY = tuple(getattr(Contact, c) for c in IDENTITY_COLUMNS)


def _keyed(parsed: _Parsed) -> bool:
    """The row names a card by its phone, e-mail or Telegram id."""
    return any(parsed.fields.get(column) for column in _KEYS)


def _company_key(company: str | None) -> str:
    return " ".join((company or "").split()).casefold()


def _held_elsewhere(
    parsed: _Parsed, target: Contact | _Slot | None, taken: dict[tuple[str, Any], _Holder]
) -> _Holder | None:
    """A card of the team other than the row's own that holds its phone, e-mail or Telegram id
    (the row would make a second live card of a person, or give a card another's value)."""
    own = target.id if isinstance(target, Contact) else None
    if isinstance(target, _Slot) and target.action == UPDATE:
        own = target.contact_id
    for column in IDENTITY_COLUMNS:
        value = parsed.fields.get(column)
        holder = taken.get((column, value)) if value else None
        if holder is not None and holder[0] != own:
            return holder
    return None


def _target_key(target: Contact | _Slot | int) -> tuple[str, int]:
    """What a match stands for: a card, a staged row (by its line), or a row of this batch."""
    if isinstance(target, Contact):
        return ("card", target.id)
    if isinstance(target, int):
        return ("row", target)
    if target.staged:
        return ("row", target.line)
    if target.action == UPDATE and target.contact_id is not None:
        return ("card", target.contact_id)
    return ("slot", id(target))


async def cards_by_key(
    session: AsyncSession, scope: contacts_svc.Scope, parsed: list[_Parsed]
) -> dict[tuple[str, Any], list[Contact]]:
    """The live cards in scope that hold the rows' phones, e-mails and Telegram ids, by
    (column, value)."""
    keys: dict[str, set[Any]] = {"phone": set(), "email": set(), "tg_user_id": set()}
    for p in parsed:
        for column, wanted in keys.items():
            if p.fields.get(column):
                wanted.add(p.fields[column])
    conditions = [getattr(Contact, col).in_(vals) for col, vals in keys.items() if vals]
    found: dict[tuple[str, Any], list[Contact]] = {}
    if not conditions:
        return found
    cards = await session.scalars(
        select(Contact)
        .where(scope.condition(), Contact.archived_at.is_(None), or_(*conditions))
        .order_by(Contact.id)
    )
    for card in cards:
        for column, wanted in keys.items():
            value = getattr(card, column)
            if value is not None and value in wanted:
                found.setdefault((column, value), []).append(card)
    return found


async def cards_by_name(
    session: AsyncSession, scope: contacts_svc.Scope, parsed: list[_Parsed]
) -> dict[tuple[str, str], list[Contact]]:
    """The live cards in scope named as rows with no phone, e-mail or Telegram id, by
    (name, company): such a row is taken as the one card of the same name and company."""
    names = {p.fields["name"] for p in parsed if p.fields.get("name")}
    found: dict[tuple[str, str], list[Contact]] = {}
    if not names:
        return found
    cards = await session.scalars(
        select(Contact)
        .where(scope.condition(), Contact.archived_at.is_(None), Contact.name.in_(names))
        .order_by(Contact.id)
    )
    for card in cards:
        found.setdefault((card.name, _company_key(card.company)), []).append(card)
    return found


async def team_holders(
    session: AsyncSession, scope: contacts_svc.Scope, parsed: list[_Parsed]
) -> dict[tuple[str, Any], _Holder]:
    """The live cards of the uploader's team (in their scope or not: a teammate's) that hold
    the rows' phones, e-mails and Telegram ids: (card id, its name, its owner's name)."""
    keys: dict[str, set[Any]] = {c: set() for c in IDENTITY_COLUMNS}
    for p in parsed:
        for column, wanted in keys.items():
            if p.fields.get(column):
                wanted.add(p.fields[column])
    conditions = [getattr(Contact, col).in_(vals) for col, vals in keys.items() if vals]
    found: dict[tuple[str, Any], _Holder] = {}
    if not conditions:
        return found
    rule = teamcards.team_of(scope.team_id, scope.user_id)
    rows = await session.execute(
        select(Contact.id, Contact.name, User.first_name, User.last_name, *_IDENTITY)
        .join(User, User.id == Contact.owner_id)
        .where(rule, teamcards.live(), or_(*conditions))
        .order_by(Contact.created_at, Contact.id)
    )
    for row in rows:
        owner = " ".join(p for p in (row.first_name, row.last_name) if p)
        for column, wanted in keys.items():
            value = getattr(row, column)
            if value is not None and value in wanted:
                found.setdefault((column, value), (row.id, row.name, owner))
    return found
