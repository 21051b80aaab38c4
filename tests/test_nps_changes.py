"""A client changes their answer within the minutes allowed: by a tap or by a typed number.

A detractor who changes to a promoter's (or a passive's) score no longer has a case to resolve:
it closes on its own, its deadline reminder and escalation are dropped, and the managers who were
alerted hear that it is closed. A bare number typed just after the tap is the change, not the
comment ("what went wrong: “10”")."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import DueWork, NpsCase, Survey
from tests.conftest import ADMIN_ID
from tests.helpers import team_with_rep
from tests.test_nps_chat import buttons_of, sent_to, surveyed


async def test_a_detractor_who_changes_to_a_promoter_closes_the_case(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9040, "Paul")
    question = client.last_with_buttons()
    await client.click("2", question)
    await client.send("Nobody called back")
    await tg.app.clockwork.tick()
    assert sent_to(emu, manager.id, "🚨 <b>Detractor</b>: Paul Client gave 2/10")
    clock.advance(minutes=3)
    reply = await client.click("10", question)
    assert "Your answer is changed to 10" in reply.text
    assert "start=ref_" in reply.text  # a promoter now: the referral link
    await tg.app.clockwork.tick()
    # the manager who was alerted hears that the case is closed, and why
    [closed] = sent_to(emu, manager.id, "Paul Client changed their survey answer: 2/10 → 10/10")
    assert "The detractor case is closed: there is nothing to resolve." in closed["text"]
    assert "Detractor" not in closed["text"]
    # the rep hears of the change, and that the case is closed
    [told] = sent_to(emu, rep.id, "changed their survey answer: 2/10 → 10/10 (promoter)")
    assert "The detractor case is closed: there is nothing to resolve." in told["text"]
    assert sent_to(emu, ADMIN_ID, "Paul Client") == []  # never alerted: nothing to say
    # no open case left, and the words under 2/10 are not shown under 10/10
    reply = await manager.send("/cases")
    assert "No open detractor cases" in reply.text
    reply = await manager.send("/nps")
    assert "Nobody called back" not in reply.text
    assert "1 promoter, 0 passives, 0 detractors" in reply.text
    # the old alert's buttons: the case is closed
    alert = next(m for m in manager.bot_messages if "Resolve within" in m["text"])
    reply = await manager.click("Take it", alert)
    assert "already resolved" in reply.text
    # the deadline's reminder and the escalation never come
    clock.advance(hours=30)
    await tg.app.clockwork.tick()
    assert sent_to(emu, manager.id, "deadline is close") == []
    assert sent_to(emu, ADMIN_ID, "escalated") == [] and sent_to(emu, rep.id, "escalated") == []
    async with tg.app.session_factory() as s:
        case = await s.scalar(select(NpsCase))
        assert case.status == "resolved" and case.escalated_at is None
        assert (case.changed_from, case.changed_to) == (2, 10)  # worded by each reader's language
        assert case.resolution is None  # a manager's words; none were written
        survey = await s.scalar(select(Survey))
        assert (survey.score, survey.comment) == (10, None)
        due = set(
            await s.scalars(
                select(DueWork.status).where(DueWork.kind.in_(["case_due", "case_escalate"]))
            )
        )
        assert due == {"cancelled"}


async def test_the_closed_case_says_why_and_a_passive_gets_the_passives_question(
    tg, emu, clock
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9041, "Pam")
    question = client.last_with_buttons()
    await client.click("5", question)
    await tg.app.clockwork.tick()
    alert = next(m for m in manager.bot_messages if "Pam Client gave 5/10" in m["text"])
    await manager.click("Take it", alert)  # a case taken is closed too
    clock.advance(minutes=4)
    reply = await client.click("8", question)
    assert "What would make it a 10" in reply.text
    await tg.app.clockwork.tick()
    [closed] = sent_to(emu, manager.id, "Pam Client changed their survey answer: 5/10 → 8/10")
    assert buttons_of(closed) == ["Open card"]
    # the rep's news of the take, sent after the change, shows the case closed and why
    [news] = sent_to(emu, rep.id, "Maria took the case of Pam Client")
    assert "Status: ✅ resolved" in news["text"]
    assert (
        "Resolution: closed on its own: the client changed their answer, 5/10 → 8/10"
        in news["text"]
    )
    reply = await client.send("Faster replies")  # the passive's answer, for the rep
    assert "passed on" in reply.text
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, rep.id, "answered 8/10 and wrote: “Faster replies”")) == 1
    assert sent_to(emu, manager.id, "Faster replies") == []
    async with tg.app.session_factory() as s:
        case = await s.scalar(select(NpsCase))
    assert case.status == "resolved"
    # the card tells the answer and that its case is closed
    reply = await rep.send("/find Pam")
    assert "NPS: 8/10 (passive)" in reply.text and "✅ case resolved" in reply.text


async def test_a_change_before_the_alert_went_out_tells_no_manager(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9042, "Pat")
    question = client.last_with_buttons()
    await client.click("1", question)
    clock.advance(minutes=1)
    await client.click("9", question)
    await tg.app.clockwork.tick()
    assert sent_to(emu, manager.id, "Pat Client") == []  # neither the alert nor its closing
    assert sent_to(emu, rep.id, "A case was opened") == []
    [told] = sent_to(emu, rep.id, "1/10 → 9/10 (promoter)")
    assert "The detractor case is closed: there is nothing to resolve." in told["text"]


async def test_back_to_a_detractor_score_reopens_the_case(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9043, "Phil")
    question = client.last_with_buttons()
    await client.click("2", question)
    await tg.app.clockwork.tick()
    clock.advance(minutes=2)
    await client.click("10", question)
    await tg.app.clockwork.tick()
    clock.advance(minutes=2)
    reply = await client.click("3", question)
    assert "What went wrong" in reply.text
    await tg.app.clockwork.tick()
    alerts = sent_to(emu, manager.id, "🚨 <b>Detractor</b>: Phil Client gave")
    assert len(alerts) == 2 and "gave 3/10" in alerts[1]["text"]
    assert "Resolve within" in alerts[1]["text"] and "🆕 open" in alerts[1]["text"]
    reply = await manager.send("/cases")
    assert "1. Phil Client — 3/10" in reply.text
    # its deadline counts from the new answer, and its reminder comes once
    clock.advance(hours=18)
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, manager.id, "deadline is close")) == 1
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(NpsCase))).status == "open"


async def test_a_passive_who_changes_to_a_detractor_gets_a_case(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9044, "Pia")
    question = client.last_with_buttons()
    await client.click("8", question)
    clock.advance(minutes=2)
    reply = await client.click("4", question)
    assert "What went wrong" in reply.text
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, manager.id, "Pia Client gave 4/10")) == 1


# ----------------------------------------------------------------------- a typed number
async def test_a_number_typed_after_a_detractors_tap_changes_the_score(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9045, "Paul")
    await client.click("0")
    await tg.app.clockwork.tick()
    clock.advance(minutes=1)
    reply = await client.send("10")
    assert "Your answer is changed to 10" in reply.text and "start=ref_" in reply.text
    assert "passed on" not in reply.text
    await tg.app.clockwork.tick()
    assert sent_to(emu, manager.id, "What went wrong") == []
    assert len(sent_to(emu, manager.id, "changed their survey answer: 0/10 → 10/10")) == 1
    reply = await manager.send("/nps")
    assert "“10”" not in reply.text and "1 promoter, 0 passives, 0 detractors" in reply.text
    reply = await manager.send("/cases")
    assert "No open detractor cases" in reply.text
    # what they write next is the promoter's comment, for the rep
    reply = await client.send("Great team")
    assert "passed on" in reply.text
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, rep.id, "answered 10/10 and wrote: “Great team”")) == 1
    async with tg.app.session_factory() as s:
        survey = await s.scalar(select(Survey))
    assert (survey.score, survey.comment) == (10, "Great team")


async def test_a_number_typed_after_a_passives_tap_changes_the_score(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9046, "Vera")
    await client.click("8")
    reply = await client.send("9")
    assert "Your answer is changed to 9" in reply.text and "start=ref_" in reply.text
    await tg.app.clockwork.tick()
    assert sent_to(emu, rep.id, "wrote: “9”") == []
    assert len(sent_to(emu, rep.id, "8/10 → 9/10 (promoter)")) == 1
    async with tg.app.session_factory() as s:
        survey = await s.scalar(select(Survey))
    assert (survey.score, survey.comment) == (9, None)


async def test_a_score_typed_as_9_of_10_in_russian_changes_it(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9047, "Лев", language="ru")
    await client.click("7")
    reply = await client.send("9 из 10")
    assert "Ваш ответ изменён на 9" in reply.text
    reply = await client.send("9/10")  # the same number again: said so, nothing else
    assert reply.text == "✅ Ваша оценка: 9/10"
    async with tg.app.session_factory() as s:
        survey = await s.scalar(select(Survey))
    assert (survey.score, survey.comment) == (9, None)


async def test_a_number_typed_after_the_comment_still_changes_the_score(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9048, "Olga")
    await client.click("2")
    await client.send("Slow")
    await tg.app.clockwork.tick()
    clock.advance(minutes=5)
    reply = await client.send("10")
    assert "Your answer is changed to 10" in reply.text
    await tg.app.clockwork.tick()
    assert sent_to(emu, manager.id, "wrote to me") == []  # not an ordinary message
    assert len(sent_to(emu, manager.id, "changed their survey answer: 2/10 → 10/10")) == 1
    async with tg.app.session_factory() as s:
        survey = await s.scalar(select(Survey))
    assert (survey.score, survey.comment) == (10, None)


async def test_words_with_a_number_and_a_number_after_the_window_are_comments(
    tg, emu, clock
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9049, "Ivan")
    await client.click("2")
    await tg.app.clockwork.tick()
    reply = await client.send("3 weeks late")
    assert "passed on" in reply.text
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, manager.id, "What went wrong: “3 weeks late”")) == 1
    other = await surveyed(tg, clock, rep, 9050, "Nina")
    await other.click("4")
    clock.advance(minutes=11)  # past the minutes a score can change in: the words are kept
    reply = await other.send("10")
    assert "passed on" in reply.text
    async with tg.app.session_factory() as s:
        nina = await s.scalar(select(Survey).where(Survey.client_tg_id == other.id))
    assert (nina.score, nina.comment) == (4, "10")
