"""The one place: :func:`sync_due_work` makes a card's due work right (the invariant in the
package docstring, ``services/followups/__init__.py``)."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import Direction, Status
from core.tokens import new_token
from core.workhours import WorkHours, is_working_time, shift_into
from services import duework
from services.followups.rules import (
    CARD_KINDS,
    COLD,
    DELIVERED,
    INBOUND_MGR,
    INBOUND_REP,
    OPEN,
    REMINDER,
    STALE,
    Rules,
    payload_of,
    reminder_due,
    sla_times,
    step_stamp,
    ts,
    user_hours,
    user_tz,
)
from storage.conditions import is_card_going_cold
from storage.models import PENDING_REMINDER, Contact, DueWork, Touch, User
from storage.repo import users as users_repo
from storage.uow import transactional


@transactional
async def sync_due_work(
    session: AsyncSession,
    contact: Contact,
    *,
    now: datetime,
    rules: Rules,
    renew: bool = False,
) -> None:
    """Make the card's due work right (see the module's docstring), in the caller's unit of work.

    ``renew``: the step was just chosen by someone (set, snoozed, rescheduled): it gets a
    reminder even if the same moment was already reminded of. Other paths only re-plan: a step
    whose reminder reached its owner is not reminded of again.
    """
    locked = await lock_card(session, contact)
    if locked is None:
        return  # merged away meanwhile
    contact = locked
    owner = await session.get(User, contact.owner_id)
    rows = list(await session.scalars(_OPEN_ROWS, {"contact_id": contact.id}))
    of = {k: [r for r in rows if r.kind == k] for k in CARD_KINDS}
    await _sync_reminder(session, contact, owner, of[REMINDER], now=now, rules=rules, renew=renew)
    if owner is None:
        return
    for kind in (COLD, STALE):
        await _sync_check(session, contact, owner, of[kind], kind=kind, now=now, rules=rules)
    await _sync_inbound(session, contact, owner, of[INBOUND_REP] + of[INBOUND_MGR], rules=rules)
    await session.flush()


async def lock_card(session: AsyncSession, contact: Contact) -> Contact | None:
    """The card's row, locked for this unit of work (PostgreSQL; SQLite's writer lock already
    serialises) and read afresh: concurrent taps apply one after another."""
    await session.flush()
    return await session.scalar(_LOCK_CARD, {"contact_id": contact.id})


# Every touch, step and tap runs these: built once (building a statement and its cache key
# costs about as much as running it), the values bound at each run.
_LOCK_CARD = (
    select(Contact)
    .where(Contact.id == bindparam("contact_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_OPEN_ROWS = (
    select(DueWork)
    .where(
        DueWork.contact_id == bindparam("contact_id"),
        DueWork.kind.in_(CARD_KINDS),
        DueWork.status.in_(OPEN),
    )
    .order_by(DueWork.id)
    .with_for_update()
    .execution_options(populate_existing=True)
)
_TOUCHED_SINCE = (
    select(Touch.id)
    .where(Touch.contact_id == bindparam("contact_id"), Touch.occurred_at >= bindparam("since"))
    .limit(1)
)


async def _touched_since(session: AsyncSession, contact_id: int, since: datetime) -> bool:
    found = await session.scalar(_TOUCHED_SINCE, {"contact_id": contact_id, "since": since})
    return found is not None


async def _sync_reminder(
    session: AsyncSession,
    contact: Contact,
    owner: User | None,
    rows: list[DueWork],
    *,
    now: datetime,
    rules: Rules,
    renew: bool,
) -> None:
    due = reminder_due(contact, owner, rules.default_tz, now) if owner is not None else None
    pending = [r for r in rows if r.status == duework.PENDING]
    claimed = [r for r in rows if r.status == duework.CLAIMED]
    stamp = step_stamp(contact.next_step)
    step_due = contact.next_step_due.isoformat() if contact.next_step_due else None

    def same_step(row: DueWork) -> bool:
        payload = payload_of(row)
        if "step" not in payload:  # planned before steps carried a stamp
            return payload.get("step_due") == step_due
        return payload["step"] == stamp

    async def settle(row: DueWork) -> None:
        # a step replaced or dropped after a touch was acted on (the digest counts it done)
        replaced = contact.next_step_due is None or not same_step(row)
        touched = replaced and await _touched_since(session, contact.id, row.created_at)
        row.status = duework.DONE if touched else duework.CANCELLED

    if due is None or owner is None:
        for row in pending:
            await settle(row)
        return  # a claimed one is dropped by the renderer, which checks the card again
    in_flight = False
    for row in claimed:
        payload = payload_of(row)
        if (
            payload.get("step_due") == step_due
            and row.user_id == owner.id
            and not payload.get("merged")
        ):
            in_flight = True  # being delivered right now, for this very step
        else:
            row.status = duework.CANCELLED  # obsolete: its worker can no longer close or retry it
    keep: DueWork | None = None
    for row in pending:
        if keep is None and not in_flight and same_step(row):
            keep = row  # the same step, moved: the row moves with it
        else:
            await settle(row)
    if in_flight:
        return
    payload = {"step_due": step_due, "step": stamp}
    if keep is not None:
        keep.due_at, keep.chat_id, keep.user_id = due, owner.tg_id, owner.id
        keep.payload, keep.attempts, keep.late = json.dumps(payload), 0, False
        return
    if not renew and await reminded(session, contact.id, owner.id, step_due, stamp):
        return
    await session.flush()
    await _upsert_reminder(session, contact, owner, due=due, payload=payload, now=now)


async def reminded(
    session: AsyncSession, contact_id: int, owner_id: int, step_due: str | None, stamp: int
) -> bool:
    """Whether the newest reminder of this step (its time and text) for this owner reached them
    (or is reaching them)."""
    rows = await session.execute(
        select(DueWork.status, DueWork.payload)
        .where(
            DueWork.contact_id == contact_id,
            DueWork.kind == REMINDER,
            DueWork.user_id == owner_id,
        )
        .order_by(DueWork.id.desc())
    )
    for status, payload in rows:
        data = json.loads(payload) if payload else {}
        if data.get("merged"):
            continue  # a step that did not survive a merge
        if data.get("step_due") == step_due and data.get("step", stamp) == stamp:
            return status in DELIVERED
    return False


async def _upsert_reminder(
    session: AsyncSession,
    contact: Contact,
    owner: User,
    *,
    due: datetime,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Insert the card's pending reminder, or move the one a concurrent unit of work inserted
    first: an upsert on the partial unique index, so two writers end with one row."""
    values = {
        "kind": REMINDER,
        "key": f"rem:{contact.id}:{ts(contact.next_step_due)}:{new_token(6)}",
        "chat_id": owner.tg_id,
        "user_id": owner.id,
        "contact_id": contact.id,
        "ref_id": None,
        "payload": json.dumps(payload),
        "due_at": due,
        "status": duework.PENDING,
        "attempts": 0,
        "late": False,
        "created_at": now,
    }
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    await session.execute(_upsert(dialect, tuple(values)), values)


@functools.cache
def _upsert(dialect: str, columns: tuple[str, ...]) -> Any:
    """The reminder's upsert for ``dialect``, built once (its values bound at each run)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # the table, not the entity: with values given at run time, an entity's insert would be
    # an ORM bulk insert
    table = DueWork.__table__
    stmt = insert(table).values({n: bindparam(n, type_=table.c[n].type) for n in columns})
    return stmt.on_conflict_do_update(
        index_elements=[table.c.contact_id],
        index_where=text(PENDING_REMINDER),
        set_={
            "due_at": stmt.excluded.due_at,
            "chat_id": stmt.excluded.chat_id,
            "user_id": stmt.excluded.user_id,
            "payload": stmt.excluded.payload,
            "attempts": 0,
            "late": False,
        },
    )


def _readdress(row: DueWork, person: User, tz: str, hours: WorkHours) -> None:
    row.chat_id, row.user_id = person.tg_id, person.id
    if not is_working_time(row.due_at, tz, hours):
        row.due_at = shift_into(row.due_at, tz, hours)


async def _still_cold(
    session: AsyncSession, contact: Contact, *, now: datetime, rules: Rules
) -> bool:
    if contact.next_step_due is not None:
        return False
    if rules.cadence is None:
        return True  # the rhythm is not known here: leave the check be
    return await is_card_going_cold(session, contact, settings_cadence=rules.cadence, now=now)


async def _still_stale(
    session: AsyncSession, contact: Contact, *, now: datetime, rules: Rules
) -> bool:
    if rules.stale_days is None:
        return True  # the window is not known here: leave the check be
    return contact.verified_at < now - timedelta(days=rules.stale_days)


async def _sync_check(
    session: AsyncSession,
    contact: Contact,
    owner: User,
    rows: list[DueWork],
    *,
    kind: str,
    now: datetime,
    rules: Rules,
) -> None:
    """A going-cold or stale-data check: the first pending one stays, addressed to the owner in
    their hours, while the card still qualifies; the others (and a cold check on a card touched
    since it was planned) are void."""
    pending = [r for r in rows if r.status == duework.PENDING]
    if not pending:
        return
    still = _still_cold if kind == COLD else _still_stale
    right = (
        contact.archived_at is None
        and contact.status != Status.LOST.value
        and await still(session, contact, now=now, rules=rules)
    )
    tz, hours = user_tz(owner, rules.default_tz), user_hours(owner)
    for i, row in enumerate(pending):
        touched = (
            kind == COLD
            and contact.last_touch_at is not None
            and contact.last_touch_at >= row.created_at
        )
        if not right or touched or i > 0:
            row.status = duework.DONE  # touched, planned, verified, archived or lost: void
        else:
            _readdress(row, owner, tz, hours)


async def _sync_inbound(
    session: AsyncSession,
    contact: Contact,
    owner: User,
    rows: list[DueWork],
    *,
    rules: Rules,
) -> None:
    pending = [r for r in rows if r.status == duework.PENDING]
    if not pending:
        return
    manager = await manager_of(session, owner, rules.admin_ids)
    tz, hours = user_tz(owner, rules.default_tz), user_hours(owner)
    for row in pending:
        touch = await session.get(Touch, row.ref_id) if row.ref_id else None
        answered = touch is None or await is_answered(session, contact.id, touch)
        if contact.archived_at is not None or answered:
            row.status = duework.DONE
            continue
        assert touch is not None
        person = owner if row.kind == INBOUND_REP else manager
        if person is None:
            row.status = duework.CANCELLED  # no manager to alert any more
            continue
        row.chat_id, row.user_id = person.tg_id, person.id
        if row.kind == INBOUND_MGR:
            row.payload = json.dumps({"rep_id": owner.id})
        if rules.inbound_reply_hours is not None:
            first, second = sla_times(touch.occurred_at, tz, hours, rules.inbound_reply_hours)
            row.due_at = first if row.kind == INBOUND_REP else second


async def is_answered(session: AsyncSession, contact_id: int, touch: Touch) -> bool:
    found = await session.scalar(
        select(Touch.id)
        .where(
            Touch.contact_id == contact_id,
            Touch.direction == Direction.OUT.value,
            Touch.occurred_at >= touch.occurred_at,
            Touch.id != touch.id,
        )
        .limit(1)
    )
    return found is not None


async def manager_of(
    session: AsyncSession, user: User, admin_ids: Collection[int] = ()
) -> User | None:
    """Who answers for the user: the manager of their team (not the user themselves); when
    the team has none (its manager has left), the first administrator (``admin_ids``: their
    Telegram ids) who has talked to the bot, so an escalation never goes nowhere."""
    leads = await users_repo.team_leads(session, user.team_id, admin_ids, besides=user.id)
    return leads[0] if leads else None
