"""Calendar dates as the reading rules find them: a day and a month with or without a year, a
day of the month alone ("the 5th", "15-го", "15 числа"), the weekend. Plain functions."""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, timedelta

from core.nextstep.calendar_days import add_months
from core.nextstep.moments import Ctx, NoSuchDay, OutOfRange
from core.nextstep.vocabulary import END, WEEKDAYS, alternation

RECENT_DAYS = 7  # a date without a year that fell in the last week stays in the past


def year_of(text: str, ctx: Ctx) -> int | None:
    """The year written as ``text``: two digits are this century; far ones are out of range."""
    if len(text) == 2:
        return 2000 + int(text)
    if len(text) < 2:
        return None
    if len(text) > 6:
        raise OutOfRange(late=text.lstrip("0") != "")
    year = int(text)
    if year < ctx.earliest.year:
        raise OutOfRange(late=False)
    if year > ctx.latest.year:
        raise OutOfRange(late=True)
    return year


def valid_day_month(day: int, month: int) -> bool:
    """True when the day exists in some year (2000 was a leap year)."""
    return 1 <= month <= 12 and 1 <= day <= monthrange(2000, month)[1]


def no_such_day(day: int, month: int, year_text: str | None) -> None:
    """Raise :class:`NoSuchDay` for a day of a real month that the month (or, for 29 February,
    the year given) does not have; a day past 31 or a month past 12 is no date at all."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return
    if not valid_day_month(day, month):
        raise NoSuchDay
    if year_text is not None and year_text.isdigit() and 1 <= int(year_text) <= 9999:
        if day > monthrange(int(year_text), month)[1]:
            raise NoSuchDay


def calendar_date(day: int, month: int, year_text: str | None, ctx: Ctx) -> date | None:
    """A calendar date; without a year, its next occurrence (or one of the past week)."""
    if not valid_day_month(day, month):
        return None
    if year_text is not None:
        year = year_of(year_text, ctx)
        if year is None:
            return None
        try:
            return date(year, month, day)
        except ValueError:  # 29 February of a common year
            return None
    since = ctx.today - timedelta(days=RECENT_DAYS)
    for year in range(ctx.today.year - 1, ctx.today.year + 5):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= since:
            return candidate
    return None


# "the 5th", "on the 15th at 10", "by the 20th", "5-го", "к 15-му", "15 числа": an ordinal with
# no month is that day of this month, or of the next month that has it once this one's is past
# (dateparser read "the 5th" as May and "the 2nd" as February)
_DAY_OF_MONTH_RE = re.compile(
    r"^(?:(?:on|by|till|until|до|к|ко)\s+)?(?:the\s+)?(?P<d>[0-9]{1,2})"
    r"(?:st|nd|rd|th|-?го|-?ое|-?е|-?ому|-?му|\s+числа)(?![0-9a-zа-я])(?P<rest>.*)$"
)


def day_of_month(text: str, today: date) -> list[tuple[date, str]]:
    """The day of the month ``text`` starts with, and what follows it ("the 32nd" is no day)."""
    match = _DAY_OF_MONTH_RE.match(text)
    if match is None:
        return []
    number = int(match.group("d"))
    if not 1 <= number <= 31:
        raise NoSuchDay
    first = today.replace(day=1)
    for ahead in range(12):
        month = add_months(first, ahead)
        if number <= monthrange(month.year, month.month)[1] and month.replace(day=number) >= today:
            return [(month.replace(day=number), match.group("rest"))]
    return []


# "this weekend", "at the weekend", "на выходных", "в эти выходные": the coming Saturday (today
# on a Saturday or a Sunday); "next weekend", "на следующих выходных": next week's Saturday
_WEEKEND_RE = re.compile(
    r"^(?:(?:on|at|over|by|this|the|на|в|к|эти[мх]?)\s+)*"
    r"(?P<next>(?:next|следующи[хе]|следующим|след\.?)\s+)?(?:weekend|выходны[хе]|выходным)"
    + END
    + r"(?P<rest>.*)$"
)


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def weekend(text: str, today: date) -> list[tuple[date, str]]:
    match = _WEEKEND_RE.match(text)
    if match is None:
        return []
    if match.group("next"):
        return [(_next_monday(today) + timedelta(days=5), match.group("rest"))]
    if today.weekday() >= 5:
        return [(today, match.group("rest"))]
    return [(today + timedelta(days=5 - today.weekday()), match.group("rest"))]


# "monday next week", "в понедельник на следующей неделе", "next week on tuesday", "через
# неделю в среду": that weekday of the next calendar week (Monday to Sunday)
_NEXT_WEEK = (
    r"(?:next week|the week after|in a week|на следующей неделе|на след\.? неделе|через неделю)"
)
_WEEKDAY = r"(?:(?:on|в|во)\s+)?(?P<day>" + alternation(WEEKDAYS) + r")\.?"
_WEEKDAY_NEXT_WEEK_RE = re.compile(
    r"^(?:"
    + _WEEKDAY
    + r",?\s+(?:of\s+)?"
    + _NEXT_WEEK
    + r"|"
    + _NEXT_WEEK
    + r",?\s+"
    + _WEEKDAY.replace("?P<day>", "?P<day2>")
    + r")"
    + END
    + r"(?P<rest>.*)$"
)


def weekday_next_week(text: str, today: date) -> list[tuple[date, str]]:
    match = _WEEKDAY_NEXT_WEEK_RE.match(text)
    if match is None:
        return []
    weekday = WEEKDAYS[match.group("day") or match.group("day2")]
    return [(_next_monday(today) + timedelta(days=weekday), match.group("rest"))]
