from datetime import UTC, datetime, timedelta

import pytest

from core.nextstep import format_local, format_local_day, format_local_time, is_past, parse_when

# Friday, 27 Nov 2026, 15:00 in Moscow (UTC+3).
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TZ = "Europe/Moscow"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 10:00", utc(2026, 11, 28, 7, 0)),
        ("Tomorrow at 10:00", utc(2026, 11, 28, 7, 0)),
        ("tomorrow", utc(2026, 11, 28, 7, 0)),
        ("tomorrow 3pm", utc(2026, 11, 28, 12, 0)),
        ("in 3 days", utc(2026, 11, 30, 7, 0)),
        ("in 2 weeks", utc(2026, 12, 11, 7, 0)),
        ("in a week", utc(2026, 12, 4, 7, 0)),
        ("in 2 hours", utc(2026, 11, 27, 14, 0)),
        ("in 45 minutes", utc(2026, 11, 27, 12, 45)),
        ("in 1 month", utc(2026, 12, 27, 7, 0)),
        ("next friday", utc(2026, 12, 4, 7, 0)),
        ("next monday at 3pm", utc(2026, 11, 30, 12, 0)),
        ("friday", utc(2026, 12, 4, 7, 0)),
        ("on Wednesday 9:30", utc(2026, 12, 2, 6, 30)),
        ("sunday", utc(2026, 11, 29, 7, 0)),
        ("через 2 недели", utc(2026, 12, 11, 7, 0)),
        ("через неделю", utc(2026, 12, 4, 7, 0)),
        ("через 3 дня в 9:00", utc(2026, 11, 30, 6, 0)),
        ("через 2 часа", utc(2026, 11, 27, 14, 0)),
        ("через 30 минут", utc(2026, 11, 27, 12, 30)),
        ("через полчаса", utc(2026, 11, 27, 12, 30)),
        ("в понедельник", utc(2026, 11, 30, 7, 0)),
        ("в пятницу", utc(2026, 12, 4, 7, 0)),
        ("в среду", utc(2026, 12, 2, 7, 0)),
        ("во вторник", utc(2026, 12, 1, 7, 0)),
        ("в следующую среду", utc(2026, 12, 2, 7, 0)),
        ("в субботу в 11:30", utc(2026, 11, 28, 8, 30)),
        ("в пятницу в 7 вечера", utc(2026, 12, 4, 16, 0)),
        ("завтра в 15:00", utc(2026, 11, 28, 12, 0)),
        ("завтра в 9 утра", utc(2026, 11, 28, 6, 0)),
        ("завтра в 3 часа дня", utc(2026, 11, 28, 12, 0)),
        ("послезавтра", utc(2026, 11, 29, 7, 0)),
        ("сегодня в 18:30", utc(2026, 11, 27, 15, 30)),
        ("2026-12-01 14:30", utc(2026, 12, 1, 11, 30)),
        ("01.12.2026", utc(2026, 12, 1, 7, 0)),
        ("1 декабря", utc(2026, 12, 1, 7, 0)),
        ("1 декабря в 14:00", utc(2026, 12, 1, 11, 0)),
        ("December 1 at 3pm", utc(2026, 12, 1, 12, 0)),
        ("18:30", utc(2026, 11, 27, 15, 30)),
        ("9:00", utc(2026, 11, 28, 6, 0)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    result = parse_when(text, now=NOW, tz=TZ)
    assert result == expected
    assert result is not None and result.utcoffset() == timedelta(0)


def test_today_without_time_after_default_hour_is_now() -> None:
    assert parse_when("today", now=NOW, tz=TZ) == NOW
    morning = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)  # 08:00 in Moscow
    assert parse_when("сегодня", now=morning, tz=TZ) == utc(2026, 11, 27, 7, 0)


@pytest.mark.parametrize("text", ["", "   ", "call him", "asdf qwerty", "in many days", "в 25:00"])
def test_unparseable_returns_none(text: str) -> None:
    assert parse_when(text, now=NOW, tz=TZ) is None


def test_time_zone_is_respected() -> None:
    assert parse_when("tomorrow 10:00", now=NOW, tz="Asia/Novosibirsk") == utc(2026, 11, 28, 3, 0)
    assert parse_when("tomorrow 10:00", now=NOW, tz="UTC") == utc(2026, 11, 28, 10, 0)
    # Late evening in UTC is already "tomorrow" in Vladivostok (UTC+10).
    late = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    assert parse_when("tomorrow", now=late, tz="Asia/Vladivostok") == utc(2026, 11, 29, 0, 0)


def test_dst_zone() -> None:
    # 2026-03-29: Europe/Berlin switches from UTC+1 to UTC+2.
    now = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    assert parse_when("in 3 days", now=now, tz="Europe/Berlin") == utc(2026, 3, 30, 8, 0)
    assert parse_when("tomorrow", now=now, tz="Europe/Berlin") == utc(2026, 3, 28, 9, 0)


def test_naive_now_is_taken_as_utc() -> None:
    naive = datetime(2026, 11, 27, 12, 0)
    assert parse_when("tomorrow 10:00", now=naive, tz=TZ) == utc(2026, 11, 28, 7, 0)


def test_slash_date_follows_language_hint() -> None:
    assert parse_when("12/01/2027", now=NOW, tz=TZ, lang_hint="en") == utc(2027, 12, 1, 7, 0)
    assert parse_when("12/01/2027", now=NOW, tz=TZ, lang_hint="ru") == utc(2027, 1, 12, 7, 0)


def test_explicit_past_date_within_a_year_is_returned_as_is() -> None:
    result = parse_when("01.01.2026", now=NOW, tz=TZ)
    assert result == utc(2026, 1, 1, 7, 0)
    assert is_past(result, NOW)


def test_dates_out_of_range_are_refused_by_the_old_api_too() -> None:
    assert parse_when("01.01.2020", now=NOW, tz=TZ) is None
    assert parse_when("31.12.9999 23:00", now=NOW, tz=TZ) is None


def test_format_local_english() -> None:
    assert format_local(utc(2026, 11, 30, 7, 0), TZ, "en") == "Mon, 30 Nov 2026, 10:00"
    assert format_local(utc(2026, 5, 3, 21, 5), TZ, "en") == "Mon, 4 May 2026, 00:05"


def test_format_local_russian() -> None:
    assert format_local(utc(2026, 11, 30, 7, 0), TZ, "ru") == "пн, 30 нояб. 2026, 10:00"
    assert format_local(utc(2026, 5, 3, 21, 5), TZ, "ru") == "пн, 4 мая 2026, 00:05"
    assert format_local(utc(2026, 9, 6, 9, 0), TZ, "ru-RU") == "вс, 6 сент. 2026, 12:00"


def test_the_day_and_the_time_alone_are_the_local_ones() -> None:
    """Past midnight in Moscow, still the day before in UTC: the card's "Data verified" and
    /today's heading take the local day, /today's "due today" lines the local time."""
    late = utc(2026, 5, 3, 21, 5)
    assert format_local_day(late, TZ, "ru") == "пн, 4 мая 2026"
    assert format_local_day(late, "UTC", "en") == "Sun, 3 May 2026"
    assert format_local_time(late, TZ) == "00:05"
    edge = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)  # no local time east of UTC
    assert format_local_day(edge, TZ, "en") == "Fri, 31 Dec 9999"
    assert format_local_time(edge, TZ) == "23:30"


def test_format_local_unknown_language_falls_back_to_english() -> None:
    assert format_local(utc(2026, 12, 4, 7, 0), "UTC", "de") == "Fri, 4 Dec 2026, 07:00"


def test_is_past() -> None:
    assert is_past(NOW - timedelta(seconds=1), NOW)
    assert not is_past(NOW, NOW)
    # "today" typed at 12:00:45 is 12:00: this minute, not a time past to warn about
    assert not is_past(NOW, NOW + timedelta(seconds=45))
    assert is_past(NOW - timedelta(seconds=1), NOW + timedelta(seconds=45))
    assert not is_past(NOW + timedelta(minutes=1), NOW)
    assert is_past(datetime(2026, 11, 27, 11, 59), NOW)  # naive = UTC
