"""A step's reminder in working hours, before the step when that day's hours allow it
(core.workhours.step_reminder_time), and shift_into — used by everything else — unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.workhours import WorkHours, is_working_time, shift_into, step_reminder_time

MOSCOW = "Europe/Moscow"
HOURS = WorkHours()  # Mon-Fri 09:00-19:00


def at(day: int, hh: int, mm: int = 0, tz: str = MOSCOW) -> datetime:
    """Local time on a day of Nov/Dec 2026 (30 Nov is a Monday), as UTC."""
    month, day = (12, day - 30) if day > 30 else (11, day)
    return datetime(2026, month, day, hh, mm, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@pytest.mark.parametrize(
    ("step", "reminder"),
    [
        (at(30, 15), at(30, 15)),  # inside the hours: at the step's time
        (at(30, 9), at(30, 9)),
        (at(30, 18, 59), at(30, 18, 59)),
        (at(30, 19), at(30, 18, 45)),  # "tomorrow at 7pm": the day's last quarter-hour
        (at(30, 23), at(30, 18, 45)),  # "today 23:00"
        (at(30, 23, 59), at(30, 18, 45)),
        (at(27, 21), at(27, 18, 45)),  # Friday evening: Friday, not Monday
        (at(30, 8), at(30, 9)),  # before the day's start: the start, as before
        (at(30, 0, 30), at(30, 9)),
        (at(28, 10), at(30, 9)),  # Saturday: Monday morning, as before
        (at(29, 23), at(30, 9)),  # Sunday night
    ],
)
def test_the_reminder_of_a_step(step: datetime, reminder: datetime) -> None:
    assert step_reminder_time(step, MOSCOW, HOURS) == reminder


@pytest.mark.parametrize(
    ("hours", "reminder"),
    [
        (WorkHours(time(9), time(17, 30)), time(17, 15)),
        (WorkHours(time(9), time(17, 50)), time(17, 45)),  # the latest quarter-hour inside
        (WorkHours(time(9), time(23, 59)), time(23, 45)),  # "until midnight"
        (WorkHours(time(9, 30), time(9, 45)), time(9, 30)),
        (WorkHours(time(9, 5), time(9, 10)), time(9, 5)),  # no quarter-hour inside: the start
        (WorkHours(time(9, 5), time(9, 20)), time(9, 15)),
    ],
)
def test_the_last_quarter_hour_of_any_working_day(hours: WorkHours, reminder: time) -> None:
    step = datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC)
    assert step_reminder_time(step, "UTC", hours) == datetime.combine(step.date(), reminder, UTC)


def test_a_reminder_time_already_past_gives_way_to_now() -> None:
    step = at(30, 19, 30)
    assert step_reminder_time(step, MOSCOW, HOURS, now=at(30, 12)) == at(30, 18, 45)
    assert step_reminder_time(step, MOSCOW, HOURS, now=at(30, 18, 45)) == at(30, 18, 45)
    # planned at 18:50: at once, still before the step
    assert step_reminder_time(step, MOSCOW, HOURS, now=at(30, 18, 50)) == at(30, 18, 50)
    # planned at 19:10: no working time is left before the step, the next morning then
    assert step_reminder_time(step, MOSCOW, HOURS, now=at(30, 19, 10)) == at(31, 9)
    # a step past itself waits for the working hours, as before
    assert step_reminder_time(at(28, 3), MOSCOW, HOURS, now=at(28, 12)) == at(30, 9)
    assert step_reminder_time(at(30, 10), MOSCOW, HOURS, now=at(30, 11)) == at(30, 11)


def test_a_day_the_clock_skips_an_hour_of() -> None:
    """8 Mar 2026, New York: 02:00-03:00 does not exist; its quarter-hours are not used."""
    ny = "America/New_York"
    hours = WorkHours(time(0), time(2, 45), frozenset(range(1, 8)))
    step = datetime(2026, 3, 8, 5, 0, tzinfo=ZoneInfo(ny))
    assert step_reminder_time(step, ny, hours) == datetime(2026, 3, 8, 1, 45, tzinfo=ZoneInfo(ny))
    gone = WorkHours(time(2), time(2, 30), frozenset(range(1, 8)))  # nothing real that day
    assert step_reminder_time(step, ny, gone) == shift_into(step, ny, gone)


def test_shift_into_is_unchanged_for_everything_else() -> None:
    """Surveys in the client's daytime, digests, cold and stale checks, snooze and SLAs still
    move a moment forward, never back: 19:00 on a Monday is Tuesday 09:00 for them."""
    assert shift_into(at(30, 19), MOSCOW, HOURS) == at(31, 9)
    assert shift_into(at(30, 23), MOSCOW, HOURS) == at(31, 9)
    assert shift_into(at(30, 8), MOSCOW, HOURS) == at(30, 9)
    assert shift_into(at(30, 15), MOSCOW, HOURS) == at(30, 15)


# ------------------------------------------------------------------------------ properties
# zones without clock changes, offsets on the half and quarter hour among them; and with them
STEADY = ("UTC", MOSCOW, "Asia/Novosibirsk", "Asia/Kolkata", "Asia/Kathmandu")
CHANGING = ("America/New_York", "Europe/London", "Australia/Lord_Howe")


@st.composite
def work_hours(draw: st.DrawFn) -> WorkHours:
    start = draw(st.integers(0, 24 * 60 - 2))
    end = draw(st.integers(start + 1, 24 * 60 - 1))
    days = draw(st.frozensets(st.integers(1, 7), min_size=1))
    return WorkHours(time(start // 60, start % 60), time(end // 60, end % 60), days)


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


def after_start(step: datetime, tz: str, wh: WorkHours) -> bool:
    local = step.astimezone(ZoneInfo(tz))
    return local.isoweekday() in wh.days and local.time() >= wh.start


def shows_a_working_minute(step: datetime, tz: str, wh: WorkHours) -> bool:
    """Whether the clock shows any minute of the step's local day's hours (DST skips some)."""
    zone = ZoneInfo(tz)
    day = step.astimezone(zone).date()
    wall = datetime.combine(day, wh.start)
    while wall.time() < wh.end and wall.date() == day:
        if wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
            return True
        wall += timedelta(minutes=1)
    return False


@settings(max_examples=500, deadline=None)
@given(step=moments, tz=st.sampled_from(STEADY), wh=work_hours())
def test_the_reminder_is_always_inside_working_hours(
    step: datetime, tz: str, wh: WorkHours
) -> None:
    assert is_working_time(step_reminder_time(step, tz, wh), tz, wh)


@settings(max_examples=500, deadline=None)
@given(step=moments, tz=st.sampled_from(STEADY + CHANGING), wh=work_hours())
def test_the_reminder_never_comes_after_a_step_after_that_days_start(
    step: datetime, tz: str, wh: WorkHours
) -> None:
    reminder = step_reminder_time(step, tz, wh)
    if not after_start(step, tz, wh):
        assert reminder == shift_into(step, tz, wh)  # before the start, a day off: as before
    elif shows_a_working_minute(step, tz, wh):  # (not a day whose hours the clock skips)
        assert reminder <= step
        assert is_working_time(reminder, tz, wh)
        zone = ZoneInfo(tz)
        assert reminder.astimezone(zone).date() == step.astimezone(zone).date()  # that day


@settings(max_examples=300, deadline=None)
@given(step=moments, tz=st.sampled_from(STEADY), wh=work_hours())
def test_after_hours_it_is_the_days_last_quarter_hour(
    step: datetime, tz: str, wh: WorkHours
) -> None:
    """After a working day's hours: the latest whole quarter-hour inside them (or the start)."""
    local = step.astimezone(ZoneInfo(tz))
    reminder = step_reminder_time(step, tz, wh).astimezone(ZoneInfo(tz))
    if is_working_time(step, tz, wh):
        assert reminder == step
    elif after_start(step, tz, wh):
        shown = reminder.time()
        assert reminder.date() == local.date() and shown.second == shown.microsecond == 0
        assert shown.minute % 15 == 0 or shown == wh.start
        minutes = shown.hour * 60 + shown.minute
        next_quarter = (minutes // 15 + 1) * 15
        assert next_quarter >= wh.end.hour * 60 + wh.end.minute  # none later inside the hours


@settings(max_examples=300, deadline=None)
@given(step=moments, ahead=st.integers(-3 * 24 * 60, 3 * 24 * 60), tz=st.sampled_from(STEADY))
def test_with_now_the_reminder_is_never_in_the_past(step: datetime, ahead: int, tz: str) -> None:
    now = step + timedelta(minutes=ahead)
    planned = step_reminder_time(step, tz, HOURS)
    reminder = step_reminder_time(step, tz, HOURS, now)
    assert reminder >= now and is_working_time(reminder, tz, HOURS)
    assert reminder == (planned if planned >= now else shift_into(now, tz, HOURS))
