"""QA round 4: /contacts' typed words (core.listfilter.parse_words) silently dropped or changed
a word: two lists or two statuses (the last won), "overdue cold" (cold became a source), a
segment's name swallowing the filter words after it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from core.listfilter import ContactFilter, Meaning, fold, parse_words

WORDS: dict[str, list[Meaning]] = {
    "overdue": [("flag", "overdue")],
    "cold": [("flag", "cold")],
    "archived": [("flag", "archived")],
    "lead": [("status", "lead")],
    "client": [("status", "client")],
    "partner": [("status", "partner"), ("source", "partner")],
    "event": [("source", "event")],
    "segment": [("keyword", "segment")],
}


def meanings(phrase: str) -> Sequence[Meaning]:
    return WORDS.get(fold(phrase), [])


@pytest.mark.parametrize(
    ("text", "conflict"),
    [
        ("overdue cold", ("flag", "overdue", "cold")),
        ("archived overdue", ("flag", "archived", "overdue")),
        ("lead client", ("status", "lead", "client")),
        ("partner event lead", ("status", "partner", "lead")),
        ("#a #b", ("tag", "#a", "#b")),
        ("segment retail segment food", ("segment", "retail", "food")),
    ],
)
def test_two_words_for_one_thing_are_a_conflict(text: str, conflict: tuple) -> None:
    typed = parse_words(text, meanings, segments={"retail": "Retail", "food": "Food"})
    assert typed.conflict == conflict


@pytest.mark.parametrize(
    ("text", "flt"),
    [
        ("partner partner", ContactFilter(status="partner", source="partner")),
        ("partner client", ContactFilter(status="client", source="partner")),
        ("client partner", ContactFilter(status="client", source="partner")),
        ("event partner", ContactFilter(status="partner", source="event")),
        ("lead lead overdue", ContactFilter(status="lead", flag="overdue")),
        ("#vip #VIP", ContactFilter(tag="vip")),
    ],
)
def test_a_word_of_two_meanings_takes_the_free_one(text: str, flt: ContactFilter) -> None:
    typed = parse_words(text, meanings)
    assert (typed.flt, typed.conflict, typed.unknown) == (flt, None, ())


def test_a_segment_runs_to_the_next_filter_word_or_its_quote() -> None:
    known = {"retail food": "Retail Food", "елки": "Ёлки"}  # folded, as /contacts makes it
    typed = parse_words("segment foo lead", meanings, segments=known)
    assert typed.flt == ContactFilter(segment="foo", status="lead")
    assert typed.missing_segment == "foo"
    typed = parse_words("segment foo bar #vip", meanings, segments=known)
    assert typed.flt == ContactFilter(segment="foo bar", tag="vip")
    typed = parse_words("segment “foo lead” client", meanings, segments=known)
    assert typed.flt == ContactFilter(segment="foo lead", status="client")
    assert typed.missing_segment == "foo lead"
    typed = parse_words('segment "retail food" lead', meanings, segments=known)
    assert typed.flt == ContactFilter(segment="Retail Food", status="lead")
    assert typed.missing_segment is None
    typed = parse_words("segment елки", meanings, segments=known)  # е for ё
    assert (typed.flt.segment, typed.missing_segment) == ("Ёлки", None)
