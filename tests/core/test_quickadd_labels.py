"""Quick add: labels before contacts, job titles as the second part, legal forms in the name."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.jobtitles import is_job_title
from core.quickadd import parse_quick_add

PHONE = "+7 912 000-00-99"

# --- 1. labels typed before (or around) a phone, e-mail or username are dropped -------------


@pytest.mark.parametrize(
    ("text", "name", "company", "position"),
    [
        ("Sergey Ivanov, tel. 8 912 123-45-67", "Sergey Ivanov", None, None),
        (
            "Olga Petrova, Petrova LLC, +7 912 000-00-99, email: olga@mail.ru",
            "Olga Petrova",
            "Petrova LLC",
            None,
        ),
        ("Сергей Иванов, тел. 8 912 123-45-67", "Сергей Иванов", None, None),
        ("Никита, т. +7 912 000-00-99", "Никита", None, None),
    ],
)
def test_qa_examples(text: str, name: str, company: str | None, position: str | None) -> None:
    parsed = parse_quick_add(text, "RU")
    assert (parsed.name, parsed.company, parsed.position) == (name, company, position)
    assert parsed.notes is None
    assert parsed.problems == ()
    assert parsed.phone is not None


@pytest.mark.parametrize(
    "label",
    [
        "tel",
        "tel.",
        "Tel:",
        "TEL.",
        "phone",
        "Phone:",
        "ph.",
        "mob.",
        "mobile",
        "cell",
        "т.",
        "тел.",
        "тел",
        "Тел:",
        "телефон",
        "Телефон:",
        "моб.",
        "мобильный",
        "сот.",
        "моб. тел.:",
        "tg",
        "telegram:",
    ],
)
def test_phone_labels_are_dropped(label: str) -> None:
    parsed = parse_quick_add(f"Anna Smirnova, Acme, {label} {PHONE}", "RU")
    assert (parsed.name, parsed.company, parsed.position) == ("Anna Smirnova", "Acme", None)
    assert parsed.phone == "+79120000099"
    assert parsed.notes is None and parsed.problems == ()


@pytest.mark.parametrize(
    "label",
    ["e-mail", "e-mail:", "E-Mail:", "email", "EMAIL:", "mail:", "эл. почта", "Почта:", "почта"],
)
def test_email_labels_are_dropped(label: str) -> None:
    parsed = parse_quick_add(f"Anna, Acme, CTO, {label} anna@acme.io", "RU")
    assert (parsed.name, parsed.company, parsed.position) == ("Anna", "Acme", "CTO")
    assert parsed.email == "anna@acme.io"
    assert parsed.notes is None and parsed.problems == ()


@pytest.mark.parametrize("label", ["tg", "TG:", "telegram", "Telegram:", "телеграм", "Тг:"])
def test_username_labels_are_dropped(label: str) -> None:
    parsed = parse_quick_add(f"Anna, Acme, {label} @anna_s", "RU")
    assert (parsed.name, parsed.company, parsed.position) == ("Anna", "Acme", None)
    assert parsed.username == "anna_s"


def test_label_inside_the_name_part_is_dropped() -> None:
    parsed = parse_quick_add("Sergey Ivanov tel. 8 912 123-45-67 email: s@ivanov.ru", "RU")
    assert parsed.name == "Sergey Ivanov"
    assert parsed.company is None
    assert parsed.email == "s@ivanov.ru"


def test_labels_glued_to_their_contact() -> None:
    parsed = parse_quick_add("Anna, email:anna@acme.io, tg:@anna_s, тел.8 912 123-45-67", "RU")
    assert parsed.email == "anna@acme.io"
    assert parsed.username == "anna_s"
    assert parsed.phone == "+79121234567"
    assert (parsed.company, parsed.position, parsed.problems) == (None, None, ())


def test_labels_after_or_around_a_contact_are_dropped() -> None:
    parsed = parse_quick_add(f"Anna, Acme, {PHONE} (mob.), (tel. {PHONE})", "RU")
    assert (parsed.name, parsed.company, parsed.position) == ("Anna", "Acme", None)
    assert parsed.notes is None
    parsed = parse_quick_add("Anna, @anna_s telegram, Acme", "RU")
    assert (parsed.company, parsed.username) == ("Acme", "anna_s")


def test_labels_before_a_broken_contact_are_dropped_too() -> None:
    parsed = parse_quick_add("Anna, Acme, tel. +7 999 12", "RU")
    assert parsed.position is None
    assert parsed.problems == (("bad_phone", "+7 999 12"),)


def test_a_part_that_is_only_a_label_is_not_a_field() -> None:
    parsed = parse_quick_add("Anna, tel., Acme", "RU")
    assert (parsed.company, parsed.position) == ("Acme", None)
    parsed = parse_quick_add("tel. +7 912 000-00-99", "RU")
    assert parsed.name is None
    assert parsed.problem_codes == ("no_name",)


@pytest.mark.parametrize(
    ("text", "company", "name"),
    [
        # a capitalised word that is also a company's stays a company
        ("Anna, Acme Mobile " + PHONE, "Acme Mobile", "Anna"),
        ("Bob, Telegram", "Telegram", "Bob"),
        ("Bob, Royal Mail, " + PHONE, "Royal Mail", "Bob"),
        ("Bob, T-Mobile " + PHONE, "T-Mobile", "Bob"),
        ("Bob, Tel Aviv, " + PHONE, "Tel Aviv", "Bob"),
        ("Bob, Mail.ru Group, bob@mail.ru", "Mail.ru Group", "Bob"),
        # "Т." as an initial, not "тел."
        ("Иванов И. Т. " + PHONE, None, "Иванов И. Т."),
    ],
)
def test_words_like_labels_that_are_not_labels_are_kept(
    text: str, company: str | None, name: str
) -> None:
    parsed = parse_quick_add(text, "RU")
    assert (parsed.name, parsed.company) == (name, company)


# --- 2. a job title as the second (and last) part is the position ------------------------


@pytest.mark.parametrize(
    "title",
    [
        "CEO",
        "cto",
        "Founder",
        "Co-founder",
        "CEO & Founder",
        "Founder/CEO",
        "Managing Director",
        "Head of Sales",
        "VP of Marketing",
        "Senior Developer",
        "Sales Manager",
        "Chief Executive Officer",
        "HR",
        "Partner",
        "генеральный директор",
        "Гендиректор",
        "директор",
        "Основатель",
        "руководитель отдела продаж",
        "Начальник отдела закупок",
        "директор по развитию",
        "главный бухгалтер",
        "Партнёр",
        "ведущий инженер",
        "ИП",
    ],
)
def test_title_as_second_part_is_the_position(title: str) -> None:
    parsed = parse_quick_add(f"Bob Stone, {title}", "RU")
    assert (parsed.name, parsed.company, parsed.position) == ("Bob Stone", None, title)


def test_qa_title_example_with_contacts() -> None:
    parsed = parse_quick_add("Bob Stone, CEO, +1 202 456 1111, bob@stone.io", "US")
    assert (parsed.company, parsed.position, parsed.phone) == (None, "CEO", "+12024561111")


@pytest.mark.parametrize(
    "company",
    [
        "Acme",
        "Director Films",
        "Директор Групп",
        "ООО Директор",
        "Head of Sales LLC",
        "Partners",
        "Manager 2000",
        "«Партнёр»",
        "Founders Fund",
    ],
)
def test_a_company_is_not_taken_for_a_title(company: str) -> None:
    parsed = parse_quick_add(f"Bob Stone, {company}", "RU")
    assert (parsed.company, parsed.position) == (company, None)


def test_three_parts_keep_their_order() -> None:
    parsed = parse_quick_add("Anna, Acme, CTO", "RU")
    assert (parsed.company, parsed.position) == ("Acme", "CTO")
    parsed = parse_quick_add("Anna, CEO, Acme", "RU")  # as typed: nothing is guessed
    assert (parsed.company, parsed.position) == ("CEO", "Acme")


def test_is_job_title_needs_the_whole_text() -> None:
    assert is_job_title("Head of Sales")
    assert not is_job_title("Head of")
    assert not is_job_title("")
    assert not is_job_title("CEO Acme Widgets")
    assert not is_job_title("CEO & Acme")


# --- 3. a legal form inside the name part starts the company ------------------------------


@pytest.mark.parametrize(
    ("text", "name", "company"),
    [
        ("Мария Иванова ООО Ромашка 89161234567", "Мария Иванова", "ООО Ромашка"),
        ("Мария Иванова ООО «Ромашка» 89161234567", "Мария Иванова", "ООО «Ромашка»"),
        ("Иван Петров ИП Петров +7 916 123-45-67", "Иван Петров", "ИП Петров"),
        ("Олег АО Вектор", "Олег", "АО Вектор"),
        ("Anna Smith LLC Romashka", "Anna Smith", "LLC Romashka"),
        ("Пётр Сидоров · ООО Ромашка", "Пётр Сидоров", "ООО Ромашка"),
        ("Пётр Сидоров — ЗАО «Вектор»", "Пётр Сидоров", "ЗАО «Вектор»"),
        ("мария иванова ооо ромашка", "мария иванова", "ооо ромашка"),
    ],
)
def test_legal_form_in_the_name_starts_the_company(text: str, name: str, company: str) -> None:
    parsed = parse_quick_add(text, "RU")
    assert (parsed.name, parsed.company, parsed.position) == (name, company, None)
    assert parsed.problems == ()


def test_legal_form_split_moves_the_later_parts_along() -> None:
    parsed = parse_quick_add("Мария Иванова ООО Ромашка, директор, +7 916 123-45-67", "RU")
    assert (parsed.name, parsed.company, parsed.position) == (
        "Мария Иванова",
        "ООО Ромашка",
        "директор",
    )
    assert parsed.phone == "+79161234567"


@pytest.mark.parametrize(
    ("text", "name", "company"),
    [
        ("ООО Ромашка", "ООО Ромашка", None),  # the first word: the whole name is a company's
        ("Мария Иванова, ООО Ромашка", "Мария Иванова", "ООО Ромашка"),
        ("John Smith Acme Inc", "John Smith Acme Inc", None),  # where would the company start?
        ("Bob Stone Acme Inc Europe", "Bob Stone Acme Inc Europe", None),  # Inc ends a company
        ("Delta Corp Sales", "Delta Corp Sales", None),
        ("Иван Петров ИП", "Иван Петров ИП", None),  # nothing after the form
        ("Аоки Инкович", "Аоки Инкович", None),
        ("Anna, Acme, ООО Лютик", "Anna", "Acme"),
    ],
)
def test_legal_form_elsewhere_changes_nothing(text: str, name: str, company: str | None) -> None:
    parsed = parse_quick_add(text, "RU")
    assert (parsed.name, parsed.company) == (name, company)


# --- invariants -----------------------------------------------------------------------------

LABELS = ["tel.", "Tel:", "тел.", "Телефон:", "т.", "моб.", "phone", "mob.", "сот."]
NAMES = ["Anna", "Сергей Иванов", "Bob Stone", "Никита"]
COMPANIES = ["Acme", "ООО Ромашка", "Globex Ltd", "Mobile Arts"]


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    company=st.none() | st.sampled_from(COMPANIES),
    label=st.sampled_from(LABELS),
    comma=st.booleans(),
)
def test_a_label_before_a_phone_is_never_a_field(
    name: str, company: str | None, label: str, comma: bool
) -> None:
    head = f"{name}, {company}" if company else name
    parsed = parse_quick_add(f"{head}{',' if comma else ''} {label} {PHONE}", "RU")
    assert (parsed.name, parsed.company, parsed.position) == (name, company, None)
    assert parsed.phone == "+79120000099"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=120))
def test_any_text_gives_clean_fields(text: str) -> None:
    parsed = parse_quick_add(text, "RU")
    for value in (parsed.name, parsed.company, parsed.position):
        assert value is None or (value and value == value.strip())
    if parsed.position is not None and parsed.notes is None and parsed.company is None:
        assert is_job_title(parsed.position)  # a lone second part moves only when a title
