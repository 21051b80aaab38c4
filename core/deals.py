"""Deals: money as people type it ("12 000 ₽", "1.5k EUR", "$3,000", "2,5 млн руб", "3 bn USD"),
money as a locale shows it, and how a deal moves its contact along the cycle. Pure rules: Babel
only.

An amount is read as typed or refused with the reason (:class:`AmountIssue`), never guessed at:
no exponent ("1e9"), no currency code the bot does not know ("100 XYZ"), no rounding (more
decimals than the currency has is asked about)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_decimal_symbol,
    list_currencies,
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
    "ruble": "RUB",
    "rubles": "RUB",
    "rouble": "RUB",
    "roubles": "RUB",
    "$": "USD",
    "us$": "USD",
    "dollar": "USD",
    "dollars": "USD",
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
THOUSAND, MILLION, BILLION = 1_000, 1_000_000, 1_000_000_000
# words for thousands, millions and billions (lower case), written apart ("2 млрд") or glued
MULTIPLIERS = {
    **dict.fromkeys(
        ("k", "к", "тыс", "тыс.", "тысяча", "тысячи", "тысяч", "thousand", "thousands"), THOUSAND
    ),
    **dict.fromkeys(
        ("m", "mn", "mln", "м", "млн", "млн.", "million", "millions")
        + ("миллион", "миллиона", "миллионов"),
        MILLION,
    ),
    **dict.fromkeys(
        ("b", "bn", "bln", "billion", "billions", "млрд", "млрд.")
        + ("миллиард", "миллиарда", "миллиардов"),
        BILLION,
    ),
}
_ISO = frozenset(list_currencies())
_GAPS = " \u00a0\u202f\u2009'"  # set between groups of digits: space, no-break, thin; 1'000
_NUMBER_RE = re.compile(rf"\d+(?:[{_GAPS}]\d{{3}}(?!\d))*(?:[.,]\d+)*")
_PARTS_RE = re.compile(rf"([.,{_GAPS}])")
_PREFIX_RE = re.compile(r"^([^\w\s.,\-−–]{1,3}|[A-Za-z]{3}(?=[\s\d]))\s*")
_SIGN_RE = re.compile(r"^[-−–]\s*")
_EXPONENT_RE = re.compile(r"^[eEеЕ][+\-−]?\d")
_GLUED_RE = re.compile(
    "^("
    + "|".join(re.escape(w) for w in sorted(MULTIPLIERS, key=len, reverse=True))
    + r")(?=$|[^\w])"
)
_CODE_RE = re.compile(r"^[A-Z]{3}$")  # a currency code as typed: three capitals
_FOR_RE = re.compile(r"^(?:за|for)(?:\s+|$)", re.IGNORECASE)  # "50 000 за аудит": the audit


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217

    @property
    def minor(self) -> int:
        """In the currency's minor units (cents, kopecks), as stored."""
        return to_minor(self.amount, self.currency)


def decimals_of(currency: str) -> int:
    """How many decimals an amount in the currency has: 2 for RUB, 0 for JPY."""
    return get_currency_precision(currency)


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


def _decimal_comma(lang: str) -> bool:
    """The language writes "1,5" for one and a half (Russian), not "1.5" (English)."""
    try:
        return get_decimal_symbol(Locale.parse(lang or "en", sep="-")) == ","
    except (UnknownLocaleError, ValueError, TypeError):
        return False


def parse_number(text: str, lang: str, *, point: bool = False) -> Decimal | None:
    """A number as typed: "12 000", "1 234 567" (spaces, thin or no-break ones), "1.234.567",
    "3,000.50", "12.345,67"; "1,5" in Russian, "1,234" in English. One dot followed by
    exactly three digits groups thousands ("1.234" is 1234, never 1.23); one comma so is
    the decimal comma where the language writes one ("1,234" in Russian is 1.234). Other
    than three digits after it, one separator is a decimal point in any language. ``point``:
    one separator is a decimal point (a multiplier follows: "1.250 млн"; a currency of three
    decimals: "1.250 KWD"). None: not a number ("1.2.3", "1,23,4")."""
    parts = _PARTS_RE.split(text.strip())
    groups, seps = parts[::2], parts[1::2]
    if not groups or not all(g.isdigit() and g.isascii() for g in groups):
        return None
    marks = [i for i, s in enumerate(seps) if s in ".,"]
    one_is_point, point = point, None  # point: the index of the decimal separator in seps
    if len({seps[i] for i in marks}) == 2:
        point = marks[-1]  # "3,000.50", "12.345,67": the last is the decimal one
        if point != len(seps) - 1 or len({seps[i] for i in marks[:-1]}) != 1:
            return None
    elif len(marks) == 1 and marks[0] == len(seps) - 1:
        i = marks[0]
        before, after = groups[i], groups[i + 1]
        comma_point = seps[i] == "," and _decimal_comma(lang)
        first = i == 0 and (len(before) > 3 or before[0] == "0")  # "1234.567", "0.500"
        if one_is_point or len(after) != 3 or first or comma_point:
            point = i
    whole = groups[: point + 1] if point is not None else groups
    if any(len(g) != 3 for g in whole[1:]):
        return None  # "1.2.3", "1,23,4": not thousands
    if any(seps[i] in ".," for i in range(len(whole) - 1)) and (
        len(whole[0]) > 3 or whole[0][0] == "0"
    ):
        return None  # "1234.567.890", "0.123.456": not thousands either
    digits = "".join(whole)
    frac = groups[point + 1] if point is not None else ""
    return Decimal(f"{digits}.{frac}" if frac else digits)


class AmountIssue(StrEnum):
    """Why a typed amount was not taken."""

    UNREAD = "unread"  # no amount in it
    NOT_POSITIVE = "not_positive"  # zero or less
    TOO_LARGE = "too_large"
    EXPONENT = "exponent"  # "1e9": scientific notation, not money as typed
    CURRENCY = "currency"  # "100 XYZ": a currency code not known
    DECIMALS = "decimals"  # more decimals than the currency has: never rounded silently


@dataclass(frozen=True)
class MoneyReading:
    """A typed amount read: ``money`` and the rest of the text (the deal's title), or why not
    (``issue``; ``code``: the unknown currency code, ``number``: the amount as typed,
    ``currency``: the currency the amount would be in)."""

    money: Money | None = None
    title: str = ""
    issue: AmountIssue | None = None
    code: str = ""
    number: str = ""
    currency: str = ""


def _multiplier(rest: str) -> tuple[int, str]:
    """A thousand, million or billion written after a number ("2 млрд", "1.5k", "3 bn USD"),
    and the text after it; (1, rest) for none. The "m" of "meetings" is no million."""
    words = rest.split(maxsplit=1)
    if not words:
        return 1, rest
    first, after = words[0].lower(), (words[1] if len(words) > 1 else "")
    if first in MULTIPLIERS:
        return MULTIPLIERS[first], after
    glued = _GLUED_RE.match(first)
    if glued:
        return MULTIPLIERS[glued.group(1)], (words[0][glued.end() :] + " " + after).strip()
    return 1, rest


def read_money(text: str, *, lang: str, default_currency: str) -> MoneyReading:
    """An amount with its currency at the start of ``text``, and the rest of the text (the
    deal's title, without a leading "за"/"for"): "12 000 ₽ website" → 12000 RUB, "website";
    "1.5k EUR" → 1500 EUR; "$3,000" → 3000 USD; "50 000 за аудит сайта" → 50000, "аудит
    сайта". Without a currency, ``default_currency``. Refused, with the reason: no amount,
    zero or less, absurdly large, an exponent, a currency code not known ("100 XYZ"; a code
    followed by more words starts the title: "5000 SEO audit"), more decimals than the currency
    has."""
    text = text.strip()
    negative = bool(_SIGN_RE.match(text))
    text = _SIGN_RE.sub("", text, count=1)
    currency = None
    prefix = _PREFIX_RE.match(text)
    if prefix and (found := currency_of(prefix.group(1))):
        currency, text = found, text[prefix.end() :]
    elif prefix and _CODE_RE.match(code := prefix.group(1)):
        if number := _NUMBER_RE.match(text[prefix.end() :]):  # "XYZ 100"
            return MoneyReading(
                issue=AmountIssue.CURRENCY,
                code=code,
                number=number.group(0),
                currency=default_currency,
            )
    if _SIGN_RE.match(text):  # "$-5"
        negative, text = True, _SIGN_RE.sub("", text, count=1)
    number = _NUMBER_RE.match(text)
    if number is None:
        return MoneyReading(issue=AmountIssue.UNREAD)
    typed, rest = number.group(0), text[number.end() :]
    if _EXPONENT_RE.match(rest):
        return MoneyReading(issue=AmountIssue.EXPONENT, number=typed)
    times, rest = _multiplier(rest.strip())
    words = rest.split(maxsplit=1)
    if currency is None and words and (found := currency_of(words[0])):
        currency, rest = found, words[1] if len(words) > 1 else ""
    elif currency is None and len(words) == 1 and _CODE_RE.match(words[0].rstrip(".,;:!")):
        code = words[0].rstrip(".,;:!")
        return MoneyReading(
            issue=AmountIssue.CURRENCY, code=code, number=typed, currency=default_currency
        )
    currency = currency or default_currency
    amount = parse_number(typed, lang, point=times != 1 or decimals_of(currency) > 2)
    if amount is None:
        return MoneyReading(issue=AmountIssue.UNREAD, number=typed)
    amount *= times
    if negative or amount <= 0:
        issue = AmountIssue.NOT_POSITIVE
    elif amount >= MAX_AMOUNT:
        issue = AmountIssue.TOO_LARGE
    elif amount != from_minor(to_minor(amount, currency), currency):
        issue = AmountIssue.DECIMALS
    else:
        title = _FOR_RE.sub("", rest.strip(" -—–,:"), count=1).strip(" -—–,:")
        exact = from_minor(to_minor(amount, currency), currency)  # "1500", not "1500.0"
        return MoneyReading(Money(exact, currency), title[:MAX_TITLE])
    return MoneyReading(issue=issue, number=typed, currency=currency)


def parse_money(text: str, *, lang: str, default_currency: str) -> tuple[Money, str] | None:
    """:func:`read_money`'s amount and title; None when it was refused, whatever the reason."""
    found = read_money(text, lang=lang, default_currency=default_currency)
    return None if found.money is None else (found.money, found.title)


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
