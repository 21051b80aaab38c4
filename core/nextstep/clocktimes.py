"""Times of day as people write them ("10:00", "3pm", "в 10 утра", "вечером") for
:mod:`core.nextstep.reading`."""

from __future__ import annotations

import re

from core.nextstep.vocabulary import PARTS, Clock, alternation

_CLOCK_PREFIX = r"(?:(?:at|around|by|about|в|во|к|около|на)\s+)"
_CLOCK_RE = re.compile(
    r"^(?:(?P<pre_part>" + alternation(PARTS) + r")\s+)?"
    r"(?P<prefix>" + _CLOCK_PREFIX + r")?"
    r"(?P<hour>[0-9]{1,2})(?:\s*(?P<sep>[:.h])\s*(?P<minute>[0-9]{2}))?"
    r"(?:\s*(?P<unit>o'?clock|часов|часа|час|ч)\.?)?"
    r"(?:\s*(?P<ampm>a\.?m|p\.?m)\.?)?"
    r"(?:\s+(?P<post_part>утра|дня|вечера|ночи|in the morning|in the afternoon|in the evening|"
    r"at night))?$"
)
_PART_RE = re.compile(r"^(?P<part>" + alternation(PARTS) + r")$")
# the hours a rep means in the afternoon when nothing says which half of the day: "at 3" is 15:00
AFTERNOON_HOURS = range(1, 8)


def read_clock(text: str, *, strict: bool, pm: bool | None = None) -> Clock | None:
    """A time of day filling all of ``text``, or None.

    ``strict`` (a time standing alone) wants some sign it is a time: a colon, am/pm, "at", "в"…;
    after a date a bare number is the hour. ``pm`` is what the day said ("tonight": True,
    "this morning": False) for an hour the text does not place itself.

    The working day's reading: an hour from 1 to 7 with nothing that says which half of the day
    it is (am/pm, "утра", "ночи", "дня", "вечера", "утром"…, or the day's ``pm``) is p.m., with
    minutes or without ("в 3" is 15:00, "3:30" is 15:30); written with a leading zero ("03:30",
    "07") it is a 24-hour time, as typed. Hours 0 and 8..23 are always as typed.
    """
    text = text.strip()
    if not text:
        return None
    part = _PART_RE.match(text)
    if part is not None:
        return PARTS[part.group("part")][0]
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
        if pre:
            pm = PARTS[pre][1]
        if post in ("дня", "вечера", "in the afternoon", "in the evening"):
            pm = True
        elif post in ("утра", "in the morning"):
            pm = False
        elif post in ("ночи", "at night"):
            pm = 6 <= hour < 12
            if hour == 12:
                hour = 0
        if pm is None:  # nothing says which half of the day: the working day's
            pm = hour in AFTERNOON_HOURS and not match.group("hour").startswith("0")
        if pm and 1 <= hour < 12:
            hour += 12
    if hour > 23 or minute > 59:
        return None
    return Clock(hour, minute)


def impossible_clock(text: str) -> bool:
    """Written as a time of day, yet no time of day: "25:00", "10:75", "13pm"."""
    return _CLOCK_RE.match(text.strip()) is not None and read_clock(text, strict=False) is None
