"""A card's history, newest first: touches, the events of its fields, files and deals, a page at a time."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Integer, Select, String, bindparam, cast, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.deals import DealStatus
from services import media as media_svc
from services.contacts import DONE_MARK
from storage.models import ContactEvent, Deal, Touch, TouchMedia


@dataclass
class TimelineItem:
    kind: str  # "touch" or an event field
    at: datetime
    actor_id: int | None
    a: str | None = None  # touch type / old value
    b: str | None = None  # direction / new value
    text: str | None = None  # touch summary
    extra: dict[str, Any] = field(default_factory=dict)
    ref: int | None = None  # the touch's (or the kept file's) id


_COLUMNS = ("kind", "at", "actor_id", "a", "b", "text", "id", "media")
# a source's missing column: a typed NULL (in a subquery, PostgreSQL takes a bare NULL as text)
_NULLS = {
    "actor_id": Integer,
    "a": String,
    "b": String,
    "text": String,
    "id": Integer,
    "media": Boolean,
}


def _rows(kind: Any, *columns: Any) -> Select[Any]:
    """One source of the timeline: ``kind``, then its columns for at, actor_id, a, b, text, id
    and media (whether files are kept on it; None for none), labelled as the union wants them."""
    values = [
        cast(literal(None), _NULLS[name]) if c is None else c
        for c, name in zip((kind, *columns), _COLUMNS, strict=True)
    ]
    return select(*(c.label(name) for c, name in zip(values, _COLUMNS, strict=True)))


def _newest(source: Select[Any], at: Any, key: Any) -> Select[Any]:
    """A source's own newest rows, no more than the page can show (``upto``: offset + limit),
    read backwards along its (contact, time) index: a card with thousands of touches has its
    page from a dozen rows of each source, not from a sort of all of them."""
    inner = source.order_by(at.desc(), key.desc()).limit(bindparam("upto", type_=Integer))
    return select(inner.subquery())


@functools.cache
def _page() -> Select[Any]:
    """The page's statement, built once (it is run for every timeline shown; building this
    union and its cache key cost more than running it): ``contact_id``, ``offset`` and
    ``limit`` are bound at each run."""
    t, e, m, d = Touch, ContactEvent, TouchMedia, Deal
    contact_id = bindparam("contact_id")
    # whether a touch has files kept on it: asked of the page's touches only, so that the
    # files are read (a second statement) only when there are some
    kept = select(m.id).where(m.touch_id == t.id).exists()
    touches = _rows(
        literal("touch"), t.occurred_at, t.author_id, t.type, t.direction, t.summary, t.id, kept
    )
    events = _rows(e.field, e.at, e.actor_id, e.old_value, e.new_value, None, e.id, None)
    on_card = _rows(literal("media"), m.at, m.author_id, m.kind, m.file_name, None, m.id, None)
    # a deal: "deal" when it was opened, "deal_won" / "deal_lost" when it was closed;
    # a = its currency, b = its amount in minor units, text = what it is for
    amount = cast(d.amount, String)
    opened = _rows(
        literal("deal"), d.created_at, d.author_id, d.currency, amount, d.title, d.id, None
    )
    closed = _rows(
        literal("deal_").concat(d.status),
        d.closed_at,
        None,
        d.currency,
        amount,
        d.title,
        d.id,
        None,
    )
    opened = opened.where(Deal.contact_id == contact_id)
    closed = closed.where(
        Deal.contact_id == contact_id,
        Deal.closed_at.is_not(None),
        Deal.status != DealStatus.OPEN.value,
    )
    touches = touches.where(Touch.contact_id == contact_id)
    events = events.where(ContactEvent.contact_id == contact_id)
    on_card = on_card.where(  # files kept on the card itself (a business card's photo)
        TouchMedia.contact_id == contact_id, TouchMedia.touch_id.is_(None)
    )
    union = (
        _newest(touches, t.occurred_at, t.id)
        .union_all(
            _newest(events, e.at, e.id),
            _newest(on_card, m.at, m.id),
            _newest(opened, d.created_at, d.id),
            _newest(closed, d.closed_at, d.id),
        )
        .subquery()
    )
    return (
        select(union)
        .order_by(union.c.at.desc(), union.c.id.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


async def timeline(
    session: AsyncSession, contact_id: int, page: int, page_size: int = 10
) -> tuple[list[TimelineItem], bool]:
    """Touches, changes, files kept on the card and deals (opened; won or lost), newest first;
    returns (items, has_more)."""
    rows = await session.execute(
        _page(),
        {
            "contact_id": contact_id,
            "offset": page * page_size,
            "limit": page_size + 1,
            "upto": (page + 1) * page_size + 1,
        },
    )
    items = []
    with_media = []
    for row in rows.all()[: page_size + 1]:
        if row.kind == "touch" and row.media:
            with_media.append(row.id)
        at = row.at
        if isinstance(at, str):  # SQLite gives back text from a UNION
            at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        item = TimelineItem(row.kind, at, row.actor_id, row.a, row.b, row.text, ref=row.id)
        item.extra = event_details(item.kind, item.b)
        items.append(item)
    kept = await media_svc.on_touches(session, with_media)
    for item in items:
        if item.kind == "touch" and item.ref in kept:
            item.extra["media"] = [(m.id, m.kind) for m in kept[item.ref]]
        elif item.kind == "media" and item.ref:
            item.extra["media"] = [(item.ref, item.a)]
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
