"""The words of due times, in English and Russian: weekdays, months, day words ("tomorrow",
"послезавтра"), number words, units, spans and parts of the day, and the regex pieces built from
them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A part of the day that lasts ("this evening", "сегодня утром"), not a moment.

    Named for today once its own time has passed, it is the next full hour up to ``until``
    (an hour of the day, inclusive); after that, the same part tomorrow when it ``rolls`` (the
    evening, the night), else today's time as said (the bot asks about a time in the past).
    """

    until: int
    rolls: bool


MORNING, AFTERNOON = Span(12, rolls=False), Span(18, rolls=False)
EVENING, NIGHT = Span(22, rolls=True), Span(23, rolls=True)


@dataclass(frozen=True, slots=True)
class Clock:
    hour: int
    minute: int
    span: Span | None = None  # a part of the day written alone ("вечером"): how long it lasts


WEEKDAYS: dict[str, int] = {
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
    # after "до" and "к": a deadline ("до пятницы", "к понедельнику") is due on its day
    "понедельника": 0,
    "понедельнику": 0,
    "вторника": 1,
    "вторнику": 1,
    "среды": 2,
    "среде": 2,
    "четверга": 3,
    "четвергу": 3,
    "пятницы": 4,
    "пятнице": 4,
    "субботы": 5,
    "субботе": 5,
    "воскресенья": 6,
    "воскресенью": 6,
}

MONTHS: dict[str, int] = {}
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
        MONTHS[_name] = _number

# "в декабре": the month a step falls in (with "in"/"в" only: a bare "may" is not a month)
MONTHS_IN: dict[str, int] = {
    name: number
    for number, name in enumerate(
        "январе феврале марте апреле мае июне июле августе сентябре октябре ноябре декабре".split(),
        start=1,
    )
}
# a part of a month: "mid-december", "в середине декабря" the 15th; "early december", "в начале
# декабря" its first working day
MID_WORDS = {
    "mid-": 15,
    "mid": 15,
    "middle of": 15,
    "the middle of": 15,
    "середине": 15,
    "середину": 15,
    "early": 1,
    "начале": 1,
    "начало": 1,
}
# "the end of the month", "к концу квартала": the period's last working day
PERIODS: dict[str, str] = {
    "week": "week",
    "недели": "week",
    "month": "month",
    "месяца": "month",
    "quarter": "quarter",
    "квартала": "quarter",
    "year": "year",
    "года": "year",
}

DAY_WORDS: dict[str, int] = {
    "today": 0,
    "tonight": 0,
    "tomorrow": 1,
    "tmrw": 1,
    "tmr": 1,
    "day after tomorrow": 2,
    "the day after tomorrow": 2,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "сегодня": 0,
    "завтра": 1,
    "послезавтра": 2,
}
# day words that are a part of today as well: the key of that part in PARTS
DAY_PARTS: dict[str, str] = {
    "tonight": "tonight",
    "this morning": "morning",
    "this afternoon": "afternoon",
    "this evening": "evening",
}

NUMBER_WORDS: dict[str, int] = {
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
    "несколько": 3,
    "a few": 3,
    "few": 3,
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
MINUTE_UNITS: dict[str, float] = {
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
CALENDAR_UNITS: dict[str, tuple[int, int]] = {
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
# words of courtesy around a time that say nothing about it ("friday pls", "пожалуйста завтра"):
# dropped at either end before reading
FILLERS = frozenset(
    {
        *("please", "pls", "plz", "ok", "okay", "thanks", "thx"),
        *("пожалуйста", "пжл", "пж", "плиз", "плз", "ок", "окей", "спасибо"),
    }
)

SPAN_WORDS: dict[str, int] = {
    "полчаса": 30,
    "полтора часа": 90,
    "half an hour": 30,
    "an hour and a half": 90,
}

# part of the day -> the time it stands for (and, for those that last, how long: see Span), and
# whether a clock time with it is p.m. (None: it does not say)
PARTS: dict[str, tuple[Clock, bool | None]] = {
    "morning": (Clock(9, 0, MORNING), False),
    "in the morning": (Clock(9, 0, MORNING), False),
    "утром": (Clock(9, 0, MORNING), False),
    "с утра": (Clock(9, 0, MORNING), False),
    "first thing": (Clock(9, 0, MORNING), False),
    "first thing in the morning": (Clock(9, 0, MORNING), False),
    "первым делом": (Clock(9, 0, MORNING), False),
    # a deadline before lunch: due at noon
    "before lunch": (Clock(12, 0), None),
    "by lunch": (Clock(12, 0), None),
    "by lunchtime": (Clock(12, 0), None),
    "до обеда": (Clock(12, 0), None),
    "к обеду": (Clock(12, 0), None),
    "noon": (Clock(12, 0), None),
    "at noon": (Clock(12, 0), None),
    "midday": (Clock(12, 0), None),
    "полдень": (Clock(12, 0), None),
    "в полдень": (Clock(12, 0), None),
    "lunchtime": (Clock(13, 0), None),
    "at lunchtime": (Clock(13, 0), None),
    "at lunch": (Clock(13, 0), None),
    "в обед": (Clock(13, 0), None),
    "after lunch": (Clock(14, 0, AFTERNOON), True),
    "после обеда": (Clock(14, 0, AFTERNOON), True),
    # the end of the working day: "eod", "до конца дня" (as a deadline, like "by 18:00")
    "end of day": (Clock(18, 0), True),
    "end of the day": (Clock(18, 0), True),
    "by end of day": (Clock(18, 0), True),
    "by the end of the day": (Clock(18, 0), True),
    "eod": (Clock(18, 0), True),
    "by eod": (Clock(18, 0), True),
    "cob": (Clock(18, 0), True),
    "by cob": (Clock(18, 0), True),
    "конец дня": (Clock(18, 0), True),
    "в конце дня": (Clock(18, 0), True),
    "до конца дня": (Clock(18, 0), True),
    "к концу дня": (Clock(18, 0), True),
    "afternoon": (Clock(14, 0, AFTERNOON), True),
    "in the afternoon": (Clock(14, 0, AFTERNOON), True),
    "днем": (Clock(14, 0, AFTERNOON), True),
    "evening": (Clock(18, 0, EVENING), True),
    "in the evening": (Clock(18, 0, EVENING), True),
    "вечером": (Clock(18, 0, EVENING), True),
    "tonight": (Clock(18, 0, EVENING), True),
    "night": (Clock(22, 0, NIGHT), True),
    "at night": (Clock(22, 0, NIGHT), True),
    "ночью": (Clock(22, 0, NIGHT), True),
}


def alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# Digits are written [0-9] throughout: \d would take any script's digits.
END = r"(?![a-zа-я0-9])"
