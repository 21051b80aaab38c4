"""A day of the month with no month ("the 5th", "15-го", "15 числа"), "by mid-december", the
weekend, a weekday of next week. dateparser read "the 5th" as 29 May and "on the 2nd" as 28 February: months away,
said as if understood."""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.nextstep import Reading, read_when, split_when

# Friday, 27 Nov 2026, 16:30 in Moscow (UTC+3).
NOW = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)
MSK = "Europe/Moscow"


def local(text: str, lang: str = "en", now: datetime = NOW) -> str:
    when = read_when(text, now=now, tz=MSK, lang_hint=lang)
    assert when.status is Reading.OK, (text, when)
    assert when.due is not None
    return when.due.astimezone(ZoneInfo(MSK)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("the 5th", "en", "2026-12-05 10:00"),
        ("5th", "en", "2026-12-05 10:00"),
        ("on the 2nd", "en", "2026-12-02 10:00"),
        ("1st", "en", "2026-12-01 10:00"),
        ("on the 15th at 10", "en", "2026-12-15 10:00"),
        ("the 3rd at 3pm", "en", "2026-12-03 15:00"),
        ("by the 20th", "en", "2026-12-20 10:00"),  # dateparser: 20 November, a week ago
        ("the 28th", "en", "2026-11-28 10:00"),  # still ahead this month
        ("the 27th", "en", "2026-11-27 16:30"),  # today, as "today"
        ("the 31st", "en", "2026-12-31 10:00"),  # November has no 31st
        ("friday the 4th", "en", "2026-12-04 10:00"),
        ("the 4th of dec", "en", "2026-12-04 10:00"),
        ("15-го в 10", "ru", "2026-12-15 10:00"),
        ("к 15-му", "ru", "2026-12-15 10:00"),
        ("15 числа", "ru", "2026-12-15 10:00"),
        ("5 числа в 15:00", "ru", "2026-12-05 15:00"),
        ("12 числа утром", "ru", "2026-12-12 09:00"),
        ("5-е", "ru", "2026-12-05 10:00"),
        ("к середине декабря", "ru", "2026-12-15 10:00"),
        ("by mid-december", "en", "2026-12-15 10:00"),
        ("this weekend", "en", "2026-11-28 10:00"),
        ("at the weekend at 12", "en", "2026-11-28 12:00"),
        ("на выходных", "ru", "2026-11-28 10:00"),
        ("в эти выходные", "ru", "2026-11-28 10:00"),
        ("next weekend", "en", "2026-12-05 10:00"),
        ("на следующих выходных", "ru", "2026-12-05 10:00"),
        # a weekday of next week (these were "I couldn't read a date")
        ("on monday next week", "en", "2026-11-30 10:00"),
        ("next week on tuesday", "en", "2026-12-01 10:00"),
        ("friday next week at 3", "en", "2026-12-04 15:00"),
        ("in a week on friday", "en", "2026-12-04 10:00"),
        ("в понедельник на следующей неделе", "ru", "2026-11-30 10:00"),
        ("на следующей неделе в пятницу в 11", "ru", "2026-12-04 11:00"),
        ("через неделю в среду", "ru", "2026-12-02 10:00"),
        # the start of the working morning, a deadline at lunch
        ("first thing tomorrow", "en", "2026-11-28 09:00"),
        ("tomorrow first thing", "en", "2026-11-28 09:00"),
        ("завтра первым делом", "ru", "2026-11-28 09:00"),
        ("до обеда", "ru", "2026-11-28 12:00"),  # 16:30 now: tomorrow's
        ("в пятницу до обеда", "ru", "2026-12-04 12:00"),
        ("by lunch on monday", "en", "2026-11-30 12:00"),
    ],
)
def test_a_day_of_the_month_and_the_weekend(text: str, lang: str, expected: str) -> None:
    assert local(text, lang) == expected


def test_no_day_of_the_month_is_made_up() -> None:
    assert read_when("the 5th floor", now=NOW, tz=MSK).status is Reading.UNREADABLE
    for text in ("the 32nd", "0th", "45-го"):  # was "too far in the future": the year 2032
        assert read_when(text, now=NOW, tz=MSK).status is Reading.NO_SUCH_DAY


def test_on_a_sunday_the_weekend_is_today_and_next_week_starts_tomorrow() -> None:
    sunday = NOW + timedelta(days=2)
    assert local("this weekend", now=sunday) == "2026-11-29 16:30"
    assert local("tuesday next week", now=sunday) == "2026-12-01 10:00"
    assert local("через неделю", "ru", now=sunday) == "2026-12-06 10:00"  # as before: 7 days


def test_a_step_with_a_day_of_the_month_is_split() -> None:
    split = split_when("send the proposal on the 5th", now=NOW, tz=MSK, lang_hint="en")
    assert split is not None and split.what == "send the proposal"
    assert split.due is not None and split.due.astimezone(ZoneInfo(MSK)).day == 5
    split = split_when("перезвонить 15-го в 10", now=NOW, tz=MSK, lang_hint="ru")
    assert split is not None and split.what == "перезвонить"


def _suffix(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


@given(
    day=st.integers(1, 31),
    today=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
    russian=st.booleans(),
)
def test_the_day_is_the_next_one_with_that_number(day: int, today: date, russian: bool) -> None:
    """Never in the past, never further than the first month that has the day, always that
    day's number."""
    now = datetime(today.year, today.month, today.day, 8, 0, tzinfo=UTC)  # 11:00 in Moscow
    text = f"{day}-го" if russian else f"the {day}{_suffix(day)}"
    when = read_when(text, now=now, tz=MSK, lang_hint="ru" if russian else "en")
    assert when.status is Reading.OK and when.due is not None
    found = when.due.astimezone(ZoneInfo(MSK)).date()
    assert found.day == day and found >= today
    month = date(today.year, today.month, 1)
    while True:  # the first month from this one that has the day, and the day not yet past
        if day <= monthrange(month.year, month.month)[1] and month.replace(day=day) >= today:
            break
        month = (month + timedelta(days=32)).replace(day=1)
    assert found == month.replace(day=day)
