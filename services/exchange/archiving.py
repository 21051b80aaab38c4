"""Import: a row's "archived" cell (/export writes "yes" or "no"), so that a card in the archive
comes back in the archive, and a file can put cards into the archive or take them out.

A staged row holds a card's values; whether the card goes into the archive or out of it is a
marker row of its own beside it: action ``archive`` or ``restore``, on line ``MARKER_LINE`` +
the card's line, with the card's ``contact_id`` and ``seq`` (so the swap finds the card as it
finds the row's: services.exchange.swap._new_id). The swap applies the markers once the new
cards exist (:func:`apply_markers`), with an "archived" or "restored" event each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, delete, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.exchange.common import ARCHIVE, MARKER_LINE, RESTORE, UPDATE
from storage.models import Contact, ContactEvent, ImportRow
from storage.types import UTCDateTime

MARKERS = (ARCHIVE, RESTORE)
EVENTS = {ARCHIVE: "archived", RESTORE: "restored"}


def marker_row(slot: Any, import_id: int) -> dict[str, Any] | None:
    """The marker a staged slot needs (its values' "archived": True, or False for a card that
    is in the archive now), else None."""
    flag = slot.values.get("archived")
    if flag is True:
        action = ARCHIVE
    elif flag is False and slot.action == UPDATE:
        action = RESTORE
    else:
        return None
    return {
        "import_id": import_id,
        "line": MARKER_LINE + slot.line,
        "action": action,
        "seq": slot.seq,
        "contact_id": slot.contact_id,
    }


async def write_markers(
    session: AsyncSession, import_id: int, slots: list[Any], again: list[Any]
) -> None:
    """Inside the stager's write block: the markers of the slots staged now, and those of the
    slots staged before and changed again (their old marker, if any, goes first)."""
    if again:
        lines = [MARKER_LINE + slot.line for slot in again]
        await session.execute(
            delete(ImportRow).where(ImportRow.import_id == import_id, ImportRow.line.in_(lines))
        )
    rows = [row for slot in (*slots, *again) if (row := marker_row(slot, import_id))]
    if rows:
        await session.execute(insert(ImportRow.__table__), rows)


async def read_marker(session: AsyncSession, import_id: int, line: int) -> bool | None:
    """What the marker of the staged row on ``line`` says ("archived"), None without one."""
    action = await session.scalar(
        select(ImportRow.action).where(
            ImportRow.import_id == import_id, ImportRow.line == MARKER_LINE + line
        )
    )
    return None if action is None else action == ARCHIVE


async def apply_markers(
    session: AsyncSession, import_id: int, actor_id: int, card: Any, now: datetime
) -> None:
    """In the swap, once the new cards exist: the marked cards go into the archive or come out
    of it, each with its event. ``card``: a staged row's card id (swap._new_id)."""
    at = literal(now, UTCDateTime())
    columns = ["contact_id", "actor_id", "field", "old_value", "new_value", "at"]
    for action in MARKERS:
        marked = (ImportRow.import_id == import_id, ImportRow.action == action)
        await session.execute(
            insert(ContactEvent).from_select(
                columns,
                select(
                    card,
                    literal(actor_id, Integer),
                    literal(EVENTS[action]),
                    literal(None),
                    literal(None),
                    at,
                )
                .where(*marked)
                .order_by(ImportRow.line),
            )
        )
        await session.execute(
            update(Contact)
            .where(Contact.id.in_(select(card).where(*marked)))
            .values(archived_at=now if action == ARCHIVE else None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
