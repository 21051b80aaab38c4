"""Voice notes, photos and documents kept on a card: on the touch they were sent with, or on
the card itself (a business card's photo sent while adding). Only Telegram's file ids are kept;
the timeline offers to send a file again by its id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scope import Scope
from storage.models import Contact, Touch, TouchMedia
from storage.uow import writing

KINDS = ("voice", "photo", "document")
LOOSE_LIMIT = 10  # files sent outside a dialogue, waiting for the card they go on
RECENT_CARDS = 4  # the cards offered for them


@dataclass(frozen=True, slots=True)
class NewMedia:
    """A file as Telegram described it in the rep's message (kept in dialogue state as a dict)."""

    kind: str
    file_id: str
    file_unique_id: str = ""
    file_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> NewMedia | None:
        if data.get("kind") not in KINDS or not data.get("file_id"):
            return None
        return cls(
            str(data["kind"]),
            str(data["file_id"])[:256],
            str(data.get("file_unique_id") or "")[:64],
            (str(data["file_name"])[:256] if data.get("file_name") else None),
        )


def from_state(items: Iterable[Mapping[str, Any]] | None) -> list[NewMedia]:
    found = (NewMedia.of(item) for item in items or ())
    return [m for m in found if m is not None]


async def attach(
    session: AsyncSession,
    *,
    contact_id: int,
    touch_id: int | None,
    author_id: int | None,
    media: Iterable[NewMedia],
    now: datetime,
) -> list[TouchMedia]:
    """Keep ``media`` on a touch (or, ``touch_id`` None, on the card itself)."""
    # the file as Telegram described it (its kind, id and name) is what the row keeps of it
    rows = [
        TouchMedia(
            contact_id=contact_id, touch_id=touch_id, author_id=author_id, at=now, **m.as_dict()
        )
        for m in media
    ]
    if rows:
        async with writing(session):
            session.add_all(rows)
            await session.flush()
    return rows


async def keep_on_card(
    session: AsyncSession, contact: Contact, *, author_id: int, media: list[NewMedia], now: datetime
) -> list[TouchMedia]:
    """Keep ``media`` on the card itself (a business card's photo, a file sent outside a
    dialogue), not on one of its touches."""
    return await attach(
        session, contact_id=contact.id, touch_id=None, author_id=author_id, media=media, now=now
    )


async def on_touches(
    session: AsyncSession, touch_ids: Iterable[int]
) -> dict[int, list[TouchMedia]]:
    """The files kept on these touches, by touch id, in the order they were sent."""
    ids = sorted(set(touch_ids))
    if not ids:
        return {}
    found: dict[int, list[TouchMedia]] = {}
    rows = await session.scalars(
        select(TouchMedia).where(TouchMedia.touch_id.in_(ids)).order_by(TouchMedia.id)
    )
    for row in rows:
        assert row.touch_id is not None
        found.setdefault(row.touch_id, []).append(row)
    return found


async def get(session: AsyncSession, scope: Scope, media_id: int) -> TouchMedia | None:
    """A kept file, if its card is in the viewer's scope (an id from a button is never trusted)."""
    return await session.scalar(
        select(TouchMedia)
        .join(Contact, Contact.id == TouchMedia.contact_id)
        .where(TouchMedia.id == media_id, scope.condition())
    )


def loose(waiting: Iterable[Mapping[str, Any]] | None, new: NewMedia) -> list[dict[str, Any]]:
    """The files sent outside any dialogue, waiting for a card, with ``new`` added (the
    latest ``LOOSE_LIMIT``), as dialogue state keeps them."""
    return [m.as_dict() for m in [*from_state(waiting), new][-LOOSE_LIMIT:]]


async def recent_cards(session: AsyncSession, scope: Scope, user_id: int) -> list[Contact]:
    """The cards a file sent outside a dialogue most likely goes on: the user's own or ones
    they logged a touch on, live, in their scope, the latest changed first."""
    touched = exists().where(Touch.contact_id == Contact.id, Touch.author_id == user_id)
    rows = await session.scalars(
        select(Contact)
        .where(
            scope.condition(),
            Contact.archived_at.is_(None),
            or_(Contact.owner_id == user_id, touched),
        )
        .order_by(Contact.updated_at.desc(), Contact.id.desc())
        .limit(RECENT_CARDS)
    )
    return list(rows)
