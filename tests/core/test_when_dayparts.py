"""A part of today that is under way: "tonight" at 18:13 is later this evening, not 18:00.

"Tonight", "this evening", "сегодня вечером" (18:00) and "сегодня ночью" (22:00) typed once
their hour has passed are the next full hour while it is still that part of the day (up to
22:00 and 23:00), and the same part tomorrow after that: never a time already gone. "This
morning" / "сегодня утром" (09:00, up to 12:00) and "this afternoon" / "сегодня днём" (14:00,
up to 18:00) are the next full hour likewise; once the part is over they stay today's, and the
bot asks whether to save a time in the past (the rep named a part of today that has ended).
A part without a day ("утром", "вечером") is, as before, the next time it begins.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.nextstep import Reading, is_past, read_when, split_when

MSK = "Europe/Moscow"


def sunday(hour: int, minute: int) -> datetime:
    """Sunday, 29 Nov 2026, in Moscow (the QA report's "⚠️ Sun, 29 Nov 2026, 18:00")."""
    return datetime(2026, 11, 29, hour, minute, tzinfo=ZoneInfo(MSK))


def due(text: str, now: datetime, lang: str = "ru") -> str:
    when = read_when(text, now=now, tz=MSK, lang_hint=lang)
    assert when.status is Reading.OK, (text, when)
    assert when.due is not None
    return when.due.astimezone(ZoneInfo(MSK)).strftime("%Y-%m-%d %H:%M")


EVENING = ["tonight", "сегодня вечером", "this evening", "today in the evening", "today evening"]


@pytest.mark.parametrize("text", EVENING)
@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (10, 20, "2026-11-29 18:00"),
        (17, 40, "2026-11-29 18:00"),
        (18, 0, "2026-11-29 18:00"),
        (18, 13, "2026-11-29 19:00"),  # the QA report: it was 18:00, in the past
        (20, 59, "2026-11-29 21:00"),
        (21, 30, "2026-11-29 22:00"),
        (22, 5, "2026-11-30 18:00"),  # no evening left today: tomorrow's
        (23, 40, "2026-11-30 18:00"),
    ],
)
def test_tonight_once_its_hour_has_passed_is_later_tonight_or_tomorrow(
    text: str, hour: int, minute: int, expected: str
) -> None:
    now = sunday(hour, minute)
    assert due(text, now, "en" if text.isascii() else "ru") == expected
    assert not is_past(read_when(text, now=now, tz=MSK).due, now)


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (21, 0, "2026-11-29 22:00"),
        (22, 5, "2026-11-29 23:00"),
        (23, 10, "2026-11-30 22:00"),
    ],
)
def test_tonight_at_night_is_later_tonight_or_tomorrow_night(hour, minute, expected) -> None:
    assert due("сегодня ночью", sunday(hour, minute)) == expected


AFTERNOON = ["this afternoon", "today afternoon", "сегодня днём", "сегодня днем"]
MORNING = ["this morning", "today morning", "сегодня утром", "сегодня с утра"]


@pytest.mark.parametrize("text", AFTERNOON)
@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (11, 0, "2026-11-29 14:00"),
        (14, 30, "2026-11-29 15:00"),
        (17, 40, "2026-11-29 18:00"),
        (18, 13, "2026-11-29 14:00"),  # the afternoon is over: said as written, the bot asks
    ],
)
def test_this_afternoon_is_the_rest_of_it(text: str, hour: int, minute: int, expected) -> None:
    assert due(text, sunday(hour, minute), "en" if text.isascii() else "ru") == expected


@pytest.mark.parametrize("text", MORNING)
@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (8, 0, "2026-11-29 09:00"),
        (10, 20, "2026-11-29 11:00"),
        (11, 40, "2026-11-29 12:00"),
        (14, 30, "2026-11-29 09:00"),  # the morning is over: said as written, the bot asks
    ],
)
def test_this_morning_is_the_rest_of_it(text: str, hour: int, minute: int, expected) -> None:
    assert due(text, sunday(hour, minute), "en" if text.isascii() else "ru") == expected


def test_this_afternoon_after_lunch_counts_as_the_afternoon() -> None:
    assert due("сегодня после обеда", sunday(15, 20)) == "2026-11-29 16:00"


@pytest.mark.parametrize(
    ("text", "hour", "minute", "expected"),
    [
        ("утром", 14, 30, "2026-11-30 09:00"),  # typed in the afternoon: tomorrow morning
        ("утром", 10, 20, "2026-11-30 09:00"),
        ("morning", 14, 30, "2026-11-30 09:00"),
        ("вечером", 14, 30, "2026-11-29 18:00"),
        ("вечером", 18, 13, "2026-11-30 18:00"),
        ("in the afternoon", 15, 0, "2026-11-30 14:00"),
        ("tomorrow evening", 18, 13, "2026-11-30 18:00"),
        ("завтра утром", 10, 20, "2026-11-30 09:00"),
    ],
)
def test_a_part_of_the_day_without_today_is_the_next_time_it_begins(
    text, hour, minute, expected
) -> None:
    assert due(text, sunday(hour, minute)) == expected


@pytest.mark.parametrize(
    ("text", "hour", "minute", "expected"),
    [
        ("tonight at 8", 21, 30, "2026-11-29 20:00"),  # a time written is kept (and warned)
        ("this evening at 8", 12, 0, "2026-11-29 20:00"),
        ("this evening at 9:30", 12, 0, "2026-11-29 21:30"),
        ("this morning at 11", 8, 0, "2026-11-29 11:00"),
        ("this afternoon at 3", 8, 0, "2026-11-29 15:00"),
        ("сегодня в 18:00", 18, 13, "2026-11-29 18:00"),
        ("сегодня вечером в 7", 18, 13, "2026-11-29 19:00"),
        ("today", 18, 13, "2026-11-29 18:13"),
    ],
)
def test_a_time_written_with_the_part_is_that_time(text, hour, minute, expected) -> None:
    assert due(text, sunday(hour, minute)) == expected


@pytest.mark.parametrize(
    ("text", "lang", "what"),
    [
        ("позвонить сегодня вечером", "ru", "позвонить"),
        ("call back tonight", "en", "call back"),
        ("send the deck this evening", "en", "send the deck"),
    ],
)
def test_a_step_for_tonight_typed_in_the_evening_is_not_in_the_past(text, lang, what) -> None:
    now = sunday(18, 13)
    found = split_when(text, now=now, tz=MSK, lang_hint=lang)
    assert found is not None and found.due is not None
    assert found.what == what
    assert found.due.astimezone(ZoneInfo(MSK)).strftime("%Y-%m-%d %H:%M") == "2026-11-29 19:00"


# ---------------------------------------------------------------------------- properties

ZONES = ["Europe/Moscow", "UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
nows = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2080, 12, 31), timezones=st.just(UTC)
)


@given(
    now=nows,
    tz=st.sampled_from(ZONES),
    text=st.sampled_from([*EVENING, "сегодня ночью", "tonight pls"]),
)
def test_tonight_is_never_in_the_past(now: datetime, tz: str, text: str) -> None:
    when = read_when(text, now=now, tz=tz, lang_hint="ru")
    assert when.due is not None
    assert not is_past(when.due, now)
    local = when.due.astimezone(ZoneInfo(tz))
    today = now.astimezone(ZoneInfo(tz)).date()
    start, end = (time(22), time(23)) if "ночью" in text else (time(18), time(22))
    if local.date() == today:
        assert start <= local.time() <= end
    else:  # today's is over: tomorrow's, at its usual hour
        assert (local.date(), local.time()) == (today + timedelta(days=1), start)
        assert now.astimezone(ZoneInfo(tz)).time() >= end


@given(now=nows, tz=st.sampled_from(ZONES), text=st.sampled_from([*MORNING, *AFTERNOON]))
def test_this_morning_and_afternoon_stay_today_and_are_past_only_once_over(
    now: datetime, tz: str, text: str
) -> None:
    when = read_when(text, now=now, tz=tz, lang_hint="ru")
    assert when.due is not None
    local_now = now.astimezone(ZoneInfo(tz))
    local = when.due.astimezone(ZoneInfo(tz))
    assert local.date() == local_now.date()
    start, end = (time(9), time(12)) if text in MORNING else (time(14), time(18))
    assert start <= local.time() <= end
    if is_past(when.due, now):
        assert local.time() == start and local_now.time() >= end
