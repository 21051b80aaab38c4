"""The pure arithmetic of the method's measures: NPS, shares, medians, periods. No I/O.

The database does the counting (services/metrics.py); what is left here is the math on a few
numbers, so every rule (rounding, "—" for an empty base, the middle of a list) is unit-tested once.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal, format_percent

from core.locales import babel_locale
from core.nps import nps, round_half_away

__all__ = [
    "DASH",
    "MAX_PERIOD_DAYS",
    "MAX_PERIOD_MONTHS",
    "PERIODS",
    "StatsRequest",
    "expected_touches",
    "fmt_change",
    "fmt_nps",
    "fmt_number",
    "fmt_percent",
    "fmt_ratio",
    "median",
    "months_back",
    "months_of",
    "nps",
    "nps_change",
    "parse_stats_args",
    "percent",
    "period_bounds",
    "read_period",
    "ratio",
    "round_half_away",
    "share",
    "split_duration",
]

DASH = "—"
# Bain: promoters 9–10, detractors 0–6 (the same thresholds as core.nps.category)
PROMOTER_MIN = 9
DETRACTOR_MAX = 6


def share(part: int, whole: int) -> Fraction | None:
    """part / whole exactly; None (shown "—") when the base is empty."""
    if whole <= 0:
        return None
    return Fraction(part, whole)


def percent(part: int, whole: int) -> int | None:
    """A share in whole percent, rounded half away from zero; None for an empty base."""
    value = share(part, whole)
    if value is None:
        return None
    return round_half_away(Decimal(value.numerator * 100) / Decimal(value.denominator))


def fmt_percent(part: int, whole: int, lang: str = "en") -> str:
    """A share in whole percent as the language writes it ("45%", ru "45\u00a0%"); "—" for an
    empty base."""
    value = percent(part, whole)
    if value is None:
        return DASH
    return format_percent(Decimal(value) / 100, locale=babel_locale(lang))


def fmt_number(value: int | float | Decimal, lang: str = "en") -> str:
    """A count or a plain number as the language writes it ("12,345", ru "12\u00a0345", "1,5")."""
    return format_decimal(value, locale=babel_locale(lang))


def ratio(numerator: int | Fraction, denominator: int | Fraction) -> Fraction | None:
    """numerator / denominator, None when the denominator is zero."""
    if not denominator:
        return None
    return Fraction(numerator) / Fraction(denominator)


def fmt_ratio(value: Fraction | float | None, digits: int = 1, lang: str = "en") -> str:
    """One decimal by default, half away from zero ("2.25" -> "2.3"; ru "2,3"); "—" for None."""
    if value is None:
        return DASH
    exact = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else Decimal(str(value))
    )
    quantum = Decimal(1).scaleb(-digits)
    rounded = exact.quantize(quantum, rounding=ROUND_HALF_UP)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(rounded, format=pattern, locale=babel_locale(lang))


def expected_touches(period_days: Fraction | int, cadence_days: int | None) -> Fraction | None:
    """The touches one contact should get in the period: period_days / cadence_days."""
    if not cadence_days:
        return None
    return Fraction(period_days) / cadence_days


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    if n % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def nps_change(current: int | None, previous: int | None) -> int | None:
    if current is None or previous is None:
        return None
    return current - previous


def fmt_nps(value: int | None) -> str:
    return DASH if value is None else str(value)


def fmt_change(value: int | None) -> str:
    if value is None:
        return DASH
    return f"{value:+d}" if value else "±0"


def split_duration(seconds: float) -> tuple[int, int, int]:
    """(days, hours, minutes), the minutes rounded half away from zero."""
    minutes = round_half_away(Decimal(str(max(seconds, 0.0))) / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return days, hours, mins


# ---------------------------------------------------------------------------------- /stats
PERIODS = ("7d", "30d", "90d", "month")
MAX_PERIOD_DAYS = 365
MAX_PERIOD_MONTHS = 12  # a year
_USERNAME = re.compile(r"^@[A-Za-z0-9_]{3,32}$")
_PERIOD = re.compile(r"^([0-9]{1,6})? ?([a-zа-яё]*)$")
_MONTH_WORDS = ("month", "месяц")  # alone: this calendar month; after a number: months back
# what a number of days may be counted in, as typed in either language ("2 недели")
_UNIT_DAYS = {
    **dict.fromkeys(("", "d", "day", "days", "д", "дн", "день", "дня", "дней"), 1),
    **dict.fromkeys(("w", "wk", "week", "weeks", "н", "нед", "неделя", "неделю"), 7),
    **dict.fromkeys(("недели", "недель"), 7),
}
# ... and a number of calendar months ("3 месяца", "3mo", "квартал", "1 year" = 12 months)
_UNIT_MONTHS = {
    **dict.fromkeys(("mo", "month", "months", "мес", "месяц", "месяца", "месяцев"), 1),
    **dict.fromkeys(("quarter", "quarters", "квартал", "квартала", "кварталов"), 3),
    **dict.fromkeys(("y", "year", "years", "г", "год", "года", "лет"), 12),
}
# a unit alone, with no number: one of it ("/stats неделя", "/stats year")
_ALONE = ("week", "неделя", "неделю", "quarter", "квартал", "year", "год")
_MONTHS = re.compile(r"^([0-9]{1,4})mo$")  # the form a period in months is written in


def _period_of(token: str) -> str | tuple[int, int] | None:
    """ "month" (this calendar month), (days, months) — a number of days or of calendar months
    back, in or out of range — or None if ``token`` is no period."""
    found = _PERIOD.match(token.lower())
    if found is None:
        return None
    number, unit = found.groups()
    if number is None:
        if unit in _MONTH_WORDS:
            return "month"
        if unit not in _ALONE:
            return None
        number = "1"
    if unit in _UNIT_MONTHS:
        return 0, int(number) * _UNIT_MONTHS[unit]
    days = _UNIT_DAYS.get(unit)
    return None if days is None else (int(number) * days, 0)


def _in_range(days: int, months: int) -> bool:
    return 1 <= days <= MAX_PERIOD_DAYS if not months else 1 <= months <= MAX_PERIOD_MONTHS


def _tokens(args: str | None) -> list[str]:
    """/stats's words, a number and the unit after it taken as one ("2 недели")."""
    words, out = (args or "").split(), []
    for word in words:
        unit = word.lower()
        if out and out[-1].isdigit() and (unit in _UNIT_DAYS or unit in _UNIT_MONTHS):
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def read_period(token: str) -> str | None:
    """A period as /stats takes it: "month" ("месяц"), a number of days from 1 to 365 —
    "14d", "14д", "14", "2 weeks", "2 недели" — written "14d", or a number of calendar months
    from 1 to 12 — "3 месяца", "3mo", "quarter" (3), "year" (12) — written "3mo"; None for
    anything else."""
    period = _period_of(token)
    if period == "month":
        return "month"
    if not isinstance(period, tuple) or not _in_range(*period):
        return None
    days, months = period
    return f"{months}mo" if months else f"{days}d"


def days_out_of_range(args: str | None) -> str | None:
    """The period of /stats's arguments outside 1–365 days or 1–12 months ("400d", "0д",
    "13 месяцев"), as typed; None when there is none."""
    for token in _tokens(args):
        period = _period_of(token)
        if isinstance(period, tuple) and not _in_range(*period):
            return token
    return None


def months_of(period: str) -> int | None:
    """The number of calendar months of a period written "3mo"; None for any other."""
    found = _MONTHS.match(period)
    return int(found.group(1)) if found else None


def months_back(moment: datetime, months: int, tz: str) -> datetime:
    """The same local time ``months`` calendar months before ``moment`` in the zone ``tz``
    (the last day of the month when that month is shorter: 31 May − 3 months = 28/29 Feb)."""
    local = moment.astimezone(ZoneInfo(tz))
    index = local.year * 12 + local.month - 1 - months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    start = local.replace(year=year, month=month + 1, day=day)
    return start.astimezone(moment.tzinfo)


@dataclass(frozen=True)
class StatsRequest:
    period: str = "30d"
    username: str | None = None  # without the @
    chart: bool = False
    pick: bool = False  # show the rep picker


def parse_stats_args(args: str | None) -> StatsRequest | None:
    """ "/stats [7d|30d|90d|month|Nd|2 weeks…] [@username]", "/stats chart" ("график"),
    "/stats rep" ("менеджер"); None if malformed."""
    period, username, chart, pick = "30d", None, False, False
    seen_period = False
    for token in _tokens(args):
        low = token.lower()
        if (read := read_period(token)) is not None and not seen_period:
            period, seen_period = read, True
        elif low in ("chart", "график") and not chart:
            chart = True
        elif low in ("rep", "reps", "менеджер", "менеджеры") and not pick:
            pick = True
        elif _USERNAME.match(token) and username is None:
            username = token[1:]
        else:
            return None
    if chart and (username or pick):
        return None
    if pick and username:
        return None
    return StatsRequest(period, username, chart, pick)


def period_bounds(period: str, now: datetime, tz: str) -> tuple[datetime, datetime]:
    """[start, end) for a period ending now: the last N days, the last N calendar months ("3mo",
    in the user's time zone), or the calendar month to date in the user's time zone ("month")."""
    if period == "month":
        local = now.astimezone(ZoneInfo(tz))
        first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return first.astimezone(now.tzinfo), now
    if period.endswith("d") and period[:-1].isdigit():
        return now - timedelta(days=int(period[:-1])), now
    if (months := months_of(period)) is not None:
        return months_back(now, months, tz), now
    raise ValueError(f"unknown period {period!r}")


def period_days(start: datetime, end: datetime) -> Fraction:
    return Fraction(int((end - start).total_seconds()), 86400)
