"""core.deals.read_money: amounts as the QA typed them. Billions and the words for thousands and
millions are read; an exponent, a currency code not known, zero and more decimals than the
currency has are refused with the reason, never read as something else; a dot before three
digits groups thousands ("1.234" is 1234, never 1.23); "за"/"for" between the amount and the
subject is not part of the title."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import example, given
from hypothesis import strategies as st

from core.deals import (
    MAX_AMOUNT,
    MULTIPLIERS,
    AmountIssue,
    Money,
    MoneyReading,
    from_minor,
    parse_money,
    parse_number,
    read_money,
)

NB, THIN = "\u00a0", "\u2009"


def read(text: str, lang: str = "en", default: str = "RUB"):  # noqa: ANN201
    return read_money(text, lang=lang, default_currency=default)


@pytest.mark.parametrize(
    ("text", "lang", "amount", "currency", "title"),
    [
        ("3 billion USD", "en", "3000000000", "USD", ""),
        ("2 bn", "en", "2000000000", "RUB", ""),
        ("2 млрд руб", "ru", "2000000000", "RUB", ""),
        ("2млрд", "ru", "2000000000", "RUB", ""),
        ("1.5 bn EUR pilot", "en", "1500000000", "EUR", "pilot"),
        ("3 миллиарда рублей", "ru", "3000000000", "RUB", ""),
        ("2 thousand USD", "en", "2000", "USD", ""),
        ("7 тысяч руб", "ru", "7000", "RUB", ""),
        ("3 million usd", "en", "3000000", "USD", ""),
        ("4 mln", "en", "4000000", "RUB", ""),
        ("1.250 млн", "ru", "1250000", "RUB", ""),  # before a multiplier, a decimal point
        ("1.234", "ru", "1234", "RUB", ""),  # a dot before three digits groups thousands
        ("1.234", "en", "1234", "RUB", ""),
        ("1.234.567 руб", "ru", "1234567", "RUB", ""),
        ("12.345,67", "ru", "12345.67", "RUB", ""),
        ("1 234 567", "ru", "1234567", "RUB", ""),
        (f"1{THIN}234{THIN}567 ₽", "ru", "1234567", "RUB", ""),
        (f"1{NB}234", "ru", "1234", "RUB", ""),
        ("1,234", "en", "1234", "RUB", ""),  # English groups with a comma
        ("0.500", "en", "0.5", "RUB", ""),  # "0." groups nothing: a decimal point
        ("50 000 за аудит сайта", "ru", "50000", "RUB", "аудит сайта"),
        ("50 тыс руб. за аудит", "ru", "50000", "RUB", "аудит"),
        ("5000 EUR for the audit", "en", "5000", "EUR", "the audit"),
        ("5000 EUR - for the audit", "en", "5000", "EUR", "the audit"),
        ("5000 EUR forecast model", "en", "5000", "EUR", "forecast model"),  # a word, kept
        ("5000 заказ", "ru", "5000", "RUB", "заказ"),
        ("5000 SEO audit", "en", "5000", "RUB", "SEO audit"),  # capitals then words: the title
        ("100 EUR XYZ", "en", "100", "EUR", "XYZ"),  # the currency given: XYZ is the title
        ("5 dollars", "en", "5", "USD", ""),
        ("1.250 KWD", "en", "1.25", "KWD", ""),  # a currency of three decimals: a point
    ],
)
def test_amounts_are_read_as_typed(text, lang, amount, currency, title) -> None:
    assert read(text, lang) == MoneyReading(Money(Decimal(amount), currency), title)
    assert parse_money(text, lang=lang, default_currency="RUB") == (
        Money(Decimal(amount), currency),
        title,
    )


@pytest.mark.parametrize(
    ("text", "lang", "issue", "extra"),
    [
        ("1e9 USD", "en", AmountIssue.EXPONENT, {"number": "1"}),
        ("1e9 USD", "ru", AmountIssue.EXPONENT, {}),
        ("1.5E+6", "en", AmountIssue.EXPONENT, {}),
        ("100 XYZ", "en", AmountIssue.CURRENCY, {"code": "XYZ", "number": "100"}),
        ("100 XYZ.", "en", AmountIssue.CURRENCY, {"code": "XYZ"}),
        ("XYZ 100", "en", AmountIssue.CURRENCY, {"code": "XYZ", "number": "100"}),
        ("0", "en", AmountIssue.NOT_POSITIVE, {}),
        ("0 EUR", "ru", AmountIssue.NOT_POSITIVE, {"currency": "EUR"}),
        ("-5 EUR", "en", AmountIssue.NOT_POSITIVE, {}),
        ("$-5", "en", AmountIssue.NOT_POSITIVE, {"currency": "USD"}),
        ("1.2345", "en", AmountIssue.DECIMALS, {"currency": "RUB"}),
        ("1,234", "ru", AmountIssue.DECIMALS, {}),  # the Russian decimal comma: 1.234
        ("0,001 RUB", "en", AmountIssue.DECIMALS, {}),
        ("1000.5 JPY", "en", AmountIssue.DECIMALS, {"currency": "JPY"}),
        ("99999999999999 RUB", "en", AmountIssue.TOO_LARGE, {}),
        ("20000 bn", "en", AmountIssue.TOO_LARGE, {}),
        ("1.2.3", "ru", AmountIssue.UNREAD, {}),
        ("twelve", "en", AmountIssue.UNREAD, {}),
    ],
)
def test_amounts_are_refused_with_the_reason(text, lang, issue, extra) -> None:
    found = read(text, lang)
    assert (found.money, found.issue) == (None, issue)
    assert {k: getattr(found, k) for k in extra} == extra
    assert parse_money(text, lang=lang, default_currency="RUB") is None


def test_an_unknown_code_refused_names_the_dialogue_currency() -> None:
    """Its answer shows how to keep the code as the title: "100 USD XYZ"."""
    assert read("100 XYZ", default="USD").currency == "USD"


@pytest.mark.parametrize(
    ("text", "lang", "number"),
    [
        ("1,234", "en", "1234"),
        ("1,234", "ru", "1.234"),
        ("1.234", "ru", "1234"),
        ("1,5", "en", "1.5"),
        ("3,000.50", "ru", "3000.50"),
        ("1234.567", "en", "1234.567"),  # four digits before: no thousands group
        ("1,250", "ru", "1.250"),
        ("1.2.3", "ru", None),
        ("1,23,4", "en", None),
        ("1234.567.890", "en", None),
        ("1,234.567,8", "en", None),
    ],
)
def test_parse_number(text, lang, number) -> None:
    assert parse_number(text, lang) == (Decimal(number) if number else None)


# ------------------------------------------------------------------------------ invariants
CURRENCIES = st.sampled_from(["RUB", "USD", "EUR", "JPY", "KWD"])


@given(minor=st.integers(1, 10**14), lang=st.sampled_from(["en", "ru"]), cur=CURRENCIES)
@example(minor=123456, lang="ru", cur="RUB")
@example(minor=100, lang="en", cur="USD")
def test_an_amount_as_the_locale_writes_it_reads_back(minor, lang, cur) -> None:
    """1 234,56 (ru), 1,234.56 (en), with the currency's decimals: read back as it was."""
    amount = from_minor(minor, cur)
    typed = format_decimal(amount, locale=lang, decimal_quantization=False)
    found = read(f"{typed} {cur}", lang)
    if amount >= MAX_AMOUNT:
        assert found.issue is AmountIssue.TOO_LARGE
    else:
        assert found.money == Money(amount, cur), typed


@given(
    whole=st.integers(1, 10**6),
    frac=st.text("0123456789", min_size=1, max_size=6),
    sep=st.sampled_from([".", ","]),
    lang=st.sampled_from(["en", "ru"]),
    cur=CURRENCIES,
)
@example(whole=1, frac="234", sep=".", lang="ru", cur="RUB")
@example(whole=1, frac="2345", sep=".", lang="en", cur="RUB")
@example(whole=1, frac="234", sep=",", lang="ru", cur="RUB")
def test_an_amount_is_never_rounded(whole, frac, sep, lang, cur) -> None:
    """ "1.2345" is 1.2345 or it is refused; never 1.23. A number read is one of its two
    readings (a decimal point, or a thousands group), exactly."""
    typed = f"{whole}{sep}{frac}"
    found = read(f"{typed} {cur}", lang)
    readings = {Decimal(f"{whole}.{frac}"), Decimal(f"{whole}{frac}")}
    if found.money is not None:
        assert found.money.amount in readings
        assert found.money.currency == cur
    else:
        assert found.issue in (AmountIssue.DECIMALS, AmountIssue.TOO_LARGE), found
        assert Decimal(f"{whole}.{frac}") in readings  # the decimal reading was the one


@given(
    mantissa=st.from_regex(r"\A[1-9][0-9]{0,2}([.,][0-9]{1,2})?\Z"),
    e=st.sampled_from(["e", "E", "e+", "E-", "е"]),
    power=st.integers(0, 30),
    tail=st.sampled_from(["", " USD", " руб", " EUR audit"]),
)
def test_an_exponent_is_never_read_as_an_amount(mantissa, e, power, tail) -> None:
    found = read(f"{mantissa}{e}{power}{tail}", "en")
    assert (found.money, found.issue) == (None, AmountIssue.EXPONENT)


@given(
    n=st.integers(1, 999),
    word=st.sampled_from(sorted(MULTIPLIERS)),
    glued=st.booleans(),
    lang=st.sampled_from(["en", "ru"]),
)
def test_every_multiplier_multiplies(n, word, glued, lang) -> None:
    """ "2 млрд", "2млрд", "3 bn", "1 thousand": never the bare number with the word as the
    title."""
    found = read(f"{n}{'' if glued else ' '}{word} EUR", lang)
    assert found.money == Money(Decimal(n) * MULTIPLIERS[word], "EUR")
    assert found.title == ""


WORD = st.text("abcdefghijklmnopqrstuvwxyzабвгдежзиклмнопрстуфхцчшэюя", min_size=1, max_size=8)


@given(
    n=st.integers(1, 10**9),
    words=st.lists(WORD, min_size=1, max_size=4),
    cur=st.sampled_from(["RUB", "EUR", "$", "₽", "руб"]),
    joiner=st.sampled_from(["", "за ", "for ", "- "]),
)
def test_the_title_after_the_amount_is_kept(n, words, cur, joiner) -> None:
    """ "50 000 ₽ за аудит сайта": the words after the amount and currency are the title,
    as typed, without a leading "за"/"for"."""
    title = " ".join(words)
    if words[0] in ("за", "for"):
        return  # a title that is only the preposition again: not what this checks
    found = read(f"{n} {cur} {joiner}{title}", "ru")
    assert found.money is not None and found.money.amount == n
    assert found.title == title
