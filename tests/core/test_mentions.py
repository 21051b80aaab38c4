"""core.mentions: the cards a typed note names, through Russian case endings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.mentions import is_only_names, is_small_talk, name_probes, named_by, stem


def test_inflected_names_and_companies_are_found() -> None:
    note = "Позвонил Петру Сидорову, договорились о встрече в Ромашке в пятницу"
    probes = name_probes(note)
    assert named_by(probes, "Пётр Сидоров", "ООО Ромашка") == 3
    assert named_by(probes, "Анна Кузнецова", "Вектор") == 0
    assert named_by(name_probes("Встретился с Анной Кузнецовой"), "Анна Кузнецова") == 2
    assert named_by(name_probes("Lunch with Anna from Acme"), "Anna Smirnova", "Acme") == 2
    assert named_by(name_probes("called anna"), "Anna Smirnova") == 0  # not capitalised


def test_a_name_alone_is_a_lookup_and_a_sentence_is_a_note() -> None:
    assert is_only_names("Анна Кузнецова", "Анна Кузнецова", "Вектор")
    assert is_only_names("вектор", "Анна Кузнецова", "Вектор")
    assert not is_only_names("Позвонил Анне", "Анна Кузнецова", "Вектор")
    assert not is_only_names("Anna", "Bob Stone")
    assert not is_only_names("", "Anna")
    assert is_only_names("Anastasya", "Anastasia Client")  # a stem: a lookup still
    assert not is_only_names("Anastasya", "Anastasia Client", exact=True)
    assert is_only_names("anastasia cl", "Anastasia Client", exact=True)


@given(st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяabcdefgxyz", min_size=3, max_size=12))
def test_a_word_s_own_stem_always_names_it_whatever_its_ending(word: str) -> None:
    name = word.capitalize()
    for ending in ("", "у", "ой", "е", "ом", "'s"):
        assert named_by(name_probes(name + ending), name) == 1
        assert len(stem(name + ending)) >= 3


@pytest.mark.parametrize(
    ("text", "small"),
    [
        ("hello there", True),
        ("Добрый день!", True),
        ("спасибо, бот", True),
        ("ok", True),
        ("Hello Anna, thanks for the call", False),
        ("Позвонил Ивану", False),
        ("https://t.me/some_bot?start=", True),
        ("www.acme.io/team", True),
        ("Sent Anna the deck https://acme.io/deck", False),
        ("", False),
    ],
)
def test_small_talk_is_not_a_note(text: str, small: bool) -> None:
    assert is_small_talk(text) is small


def test_whole_words_name_a_card_and_a_part_of_one_does_not() -> None:
    assert is_only_names("carl client", "Carl Client", whole=True)
    assert is_only_names("Петрова", "Анна Петрова", "Бета", whole=True)
    assert not is_only_names("Петров", "Анна Петрова", whole=True)  # a part of a word
    assert is_only_names("Петров", "Анна Петрова", exact=True)  # what exact alone lets through
