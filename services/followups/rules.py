"""What the due work of a card depends on: its kinds, the settings (``Rules``), the owner's
hours and the times a reminder and an inbound alert are due."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.workhours import WorkHours, add_working_time, is_working_time, step_reminder_time
from services import duework
from storage.models import Contact, DueWork, User

REMINDER = "reminder"
COLD = "cold"
STALE = "stale"
INBOUND_REP = "inbound_rep"
INBOUND_MGR = "inbound_mgr"
NOTICE = "notice"
FOLLOWUP_KINDS = (REMINDER, COLD, STALE, INBOUND_REP, INBOUND_MGR, NOTICE)
CARD_KINDS = (REMINDER, COLD, STALE, INBOUND_REP, INBOUND_MGR)  # what a card implies
OPEN = (duework.PENDING, duework.CLAIMED)
# a reminder in one of these states reached (or is reaching) its owner: not planned again
DELIVERED = (duework.SENT, duework.FAILED, duework.CLAIMED)


@dataclass(frozen=True)
class Rules:
    """The settings the due work depends on. ``None`` means "not known here": the checks that
    need it leave their rows alone rather than judge them by a default."""

    default_tz: str = "UTC"
    cadence: str | None = None
    stale_days: int | None = None
    inbound_reply_hours: float | None = None
    # the administrators' Telegram ids: who answers for a team that has no manager
    admin_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, settings: Any) -> Rules:
        """From the bot's settings (anything with the same attribute names)."""
        return cls(
            default_tz=settings.default_timezone,
            cadence=settings.cadence_days,
            stale_days=settings.stale_after_days,
            inbound_reply_hours=settings.inbound_reply_hours,
            admin_ids=frozenset(settings.admin_ids),
        )


def user_tz(user: User, default_tz: str) -> str:
    return user.timezone or default_tz


def user_hours(user: User) -> WorkHours:
    return WorkHours.decode(user.work_hours)


def ts(dt: datetime | None) -> int:
    return int(dt.timestamp()) if dt else 0


def step_stamp(step: str | None) -> int:
    """A short fingerprint of a step's text: reminder buttons carry it, so a tap on an old
    reminder cannot act on a different step planned since."""
    return zlib.crc32((step or "").encode()) or 1


def reminder_due(contact: Contact, owner: User, default_tz: str, now: datetime) -> datetime | None:
    """When the card's reminder is due (None: no reminder is due for it), in the owner's working
    hours (:func:`core.workhours.step_reminder_time`, in the owner's time zone): at the step's
    time when that is inside them; for a step after the end of a working day's hours, that
    day's last quarter-hour inside them (18:45 for a call at 19:00 or 23:00 with hours to
    19:00), so the reminder comes before the step; for a step before the day's start or on a
    day off, the next working moment. A time already past gives way to the owner's next working
    moment from now (an overdue step planned at 3 a.m. waits for the morning)."""
    if contact.archived_at is not None or contact.next_step_due is None:
        return None
    tz, hours = user_tz(owner, default_tz), user_hours(owner)
    return step_reminder_time(contact.next_step_due, tz, hours, now)


def right_due(
    due: datetime, step_due: datetime, owner: User, default_tz: str, now: datetime
) -> bool:
    """Whether a pending reminder's time is right for its step (see :func:`reminder_due`): the
    step's reminder time, or — that time being past when it was planned — a working moment
    after it."""
    tz, hours = user_tz(owner, default_tz), user_hours(owner)
    base = step_reminder_time(step_due, tz, hours)
    if due == base:
        return True
    return base <= now and due > base and is_working_time(due, tz, hours)


def payload_of(row: DueWork) -> dict[str, Any]:
    return json.loads(row.payload) if row.payload else {}


def sla_times(
    at: datetime, tz: str, hours: WorkHours, window_hours: float
) -> tuple[datetime, datetime]:
    window = timedelta(hours=window_hours)
    first = add_working_time(at, tz, hours, window)
    return first, add_working_time(first, tz, hours, window)
