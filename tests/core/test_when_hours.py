"""A bare hour is the working day's: "at 3" / "в 3" is 15:00, not the middle of the night.

An hour from 1 to 7 written without a leading zero and without anything that says which half of
the day it is (am/pm, "утра", "ночи", "вечера", "дня", "in the morning", "утром"…) is read as
13:00–19:00, minutes or not ("3:30" is 15:30); "03:30", "3am", "в 3 ночи", "в 5 утра" and hours
0 and 8–23 are read as written. Numbers that are days ("3.12", "через 3 дня", "3 декабря") are
no hours at all.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.nextstep import Reading, read_when, split_when

# Friday, 27 Nov 2026, 16:30 in Moscow (UTC+3), as in test_when.py.
NOW = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)
MSK = "Europe/Moscow"


def due(text: str, lang: str = "ru", now: datetime = NOW) -> str:
    when = read_when(text, now=now, tz=MSK, lang_hint=lang)
    assert when.status is Reading.OK, (text, when)
    assert when.due is not None
    return when.due.astimezone(ZoneInfo(MSK)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # the QA reports
        ("tomorrow at 3", "en", "2026-11-28 15:00"),
        ("завтра в 3", "ru", "2026-11-28 15:00"),
        ("в 5", "ru", "2026-11-27 17:00"),  # 16:30 now: today at five
        ("at 5", "en", "2026-11-27 17:00"),
        ("в 7", "ru", "2026-11-27 19:00"),
        ("at 1", "en", "2026-11-28 13:00"),  # 13:00 has passed today: tomorrow's
        # after any day, in any order
        ("tomorrow 3", "en", "2026-11-28 15:00"),
        ("завтра к 3", "ru", "2026-11-28 15:00"),
        ("в пятницу в 4", "ru", "2026-12-04 16:00"),
        ("в пт в 4", "ru", "2026-12-04 16:00"),
        ("friday at 4", "en", "2026-12-04 16:00"),
        ("next tuesday 3", "en", "2026-12-01 15:00"),
        ("3 декабря в 3", "ru", "2026-12-03 15:00"),
        ("10 декабря 3", "ru", "2026-12-10 15:00"),  # a bare number after a date is the hour
        ("dec 3 at 4", "en", "2026-12-03 16:00"),
        ("in 3 days at 3", "en", "2026-11-30 15:00"),
        ("через 2 дня в 4", "ru", "2026-11-29 16:00"),
        ("at 3 tomorrow", "en", "2026-11-28 15:00"),
        ("в 3 в понедельник", "ru", "2026-11-30 15:00"),
        # "o'clock", "часа", "ч" say it is an hour, not which half of the day
        ("в 3 часа", "ru", "2026-11-28 15:00"),
        ("завтра в 3 часа", "ru", "2026-11-28 15:00"),
        ("at 3 o'clock", "en", "2026-11-28 15:00"),
        ("в 3ч", "ru", "2026-11-28 15:00"),
        ("около 3", "ru", "2026-11-28 15:00"),
        # minutes written without a leading zero: the same working-day reading
        ("3:30", "en", "2026-11-28 15:30"),
        ("в 5:45", "ru", "2026-11-27 17:45"),
        ("в 3.30", "ru", "2026-11-28 15:30"),
        ("tomorrow 7:45", "en", "2026-11-28 19:45"),
        ("3h30", "en", "2026-11-28 15:30"),
    ],
)
def test_a_bare_hour_from_one_to_seven_is_the_afternoon(text, lang, expected) -> None:
    assert due(text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # 8..12 and 13..23 as typed
        ("в 8", "ru", "2026-11-28 08:00"),
        ("at 11", "en", "2026-11-28 11:00"),
        ("в 12", "ru", "2026-11-28 12:00"),
        ("в 15", "ru", "2026-11-28 15:00"),
        ("tomorrow at 9", "en", "2026-11-28 09:00"),
        ("tomorrow at 0", "en", "2026-11-28 00:00"),
        # a leading zero: a 24-hour time, as typed
        ("03:00", "en", "2026-11-28 03:00"),
        ("tomorrow 03:30", "en", "2026-11-28 03:30"),
        ("tomorrow 07", "en", "2026-11-28 07:00"),
        ("в 07:15", "ru", "2026-11-28 07:15"),
        ("2026-12-01 05:00", "en", "2026-12-01 05:00"),
        # am/pm and the parts of the day
        ("3am", "en", "2026-11-28 03:00"),
        ("tomorrow at 5 a.m.", "en", "2026-11-28 05:00"),
        ("at 3 pm", "en", "2026-11-28 15:00"),
        ("tomorrow at 3 in the morning", "en", "2026-11-28 03:00"),
        ("в 3 ночи", "ru", "2026-11-28 03:00"),
        ("завтра в 3 часа ночи", "ru", "2026-11-28 03:00"),
        ("в 5 утра", "ru", "2026-11-28 05:00"),
        ("утром в 5", "ru", "2026-11-28 05:00"),
        ("завтра утром в 6", "ru", "2026-11-28 06:00"),
        ("в 3 дня", "ru", "2026-11-28 15:00"),  # "three in the afternoon"
        ("в пятницу в 7 вечера", "ru", "2026-12-04 19:00"),
        ("tonight at 8", "en", "2026-11-27 20:00"),
        ("tonight at 3", "en", "2026-11-27 15:00"),
    ],
)
def test_an_hour_that_says_which_half_of_the_day_is_read_as_written(text, lang, expected) -> None:
    assert due(text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("3.12", "ru", "2026-12-03 10:00"),
        ("1.5", "ru", "2027-05-01 10:00"),
        ("через 3 дня", "ru", "2026-11-30 10:00"),
        ("in 3 days", "en", "2026-11-30 10:00"),
        ("3 декабря", "ru", "2026-12-03 10:00"),
        ("dec 3", "en", "2026-12-03 10:00"),
        ("3/12", "en", "2027-03-12 10:00"),
        ("через 3 часа", "ru", "2026-11-27 19:30"),  # three hours from now, not 15:00
        ("in 5 minutes", "en", "2026-11-27 16:35"),
    ],
)
def test_numbers_that_are_days_or_amounts_are_not_hours(text, lang, expected) -> None:
    assert due(text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang", "what", "expected"),
    [
        ("call back tomorrow at 3", "en", "call back", "2026-11-28 15:00"),
        ("позвонить завтра в 3", "ru", "позвонить", "2026-11-28 15:00"),
        ("перезвонить в 5", "ru", "перезвонить", "2026-11-27 17:00"),
        ("встреча в 8", "ru", "встреча", "2026-11-28 08:00"),
        ("meet at 5", "en", "meet", "2026-11-27 17:00"),
        ("позвонить через 3 дня", "ru", "позвонить", "2026-11-30 10:00"),
    ],
)
def test_a_step_with_a_bare_hour_is_due_in_the_afternoon(text, lang, what, expected) -> None:
    found = split_when(text, now=NOW, tz=MSK, lang_hint=lang)
    assert found is not None and found.due is not None
    assert found.what == what
    assert found.due.astimezone(ZoneInfo(MSK)).strftime("%Y-%m-%d %H:%M") == expected


# ---------------------------------------------------------------------------- properties

DAYS = ["tomorrow", "завтра", "в пятницу", "10 декабря", "через 3 дня", "next tuesday"]
PREFIXES = ["", "at ", "в ", "к ", "около "]


@given(hour=st.integers(0, 23), day=st.sampled_from(DAYS), prefix=st.sampled_from(PREFIXES))
def test_any_bare_hour_after_a_day_is_in_working_time(hour: int, day: str, prefix: str) -> None:
    """A bare 1..7 is 13..19; every other hour is as typed; never 01:00..07:59 unasked."""
    when = read_when(f"{day} {prefix}{hour}", now=NOW, tz=MSK, lang_hint="ru")
    assert when.due is not None, (day, prefix, hour)
    local = when.due.astimezone(ZoneInfo(MSK))
    assert local.hour == (hour + 12 if 1 <= hour <= 7 else hour)
    assert local.minute == 0
    assert not 1 <= local.hour <= 7


@given(hour=st.integers(1, 7), minute=st.integers(0, 59), day=st.sampled_from(DAYS))
def test_minutes_without_a_leading_zero_are_the_afternoon_too(
    hour: int, minute: int, day: str
) -> None:
    local = read_when(f"{day} {hour}:{minute:02d}", now=NOW, tz=MSK).due
    assert local is not None
    local = local.astimezone(ZoneInfo(MSK))
    assert (local.hour, local.minute) == (hour + 12, minute)


@given(
    hour=st.integers(1, 7),
    marker=st.sampled_from(["am", " a.m.", " утра", " in the morning", " ночи", " at night"]),
)
def test_an_early_hour_that_says_so_is_kept(hour: int, marker: str) -> None:
    if marker in (" ночи", " at night") and hour >= 6:
        hour -= 4  # "в 7 ночи" is 19:00 (as "в 11 ночи" is 23:00): the night's small hours
    local = read_when(f"tomorrow at {hour}{marker}", now=NOW, tz=MSK).due
    assert local is not None
    local = local.astimezone(ZoneInfo(MSK))
    assert (local.date(), local.hour) == (date(2026, 11, 28), hour)
