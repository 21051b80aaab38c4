"""A weekday written before the date it names ("friday 4 dec at 3", "в среду 2.12 в 5"): the
date says which one. They fell through to dateparser ("в среду 2.12 в 5" was 5 Nov, 02:12, in
the past) or, typed with the step, split "friday" off as the step."""

from __future__ import annotations

import pytest

from core.nextstep import split_when
from tests.core.test_when_hours import MSK, NOW, due


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("friday 4 dec at 3", "en", "2026-12-04 15:00"),
        ("в среду 2.12 в 5", "ru", "2026-12-02 17:00"),
        ("пт, 4 декабря 10:00", "ru", "2026-12-04 10:00"),
        ("on Tuesday 2026-12-08", "en", "2026-12-08 10:00"),
        ("friday", "en", "2026-12-04 10:00"),  # no date after it: the next Friday, as before
        ("friday at 3", "en", "2026-12-04 15:00"),
        ("next friday", "en", "2026-12-04 10:00"),
    ],
)
def test_the_date_after_a_weekday_says_which_day(text: str, lang: str, expected: str) -> None:
    assert due(text, lang) == expected


def test_a_step_with_a_weekday_and_a_date_keeps_the_whole_date() -> None:
    split = split_when("call Anna friday 4 dec at 3", now=NOW, tz=MSK, lang_hint="en")
    assert split is not None and (split.what, split.when) == ("call Anna", "friday 4 dec at 3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a week from today", "2026-12-04 10:00"),  # dateparser: 20 Nov, a week ago
        ("2 weeks from now", "2026-12-11 10:00"),
        ("3 days from today at 3", "2026-11-30 15:00"),
    ],
)
def test_an_amount_from_today_is_ahead(text: str, expected: str) -> None:
    assert due(text, "en") == expected
