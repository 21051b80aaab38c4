import pytest

from core.dedupe import (
    CLOSE_MATCH_THRESHOLD,
    company_similarity,
    is_close_match,
    name_company_similarity,
    name_similarity,
)


def test_threshold() -> None:
    assert CLOSE_MATCH_THRESHOLD == 88


def test_identical_is_100() -> None:
    assert name_company_similarity("Anna Smirnova", "Acme", "Anna Smirnova", "Acme") == 100


def test_case_punctuation_and_legal_form_are_ignored() -> None:
    assert name_company_similarity("Anna Smirnova", "Acme", "anna smirnova", "ACME Inc.") == 100
    assert company_similarity("ООО «Ромашка»", "Romashka LLC") == 100
    assert is_close_match("Anna Smirnova", "Acme", "Anna Smirnova", "ACME Inc")


def test_cyrillic_and_latin_spellings_match() -> None:
    assert name_similarity("Анна Смирнова", "Anna Smirnova") == 100
    assert is_close_match("Анна Смирнова", None, "Anna Smirnova", None)
    assert is_close_match("Анна Смирнова", "Ромашка", "Anna Smirnova", "Romashka")
    assert is_close_match("Алексей Щукин", "", "Aleksei Shchukin", "")
    assert is_close_match("Фёдор Петров", "", "Федор Петров", "")


def test_word_order_and_small_typos() -> None:
    assert is_close_match("Smirnova Anna", "Acme", "Anna Smirnova", "Acme")
    assert is_close_match("Anna Smirnova", "Acme", "Ana Smirnova", "Acme")
    assert is_close_match("Ivan", "Acme", "Iván", "ООО Acme")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Anna Smirnova", "Acme"), ("Anna Ivanova", "Acme")),
        (("Anna Smirnova", "Acme"), ("Anna Smirnova", "Globex")),
        (("Anna Smirnova", "Acme"), ("Boris Petrov", "Globex")),
        (("Иван Петров", "Ромашка"), ("Пётр Иванов", "Лютик")),
        (("Anna", ""), ("Anton", "")),
        (("", "Acme"), ("", "Acme")),
    ],
)
def test_clear_non_matches(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert not is_close_match(a[0], a[1], b[0], b[1])


def test_non_matches_score_low() -> None:
    assert name_company_similarity("Anna Smirnova", "Acme", "Boris Petrov", "Globex") < 50
    assert name_company_similarity("Anna Smirnova", "Acme", "Anna Smirnova", "Globex") < 88


def test_company_on_one_side_only() -> None:
    assert not is_close_match("Anna Smirnova", "Acme", "Anna Smirnova", None)
    assert is_close_match(
        "Anna Smirnova", "Acme", "Anna Smirnova", None, one_sided_company_matches=True
    )
    assert not is_close_match(
        "Anna Smirnova", "Acme", "Boris Petrov", None, one_sided_company_matches=True
    )


def test_custom_threshold() -> None:
    assert not is_close_match("Anna Smirnova", "Acme", "Ana Smirnova", "Acme", threshold=99)
    assert is_close_match("Anna Smirnova", "Acme", "Anna Ivanova", "Acme", threshold=70)


def test_scores_are_in_range_and_symmetric() -> None:
    pairs = [
        ("Anna Smirnova", "Acme", "Ana Smirnova", "Acme Inc"),
        ("Иван", None, "Ivan Petrov", "Romashka"),
        ("", None, "", None),
    ]
    for name_a, company_a, name_b, company_b in pairs:
        forward = name_company_similarity(name_a, company_a, name_b, company_b)
        backward = name_company_similarity(name_b, company_b, name_a, company_a)
        assert 0 <= forward <= 100
        assert forward == backward
