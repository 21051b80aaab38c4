"""The pure math of the measures: NPS rounding, shares, medians, periods, /stats arguments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from core import metrics as m


@pytest.mark.parametrize(
    ("promoters", "detractors", "answers", "expected"),
    [
        (0, 0, 0, None),  # no answers: undefined
        (1, 0, 1, 100),
        (0, 1, 1, -100),
        (1, 1, 2, 0),
        (3, 0, 8, 38),  # 37.5 -> 38: half away from zero
        (0, 3, 8, -38),  # −37.5 -> −38, not −37
        (1, 0, 3, 33),  # 33.3
        (2, 0, 3, 67),  # 66.7
        (4, 2, 9, 22),  # 22.2
        (1, 0, 40, 3),  # 2.5 -> 3
        (0, 1, 40, -3),  # −2.5 -> −3
    ],
)
def test_nps(promoters: int, detractors: int, answers: int, expected: int | None) -> None:
    assert m.nps(promoters, detractors, answers) == expected


def test_shares_and_percent() -> None:
    assert m.share(1, 3) == Fraction(1, 3)
    assert m.share(0, 0) is None
    assert m.percent(1, 8) == 13  # 12.5 -> 13
    assert m.percent(1, 3) == 33
    assert m.percent(2, 3) == 67
    assert m.fmt_percent(5, 6) == "83%"
    assert m.fmt_percent(0, 0) == "—"
    assert m.fmt_percent(0, 4) == "0%"


def test_ratio_and_expected_touches() -> None:
    assert m.expected_touches(30, 7) == Fraction(30, 7)
    assert m.expected_touches(30, None) is None
    assert m.fmt_ratio(Fraction(30, 7)) == "4.3"
    assert m.fmt_ratio(Fraction(9, 4)) == "2.3"  # 2.25 -> 2.3
    assert m.fmt_ratio(None) == "—"
    assert m.ratio(3, 0) is None
    assert m.fmt_ratio(m.ratio(3, 1)) == "3.0"


def test_median() -> None:
    assert m.median([]) is None
    assert m.median([5]) == 5
    assert m.median([3600, 14400]) == 9000
    assert m.median([9, 1, 5]) == 5
    assert m.median([4, 1, 3, 2]) == 2.5


def test_change_and_duration() -> None:
    assert m.nps_change(38, 100) == -62
    assert m.nps_change(None, 10) is None
    assert m.fmt_change(-62) == "-62"
    assert m.fmt_change(5) == "+5"
    assert m.fmt_change(0) == "±0"
    assert m.fmt_change(None) == "—"
    assert m.split_duration(9000) == (0, 2, 30)
    assert m.split_duration(90) == (0, 0, 2)  # 1.5 min -> 2
    assert m.split_duration(26 * 3600 + 29) == (1, 2, 0)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (None, m.StatsRequest()),
        ("", m.StatsRequest()),
        ("7d", m.StatsRequest("7d")),
        ("90D", m.StatsRequest("90d")),
        ("month @anna_k", m.StatsRequest("month", "anna_k")),
        ("@anna_k 7d", m.StatsRequest("7d", "anna_k")),
        ("chart", m.StatsRequest(chart=True)),
        ("rep 7d", m.StatsRequest("7d", pick=True)),
        ("15d", m.StatsRequest("15d")),  # any number of days up to a year
        ("014д", m.StatsRequest("14d")),  # as a Russian keyboard types it
        ("365d", m.StatsRequest("365d")),
        ("Месяц", m.StatsRequest("month")),
        # as people write a period: a bare number is days; weeks; months and a year on the
        # calendar (12 months = 1 year: "12мес" was 360 days)
        ("30", m.StatsRequest("30d")),
        ("7 d", m.StatsRequest("7d")),
        ("week", m.StatsRequest("7d")),
        ("неделя", m.StatsRequest("7d")),
        ("2 недели", m.StatsRequest("14d")),
        ("2 Weeks @anna_k", m.StatsRequest("14d", "anna_k")),
        ("3 месяца", m.StatsRequest("3mo")),
        ("1 month", m.StatsRequest("1mo")),  # a month back, not this calendar month
        ("квартал", m.StatsRequest("3mo")),
        ("год", m.StatsRequest("12mo")),
        ("12мес", m.StatsRequest("12mo")),
        ("14 дней менеджер", m.StatsRequest("14d", pick=True)),
        ("график", m.StatsRequest(chart=True)),
    ],
)
def test_parse_stats_args(args: str | None, expected: m.StatsRequest) -> None:
    assert m.parse_stats_args(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        "0d",
        "366d",
        "1000d",
        "-7d",
        "7d 30d",
        "7 30",
        "2 years",
        "13 месяцев",
        "weeks",
        "3 apples",
        "d",
        "@a",
        "anna",
        "chart @anna_k",
        "rep @anna_k",
        "rep @anna_k",
    ],  # fmt: skip
)
def test_parse_stats_args_rejects(args: str) -> None:
    assert m.parse_stats_args(args) is None


@pytest.mark.parametrize(
    ("args", "typed"),
    [("400d", "400d"), ("0д", "0д"), ("13 месяцев", "13 месяцев"), ("2 years @anna_k", "2 years")],
)
def test_a_period_past_a_year_is_named_as_typed(args: str, typed: str) -> None:
    assert m.days_out_of_range(args) == typed


def test_period_bounds() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert m.period_bounds("7d", now, "UTC") == (now - timedelta(days=7), now)
    assert m.period_bounds("30d", now, "UTC")[0] == datetime(2026, 10, 24, 9, 0, tzinfo=UTC)
    # this calendar month, from local midnight on the 1st (Moscow is UTC+3)
    start, end = m.period_bounds("month", now, "Europe/Moscow")
    assert start == datetime(2026, 10, 31, 21, 0, tzinfo=UTC) and end == now
    assert m.period_days(now - timedelta(days=30), now) == 30
    with pytest.raises(ValueError):
        m.period_bounds("year", now, "UTC")
