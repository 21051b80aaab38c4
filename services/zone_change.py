"""A person changes their time zone: their planned steps keep their moments (nothing changes
without their word), so a step typed "10:00" shows another clock time in the new zone. When they
ask, the steps that were ahead at the change keep their clock times instead: each moves to the
same wall-clock time in the new zone, its reminder re-planned as for any changed step
(services.followups.set_next_step).

The usual case: a new rep adds steps under the default zone (UTC), then sets their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import followups
from storage.models import Contact, ContactEvent, User
from storage.uow import transactional

LIMIT = 5_000  # planned steps of one person looked at (a rep has hundreds at most)


def same_clock_time(moment: datetime, old_tz: str, new_tz: str) -> datetime:
    """``moment`` moved to the same wall-clock time in ``new_tz`` as it shows in ``old_tz``
    (10:00 UTC → 10:00 Moscow); UTC."""
    local = moment.astimezone(ZoneInfo(old_tz)).replace(tzinfo=None)
    return local.replace(tzinfo=ZoneInfo(new_tz)).astimezone(UTC)


@dataclass(frozen=True)
class Ahead:
    """Planned steps ahead whose clock time the new zone changes, and the earliest of them."""

    count: int
    first: datetime | None = None


def _planned(owner: User, after: datetime) -> Select[tuple[Contact]]:
    """The owner's live cards with a step planned after ``after``, the earliest first."""
    return (
        select(Contact)
        .where(
            Contact.owner_id == owner.id,
            Contact.archived_at.is_(None),
            Contact.next_step_due > after,
        )
        .order_by(Contact.next_step_due, Contact.id)
        .limit(LIMIT)
    )


async def steps_ahead(
    session: AsyncSession, owner: User, *, old_tz: str, new_tz: str, now: datetime
) -> Ahead:
    """What the change from ``old_tz`` to ``new_tz`` does to the owner's steps ahead: how many
    now show another clock time (none when the zones agree on them)."""
    if old_tz == new_tz:
        return Ahead(0)
    moved = [
        c.next_step_due
        for c in await session.scalars(_planned(owner, now))
        if c.next_step_due is not None
        and same_clock_time(c.next_step_due, old_tz, new_tz) != c.next_step_due
    ]
    return Ahead(len(moved), moved[0] if moved else None)


@transactional
async def keep_clock_times(
    session: AsyncSession,
    owner: User,
    *,
    old_tz: str,
    changed_at: datetime,
    now: datetime,
    rules: followups.Rules,
) -> int:
    """The owner's steps that were ahead when they left ``old_tz`` (at ``changed_at``) and were
    not set or moved since move to the same clock time in the owner's zone now; their reminders
    follow. Only the owner's own cards. Returns how many moved (0 on a second tap: the move
    itself is a change of the step)."""
    new_tz = followups.user_tz(owner, rules.default_tz)
    if old_tz == new_tz:
        return 0
    changed_since = (
        exists()
        .where(
            ContactEvent.contact_id == Contact.id,
            ContactEvent.field == "next_step",
            ContactEvent.at > changed_at,
        )
        .correlate(Contact)
    )
    cards = list(await session.scalars(_planned(owner, changed_at).where(~changed_since)))
    moved = 0
    for contact in cards:
        due = contact.next_step_due
        if due is None:
            continue
        kept = same_clock_time(due, old_tz, new_tz)
        if kept == due:
            continue
        await followups.set_next_step(
            session,
            contact,
            actor=owner,
            text=contact.next_step,
            due=kept,
            reason=None,
            now=now,
            rules=rules,
        )
        moved += 1
    return moved
