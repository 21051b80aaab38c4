"""A survey score typed instead of tapped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.nps import typed_score


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("9", 9),
        (" 10 ", 10),
        ("0", 0),
        ("10/10", 10),
        ("8 из 10", 8),
        ("7 out of 10", 7),
        ("на 8", 8),
        ("Оценка: 6", 6),
        ("ставлю 9 баллов", 9),
        ("девять", 9),
        ("Десять!", 10),
        ("nine.", 9),
        ("zero", 0),
        ("my score is 4", 4),
    ],
)
def test_read(text: str, score: int) -> None:
    assert typed_score(text) == score


@pytest.mark.parametrize(
    "text",
    ["11", "100", "-1", "10 days late", "Всё отлично", "9 and 10", "3.5", "", "девятнадцать"],
)
def test_not_a_score(text: str) -> None:
    assert typed_score(text) is None


@given(st.text(max_size=40))
def test_any_text_is_a_score_in_range_or_none(text: str) -> None:
    found = typed_score(text)
    assert found is None or 0 <= found <= 10
