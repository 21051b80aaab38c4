"""Due times for next steps: natural language in English and Russian, shown in local time."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIME = time(10, 0)

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

_DAY_WORDS: dict[str, int] = {
    "today": 0,
    "tonight": 0,
    "tomorrow": 1,
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
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "ten": 10,
    "один": 1,
    "одну": 1,
    "одна": 1,
    "два": 2,
    "две": 2,
    "три": 3,
    "четыре": 4,
    "пять": 5,
    "шесть": 6,
    "семь": 7,
    "десять": 10,
    "пару": 2,
    "полчаса": 30,
}

# unit prefix -> (kind, multiplier); the longest matching prefix wins.
_UNITS: tuple[tuple[str, str, int], ...] = (
    ("minute", "minutes", 1),
    ("min", "minutes", 1),
    ("hour", "hours", 1),
    ("hr", "hours", 1),
    ("day", "days", 1),
    ("week", "days", 7),
    ("month", "months", 1),
    ("минут", "minutes", 1),
    ("мин", "minutes", 1),
    ("час", "hours", 1),
    ("день", "days", 1),
    ("дня", "days", 1),
    ("дней", "days", 1),
    ("сутки", "days", 1),
    ("суток", "days", 1),
    ("недел", "days", 7),
    ("месяц", "months", 1),
)

_TIME_PART = (
    r"(?:(?:at|в|во|@|к)\s+)?(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?"
    r"(?:\s*(?:час|часа|часов|ч\.?)(?=\s|$))?"
    r"\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?(?:\s*(?P<ru_part>утра|дня|вечера|ночи))?"
)
_TIME_TAIL_RE = re.compile(r"(?:\s*,?\s*" + _TIME_PART + r")?$")
_TIME_ONLY_RE = re.compile(r"^" + _TIME_PART + r"$")
_WEEKDAY_NAMES = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_WEEKDAY_RE = re.compile(
    r"^(?:(?:next|this|on|coming|on\s+next|(?:в|во|на)(?:\s+(?:следующ|эт)\w*)?|"
    r"(?:следующ|эт)\w*)\s+)?"
    r"(?P<day>" + _WEEKDAY_NAMES + r")\b\.?(?P<rest>.*)$"
)
_RELATIVE_RE = re.compile(
    r"^(?:in|через|after|спустя)\s+(?:(?P<num>\d+|[a-zа-я]+)\s+)?(?P<unit>[a-zа-я]+)\.?(?P<rest>.*)$"
)
_DAY_WORD_RE = re.compile(
    r"^(?P<word>the day after tomorrow|day after tomorrow|today|tonight|tomorrow|сегодня|"
    r"послезавтра|завтра)\b(?P<rest>.*)$"
)
_DOTTED_DATE_RE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b")
_WS_RE = re.compile(r"\s+")

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


@dataclass(frozen=True, slots=True)
class _Clock:
    hour: int
    minute: int


def _parse_time_match(match: re.Match[str] | None) -> _Clock | None:
    """A time from a :data:`_TIME_PART` match; None when absent or out of range."""
    if match is None or match.group("hour") is None:
        return None
    hour = int(match.group("hour"))
    minute = int(match.group("minute") or 0)
    ampm = (match.group("ampm") or "").replace(".", "")
    ru_part = match.group("ru_part")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif ru_part in ("дня", "вечера") and 1 <= hour < 12:
        hour += 12
    elif ru_part == "ночи" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return _Clock(hour, minute)


def _split_time(rest: str) -> tuple[bool, _Clock | None]:
    """Parse what follows a day phrase: nothing, or a time. Returns (ok, time)."""
    rest = rest.strip()
    if not rest:
        return True, None
    match = _TIME_TAIL_RE.fullmatch(" " + rest)
    if match is None or match.group("hour") is None:
        return False, None
    clock = _parse_time_match(match)
    return clock is not None, clock


def _combine(day: date, clock: _Clock | None, zone: ZoneInfo) -> datetime:
    at = time(clock.hour, clock.minute) if clock else DEFAULT_TIME
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _unit(word: str) -> tuple[str, int] | None:
    best: tuple[str, str, int] | None = None
    for prefix, kind, mult in _UNITS:
        if word.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, kind, mult)
    return (best[1], best[2]) if best else None


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _parse_relative(text: str, local_now: datetime, zone: ZoneInfo) -> datetime | None:
    match = _RELATIVE_RE.match(text)
    if match is None:
        return None
    num_text, unit_text = match.group("num"), match.group("unit")
    if unit_text == "полчаса" and num_text is None:
        amount, unit = 30, ("minutes", 1)
    else:
        unit = _unit(unit_text)
        if unit is None:
            return None
        if num_text is None:
            amount = 1
        elif num_text.isdigit():
            amount = int(num_text)
        elif num_text in _NUMBER_WORDS:
            amount = _NUMBER_WORDS[num_text]
        else:
            return None
    kind, mult = unit
    amount *= mult
    if kind in ("minutes", "hours"):
        if match.group("rest").strip():
            return None
        delta = timedelta(minutes=amount) if kind == "minutes" else timedelta(hours=amount)
        moment = local_now.replace(second=0, microsecond=0) + delta
        return moment.astimezone(UTC)
    ok, clock = _split_time(match.group("rest"))
    if not ok:
        return None
    if kind == "months":
        day = _add_months(local_now.date(), amount)
    else:
        day = local_now.date() + timedelta(days=amount)
    return _combine(day, clock, zone)


def _parse_weekday(text: str, local_now: datetime, zone: ZoneInfo) -> datetime | None:
    match = _WEEKDAY_RE.match(text)
    if match is None or match.group("day") not in _WEEKDAYS:
        return None
    ok, clock = _split_time(match.group("rest"))
    if not ok:
        return None
    target = _WEEKDAYS[match.group("day")]
    ahead = (target - local_now.weekday()) % 7 or 7
    return _combine(local_now.date() + timedelta(days=ahead), clock, zone)


def _parse_day_word(text: str, local_now: datetime, zone: ZoneInfo) -> datetime | None:
    match = _DAY_WORD_RE.match(text)
    if match is None:
        return None
    ok, clock = _split_time(match.group("rest"))
    if not ok:
        return None
    word = match.group("word")
    if clock is None and word == "tonight":
        clock = _Clock(19, 0)
    result = _combine(local_now.date() + timedelta(days=_DAY_WORDS[word]), clock, zone)
    if clock is None and _DAY_WORDS[word] == 0 and result < local_now:
        # "today" without a time, said after the default hour: due right now.
        return local_now.replace(second=0, microsecond=0).astimezone(UTC)
    return result


def _parse_time_only(text: str, local_now: datetime, zone: ZoneInfo) -> datetime | None:
    clock = _parse_time_match(_TIME_ONLY_RE.match(text))
    if clock is None or not (":" in text or re.search(r"[a-zа-я]", text)):
        return None
    result = _combine(local_now.date(), clock, zone)
    if result <= local_now:
        result = _combine(local_now.date() + timedelta(days=1), clock, zone)
    return result


def _parse_with_dateparser(
    text: str, local_now: datetime, tz: str, lang_hint: str | None
) -> datetime | None:
    from dateparser.date import DateDataParser  # heavy import, load lazily

    settings: dict[str, object] = {
        "PREFER_DATES_FROM": "future",
        "TIMEZONE": tz,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "RETURN_TIME_AS_PERIOD": True,
    }
    if lang_hint == "ru" or _DOTTED_DATE_RE.search(text):
        settings["DATE_ORDER"] = "DMY"
    languages = ["ru", "en"] if lang_hint == "ru" else ["en", "ru"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = DateDataParser(languages=languages, settings=settings).get_date_data(text)
    if data.date_obj is None:
        return None
    result = data.date_obj
    if result.tzinfo is None:
        result = result.replace(tzinfo=ZoneInfo(tz))
    if data.period != "time":
        local = result.astimezone(ZoneInfo(tz))
        return _combine(local.date(), None, ZoneInfo(tz))
    return result.astimezone(UTC)


def parse_when(
    text: str, *, now: datetime, tz: str, lang_hint: str | None = None
) -> datetime | None:
    """Parse a due time ("tomorrow 10:00", "через 2 недели", "next friday", "01.12.2026").

    The phrase is read in the IANA zone ``tz`` relative to ``now``; a date without a time gets
    10:00 local. Returns an aware UTC datetime, or None when the text is not understood.
    """
    cleaned = _WS_RE.sub(" ", text.strip().casefold().replace("ё", "е")).strip(" .!")
    if not cleaned:
        return None
    zone = ZoneInfo(tz)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    local_now = now.astimezone(zone)
    for rule in (_parse_day_word, _parse_relative, _parse_weekday, _parse_time_only):
        result = rule(cleaned, local_now, zone)
        if result is not None:
            return result
    return _parse_with_dateparser(cleaned, local_now, tz, lang_hint)


def format_local(dt_utc: datetime, tz: str, lang: str) -> str:
    """ "Mon, 30 Nov 2026, 10:00" (en) or "пн, 30 нояб. 2026, 10:00" (ru) in the zone ``tz``."""
    if dt_utc.tzinfo is None:
        dt_utc = dt_utc.replace(tzinfo=UTC)
    local = dt_utc.astimezone(ZoneInfo(tz))
    if lang.lower().startswith("ru"):
        weekdays, months = _RU_WEEKDAYS, _RU_MONTHS
    else:
        weekdays, months = _EN_WEEKDAYS, _EN_MONTHS
    return (
        f"{weekdays[local.weekday()]}, {local.day} {months[local.month - 1]} {local.year}, "
        f"{local.hour:02d}:{local.minute:02d}"
    )


def is_past(dt: datetime, now: datetime) -> bool:
    """True when ``dt`` is strictly before ``now`` (naive values are taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return dt < now
