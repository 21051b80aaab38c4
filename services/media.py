"""Voice notes, photos and documents kept on a card: on the touch they were sent with, or on
the card itself (a business card's photo sent while adding). Only Telegram's file ids are kept;
the timeline offers to send a file again by its id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scope import Scope
from storage.models import Contact, TouchMedia
from storage.uow import writing

KINDS = ("voice", "photo", "document")


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
