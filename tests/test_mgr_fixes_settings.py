"""A changed time zone and the planned steps: the moments stay (nothing changes without a word),
the answer says how many steps ahead now show other clock times, and a button keeps their clock
times instead — the rep's own steps that were ahead at the change and not changed since, their
reminders with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.emulator.client import buttons_of
from storage.models import Contact, DueWork
from tests.helpers import team_with_rep
from tests.test_followups import plan_step, reminders_to
from views.settings import KeepClockCb


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def steps(tg) -> dict[str, datetime | None]:  # noqa: ANN001
    async with tg.app.session_factory() as s:
        return {c.name: c.next_step_due for c in await s.scalars(select(Contact))}


async def reminder_of(tg, name: str) -> datetime:  # noqa: ANN001
    async with tg.app.session_factory() as s:
        return await s.scalar(
            select(DueWork.due_at)
            .join(Contact, Contact.id == DueWork.contact_id)
            .where(Contact.name == name, DueWork.kind == "reminder", DueWork.status == "pending")
        )


async def test_a_new_zone_keeps_the_moments_unless_the_rep_keeps_the_clock_times(
    tg, emu, clock
) -> None:
    _admin, manager, rep = await team_with_rep(tg)  # Monday 23 Nov, 09:00 UTC: the default zone
    await plan_step(rep, "Anna Smirnova, Acme", "tomorrow 10:00")
    await plan_step(rep, "Boris Petrov", "in 3 days 15:30", step="meet")
    await plan_step(rep, "Oleg Late", "today 09:30")
    await plan_step(manager, "Mira Lead", "tomorrow 11:00")  # the manager's own card
    clock.set(at(23, 10))  # Oleg's step is behind by now: not "ahead"
    await rep.send("/settings")
    await rep.click("Time zone")
    reply = await rep.click("Moscow")
    assert reply.text.startswith(
        "Time zone saved.\nYou have 2 planned steps ahead. They stay at the same moments, so "
        "their clock times change with the zone: e.g. 10:00 is now 13:00.\n\nSettings"
    ), reply.text
    assert reply.buttons[0] == "Keep their clock times (10:00 stays 10:00)"
    offer = reply.last
    data = next(b["callback_data"] for b in buttons_of(offer) if b["text"].startswith("Keep"))
    # without the tap, nothing moved
    assert await steps(tg) == {
        "Anna Smirnova": at(24, 10),
        "Boris Petrov": at(26, 15, 30),
        "Oleg Late": at(23, 9, 30),
        "Mira Lead": at(24, 11),
    }
    clock.advance(timedelta(minutes=5))
    await plan_step(rep, "Carl New", "tomorrow 12:00")  # set in the new zone: 09:00 UTC

    reply = await rep.click("Keep their clock times", offer)
    assert (
        "✅ 2 planned steps keep their clock times in your new zone; their reminders moved with "
        "them." in reply.text
    ), reply.text
    assert not [b for b in buttons_of(reply.edited[-1]) if b["text"].startswith("Keep")]
    assert await steps(tg) == {
        "Anna Smirnova": at(24, 7),  # 10:00 in Moscow
        "Boris Petrov": at(26, 12, 30),  # 15:30 in Moscow
        "Oleg Late": at(23, 9, 30),
        "Mira Lead": at(24, 11),
        "Carl New": at(24, 9),
    }
    assert await reminder_of(tg, "Anna Smirnova") == at(24, 7)
    assert await reminder_of(tg, "Boris Petrov") == at(26, 12, 30)
    reply = await rep.send("/find Anna")
    assert "Next step: call back, Tue, 24 Nov 2026, 10:00" in reply.text

    # a second tap moves nothing (the moved steps changed after the zone did)
    reply = await rep.tap_data(data, offer)
    assert "Nothing to move" in reply.text
    assert (await steps(tg))["Anna Smirnova"] == at(24, 7)

    # someone else's tap of the same data touches only their own cards (none moved here)
    reply = await manager.tap_data(data)
    assert "Nothing to move" in reply.text
    assert (await steps(tg))["Mira Lead"] == at(24, 11)
    # a zone nobody has, or a change in the future: not a valid button
    for forged in (
        KeepClockCb(z="Mars/Base", t=int(at(23, 9).timestamp())),
        KeepClockCb(z="UTC", t=int(at(30, 9).timestamp())),
    ):
        reply = await rep.tap_data(forged.pack())
        assert reply.answer and "no longer valid" in reply.answer["text"]

    # and the reminder comes at 10:00 in Moscow
    clock.set(at(24, 7))
    await tg.app.clockwork.tick()
    assert [r for r in reminders_to(emu, rep.id) if "Anna Smirnova" in r["text"]]


async def test_nothing_is_offered_when_the_clock_times_do_not_change(tg) -> None:
    """No steps ahead, or a zone that shows the same clock times (London in winter): the answer
    is as before."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/settings")
    await rep.click("Time zone")
    reply = await rep.click("Moscow")
    assert reply.text.startswith("Time zone saved.\n\nSettings")
    assert not [b for b in reply.buttons if b.startswith("Keep")]
    await rep.send("/settings")
    await rep.click("Time zone")
    await rep.click("UTC")
    await plan_step(rep, "Anna Smirnova, Acme", "tomorrow 10:00")
    await rep.send("/settings")
    await rep.click("Time zone")
    reply = await rep.send("London")  # typed: the same answer as a button's
    assert reply.text.startswith("Time zone saved.\n\nSettings"), reply.text
    await rep.send("/settings")
    await rep.click("Time zone")
    reply = await rep.send("Berlin")
    assert reply.text.startswith(
        "Time zone saved.\nYou have 1 planned step ahead. It stays at the same moment, so its "
        "clock time changes with the zone: 10:00 is now 11:00."
    ), reply.text
    assert reply.buttons[0] == "Keep its clock time (10:00 stays 10:00)"
