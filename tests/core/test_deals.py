"""core.deals: money as typed and as shown, and how a deal moves its contact."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.deals import (
    Money,
    contact_changes_on_new_deal,
    contact_changes_on_won,
    default_currency,
    format_minor,
    format_money,
    parse_money,
    read_close_on,
)

NB = "\u00a0"


@pytest.mark.parametrize(
    ("text", "lang", "amount", "currency", "rest"),
    [
        ("12 000 ₽", "ru", "12000", "RUB", ""),
        ("12 000 ₽ редизайн сайта", "ru", "12000", "RUB", "редизайн сайта"),
        (f"12{NB}000,50 руб", "ru", "12000.5", "RUB", ""),
        ("1.5k EUR", "en", "1500", "EUR", ""),
        ("1,5к евро аудит", "ru", "1500", "EUR", "аудит"),
        ("2,5 млн руб", "ru", "2500000", "RUB", ""),
        ("$3,000", "en", "3000", "USD", ""),
        ("3,000.75 usd - consulting", "en", "3000.75", "USD", "consulting"),
        ("eur 500", "en", "500", "EUR", ""),
        ("12000р", "ru", "12000", "RUB", ""),
        ("700", "en", "700", "GBP", ""),  # no currency: the default
        ("5 meetings", "en", "5", "GBP", "meetings"),  # "m" of a word is no million
        ("1000 JPY", "en", "1000", "JPY", ""),
    ],
)
def test_parse_money(text, lang, amount, currency, rest) -> None:
    found = parse_money(text, lang=lang, default_currency="GBP")
    assert found == (Money(Decimal(amount), currency), rest)


@pytest.mark.parametrize("text", ["", "abc", "0", "-5 EUR", "0,001 RUB", "99999999999999 RUB"])
def test_parse_money_refuses(text) -> None:
    assert parse_money(text, lang="en", default_currency="RUB") is None


@pytest.mark.parametrize(
    ("minor", "currency", "lang", "shown"),
    [
        (1200000, "RUB", "ru", f"12{NB}000{NB}₽"),
        (1200050, "RUB", "ru", f"12{NB}000,50{NB}₽"),
        (150000, "EUR", "en", "€1,500"),
        (150050, "EUR", "en", "€1,500.50"),
        (70000, "USD", "ru", f"700{NB}$"),
        (1000, "JPY", "en", "¥1,000"),
        (1200000, "RUB", "en", f"RUB{NB}12,000"),  # a code is set apart: it read "RUB12,000"
        (1200050, "CHF", "en", f"CHF{NB}12,000.50"),
    ],
)
def test_format_by_locale(minor, currency, lang, shown) -> None:
    assert format_minor(minor, currency, lang) == shown


def test_money_round_trips_through_minor_units() -> None:
    money = Money(Decimal("1500.5"), "EUR")
    assert money.minor == 150050
    assert format_money(money.amount, "EUR", "en") == format_minor(money.minor, "EUR", "en")


def test_close_date_as_the_local_day() -> None:
    now = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # already the 24th in Moscow
    assert read_close_on("31.12", now=now, tz="Europe/Moscow", lang="ru") == (
        True,
        date(2026, 12, 31),
    )
    assert read_close_on("tomorrow", now=now, tz="Europe/Moscow", lang="en") == (
        True,
        date(2026, 11, 25),
    )
    assert read_close_on("-", now=now, tz="UTC", lang="en") == (True, None)
    assert read_close_on("when pigs fly", now=now, tz="UTC", lang="en") == (False, None)
    # a day before the local today is read, and refused: an expected close lies ahead
    assert read_close_on("23.11", now=now, tz="Europe/Moscow", lang="ru") == (
        False,
        date(2026, 11, 23),
    )
    assert read_close_on("today", now=now, tz="Europe/Moscow", lang="en") == (
        True,
        date(2026, 11, 24),
    )


def test_a_deal_moves_its_contact() -> None:
    assert contact_changes_on_new_deal("development", "contact") == {
        "stage": "commercial",
        "status": "lead",
    }
    assert contact_changes_on_new_deal("retention", "client") == {}  # a repeat purchase
    assert contact_changes_on_won("commercial", "lead") == {"status": "client"}
    assert contact_changes_on_won("commercial", "partner") == {}
    assert default_currency("ru", None) == "RUB"
    assert default_currency("en", "EUR") == "EUR"
