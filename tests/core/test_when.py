"""Next-step dates as people write them: a table of phrases, the window, and text that can't crash."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.nextstep import (
    RECENT_DAYS,
    Reading,
    When,
    format_day,
    format_local,
    read_when,
    split_when,
    window,
)

# Friday, 27 Nov 2026, 16:30 in Moscow (UTC+3).
NOW = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)
MSK = "Europe/Moscow"

UNREADABLE, TOO_EARLY, TOO_LATE = Reading.UNREADABLE, Reading.TOO_EARLY, Reading.TOO_LATE

# (phrase, language, expected): a local "YYYY-MM-DD HH:MM" in Moscow, or why there is no date.
PHRASES: list[tuple[str, str, str | Reading]] = [
    # English: days and times
    ("tomorrow 10:00", "en", "2026-11-28 10:00"),
    ("Tomorrow at 10:00", "en", "2026-11-28 10:00"),
    ("tomorrow", "en", "2026-11-28 10:00"),
    ("tomorrow 10am", "en", "2026-11-28 10:00"),
    ("tomorrow 3pm", "en", "2026-11-28 15:00"),
    ("tomorrow at 3:30 p.m.", "en", "2026-11-28 15:30"),
    ("tomorrow morning", "en", "2026-11-28 09:00"),
    ("tomorrow evening", "en", "2026-11-28 18:00"),
    ("tmrw 9:15", "en", "2026-11-28 09:15"),
    ("today 18:00", "en", "2026-11-27 18:00"),
    ("today", "en", "2026-11-27 16:30"),
    ("tonight", "en", "2026-11-27 18:00"),
    ("tonight at 8", "en", "2026-11-27 20:00"),
    ("the day after tomorrow", "en", "2026-11-29 10:00"),
    ("day after tomorrow at noon", "en", "2026-11-29 12:00"),
    ("18:30", "en", "2026-11-27 18:30"),
    ("9:00", "en", "2026-11-28 09:00"),
    ("at 5pm", "en", "2026-11-27 17:00"),
    ("noon", "en", "2026-11-28 12:00"),
    ("3pm tomorrow", "en", "2026-11-28 15:00"),
    ("at 10 on friday", "en", "2026-12-04 10:00"),
    # English: relative
    ("in 3 days", "en", "2026-11-30 10:00"),
    ("in 3 days at 9", "en", "2026-11-30 09:00"),
    ("in 2 weeks", "en", "2026-12-11 10:00"),
    ("in a week", "en", "2026-12-04 10:00"),
    ("in an hour", "en", "2026-11-27 17:30"),
    ("in 2 hours", "en", "2026-11-27 18:30"),
    ("in 45 minutes", "en", "2026-11-27 17:15"),
    ("in half an hour", "en", "2026-11-27 17:00"),
    ("in 1.5 hours", "en", "2026-11-27 18:00"),
    ("in a month", "en", "2026-12-27 10:00"),
    ("in 2 months", "en", "2027-01-27 10:00"),
    ("in a year", "en", "2027-11-27 10:00"),
    ("2 days ago", "en", "2026-11-25 10:00"),
    ("next week", "en", "2026-11-30 10:00"),
    ("next month", "en", "2026-12-01 10:00"),
    # English: weekdays (always ahead; "friday" on a Friday is next week's)
    ("next friday", "en", "2026-12-04 10:00"),
    ("friday", "en", "2026-12-04 10:00"),
    ("next monday at 3pm", "en", "2026-11-30 15:00"),
    ("on Wednesday 9:30", "en", "2026-12-02 09:30"),
    ("sunday", "en", "2026-11-29 10:00"),
    ("sat 11:00", "en", "2026-11-28 11:00"),
    ("friday afternoon", "en", "2026-12-04 14:00"),
    ("monday morning", "en", "2026-11-30 09:00"),
    # English: calendar dates
    ("december 10 at 14", "en", "2026-12-10 14:00"),
    ("December 10", "en", "2026-12-10 10:00"),
    ("dec 10th", "en", "2026-12-10 10:00"),
    ("10 december", "en", "2026-12-10 10:00"),
    ("10th of December 2027", "en", "2027-12-10 10:00"),
    ("December 1 at 3pm", "en", "2026-12-01 15:00"),
    ("december 10, 2027 at 3pm", "en", "2027-12-10 15:00"),
    ("jan 15", "en", "2027-01-15 10:00"),
    ("march 3 9:00", "en", "2027-03-03 09:00"),
    ("nov 25", "en", "2026-11-25 10:00"),  # two days ago: stays, the bot warns
    ("oct 15", "en", "2027-10-15 10:00"),  # never more than a year ahead
    ("2026-12-01 14:30", "en", "2026-12-01 14:30"),
    ("2026-12-01T14:30", "en", "2026-12-01 14:30"),
    ("12/01/2027", "en", "2027-12-01 10:00"),
    ("12/01", "en", "2026-12-01 10:00"),
    ("01.12 15:00", "en", "2026-12-01 15:00"),
    # Russian: days and times
    ("завтра в 15:00", "ru", "2026-11-28 15:00"),
    ("завтра 10:00", "ru", "2026-11-28 10:00"),
    ("завтра в 9 утра", "ru", "2026-11-28 09:00"),
    ("завтра в 3 часа дня", "ru", "2026-11-28 15:00"),
    ("завтра утром", "ru", "2026-11-28 09:00"),
    ("Завтра к 10", "ru", "2026-11-28 10:00"),
    ("послезавтра", "ru", "2026-11-29 10:00"),
    ("послезавтра утром", "ru", "2026-11-29 09:00"),
    ("послезавтра вечером", "ru", "2026-11-29 18:00"),
    ("сегодня в 18:30", "ru", "2026-11-27 18:30"),
    ("сегодня вечером", "ru", "2026-11-27 18:00"),
    ("сегодня", "ru", "2026-11-27 16:30"),
    ("15:00 завтра", "ru", "2026-11-28 15:00"),
    ("в 10 утра в понедельник", "ru", "2026-11-30 10:00"),
    ("в 15.00", "ru", "2026-11-28 15:00"),
    ("вечером", "ru", "2026-11-27 18:00"),
    ("утром", "ru", "2026-11-28 09:00"),
    # Russian: relative
    ("через 2 недели", "ru", "2026-12-11 10:00"),
    ("через неделю", "ru", "2026-12-04 10:00"),
    ("через 3 дня в 9:00", "ru", "2026-11-30 09:00"),
    ("через 2 часа", "ru", "2026-11-27 18:30"),
    ("через 30 минут", "ru", "2026-11-27 17:00"),
    ("через полчаса", "ru", "2026-11-27 17:00"),
    ("через полтора часа", "ru", "2026-11-27 18:00"),
    ("через 1,5 часа", "ru", "2026-11-27 18:00"),
    ("через пару дней", "ru", "2026-11-29 10:00"),
    ("через месяц", "ru", "2026-12-27 10:00"),
    ("через пять дней", "ru", "2026-12-02 10:00"),
    ("через год", "ru", "2027-11-27 10:00"),
    ("2 дня назад", "ru", "2026-11-25 10:00"),
    ("на следующей неделе", "ru", "2026-11-30 10:00"),
    ("в следующем месяце", "ru", "2026-12-01 10:00"),
    # Russian: weekdays
    ("в понедельник", "ru", "2026-11-30 10:00"),
    ("в пятницу в 15:00", "ru", "2026-12-04 15:00"),
    ("в следующую среду", "ru", "2026-12-02 10:00"),
    ("во вторник", "ru", "2026-12-01 10:00"),
    ("в субботу в 11:30", "ru", "2026-11-28 11:30"),
    ("в пятницу в 7 вечера", "ru", "2026-12-04 19:00"),
    ("в пт 15:00", "ru", "2026-12-04 15:00"),
    # deadlines: due on the day they name
    ("до пятницы", "ru", "2026-12-04 10:00"),
    ("к понедельнику", "ru", "2026-11-30 10:00"),
    ("до среды в 12", "ru", "2026-12-02 12:00"),
    ("до 5 декабря", "ru", "2026-12-05 10:00"),
    ("к 05.12 15:00", "ru", "2026-12-05 15:00"),
    ("до завтра", "ru", "2026-11-28 10:00"),
    ("by monday", "en", "2026-11-30 10:00"),
    ("until 5 dec", "en", "2026-12-05 10:00"),
    ("till tomorrow 3pm", "en", "2026-11-28 15:00"),
    # the end of a period: its last working day; a month: its first working day
    ("к концу недели", "ru", "2026-11-27 16:30"),  # a Friday: today
    ("в конце следующей недели", "ru", "2026-12-04 10:00"),
    ("до конца месяца", "ru", "2026-11-30 10:00"),
    ("к концу квартала", "ru", "2026-12-31 10:00"),
    ("до конца года 15:00", "ru", "2026-12-31 15:00"),
    ("в конце января", "ru", "2027-01-29 10:00"),  # the 31st is a Sunday
    ("в конце ноября", "ru", "2026-11-30 10:00"),
    ("в декабре", "ru", "2026-12-01 10:00"),
    ("в январе 2028", "ru", "2028-01-03 10:00"),  # the 1st is a Saturday
    ("в ноябре", "ru", "2026-11-27 16:30"),  # the month itself: from now on
    ("в середине декабря", "ru", "2026-12-15 10:00"),
    ("by the end of the month", "en", "2026-11-30 10:00"),
    ("end of next week at 3pm", "en", "2026-12-04 15:00"),
    ("end of the year", "en", "2026-12-31 10:00"),
    ("end of february", "en", "2027-02-26 10:00"),  # the 28th is a Sunday
    ("in december", "en", "2026-12-01 10:00"),
    ("mid-january", "en", "2027-01-15 10:00"),
    ("in may 5", "en", "2027-05-05 10:00"),  # a day of the month, not the 1st at 05:00
    ("в начале декабря", "ru", "2026-12-01 10:00"),
    ("в начале недели", "ru", "2026-11-30 10:00"),
    ("в начале следующего месяца", "ru", "2026-12-01 10:00"),
    ("early next week", "en", "2026-11-30 10:00"),
    ("early january", "en", "2027-01-01 10:00"),
    # the end of the working day, after lunch, a few days
    ("до конца дня", "ru", "2026-11-27 18:00"),
    ("завтра до конца дня", "ru", "2026-11-28 18:00"),
    ("завтра после обеда", "ru", "2026-11-28 14:00"),
    ("через несколько дней", "ru", "2026-11-30 10:00"),
    ("by eod", "en", "2026-11-27 18:00"),
    ("tomorrow after lunch", "en", "2026-11-28 14:00"),
    ("in a few days", "en", "2026-11-30 10:00"),
    # Russian: calendar dates, day first
    ("01.12", "ru", "2026-12-01 10:00"),
    ("01.12 15:00", "ru", "2026-12-01 15:00"),
    ("10.12 14:00", "ru", "2026-12-10 14:00"),
    ("1.12 в 15.00", "ru", "2026-12-01 15:00"),
    ("01.12.2026", "ru", "2026-12-01 10:00"),
    ("01.12.26 9:30", "ru", "2026-12-01 09:30"),
    ("10 декабря 14", "ru", "2026-12-10 14:00"),
    ("10 декабря", "ru", "2026-12-10 10:00"),
    ("1 декабря в 14:00", "ru", "2026-12-01 14:00"),
    ("10 дек. в 9:00", "ru", "2026-12-10 09:00"),
    ("15 января", "ru", "2027-01-15 10:00"),
    ("10 декабря 2027 г. в 14:00", "ru", "2027-12-10 14:00"),
    ("12/01/2027", "ru", "2027-01-12 10:00"),
    ("25.11", "ru", "2026-11-25 10:00"),  # the past week stays in the past
    ("15.10", "ru", "2027-10-15 10:00"),
    ("29.02", "ru", "2028-02-29 10:00"),  # the next 29 February
    # the window: today − 1 year … today + 5 years
    ("27.11.2031", "ru", "2031-11-27 10:00"),
    ("28.11.2031", "ru", TOO_LATE),
    ("27.11.2025", "ru", "2025-11-27 10:00"),
    ("26.11.2025", "ru", TOO_EARLY),
    ("01.01.2020", "ru", TOO_EARLY),
    ("10.12.2035", "ru", TOO_LATE),
    ("01.01.0001 00:30", "ru", TOO_EARLY),
    ("31.12.9999 18:00", "ru", TOO_LATE),
    ("31.12.9999 23:00", "ru", TOO_LATE),
    ("2040-01-01", "en", TOO_LATE),
    ("1/2/35", "en", TOO_LATE),
    ("in 6 years", "en", TOO_LATE),
    ("через 10 лет", "ru", TOO_LATE),
    ("in 99999999 days", "en", TOO_LATE),
    ("через 100000000000 дней", "ru", TOO_LATE),
    ("in 99999999999999999999999999 minutes", "en", TOO_LATE),
    ("99999999 years ago", "en", TOO_EARLY),
    ("in 1000000000000000000000 seconds", "en", TOO_LATE),
    ("10 декабря 99999", "ru", TOO_LATE),
    # nothing to read
    ("", "en", UNREADABLE),
    ("call him", "en", UNREADABLE),
    ("asdf qwerty", "en", UNREADABLE),
    ("когда-нибудь", "ru", UNREADABLE),
    ("31.02", "ru", Reading.NO_SUCH_DAY),
    ("45.13", "ru", UNREADABLE),
    ("5", "ru", UNREADABLE),
    ("14", "en", UNREADABLE),
    ("в 25:00", "ru", UNREADABLE),
    ("in many days", "en", UNREADABLE),
    ("in 2 hours at 10", "en", UNREADABLE),
]


def local(when: When, tz: str) -> str:
    assert when.due is not None
    return when.due.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(("text", "lang", "expected"), PHRASES)
def test_phrases(text: str, lang: str, expected: str | Reading) -> None:
    when = read_when(text, now=NOW, tz=MSK, lang_hint=lang)
    if isinstance(expected, Reading):
        assert when.status is expected
        assert when.due is None
    else:
        assert when.status is Reading.OK, when
        assert local(when, MSK) == expected
        assert when.due is not None and when.due.tzinfo is UTC


def test_the_table_is_large_and_bilingual() -> None:
    assert len(PHRASES) >= 80
    assert sum(lang == "ru" for _t, lang, _e in PHRASES) >= 40
    assert sum(lang == "en" for _t, lang, _e in PHRASES) >= 40


# The same moment elsewhere: Friday 23:30 in Vladivostok, Friday 08:30 in New York.
OTHER_ZONES: list[tuple[str, str, str, str | Reading]] = [
    ("Asia/Vladivostok", "tomorrow 10:00", "en", "2026-11-28 10:00"),
    ("Asia/Vladivostok", "today", "en", "2026-11-27 23:30"),
    ("Asia/Vladivostok", "9:00", "en", "2026-11-28 09:00"),
    ("Asia/Vladivostok", "в понедельник", "ru", "2026-11-30 10:00"),
    ("Asia/Vladivostok", "через 2 часа", "ru", "2026-11-28 01:30"),
    ("America/New_York", "today", "en", "2026-11-27 10:00"),
    ("America/New_York", "18:30", "en", "2026-11-27 18:30"),
    ("America/New_York", "01.12 15:00", "ru", "2026-12-01 15:00"),
    ("America/New_York", "12/01 15:00", "en", "2026-12-01 15:00"),
    ("America/New_York", "december 10 at 14", "en", "2026-12-10 14:00"),
    ("America/New_York", "27.11.2031", "ru", "2031-11-27 10:00"),
    ("America/New_York", "28.11.2031", "ru", TOO_LATE),
    ("America/New_York", "01.01.0001 00:30", "ru", TOO_EARLY),
]


@pytest.mark.parametrize(("tz", "text", "lang", "expected"), OTHER_ZONES)
def test_phrases_in_other_zones(tz: str, text: str, lang: str, expected: str | Reading) -> None:
    when = read_when(text, now=NOW, tz=tz, lang_hint=lang)
    if isinstance(expected, Reading):
        assert when.status is expected
    else:
        assert when.status is Reading.OK, when
        assert local(when, tz) == expected


def test_the_window_is_in_local_days() -> None:
    assert window(NOW, MSK) == (date(2025, 11, 27), date(2031, 11, 27))
    late = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)  # already Saturday in Moscow
    assert window(late, MSK) == (date(2025, 11, 28), date(2031, 11, 28))
    assert window(late, "UTC") == (date(2025, 11, 27), date(2031, 11, 27))
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert window(leap, "UTC") == (date(2027, 2, 28), date(2033, 2, 28))


def test_a_refusal_carries_the_window() -> None:
    when = read_when("31.12.9999 23:00", now=NOW, tz=MSK)
    assert (when.earliest, when.latest) == (date(2025, 11, 27), date(2031, 11, 27))
    assert not when.ok


def test_dateparser_fallback_is_window_checked() -> None:
    # a weekday and a date: no rule reads it, dateparser does, and its answer is checked too
    assert local(read_when("friday 4 dec", now=NOW, tz=MSK), MSK) == "2026-12-04 10:00"
    assert read_when("friday, 4 december 2040", now=NOW, tz=MSK).status is TOO_LATE


def test_format_day_and_format_local_at_the_edge_of_the_calendar() -> None:
    assert format_day(date(2031, 11, 27), "en") == "Thu, 27 Nov 2031"
    assert format_day(date(2031, 11, 27), "ru") == "чт, 27 нояб. 2031"
    # a moment saved before dates were checked must not break the card, /today or the digest
    edge = datetime(1, 1, 1, 0, 30, tzinfo=UTC)
    assert format_local(edge, "America/New_York", "en") == "Mon, 1 Jan 1, 00:30"
    top = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    assert format_local(top, "Asia/Vladivostok", "ru") == "пт, 31 дек. 9999, 23:00"


# ---------------------------------------------------------------------------- properties

ZONES = ["Europe/Moscow", "UTC", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"]
nows = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)
FRAGMENTS = [
    "in",
    "через",
    "ago",
    "назад",
    "at",
    "в",
    "on",
    "next",
    "days",
    "дней",
    "weeks",
    "недели",
    "hours",
    "часов",
    "minutes",
    "years",
    "лет",
    "декабря",
    "december",
    "friday",
    "пятницу",
    "tomorrow",
    "завтра",
    "утром",
    "pm",
    "am",
    ".",
    ":",
    "/",
    "-",
    ",",
    "t",
    "г.",
]
huge_numbers = st.integers(min_value=0, max_value=10**40).map(str)
phrases = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), huge_numbers, st.integers(0, 99).map(str)),
    min_size=1,
    max_size=7,
).flatmap(
    lambda parts: st.lists(
        st.sampled_from(["", " "]), min_size=len(parts), max_size=len(parts)
    ).map(lambda gaps: "".join(g + p for g, p in zip(gaps, parts, strict=True)))
)


def check(when: When, now: datetime, tz: str) -> None:
    assert isinstance(when, When)
    earliest, latest = window(now, tz)
    assert (when.earliest, when.latest) == (earliest, latest)
    if when.ok:
        assert when.due is not None and when.due.tzinfo is UTC
        assert earliest <= when.due.astimezone(ZoneInfo(tz)).date() <= latest
    else:
        assert when.due is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=60),
    now=nows,
    tz=st.sampled_from(ZONES),
    lang=st.sampled_from(["en", "ru", None]),
)
def test_any_text_gives_an_answer_never_an_error(
    text: str, now: datetime, tz: str, lang: str | None
) -> None:
    check(read_when(text, now=now, tz=tz, lang_hint=lang), now, tz)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=phrases, now=nows, tz=st.sampled_from(ZONES), lang=st.sampled_from(["en", "ru"]))
def test_date_like_text_with_huge_numbers_never_crashes(
    text: str, now: datetime, tz: str, lang: str
) -> None:
    check(read_when(text, now=now, tz=tz, lang_hint=lang), now, tz)


@settings(max_examples=200, deadline=None)
@given(
    day=st.integers(1, 31),
    month=st.integers(1, 12),
    now=nows,
    tz=st.sampled_from(ZONES),
    style=st.sampled_from(["{d:02d}.{m:02d}", "{d}.{m} 15:00", "{d} {mon}", "{mon} {d} at 14"]),
)
def test_a_year_is_never_guessed_into_the_far_future(
    day: int, month: int, now: datetime, tz: str, style: str
) -> None:
    months = [
        "jan",
        "feb",
        "мар",
        "апреля",
        "may",
        "июня",
        "jul",
        "aug",
        "sep",
        "окт",
        "nov",
        "dec",
    ]
    text = style.format(d=day, m=month, mon=months[month - 1])
    when = read_when(text, now=now, tz=tz, lang_hint="ru")
    today = now.astimezone(ZoneInfo(tz)).date()
    try:
        date(2000, month, day)  # a leap year: the day exists in some year
    except ValueError:
        assert when.status is Reading.NO_SUCH_DAY  # "31.04", "30 feb": said as no such day
        return
    assert when.ok, (text, when)
    assert when.due is not None
    due_day = when.due.astimezone(ZoneInfo(tz)).date()
    assert (due_day.month, due_day.day) == (month, day)
    assert due_day >= today - timedelta(days=RECENT_DAYS)
    limit = timedelta(days=366 * 4 + 1) if (month, day) == (2, 29) else timedelta(days=366)
    assert due_day - today <= limit


def test_dateparser_is_loaded_only_when_the_rules_cannot_read_a_phrase() -> None:
    code = (
        "import sys; from datetime import datetime, UTC; from core.nextstep import read_when\n"
        "now = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)\n"
        "for text in ('tomorrow 10:00', '01.12 15:00', 'через 2 недели', '31.12.9999'):\n"
        "    read_when(text, now=now, tz='Europe/Moscow')\n"
        "assert 'dateparser' not in sys.modules\n"
        "read_when('in a fortnight', now=now, tz='Europe/Moscow')\n"
        "assert 'dateparser' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).parents[2], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "text",
    [
        "tomorrow 25:00",
        "завтра в 25:00",
        "завтра в 10:75",
        "tomorrow at 24:30",
        "завтра 25",
        "tomorrow 13pm",
        "friday 0pm",
        "25:00 tomorrow",
        "в 25:00 завтра",
        "1.12 24:00",
        "in 3 days at 25:00",  # a day counted ahead: it said "can't read a date"
        "через неделю в 9:75",
        "in 2 weeks 13pm",
    ],
)
def test_a_day_with_an_impossible_time_is_asked_again_not_read_as_the_day_at_ten(text) -> None:
    """ "tomorrow 25:00" was read as tomorrow 10:00: the time written was dropped in silence."""
    assert read_when(text, now=NOW, tz=MSK, lang_hint="ru").status is Reading.NO_SUCH_TIME


@pytest.mark.parametrize(
    "text",
    [
        "31 февраля",
        "30 февраля в 10:00",
        "31 апреля",
        "feb 30",
        "31.04",
        "на 31.06 15:00",
        "29.02.2027",
        "29 февраля 2027",
    ],  # fmt: skip
)
def test_a_day_no_calendar_has_is_said_so_not_unreadable(text) -> None:
    """ "31 февраля" said "I couldn't read a date", as for words that are no date at all."""
    assert read_when(text, now=NOW, tz=MSK, lang_hint="ru").status is Reading.NO_SUCH_DAY


@pytest.mark.parametrize("text", ["29.02.2028", "29 февраля 2028", "30.04", "31.12", "1.5"])
def test_the_days_that_exist_are_read(text) -> None:
    assert read_when(text, now=NOW, tz=MSK, lang_hint="ru").due is not None


@pytest.mark.parametrize("text", ["31.13", "45.10"])
def test_no_date_at_all_stays_unreadable(text) -> None:
    assert read_when(text, now=NOW, tz=MSK, lang_hint="ru").status is Reading.UNREADABLE


@given(st.integers(0, 23), st.integers(0, 59))
def test_every_real_time_after_a_day_is_read_as_written(hour: int, minute: int) -> None:
    """On a 24-hour clock: "3:05" without a leading zero is 15:05 (see test_when_hours.py)."""
    due = read_when(f"tomorrow {hour:02d}:{minute:02d}", now=NOW, tz=MSK).due
    assert due is not None
    local = due.astimezone(ZoneInfo(MSK))
    assert (local.date(), local.hour, local.minute) == (date(2026, 11, 28), hour, minute)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("friday pls", 4),  # it was "I couldn't read a date"
        ("tomorrow, thanks!", 28),
        ("ok tomorrow 10:00", 28),
        ("пожалуйста завтра в 10", 28),
        ("в пятницу плиз", 4),
    ],
)
def test_words_of_courtesy_around_a_time_are_not_in_its_way(text, day) -> None:
    due = read_when(text, now=NOW, tz=MSK, lang_hint="ru").due
    assert due is not None and due.astimezone(ZoneInfo(MSK)).day == day


@pytest.mark.parametrize("text", ["pls", "ok", "спасибо", "please please"])
def test_courtesy_alone_is_no_time(text) -> None:
    assert read_when(text, now=NOW, tz=MSK).status is Reading.UNREADABLE


def test_a_step_and_its_time_with_courtesy_after_are_told_apart() -> None:
    split = split_when("send the proposal on friday pls", now=NOW, tz=MSK, lang_hint="en")
    assert split is not None and split.what == "send the proposal"
