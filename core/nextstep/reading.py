"""Reading due times for next steps: dates as people write them, in English and Russian.

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
- an hour from 1 to 7 that nothing places in the morning or at night (am/pm, "утра", "ночи",
  "in the morning", "утром", a leading zero) is the working day's afternoon: "at 3", "в 5",
  "завтра в 3 часа", "3:30" are 15:00, 17:00, 15:00, 15:30; "03:30", "3am", "в 3 ночи", "в 5
  утра" and hours 0 and 8..23 are as typed (:func:`~core.nextstep.clocktimes.read_clock`);
- a part of today ("tonight", "this evening", "сегодня утром", "сегодня ночью") that is under
  way is the next full hour while it lasts (up to 12:00, 18:00, 22:00, 23:00); after that the
  evening and the night are tomorrow's, the morning and the afternoon stay today's (the caller
  warns they are past). A part without a day ("утром", "вечером") is the next time it begins;
- weekdays are always ahead: "friday" on a Friday is next week's Friday;
- a day of the month alone ("the 5th", "on the 2nd", "15-го", "15 числа") is its next
  occurrence: this month's, or the next month that has it; "the weekend", "на выходных" is the
  coming Saturday (today at the weekend); "monday next week", "через неделю в среду" is that
  day of the next calendar week;
- a deadline is due on its day: "by friday", "until monday", "до пятницы", "к 5 декабря";
- "the end of the week / month / quarter / year", "к концу месяца", "end of december" is the
  period's last working day (Mon–Fri; the next period's once this one's is past); "in
  december", "в декабре", "в начале декабря" is its first working day (today in the month itself),
  "mid-december", "к середине декабря" the 15th; "в начале недели", "early next week" is next Monday;
- due times outside today − 1 year … today + 5 years (local days) are refused.
"""

from __future__ import annotations

import re
import warnings
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.nextstep.calendar_days import (
    add_months,
    add_years,
    first_workday,
    last_workday,
    period_end,
)
from core.nextstep.clocktimes import impossible_clock, read_clock
from core.nextstep.dates import calendar_date as _date
from core.nextstep.dates import day_of_month, no_such_day, weekday_next_week, weekend
from core.nextstep.moments import Ctx as _Ctx
from core.nextstep.moments import NoSuchDay as _NoSuchDay
from core.nextstep.moments import NoSuchTime as _NoSuchTime
from core.nextstep.moments import OutOfRange as _OutOfRange
from core.nextstep.moments import Unreadable as _Unreadable
from core.nextstep.moments import at as _at
from core.nextstep.showing import aware, local_day
from core.nextstep.vocabulary import (
    CALENDAR_UNITS,
    DAY_PARTS,
    DAY_WORDS,
    END,
    FILLERS,
    MID_WORDS,
    MINUTE_UNITS,
    MONTHS,
    MONTHS_IN,
    NUMBER_WORDS,
    PARTS,
    PERIODS,
    SPAN_WORDS,
    WEEKDAYS,
    Clock,
    alternation,
)

PAST_YEARS = 1
FUTURE_YEARS = 5
MAX_TEXT = 200  # nobody writes a date longer than that; longer text is not read at all


class Reading(StrEnum):
    OK = "ok"
    UNREADABLE = "unreadable"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"
    NO_SUCH_TIME = "no_such_time"  # a day with a time no clock shows: "tomorrow 25:00"
    NO_SUCH_DAY = "no_such_day"  # a date no calendar has: "31 февраля", "31.04"


# the readings that name a time or a day that does not exist: asked about again as such
IMPOSSIBLE = frozenset({Reading.NO_SUCH_TIME, Reading.NO_SUCH_DAY})


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


# ---------------------------------------------------------------------------- days

_BY = ("by", "till", "until", "до", "к", "ко")  # a deadline: due on the day it names


def _lead(*words: str) -> str:
    """The start of a rule: one optional word before the day ("on friday", "до пятницы")."""
    return r"^(?:(?:" + "|".join(words) + r")\s+)?"


_WEEKDAY_RE = re.compile(
    _lead("on", "в", "во", "на", *_BY)
    + r"(?:(?:next|this|coming|this coming|следующ\w*|след\.?|эт\w*|ближайш\w*)\s+)?"
    + r"(?P<day>"
    + alternation(WEEKDAYS)
    + r")\.?"
    + END
    + r"(?P<rest>.*)$"
)
_DAY_WORD_RE = re.compile(
    _lead("on", "на", *_BY) + r"(?P<word>" + alternation(DAY_WORDS) + r")" + END + r"(?P<rest>.*)$"
)
_NEXT_PERIOD_RE = re.compile(
    r"^(?:(?P<week>(?:early )?next week|на следующей неделе|на след\.? неделе|"
    r"в начале (?:следующей )?недели)|(?P<month>(?:early )?next month|в следующем месяце|"
    r"в след\.? месяце|в начале следующего месяца))" + END + r"(?P<rest>.*)$"
)
_ISO_RE = re.compile(
    r"^(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})(?![0-9])"
    r"(?:t|(?=\s|$))(?P<rest>.*)$"
)
_NUMERIC_RE = re.compile(
    _lead("on", "на", *_BY) + r"(?P<a>[0-9]{1,2})(?P<sep>[./-])(?P<b>[0-9]{1,2})"
    r"(?:(?P=sep)(?P<y>[0-9]+))?\.?(?![0-9])(?P<rest>.*)$"
)
_MONTH_WORD = r"(?P<mon>" + alternation(MONTHS) + r")\.?" + END
_YEAR_TAIL = r"(?:\s+(?P<y>[0-9]{4,})(?:\s*(?:г|года|год)\.?" + END + r")?(?![0-9:]))?"
_DAY_MONTH_RE = re.compile(
    _lead("on", "the", "on the", "by the", *_BY)
    + r"(?P<d>[0-9]{1,2})(?:st|nd|rd|th|-?го|-?е)?(?:\s+of)?\s*"
    + _MONTH_WORD
    + _YEAR_TAIL
    + r"(?P<rest>.*)$"
)
_MONTH_DAY_RE = re.compile(
    _lead("on", *_BY)
    + _MONTH_WORD
    + r"\s*(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?(?![0-9a-z])"
    + _YEAR_TAIL
    + r"(?P<rest>.*)$"
)

_PERIOD_END_RE = re.compile(
    _lead("at", "in", "в", "на", *_BY)
    + r"(?:(?:the\s+)?end\s+of(?:\s+(?:the|this))?|конец|конца|концу|конце)\s+"
    + r"(?:(?:этой|этого|текущей|текущего)\s+)?(?P<next>(?:next|следующ\w*|след\.?)\s+)?"
    + r"(?:(?P<unit>"
    + alternation(PERIODS)
    + r")|"
    + _MONTH_WORD.replace("(?P<mon>", "(?P<emon>")
    + r")"
    + END
    + r"(?P<rest>.*)$"
)
_MONTH_ALONE_RE = re.compile(
    r"^(?:(?:in|в|во)\s+(?:(?P<mid>"
    + alternation(MID_WORDS)
    + r")\s*)?|(?:(?:by|к|ко|до)\s+)?(?P<mid2>"
    + alternation(MID_WORDS)
    + r")\s*)"
    + r"(?P<mon>"
    + alternation({**MONTHS, **MONTHS_IN})
    + r")\.?"
    + END
    + _YEAR_TAIL
    + r"(?P<rest>.*)$"
)


def _period_or_month(text: str, ctx: _Ctx) -> _Day | None:
    """ "к концу месяца", "end of december", "в декабре", "mid-january"."""
    today = ctx.today
    match = _PERIOD_END_RE.match(text)
    if match and match.group("unit"):
        ahead = 1 if match.group("next") else 0
        day = period_end(PERIODS[match.group("unit")], today, ahead)
        if day < today:
            day = period_end(PERIODS[match.group("unit")], today, ahead + 1)
        return _Day(day, match.group("rest"))
    if match and not match.group("next"):
        month, year = MONTHS[match.group("emon")], today.year
        day = last_workday(date(year, month, monthrange(year, month)[1]))
        if day < today:
            day = last_workday(date(year + 1, month, monthrange(year + 1, month)[1]))
        return _Day(day, match.group("rest"))
    match = _MONTH_ALONE_RE.match(text)
    if match is None or (
        match.group("rest").strip() and not read_clock(match.group("rest"), strict=True)
    ):
        return None
    month = {**MONTHS, **MONTHS_IN}[match.group("mon")]
    mid = match.group("mid") or match.group("mid2")
    if mid is None and month == today.month and match.group("y") is None:
        return _Day(today, match.group("rest"))  # "в ноябре" in November: from now on
    found = _date(MID_WORDS[mid] if mid else 1, month, match.group("y"), ctx)
    if found is None:
        return None
    return _Day(first_workday(found) if found.day == 1 else found, match.group("rest"))


@dataclass(frozen=True, slots=True)
class _Day:
    day: date
    rest: str
    part: str | None = None  # "tonight": PARTS' "tonight", the evening; "tonight 8" is 20:00


def _calendar_dates(text: str, ctx: _Ctx) -> list[_Day]:
    """The dates by the calendar ``text`` can start with ("2026-12-04", "4.12", "4 dec",
    "december 4"); what follows is left in ``rest``."""
    found: list[_Day] = []
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
        elif match.group("sep") == ".":  # "31.04": day.month, and no such day
            no_such_day(day_, month, match.group("y"))
    for pattern in (_DAY_MONTH_RE, _MONTH_DAY_RE):
        match = pattern.match(text)
        if match:
            day_, month = int(match.group("d")), MONTHS[match.group("mon")]
            day = _date(day_, month, match.group("y"), ctx)
            if day is not None:
                found.append(_Day(day, match.group("rest")))
            else:
                no_such_day(day_, month, match.group("y"))
    found.extend(_Day(day, rest) for day, rest in day_of_month(text, ctx.today))
    return found


def _read_day(text: str, ctx: _Ctx) -> list[_Day]:
    """Every way ``text`` can start with a day; what follows is left in ``rest``."""
    found: list[_Day] = []
    today = ctx.today
    match = _DAY_WORD_RE.match(text)
    if match:
        word = match.group("word")
        day = today + timedelta(days=DAY_WORDS[word])
        found.append(_Day(day, match.group("rest"), DAY_PARTS.get(word)))
    match = _WEEKDAY_RE.match(text)
    if match:
        # "friday 4 dec at 3", "в среду 2.12 в 5": the date says which one (dateparser read
        # them as 5 Nov 02:12 or split "friday" off as the step)
        dated = _calendar_dates(match.group("rest").lstrip(" ,"), ctx)
        if dated:
            found.extend(dated)
        else:
            ahead = (WEEKDAYS[match.group("day")] - today.weekday()) % 7 or 7
            found.append(_Day(today + timedelta(days=ahead), match.group("rest")))
    match = _NEXT_PERIOD_RE.match(text)
    if match:
        if match.group("week"):
            start = today + timedelta(days=7 - today.weekday())
        else:
            start = add_months(today.replace(day=1), 1)
        found.append(_Day(start, match.group("rest")))
    found.extend(_calendar_dates(text, ctx))
    found.extend(_Day(day, rest) for day, rest in weekend(text, today))
    found.extend(_Day(day, rest) for day, rest in weekday_next_week(text, today))
    period = _period_or_month(text, ctx)
    if period is not None:
        found.append(period)
    return found


def _day_then_time(text: str, ctx: _Ctx) -> datetime | None:
    impossible = False
    for found in _read_day(text, ctx):
        rest = found.rest.strip()
        if not rest:
            return _at(found.day, PARTS[found.part][0] if found.part else None, ctx)
        clock = read_clock(rest, strict=False, pm=PARTS[found.part][1] if found.part else None)
        if clock is not None:
            return _at(found.day, clock, ctx)
        impossible = impossible or impossible_clock(rest)
    if impossible:  # "tomorrow 25:00" is no time to guess (the day at 10:00) but to ask again
        raise _NoSuchTime
    return None


def _time_then_day(text: str, ctx: _Ctx) -> datetime | None:
    """ "15:00 завтра", "at 3pm on friday", "в 10 утра в понедельник"."""
    words = text.split(" ")
    for cut in range(1, min(len(words), 6)):
        written = " ".join(words[:cut])
        clock = read_clock(written, strict=True)
        if clock is None and not impossible_clock(written):
            continue
        for found in _read_day(" ".join(words[cut:]), ctx):
            if not found.rest.strip():
                if clock is None:
                    raise _NoSuchTime  # "25:00 tomorrow", as above
                return _at(found.day, clock, ctx)
    return None


def _time_only(text: str, ctx: _Ctx) -> datetime | None:
    """ "18:30", "в 15:00", "3pm", "вечером": the next time the clock shows it (a part of the
    day without "today" is the next time it begins: "утром" typed at 14:00 is tomorrow's)."""
    clock = read_clock(text, strict=True)
    if clock is None:
        return None
    clock = Clock(clock.hour, clock.minute)
    result = _at(ctx.today, clock, ctx)
    if result <= ctx.local_now:
        result = _at(ctx.today + timedelta(days=1), clock, ctx)
    return result


# ---------------------------------------------------------------------------- relative

_AMOUNT = r"(?P<num>[0-9]+(?:[.,][0-9]+)?|" + alternation(NUMBER_WORDS) + r")"
_UNIT = r"(?P<unit>" + alternation({**MINUTE_UNITS, **CALENDAR_UNITS}) + r")\.?" + END
_SPAN = r"(?P<span>" + alternation(SPAN_WORDS) + r")" + END
_AHEAD_RE = re.compile(
    r"^(?:in|within|after|через|спустя)\s+(?:" + _SPAN + r"|(?:" + _AMOUNT + r"\s*)?" + _UNIT + r")"
    r"(?:\s+(?:later|позже))?(?P<rest>.*)$"
)
_AGO_RE = re.compile(
    r"^(?:" + _SPAN + r"|(?:" + _AMOUNT + r"\s*)?" + _UNIT + r")\s+(?:ago|назад)(?P<rest>.*)$"
)
_LATER_RE = re.compile(r"^(?:" + _AMOUNT + r"\s*)" + _UNIT + r"\s+(?:later|спустя)(?P<rest>.*)$")
# "a week from today", "3 days from now" (dateparser read the first as a week ago)
_FROM_NOW_RE = re.compile(
    r"^(?:" + _SPAN + r"|(?:" + _AMOUNT + r"\s*)?" + _UNIT + r")\s+from\s+(?:now|today)"
    r"(?P<rest>.*)$"
)

# an amount this large (in days) is out of range whatever the unit
_FAR_DAYS = (FUTURE_YEARS + PAST_YEARS + 1) * 366


def _amount(num: str | None) -> float:
    """ "3", "1,5", "two", "пару"; absurdly long numbers are infinity, never a huge int."""
    if num is None:
        return 1
    if num in NUMBER_WORDS:
        return NUMBER_WORDS[num]
    whole = num.replace(",", ".").split(".")[0]
    if len(whole.lstrip("0")) > 9:
        return float("inf")
    return float(num.replace(",", "."))


def _relative(text: str, ctx: _Ctx) -> datetime | None:
    if weekday_next_week(text, ctx.today):
        return None  # "через неделю в среду": a day of next week (see _read_day)
    sign = 1
    match = _AHEAD_RE.match(text) or _LATER_RE.match(text) or _FROM_NOW_RE.match(text)
    if match is None:
        match = _AGO_RE.match(text)
        sign = -1
    if match is None:
        return None
    rest = match.group("rest").strip()
    span = match.groupdict().get("span")
    if span:
        minutes: float | None = SPAN_WORDS[span]
        days = months = 0
    else:
        amount = _amount(match.group("num"))
        if amount > _FAR_DAYS * 1440:
            raise _OutOfRange(late=sign > 0)  # more minutes than the window has, whatever the unit
        unit = match.group("unit")
        if unit in MINUTE_UNITS:
            minutes, days, months = amount * MINUTE_UNITS[unit], 0, 0
        else:
            if amount != int(amount):
                raise _Unreadable  # "1.5 weeks": not a calendar date anyone means
            minutes = None
            per_days, per_months = CALENDAR_UNITS[unit]
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
        clock = read_clock(rest, strict=False)
        if clock is None:
            # "in 3 days at 25:00": a time no clock shows, said as such (as "tomorrow 25:00")
            raise _NoSuchTime if impossible_clock(rest) else _Unreadable
    if months:
        day = add_months(ctx.today, sign * months)
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
    words = _WS_RE.sub(" ", text).strip(" .!?").split(" ")
    while words and words[0].strip(".!?") in FILLERS:
        words.pop(0)
    while words and words[-1].strip(".!?") in FILLERS:
        words.pop()
    return " ".join(words).strip(" .!?")


def window(now: datetime, tz: str) -> tuple[date, date]:
    """The first and last local days a due time may fall on."""
    today = local_day(now, tz)
    return add_years(today, -PAST_YEARS), add_years(today, FUTURE_YEARS)


def read_when(text: str, *, now: datetime, tz: str, lang_hint: str | None = None) -> When:
    """Read a due time from ``text`` in the IANA zone ``tz`` relative to ``now``.

    Never raises on any text. ``lang_hint`` ("en", "ru") orders slash dates and dateparser's
    languages.
    """
    zone = ZoneInfo(tz)
    local_now = aware(now).astimezone(zone)
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
    except _NoSuchTime:
        return When(Reading.NO_SUCH_TIME, earliest, latest)
    except _NoSuchDay:
        return When(Reading.NO_SUCH_DAY, earliest, latest)
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


def warm_up() -> None:
    """Build dateparser's tables and regexes (~0.6 s and ~8 MB here) before a rep waits for
    them: the first step typed without a date after a restart took that long. Start-up calls
    it in a thread before any update is handled, so never beside a reading on the loop."""
    now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    for lang in ("ru", "en"):
        read_when("send the proposal", now=now, tz="Europe/Moscow", lang_hint=lang)


def parse_when(
    text: str, *, now: datetime, tz: str, lang_hint: str | None = None
) -> datetime | None:
    """The due time :func:`read_when` finds (aware, UTC), or None for any refusal."""
    return read_when(text, now=now, tz=tz, lang_hint=lang_hint).due
