"""Follow-ups that never slip: reminders, snooze, restarts, crashes, cadence, staleness, SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.emulator.runner import EmulatedBot
from services import contacts as svc
from services import duework, followups
from storage.models import Contact, DueWork, Touch, User
from storage.repo import users as users_repo
from storage.uow import write_session
from tests.conftest import fast_limiter
from tests.helpers import team_with_rep


def reminders_to(emu, chat_id: int, needle: str = "⏰ <b>Next step</b>") -> list[dict]:
    return [
        r.params
        for r in emu.requests
        if r.method == "sendMessage"
        and r.ok
        and r.params["chat_id"] == chat_id
        and needle in r.params["text"]
    ]


async def plan_step(rep, name: str, when: str, step: str = "call back") -> None:
    await rep.send(f"/add {name}")
    await rep.click("Open card")
    await rep.click("Next step")
    await rep.send(step)
    await rep.send(when)
    await rep.click("Confirm")


async def test_reminder_comes_in_working_hours_once_with_context_and_buttons(
    tg, emu, clock
) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.click("Open card")
    await rep.click("Log touch")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("Talked about the pilot")
    await rep.send("send the proposal")
    await rep.send("tomorrow 03:00")  # Tue 24 Nov 03:00 UTC: outside working hours
    await rep.click("Confirm")
    clock.set(datetime(2026, 11, 24, 8, 59, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id) == []
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    [sent] = reminders_to(emu, rep.id)
    assert "send the proposal" in sent["text"] and "Anna Smirnova" in sent["text"]
    assert "Acme" in sent["text"] and "Talked about the pilot" in sent["text"]
    assert "⚠️" not in sent["text"]  # not late
    texts = [b["text"] for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert texts == ["✅ Done", "+1 hour", "Tomorrow", "Next week", "📅 Reschedule", "Open card"]
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1  # once


async def test_a_late_reminder_says_so_without_its_time_twice(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Boris, Beta", "today 15:00")
    await plan_step(rep, "Clara, Gamma", "tomorrow 06:00")  # before working hours: at 09:00
    clock.set(datetime(2026, 11, 23, 15, 40, tzinfo=UTC))  # the bot was down at 15:00
    await tg.app.clockwork.tick()
    [sent] = reminders_to(emu, rep.id)
    assert "Planned for Mon, 23 Nov 2026, 15:00\n⚠️ This reminder comes late.\n" in sent["text"]
    clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    await tg.app.clockwork.tick()
    [_first, sent] = reminders_to(emu, rep.id)
    assert (
        "Planned for Tue, 24 Nov 2026, 06:00\n"
        "⚠️ Late: this reminder was due Tue, 24 Nov 2026, 09:00.\n"
    ) in sent["text"]


async def test_snooze_done_and_reschedule_buttons(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Boris, Beta", "today 15:00")
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    reply = await rep.click("+1 hour")
    assert "16:00" in reply.text
    clock.set(datetime(2026, 11, 23, 16, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 2
    await rep.click("Tomorrow")
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 3
    await rep.click("Reschedule", rep.last)
    reply = await rep.send("friday 15:00")
    assert "Fri, 27 Nov 2026, 15:00" in reply.text
    await rep.click("Confirm")
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 4
    reply = await rep.click("Done")  # one tap: the step becomes a touch, the next one is asked
    assert "Logged: call — call back" in reply.text
    assert "What is the next step with Boris" in reply.text


async def test_a_touch_then_the_next_step_settles_the_old_reminder(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Clara, Gamma", "tomorrow 10:00")
    await rep.send("/log Clara")
    await rep.click("call")
    await rep.click("outbound")
    reply = await rep.send("called earlier")
    assert "next step" in reply.text
    await rep.send("send the offer")
    await rep.send("friday 10:00")
    await rep.click("Confirm")
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id) == []
    async with tg.app.session_factory() as s:
        rows = list(await s.scalars(select(DueWork).where(DueWork.kind == "reminder")))
    assert sorted(r.status for r in rows) == ["done", "pending"]  # the first was acted on
    clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    [sent] = reminders_to(emu, rep.id)
    assert "send the offer" in sent["text"]


async def test_a_touch_alone_leaves_the_open_step_and_its_reminder(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Clara, Gamma", "tomorrow 10:00")
    await rep.send("/log Clara")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("called earlier")  # ... and the question about the next step is left open
    reply = await rep.send("/find Clara")
    assert "Next step: call back" in reply.text
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1  # the card shows the step: it is reminded of


async def test_after_a_touch_the_planned_step_is_shown_and_kept_with_one_tap(
    tg, emu, clock
) -> None:
    """After a touch, "What is the next step?" offered only "No next step": a rep whose step
    was planned had to type it again, or leave with /cancel without knowing it stays."""
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Clara, Gamma", "tomorrow 10:00")
    await rep.send("/log Clara")
    await rep.click("call")
    await rep.click("outbound")
    reply = await rep.send("called earlier")
    assert reply.text.endswith("\nPlanned now: call back, Tue, 24 Nov 2026, 10:00")
    assert reply.buttons == ["📌 Keep it", "No next step"]
    question = reply.last
    # a Keep left under this question does nothing for another card's later question
    await plan_step(rep, "Dora, Delta", "friday 10:00")
    await rep.send("/log Dora")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("called")
    for button in ("Keep it", "No next step"):  # "No next step" went on to Dora's reason
        stale = await rep.click(button, question)
        assert stale.answer["show_alert"] and stale.messages == [] and stale.edited == []
    reply = await rep.click("Keep it")  # Dora's own
    assert reply.text == "📌 The next step stays: call back, Fri, 27 Nov 2026, 10:00."
    assert reply.buttons == []
    await rep.send("/log Clara")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("called earlier")
    reply = await rep.click("Keep it")
    assert reply.text == "📌 The next step stays: call back, Tue, 24 Nov 2026, 10:00."
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact).where(Contact.name == "Clara"))
        touches = await s.scalar(select(func.count()).where(Touch.contact_id == card.id))
    assert (card.next_step, touches) == ("call back", 2)
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1  # and its reminder comes
    # an overdue step is not offered to keep: it is to be moved
    clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    await rep.send("/log Clara")
    await rep.click("call")
    await rep.click("outbound")
    reply = await rep.send("no answer")
    assert "Planned now" not in reply.text and reply.buttons == ["No next step"]


async def test_reminder_due_while_down_arrives_after_restart_marked_late(
    settings, emu, clock
) -> None:
    first = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter())
    await first.start()
    *_, rep = await team_with_rep(first)
    await plan_step(rep, "Dora, Delta", "today 12:00")
    await first.stop()
    clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # the bot was down at 12:00
    second = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter())
    await second.start()
    try:
        await second.app.clockwork.tick()
        [sent] = reminders_to(emu, rep.id)
        assert "⚠️ This reminder comes late." in sent["text"] and "Dora" in sent["text"]
        async with second.app.session_factory() as s:
            row = await s.scalar(select(DueWork).where(DueWork.kind == "reminder"))
            assert row.status == "sent" and row.late
    finally:
        await second.stop()


async def test_crash_between_claim_and_send_leads_to_one_delivery(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Eve, Epsilon", "today 12:00")
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    lease = timedelta(seconds=tg.app.settings.claim_lease_seconds)
    async with write_session(tg.app.session_factory) as s:
        claimed = await duework.claim(s, now=clock.now(), worker="crashed", lease=lease)
    assert len(claimed) == 1  # ... and the process dies before sending
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id) == []  # the lease still holds
    clock.advance(lease + timedelta(seconds=1))
    await tg.app.clockwork.tick()
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1


async def test_two_processes_on_postgresql_never_send_twice(pg_url, emu, clock) -> None:
    from bot.config import Settings

    settings = Settings(
        _env_file=None, bot_token=None, database_url=pg_url, admin_ids=frozenset({1001})
    )
    one = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter())
    two = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter())
    await one.start()
    await two.start()
    try:
        *_, rep = await team_with_rep(one)
        async with write_session(one.app.session_factory) as s:
            owner = await users_repo.get_by_tg_id(s, rep.id)
            now = clock.now()
            for i in range(60):
                c = await svc.create(s, owner=owner, data={"name": f"Client {i}"}, now=now)
                await followups.set_next_step(
                    s,
                    c,
                    actor=owner,
                    text=f"step {i}",
                    due=now + timedelta(minutes=30),
                    reason=None,
                    now=now,
                    rules=followups.Rules(),
                )
        clock.advance(timedelta(minutes=31))
        import asyncio

        await asyncio.gather(one.app.clockwork.tick(), two.app.clockwork.tick())
        sent = reminders_to(emu, rep.id)
        steps = sorted(p["text"].split("</b>: ")[1].split("\n")[0] for p in sent)
        assert len(sent) == 60 and len(set(steps)) == 60
    finally:
        await one.stop()
        await two.stop()


async def test_going_cold_once_and_a_touch_resets(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Fred, Zeta")
    async with write_session(tg.app.session_factory) as s:
        c = await s.scalar(select(Contact))
        c.stage = "connection"
    clock.advance(timedelta(days=8))
    await tg.app.clockwork.run_daily()
    await tg.app.clockwork.tick()
    await tg.app.clockwork.run_daily()
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id, "🥶 <b>Going cold</b>")) == 1
    reply = await rep.send("/today")
    assert "Going cold" in reply.text and "Fred" in reply.text
    await rep.click("Log touch", next(m for m in rep.bot_messages if "Going cold" in m["text"]))
    await rep.click("message")
    await rep.click("outbound")
    await rep.send("pinged")
    await rep.click("No next step")
    await rep.click("not a fit")
    clock.advance(timedelta(days=8))
    await tg.app.clockwork.run_daily()
    await tg.app.clockwork.tick()
    assert (
        len(reminders_to(emu, rep.id, "🥶 <b>Going cold</b>")) == 2
    )  # the clock was reset by the touch


async def test_stale_card_gets_one_tap_check(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Gina, Omega, CTO")
    clock.advance(timedelta(days=182))  # Mon 24 May 2027, 09:00
    await tg.app.clockwork.run_daily()
    await tg.app.clockwork.tick()
    [check] = reminders_to(emu, rep.id, "still CTO at Omega")
    reply = await rep.click("Yes", rep.last)
    assert "confirmed" in reply.text
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).verified_at == clock.now()
    assert check


async def request_waiting_for_a_reply(rep) -> None:
    """Hugo's inbound request, logged with no next step: the reply window runs."""
    await rep.send("/add Hugo, Eta")
    await rep.send("/log Hugo")
    await rep.click("message")
    await rep.click("inbound")
    await rep.send("Please send me a quote")
    await rep.click("No next step")
    await rep.click("other")
    await rep.send("waiting to reply")


async def test_inbound_request_reply_window_then_manager(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await request_waiting_for_a_reply(rep)
    clock.advance(timedelta(hours=2))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id, "waiting for a reply")) == 1
    reply = await rep.send("/today")
    assert "Waiting for your reply" in reply.text
    assert reminders_to(emu, manager.id, "without a reply") == []
    clock.advance(timedelta(hours=2))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, manager.id, "without a reply")) == 1


async def test_reply_in_time_means_no_alerts(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Iris, Theta")
    await rep.send("/log Iris")
    await rep.click("call")
    await rep.click("inbound")
    await rep.click("Skip")
    await rep.send("/log Iris")
    await rep.click("e-mail")
    await rep.click("outbound")
    await rep.send("sent the quote")
    clock.advance(timedelta(hours=5))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id, "waiting for a reply") == []
    assert reminders_to(emu, manager.id, "without a reply") == []


async def test_blocked_rep_is_marked_and_manager_told(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await plan_step(rep, "Jack, Iota", "today 12:00")
    emu.chats[rep.id].blocked = True  # blocked without the bot noticing yet
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, manager.id, "does not receive")) == 1
    async with tg.app.session_factory() as s:
        assert not (await users_repo.get_by_tg_id(s, rep.id)).reachable
        failed = await s.scalar(select(func.count()).where(DueWork.status == "failed"))
        assert failed == 1


async def test_contact_writing_to_the_bot_tells_owner_and_keeps_the_step(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.share_contact("+79990001122", "Kira", user_id=8080)
    await rep.click("Open card")
    await rep.click("Next step")
    await rep.send("follow up")
    await rep.send("tomorrow 11:00")
    await rep.click("Confirm")
    kira = tg.user(8080, "Kira")
    reply = await kira.send("Hi! Any news about my order?")
    assert "passed on" in reply.text
    assert "Kira" not in reply.text and "follow up" not in reply.text  # no CRM data leaks
    await tg.app.clockwork.tick()
    [told] = reminders_to(emu, rep.id, "wrote to me")
    # the client's words in English quotes (they were in «» in both languages)
    assert told["text"].endswith("wrote to me:\n“Hi! Any news about my order?”")
    clock.set(datetime(2026, 11, 24, 11, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1  # the step is still open: it is reminded of


async def test_working_hours_setting_moves_reminders(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    async with write_session(tg.app.session_factory) as s:
        user = await s.scalar(select(User).where(User.tg_id == rep.id))
        user.timezone = "Asia/Novosibirsk"  # UTC+7
    await plan_step(rep, "Lev, Kappa", "today 22:00")  # 22:00 local = 15:00 UTC, after hours
    clock.set(datetime(2026, 11, 23, 11, 44, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id) == []
    clock.set(datetime(2026, 11, 23, 11, 45, tzinfo=UTC))  # 18:45 local: before the step
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1


async def test_working_hours_typed_in_words_in_russian(tg) -> None:
    *_, rep = await team_with_rep(tg, language="ru")
    await rep.send("/settings")
    await rep.click("Рабочие часы")
    reply = await rep.send("пн-пт 9-18, сб 10-14")
    assert "один промежуток часов для всех рабочих дней" in reply.text
    reply = await rep.send("25:00-26:00")  # named as it is, not "can't read"
    assert reply.text == (
        "Таких часов нет: «25:00-26:00» — часы бывают от 0 до 23 (24 — конец дня), минуты от "
        "00 до 59. Попробуйте, например, «пн-пт 09:00-19:00»."
    )
    reply = await rep.send("по будням с 9:30 до 18")
    assert "Рабочие часы: пн–пт 09:30–18:00" in reply.text


async def test_settings_working_hours_and_team_rhythm(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    reply = await rep.send("/settings")
    assert "Working hours: Mon–Fri 09:00–19:00" in reply.text
    assert "Team's touch rhythm" not in reply.buttons
    await rep.click("Working hours")
    reply = await rep.send("whenever")
    assert "can't read" in reply.text
    reply = await rep.send("Mon-Fri 9:75-18")
    assert reply.text.startswith("No clock shows the hours in “Mon-Fri 9:75-18”: hours go")
    # hours that could be read but make no working day (they were "I can't read")
    reply = await rep.send("22:00-06:00")
    assert reply.text.startswith("“22:00-06:00” ends before it starts: working hours that go")
    reply = await rep.send("10-10")
    assert reply.text.startswith("“10-10” starts and ends at the same time.")
    reply = await rep.send("Tue-Sat 10-18")
    assert "Working hours: Tue–Sat 10:00–18:00" in reply.text
    # a next step on Monday 09:00 now waits for Tuesday 10:00
    await plan_step(rep, "Mona, Mu", "today 09:30")
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id) == []
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1

    reply = await manager.send("/settings")
    assert "connection: every 7 d" in reply.text
    await manager.click("Team's touch rhythm")
    reply = await manager.send("connection=2")
    assert "connection: every 2 d" in reply.text and "commercial: every 3 d" in reply.text
    await rep.send("/add Nick, Nu")
    async with write_session(tg.app.session_factory) as s:
        c = await s.scalar(select(Contact).where(Contact.name == "Nick"))
        c.stage = "connection"
    clock.advance(timedelta(days=3))  # Fri 27 Nov 10:00: past the team's 2 days
    await tg.app.clockwork.run_daily()
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id, "🥶 <b>Going cold</b>")) == 1


async def test_the_running_bot_delivers_on_its_own_and_stops_cleanly(settings, emu, clock) -> None:
    from tests.test_sender import until

    first = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter())
    await first.start()
    *_, rep = await team_with_rep(first)
    await plan_step(rep, "Olga, Omicron", "today 12:00")
    await first.stop()
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    # the bot as deployed: the clock and the delivery loop start with it, no tick needed
    second = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter(), start_clockwork=True)
    app = await second.start()
    try:
        assert app.clockwork.pool.running
        await until(lambda: len(reminders_to(emu, rep.id)) == 1)
    finally:
        await second.stop()  # awaits Clockwork.shutdown: the loop stops, nothing is left
    assert not app.clockwork.pool.running and app.clockwork.scheduler is None
    assert len(reminders_to(emu, rep.id)) == 1


async def test_a_contact_writing_three_times_is_one_request_waiting(tg, emu, clock) -> None:
    """Three messages before any reply are one request waiting: its reply clock runs from the
    first, the rep is reminded once, the manager alerted once, /today lists the contact once."""
    _admin, manager, rep = await team_with_rep(tg)
    await rep.share_contact("+79990003344", "Mila", user_id=8181)
    mila = tg.user(8181, "Mila")
    await mila.send("Hello!")
    clock.advance(timedelta(minutes=30))
    await mila.send("Are you there?")
    clock.advance(timedelta(minutes=30))
    await mila.send("I need a quote for 20 seats")
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id, "wrote to me")) == 3  # each message is passed on
    clock.advance(timedelta(hours=1))  # two working hours after the first message
    await tg.app.clockwork.tick()
    [waiting] = reminders_to(emu, rep.id, "waiting for a reply")
    assert "09:00" in waiting["text"]  # since the first message (Mon 09:00 UTC)
    reply = await rep.send("/today")
    assert reply.text.count("Mila") == 1
    assert reply.buttons == ["📥 Mila"]
    clock.advance(timedelta(hours=4))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, manager.id, "without a reply")) == 1
    assert len(reminders_to(emu, rep.id, "waiting for a reply")) == 1
    await rep.send("/log Mila")
    await rep.click("message")
    await rep.click("outbound")
    await rep.send("sent the quote")
    clock.advance(timedelta(minutes=5))
    await mila.send("Thanks! One more question")  # a new request after the reply
    clock.advance(timedelta(hours=3))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id, "waiting for a reply")) == 2
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()  # its alerts are all out: the next message starts anew
    assert len(reminders_to(emu, manager.id, "without a reply")) == 2
    await mila.send("Hello again?")
    reply = await rep.send("/today")  # still one line, since the earliest unanswered request
    assert reply.buttons == ["📥 Mila"] and "Mon, 23 Nov 2026, 15:05" in reply.text


async def manager_leaves(tg, manager) -> None:
    async with write_session(tg.app.session_factory) as s:
        (await users_repo.get_by_tg_id(s, manager.id)).role = None


async def test_a_team_without_a_manager_escalates_to_an_administrator(tg, emu, clock) -> None:
    """The manager has left: an unanswered request and a rep who blocked the bot were told to
    nobody (the escalation was dropped); an administrator hears of them instead."""
    admin, manager, rep = await team_with_rep(tg)
    await manager_leaves(tg, manager)
    await request_waiting_for_a_reply(rep)
    clock.advance(timedelta(hours=4))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, admin.id, "without a reply")) == 1
    assert reminders_to(emu, manager.id, "without a reply") == []
    await plan_step(rep, "Jack, Iota", "tomorrow 12:00")
    emu.chats[rep.id].blocked = True
    clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, admin.id, "does not receive")) == 1
    assert reminders_to(emu, manager.id, "does not receive") == []


async def test_today_says_what_each_line_is_about(tg, clock) -> None:
    """Each line of /today names the step and its time (the time alone for today), how long a
    card has been quiet, or since when a request waits; a long step is cut, text escaped."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Carl Quiet, Gamma")
    async with write_session(tg.app.session_factory) as s:
        (await s.scalar(select(Contact))).stage = "connection"
    clock.advance(timedelta(days=8))
    await plan_step(rep, "Anna Early, Acme", "today 12:00", "call about the <pilot>")
    await plan_step(rep, "Boris Later", "today 18:00", "send the proposal " + "and more " * 10)
    clock.advance(timedelta(hours=4))  # 13:00: Anna's step is overdue, Boris's due today
    text = (await rep.send("/today")).text
    assert "• Anna Early, Acme — call about the <pilot> · Tue, 1 Dec 2026, 12:00" in text
    assert "• Boris Later — send the proposal and more and more" in text
    assert "more and… · 18:00" in text and "and more " * 10 not in text
    assert "• Carl Quiet, Gamma — no touch for 8 days" in text


async def test_moving_a_reminder_then_a_command_names_only_a_new_time(tg, emu, clock) -> None:
    """📅 Reschedule, then a command: with no time typed nothing was lost (the step keeps its
    time, no note); with a time typed and not confirmed, the rep is told it was not saved."""
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Boris, Beta", "today 15:00")
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    reminder = rep.last
    await rep.click("Reschedule", reminder)
    reply = await rep.send("/today")
    assert len(reply.messages) == 1 and "Your day" in reply.text
    await rep.click("Reschedule", reminder)
    await rep.send("friday 15:00")
    note = (await rep.send("/today")).messages[0]
    assert note["text"] == (
        "✋ The next step with Boris was not saved: a command ends the dialogue.\n"
        "Typed so far: call back · Fri, 27 Nov 2026, 15:00"
    )
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact))
    assert card.next_step_due == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # as it was
    await rep.click("Back to the next step", note)
    await rep.click("Confirm")
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact))
    assert card.next_step_due == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
