"""Working hours as people type them in /settings, English and Russian."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.workhours import WorkHours, backwards_hours, no_such_hours, parse_work_hours

WEEKDAYS = frozenset({1, 2, 3, 4, 5})
EVERY_DAY = frozenset(range(1, 8))


@pytest.mark.parametrize(
    ("typed", "start", "end", "days"),
    [
        ("Mon-Fri 09:00-19:00", "09:00", "19:00", WEEKDAYS),
        ("пн-сб 10-18", "10:00", "18:00", frozenset({1, 2, 3, 4, 5, 6})),
        ("9-18", "09:00", "18:00", WEEKDAYS),
        # were refused
        ("с 10 до 18", "10:00", "18:00", WEEKDAYS),
        ("по будням с 9 до 18", "09:00", "18:00", WEEKDAYS),
        ("с 9 до 18 по будням", "09:00", "18:00", WEEKDAYS),
        ("будни 9:30-18:30", "09:30", "18:30", WEEKDAYS),
        ("ежедневно 10-20", "10:00", "20:00", EVERY_DAY),
        ("понедельник-пятница 9-18", "09:00", "18:00", WEEKDAYS),
        ("сб-вс 10-14", "10:00", "14:00", frozenset({6, 7})),
        ("from 9 to 17", "09:00", "17:00", WEEKDAYS),
        ("weekdays 9.30-18.30", "09:30", "18:30", WEEKDAYS),
        ("Monday-Friday 9am-6pm", "09:00", "18:00", WEEKDAYS),
        ("8:30am-5:30pm", "08:30", "17:30", WEEKDAYS),
        ("everyday 9-5", "09:00", "17:00", EVERY_DAY),  # nine to five
        ("10-6", "10:00", "18:00", WEEKDAYS),
    ],
)
def test_typed_hours(typed: str, start: str, end: str, days: frozenset[int]) -> None:
    assert parse_work_hours(typed) == WorkHours(
        time.fromisoformat(start), time.fromisoformat(end), days
    )


@pytest.mark.parametrize(
    "typed",
    [
        "пн-пт 9-18, сб 10-14",  # two ranges: one range for all days is what is kept
        "22-6",  # a night shift: the day must end after it starts
        "9:00-5:00",  # minutes given: taken as written, and refused
        "когда-нибудь",
        "пн-пт",
        "25-30",
    ],
)
def test_refused(typed: str) -> None:
    assert parse_work_hours(typed) is None


@pytest.mark.parametrize(
    ("typed", "impossible"),
    [
        ("25:00-26:00", True),
        ("пн-пт 9:75-18", True),
        ("9-25", True),
        ("9-24", False),  # to the end of the day: read
        ("9-18", False),
        ("22-6", False),  # real hours, refused for another reason
        ("пн-пт 9-18, сб 10-14", False),
        ("когда-нибудь", False),
    ],
)
def test_hours_no_clock_shows(typed: str, impossible: bool) -> None:
    assert no_such_hours(typed) is impossible
    if impossible:
        assert parse_work_hours(typed) is None


@given(st.text(max_size=60))
def test_any_text_is_refused_or_a_valid_day(text: str) -> None:
    found = parse_work_hours(text)
    assert found is None or (found.start < found.end and found.days <= set(range(1, 8)))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("22:00-06:00", "overnight"),
        ("Mon-Fri 19:00-09:00", "overnight"),
        ("пн-пт 22-6", "overnight"),
        ("10-10", "empty"),
        ("9:30-9:30", "empty"),
        ("9-5", None),  # nine to five
        ("9-18", None),
        ("25:00-26:00", None),  # no clock shows it: said so elsewhere
    ],
)
def test_hours_that_end_before_they_start_are_told_apart(text: str, said: str | None) -> None:
    assert backwards_hours(text) == said
