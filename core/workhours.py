"""Working hours: reminders never at 3 a.m., SLAs counted in working time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = {
    "mon": 1,
    "tue": 2,
    "wed": 3,
    "thu": 4,
    "fri": 5,
    "sat": 6,
    "sun": 7,
    "пн": 1,
    "вт": 2,
    "ср": 3,
    "чт": 4,
    "пт": 5,
    "сб": 6,
    "вс": 7,
}


@dataclass(frozen=True)
class WorkHours:
    start: time = time(9, 0)
    end: time = time(19, 0)
    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})  # ISO weekdays, Monday = 1

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("working day must end after it starts")
        if not self.days or not self.days <= set(range(1, 8)):
            raise ValueError("working days must be ISO weekdays 1..7")

    def encode(self) -> str:
        days = "".join(str(d) for d in sorted(self.days))
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M}"

    @classmethod
    def decode(cls, text: str | None) -> WorkHours:
        if not text:
            return cls()
        days, _sep, span = text.partition(" ")
        start, _sep, end = span.partition("-")
        return cls(
            time.fromisoformat(start), time.fromisoformat(end), frozenset(int(d) for d in days)
        )


def _local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


def is_working_time(dt: datetime, tz: str, wh: WorkHours) -> bool:
    local = _local(dt, tz)
    return local.isoweekday() in wh.days and wh.start <= local.time() < wh.end


def shift_into(dt: datetime, tz: str, wh: WorkHours) -> datetime:
    """The moment itself if it falls in working hours, else the start of the next working period."""
    zone = ZoneInfo(tz)
    local = dt.astimezone(zone)
    if is_working_time(dt, tz, wh):
        return dt.astimezone(UTC)
    day = local.date()
    if local.isoweekday() in wh.days and local.time() < wh.start:
        return datetime.combine(day, wh.start, zone).astimezone(UTC)
    for _ in range(8):
        day += timedelta(days=1)
        if day.isoweekday() in wh.days:
            return datetime.combine(day, wh.start, zone).astimezone(UTC)
    raise AssertionError("unreachable: at least one working day")


_QUARTER = timedelta(minutes=15)


def step_reminder_time(
    step: datetime, tz: str, wh: WorkHours, now: datetime | None = None
) -> datetime:
    """When the reminder of a next step due at ``step`` comes: never outside working hours, and
    before the step whenever that day's working hours allow it.

    - The step's time is inside working hours: at the step's time.
    - It is after the end of a working day's hours (a call at 19:00 or 23:00 with hours to
      19:00): the same local day, at the latest whole quarter-hour (:00, :15, :30, :45) inside
      that day's hours — 18:45 for hours to 19:00, 17:15 for hours to 17:30 (at the day's start
      when no quarter-hour falls inside its hours, e.g. 09:05-09:10).
    - Otherwise (before the day's start, e.g. 08:00, or on a day off): the next working moment,
      as :func:`shift_into` — the previous working moment is then on an earlier local day
      (working hours never cross midnight), so there is nothing before the step that same day.
    - After the hours of a day whose every quarter-hour and start the clock skips (a DST
      change): the next working moment too.

    ``now`` (when given): a time above that is already past (a step at 19:30 planned at 18:50;
    a step past itself) gives way to the next working moment from ``now`` — at once inside
    working hours, else the next working start (after a step later that evening, then: no
    working time is left before it). Only step reminders use this; everything else that needs a
    moment inside working hours (surveys, digests, checks) stays with :func:`shift_into`.
    """
    at = _before_or_into(step, tz, wh)
    if now is None or at >= now:
        return at
    return shift_into(now, tz, wh)


def _before_or_into(step: datetime, tz: str, wh: WorkHours) -> datetime:
    """:func:`step_reminder_time` without ``now``."""
    zone = ZoneInfo(tz)
    local = step.astimezone(zone)
    if local.isoweekday() in wh.days and local.time() >= wh.end:  # after that day's hours
        begin = datetime.combine(local.date(), wh.start)
        last = datetime.combine(local.date(), wh.end) - timedelta(microseconds=1)
        wall = last.replace(minute=last.minute - last.minute % 15, second=0, microsecond=0)
        while True:  # the latest quarter-hour inside the hours that the clock shows that day
            wall = max(wall, begin)
            at = wall.replace(tzinfo=zone).astimezone(UTC)
            real = at.astimezone(zone).replace(tzinfo=None) == wall  # not skipped (DST)
            if real and at <= step and is_working_time(at, tz, wh):
                return at
            if wall == begin:
                break
            wall -= _QUARTER
    return shift_into(step, tz, wh)


def add_working_time(dt: datetime, tz: str, wh: WorkHours, delta: timedelta) -> datetime:
    """``dt`` plus ``delta`` of working time (an inbound SLA of 2 working hours, say)."""
    zone = ZoneInfo(tz)
    current = shift_into(dt, tz, wh)
    remaining = delta
    while True:
        local = current.astimezone(zone)
        end_of_day = datetime.combine(local.date(), wh.end, zone).astimezone(UTC)
        available = end_of_day - current
        if remaining <= available:
            return current + remaining
        remaining -= available
        current = shift_into(end_of_day, tz, wh)


_SPAN = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*[-–—]\s*(\d{1,2})(?:[:.](\d{2}))?")
# "с 10 до 18", "from 9:30 to 18:30", "10 to 6" are written as a span
_WORDED_SPAN = re.compile(
    r"(?:\b(?:с|со|from)\s+)?(\d{1,2}(?:[:.]\d{2})?)\s+(?:до|по|to|till|until)\s+(\d{1,2}(?:[:.]\d{2})?)"
)
# words for a set of days, and full day names (their first three letters)
_DAY_SETS = {
    "будни": "пн-пт",
    "по будням": "пн-пт",
    "weekdays": "mon-fri",
    "ежедневно": "пн-вс",
    "каждый день": "пн-вс",
    "без выходных": "пн-вс",
    "daily": "mon-sun",
    "everyday": "mon-sun",
    "every day": "mon-sun",
    "выходные": "сб-вс",
    "weekends": "sat-sun",
    "weekend": "sat-sun",
}
_AMPM = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?m\.?(?![a-z])")


def _as_24h(match: re.Match[str]) -> str:
    hour = int(match.group(1)) % 12 + (12 if match.group(3) == "p" else 0)
    return f"{hour}:{match.group(2) or '00'}"


_FULL_DAYS = {"пон": 1, "вто": 2, "сре": 3, "чет": 4, "пят": 5, "суб": 6, "вос": 7}


def _normalized(text: str) -> str:
    """Lower case, "ё" as "е", spans in words and "am"/"pm" as "9-18", day words as day spans."""
    low = " ".join(text.strip().lower().replace("ё", "е").split())
    low = _WORDED_SPAN.sub(r"\1-\2", _AMPM.sub(_as_24h, low))
    for words, days_span in _DAY_SETS.items():
        low = re.sub(rf"(?<![a-zа-я]){words}(?![a-zа-я])", days_span, low)
    return low


def no_such_hours(text: str) -> bool:
    """One span of hours whose end no clock shows ("25:00-26:00", "9:75-18"): the caller says
    so rather than "can't read"."""
    low = _normalized(text)
    m = _SPAN.search(low)
    if m is None or len(_SPAN.findall(low)) != 1:
        return False
    return not _on_a_clock(*_span_numbers(m))


def backwards_hours(text: str) -> str | None:
    """One span of real hours that ends before it starts ("22:00-06:00": "overnight") or where
    it starts ("10-10": "empty"): the caller says which, rather than "can't read"."""
    low = _normalized(text)
    m = _SPAN.search(low)
    if m is None or len(_SPAN.findall(low)) != 1 or not _on_a_clock(*_span_numbers(m)):
        return None
    h1, m1, h2, m2 = _span_numbers(m)
    if h2 < h1 < 12 and not (m.group(2) or m.group(4)):
        h2 += 12  # "9-5", as parse_work_hours reads it
    if (h2, m2) == (h1, m1):
        return "empty"
    return "overnight" if (h2, m2) < (h1, m1) else None


def _span_numbers(m: re.Match[str]) -> tuple[int, int, int, int]:
    """A span's start hour and minute, end hour and minute (a missing minute is 0)."""
    return int(m.group(1)), int(m.group(2) or 0), int(m.group(3)), int(m.group(4) or 0)


def _on_a_clock(h1: int, m1: int, h2: int, m2: int) -> bool:
    """Hours 0-23 (24 as the end of the day), minutes 0-59."""
    return h1 <= 23 and h2 <= 24 and m1 < 60 and m2 < 60


def parse_work_hours(text: str) -> WorkHours | None:
    """ "Mon-Fri 09:00-19:00", "пн-сб 10-18", "9-18" (weekdays assumed), "будни с 10 до 18",
    "daily 9.30-18.30", "понедельник-пятница 9-18". One range of hours for all the days: "пн-пт
    9-18, сб 10-14" is refused (the caller says so)."""
    low = _normalized(text)
    if len(_SPAN.findall(low)) != 1:
        return None  # one range of hours for all working days
    days: set[int] = set()
    day_part = _SPAN.sub(" ", low)
    tokens = re.findall(r"[a-zа-я]+(?:\s*[-–—]\s*[a-zа-я]+)?", day_part)
    for token in tokens:
        ends = [
            p.strip()[:3] if p.strip()[:2] not in DAY_NAMES else p.strip()[:2]
            for p in re.split(r"[-–—]", token)
        ]
        nums = [DAY_NAMES.get(e, _FULL_DAYS.get(e)) for e in ends]
        if any(n is None for n in nums):
            return None
        if len(nums) == 2:
            a, b = nums
            assert a is not None and b is not None
            rng = range(a, b + 1) if a <= b else [*range(a, 8), *range(1, b + 1)]
            days.update(rng)
        else:
            days.add(nums[0])  # type: ignore[arg-type]
    m = _SPAN.search(low)
    if not m:
        return None
    h1, m1, h2, m2 = _span_numbers(m)
    if not _on_a_clock(h1, m1, h2, m2):
        return None
    if h2 < h1 < 12 and not (m.group(2) or m.group(4)):
        h2 += 12  # "9-5" is nine to five, not a day that ends before it starts
    if not h2 <= 24:
        return None
    end = time(23, 59) if h2 == 24 else time(h2, m2)
    try:
        return WorkHours(time(h1, m1), end, frozenset(days or {1, 2, 3, 4, 5}))
    except ValueError:
        return None


def snooze_until(option: str, now: datetime, tz: str, wh: WorkHours) -> datetime:
    """ "1h": an hour later; "tomorrow": the next day's start; "week": next week's first working day.

    The result is always inside working hours.
    """
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    if option == "1h":
        return shift_into(now + timedelta(hours=1), tz, wh)
    if option == "tomorrow":
        day = local.date() + timedelta(days=1)
        return shift_into(datetime.combine(day, wh.start, zone), tz, wh)
    if option == "week":
        monday = local.date() + timedelta(days=7 - local.weekday())
        return shift_into(datetime.combine(monday, wh.start, zone), tz, wh)
    raise ValueError(f"unknown snooze option {option!r}")
