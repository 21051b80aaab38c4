"""Showing due times: "Mon, 30 Nov 2026, 10:00" (en) or "пн, 30 нояб. 2026, 10:00" (ru)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from core.locales import babel_locale


def aware(dt: datetime) -> datetime:
    """Naive values are taken as UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def format_day(day: date, lang: str) -> str:
    """ "Mon, 30 Nov 2026" (en) or "пн, 30 нояб. 2026" (ru): Babel's names for the language."""
    return format_date(day, "EEE, d MMM y", locale=babel_locale(lang))


def _local(dt_utc: datetime, tz: str) -> datetime:
    """``dt_utc`` in the zone ``tz``; a moment at the very edge of the calendar, which has no
    local time there, as it is stored rather than failing."""
    dt_utc = aware(dt_utc)
    try:
        return dt_utc.astimezone(ZoneInfo(tz))
    except OverflowError:
        return dt_utc


def format_local(dt_utc: datetime, tz: str, lang: str) -> str:
    """ "Mon, 30 Nov 2026, 10:00" (en) or "пн, 30 нояб. 2026, 10:00" (ru) in the zone ``tz``."""
    return f"{format_local_day(dt_utc, tz, lang)}, {format_local_time(dt_utc, tz)}"


def format_local_day(dt_utc: datetime, tz: str, lang: str) -> str:
    """The day alone: "Mon, 30 Nov 2026" (en), "пн, 30 нояб. 2026" (ru), in the zone ``tz``."""
    return format_day(_local(dt_utc, tz).date(), lang)


def format_local_time(dt_utc: datetime, tz: str) -> str:
    """The time alone, "10:00", in the zone ``tz`` (the same in every language here)."""
    local = _local(dt_utc, tz)
    return f"{local.hour:02d}:{local.minute:02d}"


def local_day(now: datetime, tz: str) -> date:
    """The calendar day ``now`` falls on in the zone ``tz`` (naive values are taken as UTC)."""
    return aware(now).astimezone(ZoneInfo(tz)).date()


def is_past(dt: datetime, now: datetime) -> bool:
    """True when ``dt`` is before the minute ``now`` falls in (naive values are taken as UTC):
    "today", "now", "this weekend" on a Sunday are this minute, not a time past to warn about."""
    return aware(dt) < aware(now).replace(second=0, microsecond=0)
