"""One live card per phone, e-mail and Telegram id in a team: which cards already hold a value,
and the refusal a change gets when another card holds it (the unique indexes of migration 0013
are the last word when two writers race)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import IDENTITY_COLUMNS, Contact, User

if TYPE_CHECKING:
    from services.scope import Scope


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


def rule_key(team_id: int | None, owner_id: int) -> tuple[str, int]:
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


async def held_elsewhere(
    session: AsyncSession,
    contact: Contact,
    values: Mapping[str, Any] | None = None,
    *,
    into: User | None = None,
) -> list[TeamCard]:
    """The other live cards of the card's team (of ``into``'s, when the card moves to that
    person) that hold one of ``values``' phone, e-mail or Telegram id (by default its own)."""
    return await team_conflicts(
        session,
        team_id=into.team_id if into is not None else contact.team_id,
        owner_id=into.id if into is not None else contact.owner_id,
        values=values if values is not None else {c: getattr(contact, c) for c in IDENTITY_COLUMNS},
        exclude_id=contact.id,
    )


async def refuse_held(
    session: AsyncSession,
    contact: Contact,
    values: Mapping[str, Any] | None = None,
    *,
    into: User | None = None,
) -> None:
    """Raise :class:`AlreadyInTeam` when another card holds one of the values
    (:func:`held_elsewhere`)."""
    cards = await held_elsewhere(session, contact, values, into=into)
    if cards:
        raise AlreadyInTeam(cards)


async def check_identity(
    session: AsyncSession, contact: Contact, changes: Mapping[str, Any]
) -> None:
    """Raise :class:`AlreadyInTeam` when ``changes`` give the card a value another holds."""
    values = {c: changes[c] for c in IDENTITY_COLUMNS if changes.get(c) is not None}
    if not values or contact.archived_at is not None or contact.forgotten_at is not None:
        return
    await refuse_held(session, contact, values)


async def flush_checked(session: AsyncSession, contact: Contact, values: Mapping[str, Any]) -> None:
    """Flush in a savepoint: a value taken by a concurrent transaction is refused as
    :class:`AlreadyInTeam` (whose cards are read again), not as a database error."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        with session.no_autoflush:
            cards = await held_elsewhere(session, contact, values)
        raise AlreadyInTeam(cards) from None
