"""A next step and its time in one message: what is split off, what is left alone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.nextstep import read_when, split_when

# Friday, 27 Nov 2026, 16:30 in Moscow (UTC+3).
NOW = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)
MSK = "Europe/Moscow"


def split(text: str, lang: str = "en") -> tuple[str, str, str] | None:
    """What, the date words, and the due time in Moscow ("YYYY-MM-DD HH:MM")."""
    found = split_when(text, now=NOW, tz=MSK, lang_hint=lang)
    if found is None:
        return None
    local = found.due.astimezone(ZoneInfo(MSK))
    return found.what, found.when, local.strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("call back tomorrow 10:00", "en", ("call back", "tomorrow 10:00", "2026-11-28 10:00")),
        (
            "send the proposal on friday",
            "en",
            ("send the proposal", "on friday", "2026-12-04 10:00"),
        ),
        ("call back, tomorrow 3pm", "en", ("call back", "tomorrow 3pm", "2026-11-28 15:00")),
        ("tomorrow call Anna", "en", ("call Anna", "tomorrow", "2026-11-28 10:00")),
        ("позвонить завтра в 10", "ru", ("позвонить", "завтра в 10", "2026-11-28 10:00")),
        ("завтра в 10 позвонить", "ru", ("позвонить", "завтра в 10", "2026-11-28 10:00")),
        ("позвонить — в понедельник", "ru", ("позвонить", "в понедельник", "2026-11-30 10:00")),
        (
            "встреча 5 декабря в 15:00",
            "ru",
            ("встреча", "5 декабря в 15:00", "2026-12-05 15:00"),
        ),
        ("перезвонить через 2 недели", "ru", ("перезвонить", "через 2 недели", "2026-12-11 10:00")),
        ("отправить договор 12.12", "ru", ("отправить договор", "12.12", "2026-12-12 10:00")),
        ("отправить КП до пятницы", "ru", ("отправить КП", "до пятницы", "2026-12-04 10:00")),
        (
            "подписать договор до конца месяца",
            "ru",
            ("подписать договор", "до конца месяца", "2026-11-30 10:00"),
        ),
        ("продлить лицензию в январе", "ru", ("продлить лицензию", "в январе", "2027-01-01 10:00")),
        ("прислать счёт до конца дня", "ru", ("прислать счёт", "до конца дня", "2026-11-27 18:00")),
        ("send the deck by eod", "en", ("send the deck", "by eod", "2026-11-27 18:00")),
        (
            "renew the contract by the end of the year",
            "en",
            ("renew the contract", "by the end of the year", "2026-12-31 10:00"),
        ),
        # the longest run of date words wins: the preposition is not left behind
        (
            "позвонить Ивану насчёт сметы в пятницу",
            "ru",
            ("позвонить Ивану насчёт сметы", "в пятницу", "2026-12-04 10:00"),
        ),
    ],
)
def test_a_step_and_its_time_are_told_apart(
    text: str, lang: str, expected: tuple[str, str, str]
) -> None:
    assert split(text, lang) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "call",
        "send the proposal",
        "отправить КП на 10 страниц",  # a number inside the sentence is not a time
        "обсудить 3 пункта",
        "позвонить Марии",
        "встреча с Майей",
        "tomorrow",  # only a date: nothing says what to do
        "в пятницу",
        "завтра в 10",
        "позвонить 1 января 2020",  # a date out of the window is not taken as one
        "позвонить в",
    ],
)
def test_no_split_without_both_a_step_and_a_readable_time(text: str) -> None:
    assert split(text, "ru") is None
    assert split(text, "en") is None


WORDS = ["call", "send", "proposal", "Anna", "позвонить", "КП", "обсудить", "смету", "Acme"]
DATES = ["tomorrow 10:00", "on friday", "in 3 days", "завтра в 10", "через 2 недели", "01.12 15:00"]


@settings(max_examples=60, deadline=None)
@given(
    what=st.lists(st.sampled_from(WORDS), min_size=1, max_size=5),
    when=st.sampled_from(DATES),
    at_end=st.booleans(),
)
def test_any_step_with_a_date_before_or_after_it_splits_back(
    what: list[str], when: str, at_end: bool
) -> None:
    text = " ".join([*what, when] if at_end else [when, *what])
    found = split_when(text, now=NOW, tz=MSK, lang_hint="en")
    assert found is not None
    assert (found.what, found.when) == (" ".join(what), when)
    assert found.due == read_when(when, now=NOW, tz=MSK).due


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_either_left_whole_or_split_into_its_own_words(text: str) -> None:
    found = split_when(text, now=NOW, tz=MSK, lang_hint="ru")
    if found is None:
        return
    assert found.what and any(ch.isalpha() for ch in found.what)
    assert read_when(found.when, now=NOW, tz=MSK, lang_hint="ru").due == found.due
    written = " ".join(text.split())
    assert found.what in written and found.when in written


@pytest.mark.parametrize(
    ("text", "what", "when"),
    [
        ("позвонить завтра в 25:00", "позвонить", "завтра в 25:00"),
        ("call back tomorrow 10:75", "call back", "tomorrow 10:75"),
        ("отправить КП 31 февраля", "отправить КП", "31 февраля"),
        ("send the invoice on 31.04 at 10:00", "send the invoice", "on 31.04 at 10:00"),
    ],
)
def test_a_time_no_clock_shows_is_split_off_to_be_asked_about(text, what, when) -> None:
    """The step is the words before it; the time is asked about again (no due time is taken)."""
    found = split_when(text, now=NOW, tz=MSK, lang_hint="ru")
    assert found is not None and (found.what, found.when, found.due) == (what, when, None)
    assert split_when("завтра в 25:00", now=NOW, tz=MSK, lang_hint="ru") is None  # no step
