"""Export: the user's cards as CSV and vCard, and their history as a second CSV."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.deals import from_minor
from core.exchange import (
    CSV_COLUMNS,
    HISTORY_COLUMNS,
    write_csv,
)
from core.vcard import write_vcard
from services import contacts as contacts_svc
from services.exchange.common import Export
from storage.inline_sqlite import offload
from storage.models import (
    Contact,
    ContactEvent,
    Deal,
    Survey,
    Touch,
    User,
)
from storage.uow import end_read

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------ export


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def contact_row(c: Contact) -> dict[str, Any]:
    """A contact as an exchange row keyed by core.exchange.CSV_COLUMNS."""
    return {
        "id": c.id,
        "name": c.name,
        "company": c.company,
        "position": c.position,
        "kind": c.kind,
        "segment": c.segment,
        "icp_fit": c.icp_fit,
        "icp_criterion": c.icp_criterion,
        "influence": c.influence,
        "source": c.source,
        "source_detail": c.source_detail,
        "introduced_by": c.introduced_by_id,
        "status": c.status,
        "stage": c.stage,
        "phone": c.phone,
        "email": c.email,
        "tg_username": c.tg_username,
        "tg_user_id": c.tg_user_id,
        "tags": ";".join(contacts_svc.tag_list(c.tags)),
        "notes": c.notes,
        "next_step": c.next_step,
        "next_step_due": _iso(c.next_step_due),
        "verified_at": _iso(c.verified_at),
        "created_at": _iso(c.created_at),
        "archived": "yes" if c.archived_at is not None else "no",
    }


@offload
async def export(session: AsyncSession, scope: contacts_svc.Scope) -> Export | None:
    """Everything in the scope: the contacts as CSV (cells a spreadsheet would run are
    neutralized) and vCard, and their history (touches, card changes, NPS answers) as CSV;
    None when there are no contacts. Cards erased by /forget are left out (nothing of the
    person is left to export). A manager's or an admin's CSV says whose each card is
    ("owner": for reading; an import ignores it)."""
    rows: list[dict[str, Any]] = []
    names: dict[int, str] = {}
    owners: dict[int, list[dict[str, Any]]] = {}
    async for c in contacts_svc.all_for_export(session, scope):
        if c.forgotten_at is not None:
            continue
        rows.append(contact_row(c))
        names[c.id] = c.name
        owners.setdefault(c.owner_id, []).append(rows[-1])
    columns = CSV_COLUMNS
    if scope.kind != "own":  # a team's cards, or everyone's
        columns = (*CSV_COLUMNS, "owner")
        for user in await session.scalars(select(User).where(User.id.in_(list(owners)))):
            for row in owners[user.id]:
                row["owner"] = user.display_name
    history = [row async for row in _history(session, names)]
    await end_read(session)
    if not rows:
        return None
    return Export(
        count=len(rows),
        csv=write_csv(rows, columns),
        vcard=write_vcard(rows),
        history=write_csv(history, HISTORY_COLUMNS),
        events=len(history),
    )


async def _history(
    session: AsyncSession, names: dict[int, str], batch: int = 500
) -> AsyncIterator[dict[str, Any]]:
    """Touches, card changes and NPS answers of these contacts, a batch of cards at a time."""
    ids = sorted(names)
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        found: list[tuple[datetime, int, dict[str, Any]]] = []
        for t in await session.scalars(select(Touch).where(Touch.contact_id.in_(chunk))):
            found.append(
                (
                    t.occurred_at,
                    t.id,
                    {"contact_id": t.contact_id, "what": "touch", "type": t.type}
                    | {"direction": t.direction, "text": t.summary, "at": _iso(t.occurred_at)},
                )
            )
        for e in await session.scalars(
            select(ContactEvent).where(ContactEvent.contact_id.in_(chunk))
        ):
            found.append(
                (
                    e.at,
                    e.id,
                    {"contact_id": e.contact_id, "what": e.field, "at": _iso(e.at)}
                    | {"old": e.old_value, "new": e.new_value},
                )
            )
        for sv in await session.scalars(
            select(Survey).where(Survey.contact_id.in_(chunk), Survey.answered_at.is_not(None))
        ):
            found.append(
                (
                    sv.answered_at,
                    sv.id,
                    {"contact_id": sv.contact_id, "what": "nps_answer", "score": sv.score}
                    | {"text": sv.comment, "at": _iso(sv.answered_at)},
                )
            )
        for d in await session.scalars(select(Deal).where(Deal.contact_id.in_(chunk))):
            found.append(
                (
                    d.created_at,
                    d.id,
                    {"contact_id": d.contact_id, "what": "deal", "type": d.status}
                    | {"text": d.title or None, "at": _iso(d.created_at)}
                    | {"amount": str(from_minor(d.amount, d.currency)), "currency": d.currency}
                    | {"close_on": d.close_on.isoformat() if d.close_on else None},
                )
            )
        for _at, _id, row in sorted(found, key=lambda item: (item[2]["contact_id"], item[0])):
            row["contact"] = names[row["contact_id"]]
            yield row
