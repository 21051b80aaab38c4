"""What the rules of :mod:`core.nextstep.reading` share: the moment of reading (:class:`Ctx`),
the ways a rule gives up, and :func:`at`, a day at a time of day in the owner's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.nextstep.vocabulary import Clock, Span

DEFAULT_TIME = time(10, 0)


class Unreadable(Exception):
    """A rule recognised the phrase and found it makes no sense: stop, try nothing else."""


class NoSuchTime(Unreadable):
    """A day with a time no clock shows ("tomorrow 25:00"): not the day at 10:00."""


class NoSuchDay(Unreadable):
    """A date no calendar has ("31 February", "31.04", "29.02.2027"): not another day."""


class OutOfRange(Exception):
    def __init__(self, late: bool) -> None:
        super().__init__("late" if late else "early")
        self.late = late


@dataclass(frozen=True, slots=True)
class Ctx:
    local_now: datetime
    zone: ZoneInfo
    lang: str
    earliest: date
    latest: date

    @property
    def today(self) -> date:
        return self.local_now.date()


def at(day: date, clock: Clock | None, ctx: Ctx) -> datetime:
    """``day`` at ``clock`` (10:00 when none) in the zone; "today" past 10:00 is now, and a part
    of today that is under way ("tonight" at 18:13) is the rest of it (see :func:`_rest_of`)."""
    if clock is None and day == ctx.today:
        default = datetime.combine(day, DEFAULT_TIME, tzinfo=ctx.zone)
        if default < ctx.local_now:
            return ctx.local_now.replace(second=0, microsecond=0)
    at = time(clock.hour, clock.minute) if clock else DEFAULT_TIME
    moment = datetime.combine(day, at, tzinfo=ctx.zone)
    if clock is not None and clock.span is not None and day == ctx.today:
        return _rest_of(moment, clock.span, ctx)
    return moment


def _rest_of(moment: datetime, span: Span, ctx: Ctx) -> datetime:
    """A part of today that begins at ``moment`` and may have begun: once it has, the next full
    hour while the part lasts; after that, the same part tomorrow if it rolls over (the
    evening), else ``moment`` itself (the morning that is over: the caller warns it is past)."""
    if moment >= ctx.local_now:
        return moment
    wall = ctx.local_now.replace(tzinfo=None, minute=0, second=0, microsecond=0)
    hour = wall + timedelta(hours=1)
    if hour.date() == ctx.today and hour.time() <= time(span.until):
        return hour.replace(tzinfo=ctx.zone)
    if span.rolls:
        return datetime.combine(ctx.today + timedelta(days=1), moment.time(), tzinfo=ctx.zone)
    return moment
