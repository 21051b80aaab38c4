"""What people type for their time zone: cities in English and Russian, abbreviations, offsets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.timezones import find_timezone, resolve_timezone, zone_label, zone_name


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        # abbreviations and nicknames: "мск" was taken for Omsk (three hours off)
        ("мск", "Europe/Moscow"),
        ("MSK", "Europe/Moscow"),
        ("спб", "Europe/Moscow"),
        ("Питер", "Europe/Moscow"),
        ("St Petersburg", "Europe/Moscow"),  # was America/Indiana/Petersburg
        ("екб", "Asia/Yekaterinburg"),
        ("нск", "Asia/Novosibirsk"),
        ("Moskva", "Europe/Moscow"),
        # a zone's own city, as Babel names it in either language
        ("Томск", "Asia/Tomsk"),  # was Asia/Omsk, an hour off
        ("Tomsk", "Asia/Tomsk"),
        ("Омск", "Asia/Omsk"),
        ("Москва", "Europe/Moscow"),
        ("Лос-Анджелес", "America/Los_Angeles"),
        ("Лиссабон", "Europe/Lisbon"),
        ("Хошимин", "Asia/Ho_Chi_Minh"),
        ("Екатеринбург", "Asia/Yekaterinburg"),
        ("Novosibirsk", "Asia/Novosibirsk"),
        ("new york", "America/New_York"),
        ("Europe/Berlin", "Europe/Berlin"),
        # big cities in another city's zone
        ("Сочи", "Europe/Moscow"),
        ("Тюмень", "Asia/Yekaterinburg"),
        ("Бали", "Asia/Makassar"),
        # a slip of the finger in a long name is forgiven
        ("Novosibirks", "Asia/Novosibirsk"),
        ("Екатеринбрг", "Asia/Yekaterinburg"),
        # offsets
        ("UTC+3", "Etc/GMT-3"),
        ("gmt", "UTC"),
    ],
)
def test_typed_zone(typed: str, zone: str) -> None:
    assert resolve_timezone(typed) == zone


@pytest.mark.parametrize("typed", ["омс", "xyz", "Масква-сити", "", "UTC+15", "a" * 65])
def test_short_or_unknown_words_are_not_guessed(typed: str) -> None:
    assert resolve_timezone(typed) is None


def test_an_offset_zone_is_shown_as_typed() -> None:
    assert zone_label("Etc/GMT-3") == "UTC+3"


@given(st.text(max_size=80))
def test_any_text_gives_a_real_zone_or_none(text: str) -> None:
    from zoneinfo import ZoneInfo

    zone = resolve_timezone(text)
    assert zone is None or ZoneInfo(zone) is not None


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("Novosibirsk", ("Asia/Novosibirsk", True)),
        ("мск", ("Europe/Moscow", True)),
        ("UTC+3", ("Etc/GMT-3", True)),
        ("Novosibirks", ("Asia/Novosibirsk", False)),  # a close spelling: asked about
        ("Atlantis", ("Canada/Atlantic", False)),
    ],
)
def test_a_close_spelling_is_told_apart_from_a_name(typed: str, found: tuple[str, bool]) -> None:
    assert find_timezone(typed) == found


@pytest.mark.parametrize(
    ("zone", "lang", "shown"),
    [
        ("Europe/Moscow", "ru", "Москва, UTC+3"),
        ("Asia/Novosibirsk", "en", "Novosibirsk, UTC+7"),
        ("Asia/Kolkata", "en", "Kolkata, UTC+5:30"),
        ("America/New_York", "ru", "Нью-Йорк, UTC-5"),  # in November: standard time
        ("Etc/GMT-3", "en", "UTC+3"),
        ("Etc/UTC", "ru", "UTC"),
        ("UTC", "en", "UTC"),
    ],
)
def test_a_zone_is_shown_as_a_city_and_its_offset(zone: str, lang: str, shown: str) -> None:
    """Settings showed "Asia/Novosibirsk" to a Russian rep: a city in their language now."""
    assert zone_name(zone, lang, datetime(2026, 11, 29, tzinfo=UTC)) == shown


def test_the_offset_follows_summer_time() -> None:
    assert zone_name("America/New_York", "en", datetime(2026, 7, 1, tzinfo=UTC)) == (
        "New York, UTC-4"
    )


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        # offsets with minutes: the zone that keeps them (they were "I can't find")
        ("UTC+5:30", "Asia/Kolkata"),
        ("UTC+5.5", "Asia/Kolkata"),
        ("+5:45", "Asia/Kathmandu"),
        ("UTC-3:30", "America/St_Johns"),
        # a country with one time (CLDR names, the tz database's zones by country)
        ("India", "Asia/Kolkata"),
        ("Индия", "Asia/Kolkata"),
        ("Germany", "Europe/Berlin"),
        ("Великобритания", "Europe/London"),
        ("Paris, France", "Europe/Paris"),
        # cities and abbreviations people write; EST keeps summer time (not the fixed zone)
        ("Mumbai", "Asia/Kolkata"),
        ("Мумбаи", "Asia/Kolkata"),
        ("New Delhi", "Asia/Kolkata"),
        ("Камчатка", "Asia/Kamchatka"),
        ("PST", "America/Los_Angeles"),
        ("EST", "America/New_York"),
    ],
)
def test_more_ways_to_name_a_zone(text: str, zone: str) -> None:
    assert find_timezone(text) == (zone, True)


@pytest.mark.parametrize("text", ["Russia", "USA", "Китай", "UTC+7:15"])
def test_a_country_of_several_times_or_an_odd_offset_is_not_guessed(text: str) -> None:
    assert find_timezone(text) is None
