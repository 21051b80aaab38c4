"""Due times for next steps: dates as people write them, in English and Russian.

:func:`read_when` reads a phrase ("tomorrow 10:00", "01.12 15:00", "10 декабря 14", "в пятницу
в 15:00", "через 2 недели", "next friday") in the owner's time zone and says what came of it:
a due time, "I couldn't read a date", or "that date is too far in the past / in the future".
Hand-written rules cover what people type in chats; dateparser (heavy, imported lazily) is the
fallback for anything else. No text makes it raise.

Rules of reading:

- a date without a time is due at 10:00 local (``DEFAULT_TIME``); "today" after 10:00 is now;
- DD.MM and DD.MM.YYYY are day first (as Russians write them); with slashes or hyphens the order
  follows the language (12/01 is 12 January in Russian and 1 December in English); YYYY-MM-DD;
  text without letters is never handed to dateparser (it takes "45.13" for 13 Nov 2045);
- a date without a year is its next occurrence, except that a date of the past week stays in the
  past (and the caller warns): a year is never guessed further than a year ahead;
- a bare number after a date is the hour ("10 декабря 14" is 14:00);
- weekdays are always ahead: "friday" on a Friday is next week's Friday;
- due times outside today − 1 year … today + 5 years (local days) are refused.
"""

from __future__ import annotations

import re
import warnings
from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

DEFAULT_TIME = time(10, 0)
PAST_YEARS = 1
FUTURE_YEARS = 5
RECENT_DAYS = 7  # a date without a year that fell in the last week stays in the past
MAX_TEXT = 200  # nobody writes a date longer than that; longer text is not read at all


class Reading(StrEnum):
    OK = "ok"
    UNREADABLE = "unreadable"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"


@dataclass(frozen=True, slots=True)
class When:
    """What came of a phrase: a due time (aware, UTC) or why there is none.

    ``earliest`` and ``latest`` are the first and last local days a due time may fall on.
    """

    status: Reading
    earliest: date
    latest: date
    due: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status is Reading.OK


class _Unreadable(Exception):
    """A rule recognised the phrase and found it makes no sense: stop, try nothing else."""


class _OutOfRange(Exception):
    def __init__(self, late: bool) -> None:
        super().__init__("late" if late else "early")
        self.late = late


@dataclass(frozen=True, slots=True)
class _Ctx:
    local_now: datetime
    zone: ZoneInfo
    lang: str
    earliest: date
    latest: date

    @property
    def today(self) -> date:
        return self.local_now.date()


@dataclass(frozen=True, slots=True)
class _Clock:
    hour: int
    minute: int


# ---------------------------------------------------------------------------- vocabulary

_WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
    "понедельник": 0,
    "пн": 0,
    "вторник": 1,
    "вт": 1,
    "среда": 2,
    "среду": 2,
    "ср": 2,
    "четверг": 3,
    "чт": 3,
    "пятница": 4,
    "пятницу": 4,
    "пт": 4,
    "суббота": 5,
    "субботу": 5,
    "сб": 5,
    "воскресенье": 6,
    "вс": 6,
}

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan январь января янв",
        "february feb февраль февраля февр фев",
        "march mar март марта мар",
        "april apr апрель апреля апр",
        "may май мая",
        "june jun июнь июня июн",
        "july jul июль июля июл",
        "august aug август августа авг",
        "september sept sep сентябрь сентября сент сен",
        "october oct октябрь октября окт",
        "november nov ноябрь ноября нояб ноя",
        "december dec декабрь декабря дек",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_DAY_WORDS: dict[str, int] = {
    "today": 0,
    "tonight": 0,
    "tomorrow": 1,
    "tmrw": 1,
    "tmr": 1,
    "day after tomorrow": 2,
    "the day after tomorrow": 2,
    "сегодня": 0,
    "завтра": 1,
    "послезавтра": 2,
}

_NUMBER_WORDS: dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "один": 1,
    "одну": 1,
    "одна": 1,
    "пару": 2,
    "два": 2,
    "две": 2,
    "три": 3,
    "четыре": 4,
    "пять": 5,
    "шесть": 6,
    "семь": 7,
    "восемь": 8,
    "девять": 9,
    "десять": 10,
}

# unit word -> minutes in it (days and longer are counted in calendar units below)
_MINUTE_UNITS: dict[str, float] = {
    "second": 1 / 60,
    "seconds": 1 / 60,
    "sec": 1 / 60,
    "secs": 1 / 60,
    "секунду": 1 / 60,
    "секунды": 1 / 60,
    "секунд": 1 / 60,
    "сек": 1 / 60,
    "minute": 1,
    "minutes": 1,
    "min": 1,
    "mins": 1,
    "минута": 1,
    "минуту": 1,
    "минуты": 1,
    "минут": 1,
    "мин": 1,
    "hour": 60,
    "hours": 60,
    "hr": 60,
    "hrs": 60,
    "h": 60,
    "час": 60,
    "часа": 60,
    "часов": 60,
    "ч": 60,
}
# unit word -> (days, months) in it
_CALENDAR_UNITS: dict[str, tuple[int, int]] = {
    "day": (1, 0),
    "days": (1, 0),
    "d": (1, 0),
    "день": (1, 0),
    "дня": (1, 0),
    "дней": (1, 0),
    "дн": (1, 0),
    "сутки": (1, 0),
    "суток": (1, 0),
    "week": (7, 0),
    "weeks": (7, 0),
    "wk": (7, 0),
    "wks": (7, 0),
    "неделя": (7, 0),
    "неделю": (7, 0),
    "недели": (7, 0),
    "недель": (7, 0),
    "нед": (7, 0),
    "month": (0, 1),
    "months": (0, 1),
    "месяц": (0, 1),
    "месяца": (0, 1),
    "месяцев": (0, 1),
    "мес": (0, 1),
    "year": (0, 12),
    "years": (0, 12),
    "yr": (0, 12),
    "yrs": (0, 12),
    "год": (0, 12),
    "года": (0, 12),
    "лет": (0, 12),
}
# whole phrases that are an amount and a unit at once, in minutes
_SPAN_WORDS: dict[str, int] = {
    "полчаса": 30,
    "полтора часа": 90,
    "half an hour": 30,
    "an hour and a half": 90,
}

# part of the day -> the time it stands for, and whether a clock time with it is p.m.
_PARTS: dict[str, tuple[_Clock, bool | None]] = {
    "morning": (_Clock(9, 0), False),
    "in the morning": (_Clock(9, 0), False),
    "утром": (_Clock(9, 0), False),
    "с утра": (_Clock(9, 0), False),
    "noon": (_Clock(12, 0), None),
    "at noon": (_Clock(12, 0), None),
    "midday": (_Clock(12, 0), None),
    "полдень": (_Clock(12, 0), None),
    "в полдень": (_Clock(12, 0), None),
    "lunchtime": (_Clock(13, 0), None),
    "at lunchtime": (_Clock(13, 0), None),
    "at lunch": (_Clock(13, 0), None),
    "в обед": (_Clock(13, 0), None),
    "afternoon": (_Clock(14, 0), True),
    "in the afternoon": (_Clock(14, 0), True),
    "днем": (_Clock(14, 0), True),
    "evening": (_Clock(18, 0), True),
    "in the evening": (_Clock(18, 0), True),
    "вечером": (_Clock(18, 0), True),
    "tonight": (_Clock(18, 0), True),
    "night": (_Clock(22, 0), True),
    "at night": (_Clock(22, 0), True),
    "ночью": (_Clock(22, 0), True),
}


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# Digits are written [0-9] throughout: \d would take any script's digits.
_END = r"(?![a-zа-я0-9])"

# ---------------------------------------------------------------------------- clock times

_CLOCK_PREFIX = r"(?:(?:at|around|by|about|в|во|к|около|на)\s+)"
_CLOCK_RE = re.compile(
    r"^(?:(?P<pre_part>" + _alternation(_PARTS) + r")\s+)?"
    r"(?P<prefix>" + _CLOCK_PREFIX + r")?"
    r"(?P<hour>[0-9]{1,2})(?:\s*(?P<sep>[:.h])\s*(?P<minute>[0-9]{2}))?"
    r"(?:\s*(?P<unit>o'?clock|часов|часа|час|ч)\.?)?"
    r"(?:\s*(?P<ampm>a\.?m|p\.?m)\.?)?"
    r"(?:\s+(?P<post_part>утра|дня|вечера|ночи|in the morning|in the afternoon|in the evening|"
    r"at night))?$"
)
_PART_RE = re.compile(r"^(?P<part>" + _alternation(_PARTS) + r")$")


def _clock(text: str, *, strict: bool, evening: bool = False) -> _Clock | None:
    """A time of day filling all of ``text``, or None.

    ``strict`` (a time standing alone) wants some sign it is a time: a colon, am/pm, "at", "в"…;
    after a date a bare number is the hour. ``evening`` ("tonight") makes 1..11 p.m. unless
    the text says otherwise.
    """
    text = text.strip()
    if not text:
        return None
    part = _PART_RE.match(text)
    if part is not None:
        return _PARTS[part.group("part")][0]
    match = _CLOCK_RE.match(text)
    if match is None:
        return None
    hour = int(match.group("hour"))
    minute = int(match.group("minute") or 0)
    ampm = (match.group("ampm") or "").replace(".", "")
    pre, post = match.group("pre_part"), match.group("post_part")
    if strict and not any(
        (match.group("sep"), ampm, match.group("prefix"), match.group("unit"), pre, post)
    ):
        return None
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    else:
        pm = _PARTS[pre][1] if pre else evening
        if post in ("дня", "вечера", "in the afternoon", "in the evening"):
            pm = True
        elif post in ("утра", "in the morning"):
            pm = False
        elif post in ("ночи", "at night"):
            pm = 6 <= hour < 12
            if hour == 12:
                hour = 0
        if pm and 1 <= hour < 12:
            hour += 12
    if hour > 23 or minute > 59:
        return None
    return _Clock(hour, minute)


# ---------------------------------------------------------------------------- days

_WEEKDAY_RE = re.compile(
    r"^(?:(?:on|в|во|на)\s+)?(?:(?:next|this|coming|this coming|следующ\w*|след\.?|эт\w*|"
    r"ближайш\w*)\s+)?(?P<day>" + _alternation(_WEEKDAYS) + r")\.?" + _END + r"(?P<rest>.*)$"
)
_DAY_WORD_RE = re.compile(
    r"^(?:(?:on|на)\s+)?(?P<word>" + _alternation(_DAY_WORDS) + r")" + _END + r"(?P<rest>.*)$"
)
_NEXT_PERIOD_RE = re.compile(
    r"^(?:(?P<week>next week|на следующей неделе|на след\.? неделе)|"
    r"(?P<month>next month|в следующем месяце|в след\.? месяце))" + _END + r"(?P<rest>.*)$"
)
_ISO_RE = re.compile(
    r"^(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})(?![0-9])"
    r"(?:t|(?=\s|$))(?P<rest>.*)$"
)
_NUMERIC_RE = re.compile(
    r"^(?:(?:on|на)\s+)?(?P<a>[0-9]{1,2})(?P<sep>[./-])(?P<b>[0-9]{1,2})"
    r"(?:(?P=sep)(?P<y>[0-9]+))?\.?(?![0-9])(?P<rest>.*)$"
)
_MONTH_WORD = r"(?P<mon>" + _alternation(_MONTHS) + r")\.?" + _END
_YEAR_TAIL = r"(?:\s+(?P<y>[0-9]{4,})(?:\s*(?:г|года|год)\.?" + _END + r")?(?![0-9:]))?"
_DAY_MONTH_RE = re.compile(
    r"^(?:(?:on|the|on the)\s+)?(?P<d>[0-9]{1,2})(?:st|nd|rd|th|-?го|-?е)?"
    r"(?:\s+of)?\s*" + _MONTH_WORD + _YEAR_TAIL + r"(?P<rest>.*)$"
)
_MONTH_DAY_RE = re.compile(
    r"^(?:on\s+)?"
    + _MONTH_WORD
    + r"\s*(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?(?![0-9a-z])"
    + _YEAR_TAIL
    + r"(?P<rest>.*)$"
)


@dataclass(frozen=True, slots=True)
class _Day:
    day: date
    rest: str
    part: _Clock | None = None  # "tonight": the evening; "tonight 8" is 20:00


def _add_years(day: date, years: int) -> date:
    year = max(1, min(9999, day.year + years))
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 month = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _year(text: str, ctx: _Ctx) -> int | None:
    """The year written as ``text``: two digits are this century; far ones are out of range."""
    if len(text) == 2:
        return 2000 + int(text)
    if len(text) < 2:
        return None
    if len(text) > 6:
        raise _OutOfRange(late=text.lstrip("0") != "")
    year = int(text)
    if year < ctx.earliest.year:
        raise _OutOfRange(late=False)
    if year > ctx.latest.year:
        raise _OutOfRange(late=True)
    return year


def _valid_day_month(day: int, month: int) -> bool:
    """True when the day exists in some year (2000 was a leap year)."""
    return 1 <= month <= 12 and 1 <= day <= monthrange(2000, month)[1]


def _date(day: int, month: int, year_text: str | None, ctx: _Ctx) -> date | None:
    """A calendar date; without a year, its next occurrence (or one of the past week)."""
    if not _valid_day_month(day, month):
        return None
    if year_text is not None:
        year = _year(year_text, ctx)
        if year is None:
            return None
        try:
            return date(year, month, day)
        except ValueError:  # 29 February of a common year
            return None
    since = ctx.today - timedelta(days=RECENT_DAYS)
    for year in range(ctx.today.year - 1, ctx.today.year + 5):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= since:
            return candidate
    return None


def _read_day(text: str, ctx: _Ctx) -> list[_Day]:
    """Every way ``text`` can start with a day; what follows is left in ``rest``."""
    found: list[_Day] = []
    today = ctx.today
    match = _DAY_WORD_RE.match(text)
    if match:
        word = match.group("word")
        part = _PARTS["tonight"][0] if word == "tonight" else None
        found.append(_Day(today + timedelta(days=_DAY_WORDS[word]), match.group("rest"), part))
    match = _WEEKDAY_RE.match(text)
    if match:
        ahead = (_WEEKDAYS[match.group("day")] - today.weekday()) % 7 or 7
        found.append(_Day(today + timedelta(days=ahead), match.group("rest")))
    match = _NEXT_PERIOD_RE.match(text)
    if match:
        if match.group("week"):
            start = today + timedelta(days=7 - today.weekday())
        else:
            start = _add_months(today.replace(day=1), 1)
        found.append(_Day(start, match.group("rest")))
    match = _ISO_RE.match(text)
    if match:
        day = _date(int(match.group("d")), int(match.group("m")), match.group("y"), ctx)
        if day is not None:
            found.append(_Day(day, match.group("rest")))
    match = _NUMERIC_RE.match(text)
    if match:
        a, b = int(match.group("a")), int(match.group("b"))
        month_first = match.group("sep") != "." and not ctx.lang.startswith("ru")
        day_, month = (b, a) if month_first else (a, b)
        day = _date(day_, month, match.group("y"), ctx)
        if day is not None:
            found.append(_Day(day, match.group("rest")))
    for pattern in (_DAY_MONTH_RE, _MONTH_DAY_RE):
        match = pattern.match(text)
        if match:
            day = _date(int(match.group("d")), _MONTHS[match.group("mon")], match.group("y"), ctx)
            if day is not None:
                found.append(_Day(day, match.group("rest")))
    return found


def _at(day: date, clock: _Clock | None, ctx: _Ctx) -> datetime:
    """``day`` at ``clock`` (10:00 when none) in the zone; "today" past 10:00 is now."""
    if clock is None and day == ctx.today:
        default = datetime.combine(day, DEFAULT_TIME, tzinfo=ctx.zone)
        if default < ctx.local_now:
            return ctx.local_now.replace(second=0, microsecond=0)
    at = time(clock.hour, clock.minute) if clock else DEFAULT_TIME
    return datetime.combine(day, at, tzinfo=ctx.zone)


def _day_then_time(text: str, ctx: _Ctx) -> datetime | None:
    for found in _read_day(text, ctx):
        rest = found.rest.strip()
        if not rest:
            return _at(found.day, found.part, ctx)
        clock = _clock(rest, strict=False, evening=found.part is not None)
        if clock is not None:
            return _at(found.day, clock, ctx)
    return None


def _time_then_day(text: str, ctx: _Ctx) -> datetime | None:
    """ "15:00 завтра", "at 3pm on friday", "в 10 утра в понедельник"."""
    words = text.split(" ")
    for cut in range(1, min(len(words), 6)):
        clock = _clock(" ".join(words[:cut]), strict=True)
        if clock is None:
            continue
        for found in _read_day(" ".join(words[cut:]), ctx):
            if not found.rest.strip():
                return _at(found.day, clock, ctx)
    return None


def _time_only(text: str, ctx: _Ctx) -> datetime | None:
    """ "18:30", "в 15:00", "3pm", "вечером": the next time the clock shows it."""
    clock = _clock(text, strict=True)
    if clock is None:
        return None
    result = _at(ctx.today, clock, ctx)
    if result <= ctx.local_now:
        result = _at(ctx.today + timedelta(days=1), clock, ctx)
    return result


# ---------------------------------------------------------------------------- relative

_AMOUNT = r"(?P<num>[0-9]+(?:[.,][0-9]+)?|" + _alternation(_NUMBER_WORDS) + r")"
_UNIT = r"(?P<unit>" + _alternation({**_MINUTE_UNITS, **_CALENDAR_UNITS}) + r")\.?" + _END
_SPAN = r"(?P<span>" + _alternation(_SPAN_WORDS) + r")" + _END
_AHEAD_RE = re.compile(
    r"^(?:in|within|after|через|спустя)\s+(?:" + _SPAN + r"|(?:" + _AMOUNT + r"\s*)?" + _UNIT + r")"
    r"(?:\s+(?:later|позже))?(?P<rest>.*)$"
)
_AGO_RE = re.compile(
    r"^(?:" + _SPAN + r"|(?:" + _AMOUNT + r"\s*)?" + _UNIT + r")\s+(?:ago|назад)(?P<rest>.*)$"
)
_LATER_RE = re.compile(r"^(?:" + _AMOUNT + r"\s*)" + _UNIT + r"\s+(?:later|спустя)(?P<rest>.*)$")

# an amount this large (in days) is out of range whatever the unit
_FAR_DAYS = (FUTURE_YEARS + PAST_YEARS + 1) * 366


def _amount(num: str | None) -> float:
    """ "3", "1,5", "two", "пару"; absurdly long numbers are infinity, never a huge int."""
    if num is None:
        return 1
    if num in _NUMBER_WORDS:
        return _NUMBER_WORDS[num]
    whole = num.replace(",", ".").split(".")[0]
    if len(whole.lstrip("0")) > 9:
        return float("inf")
    return float(num.replace(",", "."))


def _relative(text: str, ctx: _Ctx) -> datetime | None:
    sign = 1
    match = _AHEAD_RE.match(text) or _LATER_RE.match(text)
    if match is None:
        match = _AGO_RE.match(text)
        sign = -1
    if match is None:
        return None
    rest = match.group("rest").strip()
    span = match.groupdict().get("span")
    if span:
        minutes: float | None = _SPAN_WORDS[span]
        days = months = 0
    else:
        amount = _amount(match.group("num"))
        if amount > _FAR_DAYS * 1440:
            raise _OutOfRange(late=sign > 0)  # more minutes than the window has, whatever the unit
        unit = match.group("unit")
        if unit in _MINUTE_UNITS:
            minutes, days, months = amount * _MINUTE_UNITS[unit], 0, 0
        else:
            if amount != int(amount):
                raise _Unreadable  # "1.5 weeks": not a calendar date anyone means
            minutes = None
            per_days, per_months = _CALENDAR_UNITS[unit]
            days, months = int(amount) * per_days, int(amount) * per_months
    if minutes is not None:
        if rest:
            raise _Unreadable  # "in 2 hours at 10:00" says two different things
        if minutes / 1440 > _FAR_DAYS:
            raise _OutOfRange(late=sign > 0)
        moment = ctx.local_now.astimezone(UTC) + sign * timedelta(minutes=minutes)
        return moment.replace(second=0, microsecond=0).astimezone(ctx.zone)
    if days + months * 31 > _FAR_DAYS:
        raise _OutOfRange(late=sign > 0)
    clock = None
    if rest:
        clock = _clock(rest, strict=False)
        if clock is None:
            raise _Unreadable
    if months:
        day = _add_months(ctx.today, sign * months)
    else:
        day = ctx.today + timedelta(days=sign * days)
    return _at(day, clock, ctx)


# ---------------------------------------------------------------------------- fallback

_DOTTED_DATE_RE = re.compile(r"\b[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{2,4}\b")


def _with_dateparser(text: str, ctx: _Ctx) -> datetime | None:
    if not any(ch.isalpha() for ch in text):
        return None  # numbers alone are ours to read: dateparser takes "45.13" for 13 Nov 2045
    from dateparser.date import DateDataParser  # heavy import, load lazily

    settings: dict[str, object] = {
        "PREFER_DATES_FROM": "future",
        "TIMEZONE": ctx.zone.key,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": ctx.local_now.replace(tzinfo=None),
        "RETURN_TIME_AS_PERIOD": True,
    }
    if ctx.lang.startswith("ru") or _DOTTED_DATE_RE.search(text):
        settings["DATE_ORDER"] = "DMY"
    languages = ["ru", "en"] if ctx.lang.startswith("ru") else ["en", "ru"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = DateDataParser(languages=languages, settings=settings).get_date_data(text)
    except (ValueError, ArithmeticError, LookupError, TypeError, AttributeError):
        return None  # a safety net around the library: if it trips, that is "couldn't read"
    found = data.date_obj
    if found is None:
        return None
    if found.year < ctx.earliest.year:
        raise _OutOfRange(late=False)
    if found.year > ctx.latest.year:
        raise _OutOfRange(late=True)
    if found.tzinfo is None:
        found = found.replace(tzinfo=ctx.zone)
    local = found.astimezone(ctx.zone)
    if data.period != "time":
        return _at(local.date(), None, ctx)
    return local


# ---------------------------------------------------------------------------- entry points

_WS_RE = re.compile(r"\s+")
_DIGITS_ONLY_RE = re.compile(r"^[0-9 ]+$")


def _normalize(text: str) -> str:
    text = text.casefold().replace("ё", "е")
    text = re.sub(r",(?![0-9])", " ", text)
    return _WS_RE.sub(" ", text).strip(" .!?")


def window(now: datetime, tz: str) -> tuple[date, date]:
    """The first and last local days a due time may fall on."""
    today = _aware(now).astimezone(ZoneInfo(tz)).date()
    return _add_years(today, -PAST_YEARS), _add_years(today, FUTURE_YEARS)


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def read_when(text: str, *, now: datetime, tz: str, lang_hint: str | None = None) -> When:
    """Read a due time from ``text`` in the IANA zone ``tz`` relative to ``now``.

    Never raises on any text. ``lang_hint`` ("en", "ru") orders slash dates and dateparser's
    languages.
    """
    zone = ZoneInfo(tz)
    local_now = _aware(now).astimezone(zone)
    earliest, latest = window(now, tz)
    ctx = _Ctx(local_now, zone, (lang_hint or "").lower(), earliest, latest)
    cleaned = _normalize(text) if len(text) <= 4 * MAX_TEXT else ""
    if not cleaned or len(cleaned) > MAX_TEXT or _DIGITS_ONLY_RE.match(cleaned):
        return When(Reading.UNREADABLE, earliest, latest)
    try:
        local = None
        for rule in (_relative, _day_then_time, _time_only, _time_then_day, _with_dateparser):
            local = rule(cleaned, ctx)
            if local is not None:
                break
    except _OutOfRange as out:
        return When(Reading.TOO_LATE if out.late else Reading.TOO_EARLY, earliest, latest)
    except _Unreadable:
        local = None
    if local is None:
        return When(Reading.UNREADABLE, earliest, latest)
    day = local.astimezone(zone).date()
    if day < earliest:
        return When(Reading.TOO_EARLY, earliest, latest)
    if day > latest:
        return When(Reading.TOO_LATE, earliest, latest)
    return When(Reading.OK, earliest, latest, local.astimezone(UTC))


def parse_when(
    text: str, *, now: datetime, tz: str, lang_hint: str | None = None
) -> datetime | None:
    """The due time :func:`read_when` finds (aware, UTC), or None for any refusal."""
    return read_when(text, now=now, tz=tz, lang_hint=lang_hint).due


# ---------------------------------------------------------------------------- showing

_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RU_WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
_RU_MONTHS = (
    "янв.",
    "февр.",
    "мар.",
    "апр.",
    "мая",
    "июн.",
    "июл.",
    "авг.",
    "сент.",
    "окт.",
    "нояб.",
    "дек.",
)


def format_day(day: date, lang: str) -> str:
    """ "Mon, 30 Nov 2026" (en) or "пн, 30 нояб. 2026" (ru)."""
    if lang.lower().startswith("ru"):
        weekdays, months = _RU_WEEKDAYS, _RU_MONTHS
    else:
        weekdays, months = _EN_WEEKDAYS, _EN_MONTHS
    return f"{weekdays[day.weekday()]}, {day.day} {months[day.month - 1]} {day.year}"


def format_local(dt_utc: datetime, tz: str, lang: str) -> str:
    """ "Mon, 30 Nov 2026, 10:00" (en) or "пн, 30 нояб. 2026, 10:00" (ru) in the zone ``tz``.

    A moment at the very edge of the calendar, which has no local time in ``tz``, is shown as
    it is stored rather than failing.
    """
    dt_utc = _aware(dt_utc)
    try:
        local = dt_utc.astimezone(ZoneInfo(tz))
    except OverflowError:
        local = dt_utc
    return f"{format_day(local.date(), lang)}, {local.hour:02d}:{local.minute:02d}"


def is_past(dt: datetime, now: datetime) -> bool:
    """True when ``dt`` is strictly before ``now`` (naive values are taken as UTC)."""
    return _aware(dt) < _aware(now)
