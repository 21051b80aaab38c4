"""Deals: money as people type it ("12 000 ₽", "1.5k EUR", "$3,000", "2,5 млн руб"), money as a
locale shows it, and how a deal moves its contact along the cycle. Pure rules: Babel only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from babel import Locale
from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    list_currencies,
    parse_decimal,
)

from core.enums import Stage, Status
from core.nextstep import local_day, parse_when

MAX_AMOUNT = Decimal(10) ** 13  # nobody's deal is ten trillion
MAX_TITLE = 200


class DealStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


# symbols and words people write for a currency (lower case); ISO codes are known besides
CURRENCY_WORDS = {
    "₽": "RUB",
    "р": "RUB",
    "р.": "RUB",
    "руб": "RUB",
    "руб.": "RUB",
    "рубль": "RUB",
    "рубля": "RUB",
    "рублей": "RUB",
    "rur": "RUB",
    "$": "USD",
    "us$": "USD",
    "долл": "USD",
    "долл.": "USD",
    "доллар": "USD",
    "доллара": "USD",
    "долларов": "USD",
    "€": "EUR",
    "евро": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₸": "KZT",
    "тенге": "KZT",
    "₴": "UAH",
    "грн": "UAH",
    "₾": "GEL",
    "лари": "GEL",
    "₺": "TRY",
    "₹": "INR",
}
MULTIPLIERS = {
    "k": 1_000,
    "к": 1_000,
    "тыс": 1_000,
    "тыс.": 1_000,
    "m": 1_000_000,
    "mln": 1_000_000,
    "м": 1_000_000,
    "млн": 1_000_000,
    "млн.": 1_000_000,
}
_ISO = frozenset(list_currencies())
_NUMBER_RE = re.compile(r"\d+(?:[ \u00a0\u202f']\d{3})*(?:[.,]\d+)*")
_PREFIX_RE = re.compile(r"^\s*([^\w\s]{1,3}|[A-Za-z]{3}(?=[\s\d]))\s*")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217

    @property
    def minor(self) -> int:
        """In the currency's minor units (cents, kopecks), as stored."""
        return to_minor(self.amount, self.currency)


def to_minor(amount: Decimal, currency: str) -> int:
    scale = Decimal(10) ** get_currency_precision(currency)
    return int((amount * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor) / (Decimal(10) ** get_currency_precision(currency))


def currency_of(word: str) -> str | None:
    """The ISO code a word or symbol stands for ("руб" → RUB, "eur" → EUR), or None."""
    word = word.strip().lower()
    if word in CURRENCY_WORDS:
        return CURRENCY_WORDS[word]
    return word.upper() if word.upper() in _ISO and word.isascii() and word.isalpha() else None


def parse_number(text: str, lang: str) -> Decimal | None:
    """A number as written in ``lang`` ("12 000", "1,5" in Russian, "3,000.50" in English).
    One separator followed by other than three digits is a decimal point in any language."""
    raw = re.sub(r"[ \u00a0\u202f']", "", text)
    seps = [ch for ch in raw if ch in ",."]
    if len(seps) == 1:
        whole, _sep, frac = raw.replace(",", ".").partition(".")
        if len(frac) != 3:
            try:
                return Decimal(f"{whole}.{frac}")
            except InvalidOperation:
                return None
    for locale in dict.fromkeys((lang or "en", "en", "ru")):
        try:
            return parse_decimal(raw, locale=locale, strict=True)
        except (NumberFormatError, ValueError):
            continue
    return None


def parse_money(text: str, *, lang: str, default_currency: str) -> tuple[Money, str] | None:
    """An amount with its currency at the start of ``text``, and the rest of the text (the
    deal's title): "12 000 ₽ website" → (12000 RUB, "website"); "1.5k EUR" → (1500 EUR, "");
    "$3,000" → (3000 USD, ""). Without a currency, ``default_currency``. None: no amount, or
    zero, negative or absurdly large."""
    text = text.strip()
    currency = None
    prefix = _PREFIX_RE.match(text)
    if prefix and (found := currency_of(prefix.group(1))):
        currency, text = found, text[prefix.end() :]
    number = _NUMBER_RE.match(text)
    if number is None:
        return None
    amount = parse_number(number.group(0).strip(), lang)
    rest = text[number.end() :].strip()
    words = rest.split(maxsplit=1)
    if amount is not None and words and words[0].lower() in MULTIPLIERS:
        amount *= MULTIPLIERS[words[0].lower()]
        rest = words[1] if len(words) > 1 else ""
    elif amount is not None and words:
        # "1.5k", "2млн" written together
        glued = re.match(r"^(k|к|тыс\.?|m|mln|м|млн\.?)(?=$|[^\w])", words[0].lower())
        if glued:
            amount *= MULTIPLIERS[glued.group(1)]
            rest = (words[0][glued.end() :] + " " + (words[1] if len(words) > 1 else "")).strip()
    words = rest.split(maxsplit=1)
    if currency is None and words and (found := currency_of(words[0])):
        currency, rest = found, words[1] if len(words) > 1 else ""
    if amount is None or amount <= 0 or amount >= MAX_AMOUNT:
        return None
    currency = currency or default_currency
    amount = from_minor(to_minor(amount, currency), currency)
    if amount <= 0:
        return None
    return Money(amount, currency), rest.strip(" -—–,:")[:MAX_TITLE]


def format_money(amount: Decimal, currency: str, lang: str) -> str:
    """ "12 000 ₽" (ru), "RUB 12,000" (en), "€1,500.50": whole amounts without the decimals."""
    locale = Locale.parse(lang or "en")
    if amount == amount.to_integral_value():
        pattern = locale.currency_formats["standard"].pattern.split(";")[0]
        pattern = re.sub(r"\.0+", "", pattern)
        shown = format_currency(amount, currency, pattern, locale=locale, currency_digits=False)
    else:
        shown = format_currency(amount, currency, locale=locale)
    # CLDR's currency spacing, which Babel leaves out: a code of letters is set apart from the
    # digits ("RUB12,000" read as one word), a symbol is not ("€1,500")
    return _LETTERS_THEN_DIGIT.sub("\\1\u00a0\\2", shown)


_LETTERS_THEN_DIGIT = re.compile(r"^([A-Za-z]{2,})(\d)")


def format_minor(minor: int, currency: str, lang: str) -> str:
    return format_money(from_minor(minor, currency), currency, lang)


# ------------------------------------------------------------------------- the cycle's rules
EARLY_STAGES = (Stage.IDENTIFICATION.value, Stage.CONNECTION.value, Stage.DEVELOPMENT.value)


def contact_changes_on_new_deal(stage: str, status: str) -> dict[str, str]:
    """A deal opens the commercial stage for a contact not yet there, and a mere contact (or a
    lost one) becomes a lead."""
    changes = {}
    if stage in EARLY_STAGES:
        changes["stage"] = Stage.COMMERCIAL.value
    if status in (Status.CONTACT.value, Status.LOST.value):
        changes["status"] = Status.LEAD.value
    return changes


def contact_changes_on_won(stage: str, status: str) -> dict[str, str]:
    """A won deal makes the contact a client (a partner stays a partner) and, if it was still
    before the commercial stage, puts it there."""
    changes = {}
    if stage in EARLY_STAGES:
        changes["stage"] = Stage.COMMERCIAL.value
    if status not in (Status.CLIENT.value, Status.PARTNER.value):
        changes["status"] = Status.CLIENT.value
    return changes


def default_currency(lang: str, last_used: str | None) -> str:
    """The currency of one's previous deal, else the language's usual one."""
    if last_used:
        return last_used
    return "RUB" if (lang or "").lower().startswith("ru") else "USD"


SKIP = ("-", "—", "–")


def read_close_on(text: str, *, now: datetime, tz: str, lang: str) -> tuple[bool, date | None]:
    """The expected close date typed by a rep ("31.12", "in 2 weeks", "next friday"), as the
    local day in ``tz``: (True, day); "-" for none: (True, None); unreadable: (False, None); a
    day before today ("yesterday", "01.11" in late November): (False, day) — a close that is
    expected lies ahead."""
    text = text.strip()
    if text in SKIP:
        return True, None
    due = parse_when(text, now=now, tz=tz, lang_hint=lang)
    if due is None:
        return False, None
    day = local_day(due, tz)
    return day >= local_day(now, tz), day
