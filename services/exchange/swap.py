"""Import, step 2: the staged rows made live in one short transaction (or dropped), then
the due work of the imported next steps."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.roles import Role
from services import contacts as contacts_svc
from services import followups
from services.exchange.archiving import MARKERS, apply_markers
from services.exchange.common import (
    APPLIED,
    CANCELLED,
    CARD_COLUMNS,
    CREATE,
    DONE,
    EXPIRED,
    PLAN_BATCH,
    PREVIEW_TTL,
    STAGED,
    STALE,
    UPDATE,
    ImportFailed,
    Outcome,
)
from services.exchange.housekeeping import _purge
from storage.inline_sqlite import offload
from storage.models import (
    IDENTITY_COLUMNS,
    Contact,
    ContactEvent,
    Import,
    ImportRow,
    User,
)
from storage.types import UTCDateTime
from storage.uow import end_read, writing

log = logging.getLogger(__name__)

# a new card's day of creation, when the file gives it (None: the time of the swap)
CREATED_AT = ImportRow.created_at


# ----------------------------------------------------------------------------- the swap


async def _claim(
    session: AsyncSession, import_id: int, user: User
) -> tuple[Import | None, str | None]:
    """Inside a write block: the user's own staged import, taken for this transaction (a second
    tap, even on another process, finds it taken), or why not."""
    result = await session.execute(
        update(Import)
        .where(Import.id == import_id, Import.user_id == user.id, Import.status == STAGED)
        .values(status=APPLIED)
    )
    imp = await session.get(Import, import_id, populate_existing=True)
    if imp is None or imp.user_id != user.id:
        return None, "not_found"
    if not result.rowcount:  # type: ignore[attr-defined]
        return imp, imp.status
    return imp, None


def _new_id(imp: Import, dialect: str) -> Any:
    """A new card's id: reserved from the sequence while staging (PostgreSQL), or the highest
    id when the swap began plus the row's number (SQLite, where the swap holds the only lock)."""
    if dialect == "postgresql":
        return ImportRow.contact_id
    return func.coalesce(ImportRow.contact_id, literal(imp.id_base or 0, Integer) + ImportRow.seq)


async def _swap(session: AsyncSession, imp: Import, user: User, role: Role, now: datetime) -> str:
    """The staged rows go live: one transaction, set-based. Returns "applied" or why not."""
    mine = ImportRow.import_id == imp.id
    updates = and_(mine, ImportRow.action == UPDATE)
    creates = and_(mine, ImportRow.action == CREATE)
    if imp.role != role.value or imp.team_id != user.team_id:
        return STALE
    stale = await session.scalar(
        select(func.count())
        .select_from(ImportRow)
        .outerjoin(Contact, Contact.id == ImportRow.contact_id)
        .where(
            updates,
            or_(Contact.id.is_(None), Contact.updated_at != ImportRow.base_updated_at),
        )
    )
    introducer = Contact.__table__.alias("introducer")
    gone = await session.scalar(
        select(func.count())
        .select_from(ImportRow)
        .outerjoin(introducer, introducer.c.id == ImportRow.introduced_by_id)
        .where(mine, ImportRow.introduced_by_id > 0, introducer.c.id.is_(None))
    )
    if stale or gone or await _taken_meanwhile(session, imp, user):
        return STALE

    at = literal(now, UTCDateTime())
    event_columns = ["contact_id", "actor_id", "field", "old_value", "new_value", "at"]
    for tracked in contacts_svc.TRACKED:  # status and stage changes, with the old value
        new_value = getattr(ImportRow, tracked)
        await session.execute(
            insert(ContactEvent).from_select(
                event_columns,
                select(
                    ImportRow.contact_id,
                    literal(user.id, Integer),
                    literal(tracked),
                    getattr(Contact, tracked),
                    new_value,
                    at,
                )
                .join(Contact, Contact.id == ImportRow.contact_id)
                .where(updates, new_value.is_not(None))
                .order_by(ImportRow.line),
            )
        )
    changed = {c: func.coalesce(getattr(ImportRow, c), getattr(Contact, c)) for c in CARD_COLUMNS}
    # a new card of the file as the introducer (-its line): set once the new cards exist
    introduced = case((ImportRow.introduced_by_id < 0, None), else_=ImportRow.introduced_by_id)
    changed["introduced_by_id"] = func.coalesce(introduced, Contact.introduced_by_id)
    sets_step = and_(
        ImportRow.next_step_event.is_not(None),
        func.coalesce(ImportRow.next_step_due, Contact.next_step_due).is_not(None),
    )
    await session.execute(
        update(Contact)
        .where(Contact.id == ImportRow.contact_id, updates)
        .values(
            **changed,
            search_text=ImportRow.search_text,
            updated_at=now,
            no_next_step_reason=case((sets_step, None), else_=Contact.no_next_step_reason),
        )
    )

    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        imp.id_base = int(await session.scalar(select(func.coalesce(func.max(Contact.id), 0))))
    new_id = _new_id(imp, dialect)
    made = func.coalesce(CREATED_AT, at, type_=UTCDateTime())
    new_cards = {
        "id": new_id,
        "owner_id": literal(user.id, Integer),
        "team_id": literal(imp.team_id, Integer),
        **{c: getattr(ImportRow, c) for c in CARD_COLUMNS},
        "introduced_by_id": introduced,
        "search_text": ImportRow.search_text,
        "created_at": made,
        "updated_at": at,
    }
    await session.execute(
        insert(Contact).from_select(
            list(new_cards), select(*new_cards.values()).where(creates).order_by(ImportRow.line)
        )
    )
    for field, new_value, when, where in (
        ("created", ImportRow.name, made, (creates,)),
        (
            "next_step",
            ImportRow.next_step_event,
            at,
            (mine, ImportRow.next_step_event.is_not(None)),
        ),
    ):  # the new cards' events: created (when the card was made), and their next step
        events = select(
            new_id, literal(user.id, Integer), literal(field), literal(None), new_value, when
        )
        await session.execute(
            insert(ContactEvent).from_select(
                event_columns, events.where(*where).order_by(ImportRow.line)
            )
        )
    await _link_new_introducers(session, imp, dialect)
    await apply_markers(session, imp.id, user.id, new_id, now)  # into the archive or out
    imp.status, imp.finished_at = APPLIED, now
    return APPLIED


async def _link_new_introducers(session: AsyncSession, imp: Import, dialect: str) -> None:
    """Rows introduced by a new card of the same file (``introduced_by_id`` = -its line, see
    services.exchange.introducers) point at that card, now that it exists."""
    source, target = aliased(ImportRow), aliased(ImportRow)

    def card_of(row: Any) -> Any:  # an update's card, or a new card's id (as _new_id)
        if dialect == "postgresql":
            return row.contact_id
        return func.coalesce(row.contact_id, literal(imp.id_base or 0, Integer) + row.seq)

    linked = (
        select(card_of(target))
        .select_from(source)
        .join(
            target,
            and_(target.import_id == source.import_id, target.line == -source.introduced_by_id),
        )
        .where(source.import_id == imp.id, source.introduced_by_id < 0)
    )
    await session.execute(
        update(Contact)
        .where(Contact.id.in_(linked.with_only_columns(card_of(source))))
        .values(introduced_by_id=linked.where(card_of(source) == Contact.id).scalar_subquery())
        .execution_options(synchronize_session=False)
    )


async def _taken_meanwhile(session: AsyncSession, imp: Import, user: User) -> bool:
    """A staged row's phone, e-mail or Telegram id is now held by another live card of the team
    (added since the preview): the swap would make a second card of a person."""
    holder = Contact.__table__.alias("holder")
    if imp.team_id is not None:
        rule = holder.c.team_id == imp.team_id
    else:
        rule = and_(holder.c.team_id.is_(None), holder.c.owner_id == user.id)
    for column in IDENTITY_COLUMNS:
        clash = await session.scalar(
            select(ImportRow.id)
            .join(
                holder,
                and_(
                    holder.c[column] == getattr(ImportRow, column),
                    rule,
                    holder.c.archived_at.is_(None),
                    holder.c.forgotten_at.is_(None),
                    or_(ImportRow.contact_id.is_(None), holder.c.id != ImportRow.contact_id),
                ),
            )
            .where(ImportRow.import_id == imp.id)
            .limit(1)
        )
        if clash is not None:
            return True
    return False


async def _plan_due_work(
    session: AsyncSession, contact: Contact, *, default_tz: str, now: datetime
) -> None:
    """The one place an imported card's due work is planned: its next step's reminder. (A
    pending going-cold check needs nothing: delivery drops it once the card has a step.)"""
    await followups.plan_reminder(session, contact, default_tz=default_tz, now=now)


async def _plan_reminders(
    session: AsyncSession, imp: Import, *, default_tz: str, now: datetime
) -> None:
    """Reminders for the imported next steps (and the due work of the cards put into the
    archive or taken out), a batch per write block; resumable (progress is kept in the
    import), so a crash half-way is finished by the next tap on Import."""
    new_id = _new_id(imp, session.get_bind().dialect.name)
    while True:
        rows = (
            await session.execute(
                select(ImportRow.line, new_id, ImportRow.next_step_due)
                .where(
                    ImportRow.import_id == imp.id,
                    or_(ImportRow.next_step_due.is_not(None), ImportRow.action.in_(MARKERS)),
                    ImportRow.line > imp.planned_upto,
                )
                .order_by(ImportRow.line)
                .limit(PLAN_BATCH)
            )
        ).all()
        if not rows:
            break
        async with writing(session):
            cards = list(
                await session.scalars(select(Contact).where(Contact.id.in_([r[1] for r in rows])))
            )
            for card in cards:
                await _plan_due_work(session, card, default_tz=default_tz, now=now)
            imp.planned_upto = rows[-1][0]
            stepped = {r[1] for r in rows if r[2] is not None}
            imp.reminders += sum(1 for c in cards if c.id in stepped and c.archived_at is None)
        for card in cards:
            session.expunge(card)
    async with writing(session):
        imp.status = DONE


@offload
async def apply(
    session: AsyncSession,
    *,
    import_id: int,
    user: User,
    role: Role,
    now: datetime,
    default_tz: str,
) -> Outcome:
    """The uploader confirmed: make the staged rows live (all or nothing), then plan reminders.
    Only the user who uploaded the file can; a second tap does nothing more. Raises
    :class:`ImportFailed` if the database fails (then nothing was made live)."""
    user_id = user.id  # a failed write block expires the session's objects
    try:
        await end_read(session)
        async with writing(session):
            imp, why = await _claim(session, import_id, user)
            if imp is not None and why is None:
                if now - imp.created_at > PREVIEW_TTL:
                    imp.status = why = EXPIRED
                elif await _swap(session, imp, user, role, now) == STALE:
                    imp.status = why = STALE
    except IntegrityError:
        # a phone, e-mail or Telegram id taken in the instant between the check and the swap
        # (one live card per person in a team): nothing went live; as a stale preview
        log.info("import %s of user %s: a value was taken meanwhile", import_id, user_id)
        await session.rollback()
        async with writing(session):
            await session.execute(
                update(Import)
                .where(Import.id == import_id, Import.user_id == user_id, Import.status == STAGED)
                .values(status=STALE, finished_at=now)
            )
        await _purge(session, import_id)
        await end_read(session)
        return Outcome(STALE)
    except Exception as exc:
        log.exception("import %s of user %s failed", import_id, user_id)
        raise ImportFailed from exc
    if imp is None:
        return Outcome("not_found")
    outcome = Outcome(APPLIED, filename=imp.filename, creates=imp.creates, updates=imp.updates)
    outcome.skipped = imp.skipped
    if why not in (None, APPLIED):  # done, cancelled, expired, stale…; APPLIED: resume below
        if why in (STALE, EXPIRED):
            await _purge(session, import_id)
        await end_read(session)
        outcome.status = why
        return outcome
    try:
        await _plan_reminders(session, imp, default_tz=default_tz, now=now)
        outcome.reminders = imp.reminders
        await _purge(session, import_id)
        await end_read(session)
    except Exception:
        # the cards are live; what is missing is planned by the next tap on Import
        log.exception("reminders of import %s are not all planned yet", import_id)
        await session.rollback()
        outcome.status = "reminders_pending"
    return outcome


async def cancel(session: AsyncSession, *, import_id: int, user: User, now: datetime) -> Outcome:
    """Drop the user's staged import: no card is touched. Returns what became of it."""
    await end_read(session)
    async with writing(session):
        result = await session.execute(
            update(Import)
            .where(Import.id == import_id, Import.user_id == user.id, Import.status == STAGED)
            .values(status=CANCELLED, finished_at=now)
        )
        imp = await session.get(Import, import_id, populate_existing=True)
    if imp is None or imp.user_id != user.id:
        return Outcome("not_found")
    if result.rowcount:  # type: ignore[attr-defined]
        await _purge(session, imp.id)
    await end_read(session)
    return Outcome(CANCELLED if result.rowcount else imp.status, filename=imp.filename)  # type: ignore[attr-defined]
