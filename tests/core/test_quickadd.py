import dataclasses

import pytest

from core.quickadd import QuickAdd, parse_quick_add


def test_full_english_example() -> None:
    result = parse_quick_add(
        "Anna Smirnova, Acme, CTO, +7 999 123-45-67, anna@acme.io @anna #event", "RU"
    )
    assert result == QuickAdd(
        name="Anna Smirnova",
        company="Acme",
        position="CTO",
        phone="+79991234567",
        email="anna@acme.io",
        username="anna",
        tags=("event",),
        notes=None,
        problems=(),
    )


def test_full_russian_example() -> None:
    result = parse_quick_add(
        "Иван Петров, ООО Ромашка, директор, 8 (912) 345-67-89, ivan@romashka.ru #выставка", "RU"
    )
    assert result.name == "Иван Петров"
    assert result.company == "ООО Ромашка"
    assert result.position == "директор"
    assert result.phone == "+79123456789"
    assert result.email == "ivan@romashka.ru"
    assert result.username is None
    assert result.tags == ("выставка",)
    assert result.problems == ()


def test_contacts_inside_a_part() -> None:
    result = parse_quick_add("Anna, +7 999 123-45-67 anna@acme.io", "RU")
    assert result.name == "Anna"
    assert result.company is None
    assert result.position is None
    assert result.phone == "+79991234567"
    assert result.email == "anna@acme.io"
    assert result.problems == ()


def test_contacts_anywhere_and_in_any_order() -> None:
    result = parse_quick_add("#vip @anna_s Anna Smirnova anna@acme.io, Acme #Event", "RU")
    assert result.name == "Anna Smirnova"
    assert result.company == "Acme"
    assert result.username == "anna_s"
    assert result.email == "anna@acme.io"
    assert result.tags == ("vip", "event")


def test_username_is_not_confused_with_email() -> None:
    result = parse_quick_add("Anna, anna@acme.io, @acme_io", "RU")
    assert result.email == "anna@acme.io"
    assert result.username == "acme_io"
    assert result.company is None


def test_telegram_link_is_a_username() -> None:
    result = parse_quick_add("Anna, https://t.me/anna_s", "RU")
    assert result.username == "anna_s"
    assert result.company is None


def test_extra_parts_go_to_notes() -> None:
    result = parse_quick_add("Anna, Acme, CTO, met at expo, likes tea; call in May", "RU")
    assert (result.name, result.company, result.position) == ("Anna", "Acme", "CTO")
    assert result.notes == "met at expo, likes tea, call in May"


def test_semicolons_separate_parts() -> None:
    result = parse_quick_add("Anna; Acme; CTO", "RU")
    assert (result.name, result.company, result.position) == ("Anna", "Acme", "CTO")


def test_empty_parts_are_skipped_and_whitespace_collapsed() -> None:
    result = parse_quick_add("  Anna    Smirnova ,, ,  Acme   Corp  ,", "RU")
    assert result.name == "Anna Smirnova"
    assert result.company == "Acme Corp"
    assert result.position is None


def test_bad_phone_is_reported_and_rest_kept() -> None:
    result = parse_quick_add("Anna, Acme, +7 000 12-34-567, anna@acme.io", "RU")
    assert result.phone is None
    assert result.problems == (("bad_phone", "+7 000 12-34-567"),)
    assert result.name == "Anna"
    assert result.company == "Acme"
    assert result.email == "anna@acme.io"


def test_bad_email_is_reported() -> None:
    result = parse_quick_add("Anna, anna@acme, Acme", "RU")
    assert result.email is None
    assert result.problems == (("bad_email", "anna@acme"),)
    assert result.company == "Acme"


def test_short_digit_runs_are_not_phones() -> None:
    result = parse_quick_add("Anna, Acme 2024, room 123-45", "RU")
    assert result.phone is None
    assert result.problems == ()
    assert result.company == "Acme 2024"
    assert result.position == "room 123-45"


def test_dates_are_not_phones() -> None:
    result = parse_quick_add("Anna, Acme, CTO, met 01.12.2026", "RU")
    assert result.phone is None
    assert result.problems == ()
    assert result.notes == "met 01.12.2026"


def test_phone_in_brackets_leaves_clean_name() -> None:
    result = parse_quick_add("Anna (+7 999 123-45-67)", "RU")
    assert result.name == "Anna"
    assert result.phone == "+79991234567"


def test_missing_name() -> None:
    result = parse_quick_add("+7 999 123-45-67 anna@acme.io #event", "RU")
    assert result.name is None
    assert result.phone == "+79991234567"
    assert result.problems == (("no_name", ""),)
    assert result.problem_codes == ("no_name",)


def test_empty_input() -> None:
    result = parse_quick_add("   ", "RU")
    assert result.name is None
    assert result.problems == (("no_name", ""),)


def test_region_is_used_for_local_numbers() -> None:
    assert parse_quick_add("Bob, (202) 456-1111", "US").phone == "+12024561111"
    result = parse_quick_add("Bob, (202) 456-1111", "RU")
    assert result.phone is None
    assert result.problems == (("bad_phone", "(202) 456-1111"),)


def test_duplicate_tags_are_merged() -> None:
    assert parse_quick_add("Anna #Event #event #vip", "RU").tags == ("event", "vip")


def test_long_fields_are_kept_whole_to_be_cut_when_saved_and_said() -> None:
    """The parser cut them to 256 in silence; saving cuts them to their fields' limits and
    says so (views.adding.cut_notice)."""
    result = parse_quick_add("A" * 300 + ", " + "B" * 300, "RU")
    assert result.name == "A" * 300
    assert result.company == "B" * 300


def test_second_different_phone_is_reported() -> None:
    result = parse_quick_add("Anna, +7 999 123-45-67, +7 912 345-67-89", "RU")
    assert result.phone == "+79991234567"
    assert result.problems == (("extra_phone", "+7 912 345-67-89"),)


def test_result_is_frozen() -> None:
    result = parse_quick_add("Anna", "RU")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.name = "Bob"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "code", "raw"),
    [
        ("Zed Zero, Corp, zed@@corp", "bad_email", "zed@@corp"),
        ("Anna, Acme, CTO, +7 999 12", "bad_phone", "+7 999 12"),
        ("Bob, Acme, +7 abc", "bad_phone", "+7"),
    ],
)
def test_bad_contact_data_is_reported_not_filed_as_a_job_title(text, code, raw) -> None:
    parsed = parse_quick_add(text, "RU")
    assert (code, raw) in parsed.problems
    assert raw not in (parsed.position or "") and raw not in (parsed.company or "")
    assert parsed.phone is None and parsed.email is None


@pytest.mark.parametrize(
    ("text", "more"),
    [
        ("Anna Smirnova", False),
        ("Анна-Мария О'Нил (Acme)", False),
        ("Room 12 Anna", False),  # a short number is part of a name
        ("Anna, Acme", True),
        ("Anna +7 916 123-45-67", True),
        ("+7 916 123-45-67", True),  # no name at all
        ("anna@acme.io", True),
        ("Anna #event", True),
        ("Anna +7 abc", True),  # a broken phone is told, not kept in the name
    ],
)
def test_more_than_a_name(text: str, more: bool) -> None:
    """The /add dialogue's name question takes a plain name as it is, anything more as /add."""
    assert parse_quick_add(text, "RU").more_than_a_name is more


@pytest.mark.parametrize("text", ["12345", "!!!", "12-34", "🙂", "12345, Acme"])
def test_a_name_without_letters_is_no_name(text: str) -> None:
    """A card named "12345" was saved from "/add 12345" (too short for a phone): now said."""
    parsed = parse_quick_add(text, "RU")
    assert parsed.name is None
    assert ("not_a_name", text.split(",")[0]) in parsed.problems
    if "Acme" in text:
        assert parsed.company == "Acme"  # the rest stays where it was typed


@pytest.mark.parametrize("text", ["3M", "Анна", "X Æ A-12", "李雷", "O'Neil 2"])
def test_a_name_with_a_letter_is_a_name(text: str) -> None:
    assert parse_quick_add(text, "RU").name == text


@pytest.mark.parametrize(
    ("text", "company", "position"),
    [
        ('Alice Zephyr, "Quotes, Inc.", +14155550111', '"Quotes, Inc."', None),
        ("Мария Иванова, ООО «Ромашка, Лютик», +79991234567", "ООО «Ромашка, Лютик»", None),
        ("Bob Zed, Acme, Inc., +14155550112", "Acme, Inc.", None),
        ("Ivan, Acme, LLC, CEO", "Acme, LLC", "CEO"),
        ('Ivan, "unclosed, Acme', '"unclosed', "Acme"),  # a quote never closed quotes nothing
    ],
)
def test_a_company_in_quotes_or_with_its_legal_form_after_a_comma_is_one(
    text: str, company: str, position: str | None
) -> None:
    """ "Quotes, Inc." in quotes was split into company '"Quotes' and position 'Inc."'."""
    parsed = parse_quick_add(text, "RU")
    assert (parsed.company, parsed.position) == (company, position)
