import pytest

from core.contactdata import (
    digits_only,
    normalize_email,
    normalize_phone,
    normalize_tag,
    normalize_username,
    phone_or_email,
    query_variants,
    search_key,
    translit,
)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+7 999 123-45-67", "RU", "+79991234567"),
        ("8 (912) 345-67-89", "RU", "+79123456789"),
        ("89123456789", "RU", "+79123456789"),
        ("  +7(912)345.67.89 ", "US", "+79123456789"),
        ("0049 30 901820", "RU", "+4930901820"),
        ("(202) 456-1111", "US", "+12024561111"),
        ("+44 20 7946 0958", "RU", "+442079460958"),
        ("030 901820", "DE", "+4930901820"),
    ],
)
def test_normalize_phone_valid(raw: str, region: str, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "12345", "+7 999 12", "+7 000 000 00 00 00 00", "hello", "+1 555 0100", "8 (812)"],
)
def test_normalize_phone_invalid(raw: str) -> None:
    assert normalize_phone(raw, "RU") is None


def test_normalize_phone_region_matters() -> None:
    assert normalize_phone("9123456789", "RU") == "+79123456789"
    assert normalize_phone("2024561111", "US") == "+12024561111"
    assert normalize_phone("2024561111", "RU") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("anna@acme.io", "anna@acme.io"),
        ("  Anna.Smirnova@ACME.IO ", "anna.smirnova@acme.io"),
        ("first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"),
        ("mailto:bob@example.com", "bob@example.com"),
        ("ivan@ромашка.рф", "ivan@ромашка.рф"),
        ("o'brien_x-y@my-domain.org", "o'brien_x-y@my-domain.org"),
    ],
)
def test_normalize_email_valid(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "anna",
        "@anna",
        "anna@",
        "anna@acme",
        "anna@acme.c",
        "an na@acme.io",
        "anna@ac me.io",
        "anna@@acme.io",
        "a@b@acme.io",
        "anna@acme..io",
        ".anna@acme.io",
        "anna.@acme.io",
        "anna@-acme.io",
        "anna@acme.io1",
    ],
)
def test_normalize_email_invalid(raw: str) -> None:
    assert normalize_email(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@anna_s", "anna_s"),
        ("anna_s", "anna_s"),
        ("https://t.me/Anna_S", "Anna_S"),
        ("http://t.me/anna_s/", "anna_s"),
        ("t.me/anna_s", "anna_s"),
        ("telegram.me/anna_s", "anna_s"),
        ("  @ivan2024 ", "ivan2024"),
        ("@anna", "anna"),  # 4-char collectible usernames exist
        ("@" + "a" * 32, "a" * 32),
    ],
)
def test_normalize_username_valid(raw: str, expected: str) -> None:
    assert normalize_username(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "@",
        "@abc",
        "@" + "a" * 33,
        "@1anna",
        "@_anna",
        "@anna-smirnova",
        "@анна_смирнова",
        "anna@acme.io",
        "https://example.com/anna_s",
        "@@anna_s",
        "anna s",
    ],
)
def test_normalize_username_invalid(raw: str) -> None:
    assert normalize_username(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("#Event", "event"),
        ("event", "event"),
        ("#Выставка", "выставка"),
        ("#ВЫСТАВКА-2026", "выставка-2026"),
        ("#hot_lead", "hot_lead"),
        (" #x ", "x"),
        ("#" + "a" * 32, "a" * 32),
    ],
)
def test_normalize_tag_valid(raw: str, expected: str) -> None:
    assert normalize_tag(raw) == expected


@pytest.mark.parametrize("raw", ["", "#", "# ", "#two words", "#a.b", "#a,b", "#" + "a" * 33, "#!"])
def test_normalize_tag_invalid(raw: str) -> None:
    assert normalize_tag(raw) is None


def test_digits_only() -> None:
    assert digits_only("+7 (999) 123-45-67") == "79991234567"
    assert digits_only("no digits") == ""
    assert digits_only("١٢٣ 12") == "12"  # only ASCII digits are kept


def test_translit() -> None:
    assert translit("Анна Смирнова") == "Anna Smirnova"
    assert translit("жук хор цапля чай шар щука") == "zhuk khor tsaplya chai shar shchuka"
    assert translit("объём съезд мышь эхо юла яма") == "obem sezd mysh ekho yula yama"
    assert translit("Щукин") == "Shchukin"
    assert translit("Acme 123") == "Acme 123"


def test_search_key_contains_both_scripts() -> None:
    assert search_key("  Анна   Смирнова ") == "анна смирнова anna smirnova"
    assert search_key("Anna SMIRNOVA") == "anna smirnova"
    assert search_key("Фёдор") == "федор fedor"
    assert search_key("") == ""


def test_query_variants() -> None:
    assert query_variants("Анна") == ["анна", "anna"]
    assert query_variants("  ANNA  ") == ["anna"]
    assert query_variants("Ёлка") == ["елка", "elka"]
    assert query_variants("   ") == []


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("Анна Смирнова", "anna"),
        ("Анна Смирнова", "АННА"),
        ("Anna Smirnova", "анна"),
        ("Anna Smirnova", "smirn"),
        ("Фёдор Щукин", "федор щук"),
        ("Фёдор Щукин", "shchukin"),
    ],
)
def test_search_matches_across_scripts(stored: str, query: str) -> None:
    key = search_key(stored)
    assert any(variant in key for variant in query_variants(query))


def test_search_does_not_match_unrelated() -> None:
    key = search_key("Анна Смирнова")
    assert not any(variant in key for variant in query_variants("ivan"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8 (912) 555-66-77", ("phone", "+79125556677")),
        ("+44 20 7946 0958", ("phone", "+442079460958")),
        ("Ivan@Acme.io", ("email", "ivan@acme.io")),
        ("3M", None),  # a company
        ("Room 101", None),
        ("1234567890123456789", None),  # digits, but no phone
        ("CTO", None),
        ("ivan@", None),
        ("+7 912 555-66-77 ext. Ivan", None),  # letters: not the phone alone
    ],
)
def test_phone_or_email_alone(text: str, expected: tuple[str, str] | None) -> None:
    assert phone_or_email(text, "RU") == expected


def test_a_piece_of_a_phone_as_cards_show_it_is_searched_by_its_digits() -> None:
    """ "/find 45-67" found nothing while "4567" and "45 67" found the card."""
    from core.contactdata import parse_query

    for typed, digits in (("45-67", "4567"), ("45 67", "4567"), ("(912) 1", "9121")):
        found = parse_query(typed)
        assert found is not None and (found.kind, found.variants) == ("text", (digits,))
    assert parse_query("4567") == parse_query("45-67")
    assert parse_query("Anna-Maria").variants == ("anna-maria",)  # words are words
