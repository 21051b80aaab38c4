"""Calendar arithmetic for reading due times: plain functions on dates."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta


def add_years(day: date, years: int) -> date:
    year = max(1, min(9999, day.year + years))
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 month = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def last_workday(day: date) -> date:
    return day - timedelta(days=max(0, day.weekday() - 4))


def first_workday(day: date) -> date:
    return day + timedelta(days=7 - day.weekday() if day.weekday() >= 5 else 0)


def period_end(unit: str, today: date, ahead: int) -> date:
    """The last working day of the week / month / quarter / year ``ahead`` periods on."""
    if unit == "week":
        return today + timedelta(days=4 - today.weekday() + 7 * ahead)
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    first = today.replace(day=1, month=(today.month - 1) // months * months + 1)
    after = add_months(first, months * (ahead + 1))
    return last_workday(after - timedelta(days=1))
