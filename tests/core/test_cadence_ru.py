"""The team's touch rhythm as a manager types it: the stage names in Russian or English."""

from __future__ import annotations

import pytest

from core.cadence import effective_cadence, encode_cadence, parse_cadence, stage_of
from core.enums import Stage


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("развитие=10", {"development": 10}),
        ("удержание=20", {"retention": 20}),
        ("установление связи=5", {"connection": 5}),
        ("Установление  Связи = 5", {"connection": 5}),  # any case, spaces
        ("идентификация=1", {"identification": 1}),
        ("коммерческое взаимодействие=3", {"commercial": 3}),
        ("коммерция=4", {"commercial": 4}),
        ("удержание и рекомендации=45", {"retention": 45}),
        ("РАЗВИТИЕ=12; удержание=30", {"development": 12, "retention": 30}),
        ("connection=7, развитие=14, commercial=3", {"connection": 7, "development": 14, "commercial": 3}),
        ("retention & referral=30", {"retention": 30}),
        ("Connection=7", {"connection": 7}),
    ],
)  # fmt: skip
def test_russian_and_english_stage_names_are_read(text: str, expected: dict[str, int]) -> None:
    assert parse_cadence(text) == expected


def test_case_spaces_and_yo_are_folded() -> None:
    assert stage_of("Удержание  И Рекомендации ") == Stage.RETENTION.value
    assert stage_of("УСТАНОВЛЁНИЕ СВЯЗИ") == Stage.CONNECTION.value  # ё typed for е
    assert all(stage_of(s.value) == s.value for s in Stage)


@pytest.mark.parametrize(
    "text", ["развитие", "развитие=0", "развитие=366", "продажи=5", "удержание=много", "=5"]
)
def test_still_refuses_what_it_cannot_read(text: str) -> None:
    assert parse_cadence(text) is None


def test_a_russian_rhythm_is_stored_under_the_stage_codes() -> None:
    parsed = parse_cadence("развитие=10, удержание=20")
    assert parsed is not None
    assert encode_cadence(parsed) == "development=10,retention=20"
    cadence = effective_cadence(None, encode_cadence(parsed))
    assert cadence["development"] == 10 and cadence["retention"] == 20
    assert cadence["connection"] == 7  # the defaults stay for the stages not named
