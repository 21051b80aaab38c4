"""A next step planned on an archived card: archived cards get no reminder, yet "⏭ Next step" and
the question after "📝 Log touch" confirmed the step as if one would come. The rep is told before
confirming and chooses: restore the card and plan (the reminder is planned) or save the step
without a reminder; 📌 Keep it on an archived card offers the same choice."""

from __future__ import annotations

from sqlalchemy import func, select

from services import duework
from services.followups.rules import REMINDER
from storage.models import Contact, DueWork
from tests.helpers import team_with_rep

NOTE = "no reminder will come while it stays in the archive"


async def archived_card(rep, name: str = "Anna Smirnova") -> None:
    await rep.send(f"/add {name}, Acme")
    await rep.send(f"/find {name}")
    await rep.click("🗄")  # 🗄 Archive
    await rep.send(f"/find -a {name}")


async def card_and_reminders(tg) -> tuple[Contact, int]:
    async with tg.app.session_factory() as s:
        contact = await s.scalar(select(Contact))
        pending = await s.scalar(
            select(func.count(DueWork.id)).where(
                DueWork.kind == REMINDER, DueWork.status == duework.PENDING
            )
        )
        return contact, pending


async def test_next_step_on_an_archived_card_says_no_reminder_and_saves_without(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await archived_card(rep)
    await rep.click("Next step")
    reply = await rep.send("call back tomorrow 10:00")
    assert NOTE in reply.text
    assert "The reminder will come" not in reply.text
    assert reply.buttons == [
        "♻️ Restore the card and plan",
        "Save without a reminder",
        "Change",
    ]
    reply = await rep.click("Save without a reminder")
    assert "Next step saved, without a reminder: the card is in the archive." in reply.text
    contact, pending = await card_and_reminders(tg)
    assert contact.next_step == "call back" and contact.archived_at is not None
    assert pending == 0


async def test_restore_the_card_and_plan_restores_it_and_plans_the_reminder(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await archived_card(rep)
    await rep.click("Next step")
    await rep.send("call back tomorrow 10:00")
    reply = await rep.click("Restore the card and plan")
    assert "♻️ The card is restored." in reply.text and "✅ Next step saved." in reply.text
    contact, pending = await card_and_reminders(tg)
    assert contact.archived_at is None and contact.next_step == "call back"
    assert pending == 1


async def test_the_step_after_a_touch_and_keep_it_on_an_archived_card(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await archived_card(rep)
    await rep.click("Next step")
    await rep.send("call back tomorrow 10:00")
    await rep.click("Save without a reminder")
    await rep.send("/find -a Anna")
    # a touch logged on the archived card: its next-step question follows the same rule
    await rep.click("Log touch")
    await rep.click("Call")
    await rep.click("Outbound")
    reply = await rep.send("talked")
    assert "Planned now: call back" in reply.text
    reply = await rep.click("Keep it")
    assert "Planned now: call back" in reply.text and NOTE in reply.text
    assert reply.buttons == ["♻️ Restore the card and plan", "📌 Keep without a reminder"]
    reply = await rep.click("Keep without a reminder")
    assert "stays, without a reminder" in reply.text
    assert (await card_and_reminders(tg))[1] == 0

    await rep.send("/find -a Anna")
    await rep.click("Log touch")
    await rep.click("Call")
    await rep.click("Outbound")
    await rep.send("talked again")
    await rep.click("Keep it")
    reply = await rep.click("Restore the card and plan")
    assert "♻️ The card is restored." in reply.text and "📌 The next step stays" in reply.text
    contact, pending = await card_and_reminders(tg)
    assert contact.archived_at is None and pending == 1

    # typed after a touch on an archived card: the same word before confirming
    await rep.send(f"/find {contact.name}")
    await rep.click("🗄")
    await rep.send(f"/find -a {contact.name}")
    await rep.click("Log touch")
    await rep.click("Call")
    await rep.click("Outbound")
    await rep.send("once more")
    reply = await rep.send("send the proposal in 3 days")
    assert NOTE in reply.text and "Restore the card and plan" in reply.buttons[0]


async def test_a_live_card_is_confirmed_as_before(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.send("/find Anna")
    await rep.click("Next step")
    reply = await rep.send("call back tomorrow 10:00")
    assert NOTE not in reply.text and reply.buttons == ["✅ Confirm", "Change"]
