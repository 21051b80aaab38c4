"""A step due after the owner's working hours is reminded of before it, the same day (the day's
last quarter-hour inside the hours); the confirmation says when, and the reminder engine sends
it then, with the step's own time in it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services import followups
from storage.models import DueWork
from tests.helpers import team_with_rep
from tests.test_followups import reminders_to
from tests.test_nextstep_chat import open_next_step

SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # Sun 15:00 in Moscow
MONDAY = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # Mon 12:00 in UTC
REMINDER_RU = "⏰ <b>Следующий шаг</b>"


async def audit(tg) -> list[str]:
    async with tg.app.session_factory() as s:
        return await followups.audit(
            s, now=tg.clock.now(), rules=followups.Rules.of(tg.app.settings)
        )


async def pending_due(tg) -> datetime | None:
    async with tg.app.session_factory() as s:
        due = await s.scalar(
            select(DueWork.due_at).where(DueWork.kind == "reminder", DueWork.status == "pending")
        )
    return due.replace(tzinfo=UTC) if due is not None and due.tzinfo is None else due


async def tick_at(tg, clock, moment: datetime) -> None:
    clock.set(moment)
    await tg.app.clockwork.tick()


async def test_a_call_at_7pm_is_reminded_of_at_6_45_pm(tg, emu, clock) -> None:
    """The QA case: Moscow, Mon-Fri 09:00-19:00, "tomorrow at 7pm" said on a Sunday."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/settings")
    await rep.click("Time zone")
    assert "Moscow, UTC+3" in (await rep.send("Moscow")).text
    clock.set(SUNDAY)
    await open_next_step(rep, "Anna Smirnova, Acme", what="call him")
    reply = await rep.send("tomorrow at 7pm")
    assert reply.text == (
        "Next step on Mon, 30 Nov 2026, 19:00. The reminder will come on Mon, 30 Nov 2026, "
        "18:45, in your working hours. Right?"
    )
    await rep.click("Confirm")
    assert await pending_due(tg) == datetime(2026, 11, 30, 15, 45, tzinfo=UTC)  # 18:45 Moscow
    assert await audit(tg) == []

    await tick_at(tg, clock, datetime(2026, 11, 30, 15, 44, tzinfo=UTC))
    assert reminders_to(emu, rep.id) == []
    await tick_at(tg, clock, datetime(2026, 11, 30, 15, 45, tzinfo=UTC))
    [sent] = reminders_to(emu, rep.id)
    assert "Next step</b>: call him" in sent["text"]
    assert "Planned for Mon, 30 Nov 2026, 19:00\n" in sent["text"]  # the step's own time
    assert "⚠️" not in sent["text"]  # on time, not late
    await tick_at(tg, clock, datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # the step's time
    await tick_at(tg, clock, datetime(2026, 12, 1, 6, 0, tzinfo=UTC))  # the next morning
    assert len(reminders_to(emu, rep.id)) == 1  # once, not again after the step
    assert await audit(tg) == []


async def test_tonight_is_reminded_of_before_the_end_of_the_day(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)  # UTC, Mon-Fri 09:00-19:00
    clock.set(MONDAY)
    await open_next_step(rep, "Boris, Beta", what="send the offer")
    reply = await rep.send("today 23:00")
    assert reply.text == (
        "Next step on Mon, 30 Nov 2026, 23:00. The reminder will come on Mon, 30 Nov 2026, "
        "18:45, in your working hours. Right?"
    )
    await rep.click("Confirm")
    await tick_at(tg, clock, datetime(2026, 11, 30, 18, 45, tzinfo=UTC))
    [sent] = reminders_to(emu, rep.id)
    assert "Planned for Mon, 30 Nov 2026, 23:00\n" in sent["text"]
    assert "⚠️" not in sent["text"]


async def test_the_step_and_7_in_the_evening_in_one_message_in_russian(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg, language="ru")  # UTC
    clock.set(MONDAY)
    reply = await open_next_step(rep, "Анна Смирнова, Acme", "ru", what="позвонить в 7 вечера")
    assert reply.text == (
        "Шаг: позвонить\nСледующий шаг: пн, 30 нояб. 2026, 19:00. Напоминание придёт в ваше "
        "рабочее время: пн, 30 нояб. 2026, 18:45. Верно?"
    )
    await rep.click("Подтвердить")
    await tick_at(tg, clock, datetime(2026, 11, 30, 18, 44, tzinfo=UTC))
    assert reminders_to(emu, rep.id, REMINDER_RU) == []
    await tick_at(tg, clock, datetime(2026, 11, 30, 18, 45, tzinfo=UTC))
    [sent] = reminders_to(emu, rep.id, REMINDER_RU)
    assert "позвонить" in sent["text"]
    assert "Запланировано: пн, 30 нояб. 2026, 19:00\n" in sent["text"]  # the step's time
    assert "⚠️" not in sent["text"]


async def test_before_the_start_and_on_a_day_off_the_next_working_moment(tg, emu, clock) -> None:
    """As before: there is no working time before such a step that same day."""
    *_, rep = await team_with_rep(tg)
    clock.set(MONDAY)
    await open_next_step(rep, "Clara, Gamma")
    reply = await rep.send("tomorrow 08:00")
    assert reply.text == (
        "Next step on Tue, 1 Dec 2026, 08:00. The reminder will come on Tue, 1 Dec 2026, "
        "09:00, in your working hours. Right?"
    )
    reply = await rep.send("saturday 10:00")
    assert reply.text == (
        "Next step on Sat, 5 Dec 2026, 10:00. The reminder will come on Mon, 7 Dec 2026, "
        "09:00, in your working hours. Right?"
    )
    reply = await rep.send("today 15:00")  # inside the hours: nothing to add
    assert reply.text == "Next step on Mon, 30 Nov 2026, 15:00. Right?"


async def test_planned_late_in_the_day_it_comes_at_once_or_the_next_morning(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    clock.set(datetime(2026, 11, 30, 18, 50, tzinfo=UTC))  # after 18:45, still working
    await open_next_step(rep, "Dora, Delta")
    reply = await rep.send("today 19:30")
    assert reply.text == (
        "Next step on Mon, 30 Nov 2026, 19:30. The reminder will come on Mon, 30 Nov 2026, "
        "18:50, in your working hours. Right?"
    )
    await rep.click("Confirm")
    await tg.app.clockwork.tick()
    [sent] = reminders_to(emu, rep.id)
    assert "Planned for Mon, 30 Nov 2026, 19:30\n" in sent["text"]

    clock.set(datetime(2026, 11, 30, 19, 10, tzinfo=UTC))  # the working day is over
    await open_next_step(rep, "Eve, Epsilon")
    reply = await rep.send("today 21:00")  # no working time is left before it
    assert reply.text == (
        "Next step on Mon, 30 Nov 2026, 21:00. The reminder will come on Tue, 1 Dec 2026, "
        "09:00, in your working hours. Right?"
    )
    await rep.click("Confirm")
    assert await pending_due(tg) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert await audit(tg) == []


async def test_the_owners_last_quarter_hour_when_someone_else_plans(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/settings")
    await rep.click("Working hours")
    await rep.send("Mon-Fri 10:00-17:30")
    await rep.send("/add Finn, Phi")
    clock.set(MONDAY)
    await manager.send("/find Finn")
    await manager.click("Next step")
    await manager.send("call back")
    reply = await manager.send("today 18:00")
    assert reply.text == (
        "Next step on Mon, 30 Nov 2026, 18:00. The reminder will come to Rita on Mon, "
        "30 Nov 2026, 17:15, in their working hours. Right?"
    )
    await manager.click("Confirm")
    await tick_at(tg, clock, datetime(2026, 11, 30, 17, 15, tzinfo=UTC))
    [sent] = reminders_to(emu, rep.id)
    assert "Planned for Mon, 30 Nov 2026, 18:00\n" in sent["text"]
    assert reminders_to(emu, manager.id) == []
