"""The NPS loop's defects a QA pass found, played through the emulator: a /stop sent before any
card carried the person, a colleague's account on a client's card, who contacted the client of
a case, passives in /nps, long complaints cut without a word, a case resolved by its owner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services import nps
from storage.models import Contact, ContactEvent, NpsCase, Survey, User
from storage.uow import write_session
from tests.conftest import ADMIN_ID
from tests.helpers import another_rep, speak, team_with_rep, token_of
from tests.test_nps_chat import client_on_card, sent_to, surveyed


# ------------------------------------------------------------------------ 1. /stop before a card
async def test_a_stop_sent_before_any_card_holds_for_a_card_linked_later(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    hal = tg.user(5009, "Hal")
    reply = await hal.send("/stop")
    assert "won't receive any more surveys" in reply.text
    await rep.share_contact("+79990001126", "Hal", "Black", user_id=hal.id)
    reply = await rep.send("/delivered Hal")
    assert "Service delivered to Hal Black is logged" in reply.text
    assert "Hal Black asked for no surveys (/stop), so none is sent." in reply.text
    assert "NPS question goes to" not in reply.text
    clock.advance(hours=14)
    await tg.app.clockwork.tick()
    assert sent_to(emu, hal.id, "recommend") == []
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(Survey)) is None
        card = await s.scalar(select(Contact))
        person = await s.scalar(select(User).where(User.tg_id == hal.id))
        assert person.nps_stopped_at is not None
        # the card records the person's /stop (its history too), as one linked at the time would
        assert card.nps_stopped_at == person.nps_stopped_at
        stops = list(
            await s.scalars(select(ContactEvent.field).where(ContactEvent.field == "nps_stop"))
        )
    assert stops == ["nps_stop"]
    # the next delivery is refused for the card itself, with no second history line
    clock.advance(days=100)
    reply = await rep.send("/delivered Hal")
    assert "asked for no surveys" in reply.text
    async with tg.app.session_factory() as s:
        assert (
            len(list(await s.scalars(select(ContactEvent).where(ContactEvent.field == "nps_stop"))))
            == 1
        )


async def test_a_stop_still_cancels_a_survey_planned_for_the_card(tg, emu, clock) -> None:
    """The stop recorded on the person leaves the old rule as it was: a survey planned for a card
    that carries them is called off."""
    *_, rep = await team_with_rep(tg)
    client = await client_on_card(tg, rep, 5010, "Ivy")
    await rep.send("/delivered Ivy")
    await client.send("/stop")
    clock.advance(hours=14)
    await tg.app.clockwork.tick()
    assert sent_to(emu, client.id, "recommend") == []
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Survey))).status == "cancelled"
        assert (await s.scalar(select(Contact))).nps_stopped_at is not None


# --------------------------------------------------------------------------- 2. a colleague
@pytest.mark.parametrize("who", ["rep", "manager", "admin"])
async def test_a_colleagues_account_on_a_card_gets_no_survey(tg, emu, clock, who) -> None:
    admin, manager, rep = await team_with_rep(tg)
    sam = await another_rep(tg, manager, 3004, "Sam")
    colleague = {"rep": sam, "manager": manager, "admin": admin}[who]
    await rep.share_contact("+79990003004", "Sam", "Colleague", user_id=colleague.id)
    reply = await rep.send("/delivered Sam")
    assert "Service delivered to Sam Colleague is logged" in reply.text
    assert (
        "Sam Colleague: the card carries the Telegram account of a colleague. Colleagues are not "
        "surveyed as clients, so no survey is sent."
    ) in reply.text
    assert "NPS question goes to" not in reply.text and "?start=" not in reply.text
    clock.advance(hours=14)
    await tg.app.clockwork.tick()
    assert sent_to(emu, colleague.id, "recommend") == []
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(Survey)) is None


async def test_a_client_who_joins_the_team_before_the_question_is_not_sent_it(
    tg, emu, clock
) -> None:
    """Planned for a client, who then joins the team as a rep before it goes out: the send's last
    check (services.nps.sendable) refuses it."""
    _admin, manager, rep = await team_with_rep(tg)
    client = await client_on_card(tg, rep, 5011, "Nina")
    reply = await rep.send("/delivered Nina")
    assert "NPS question goes to Nina Client" in reply.text
    async with tg.app.session_factory() as s:
        survey = await s.scalar(select(Survey))
        assert await nps.sendable(s, survey.id, admin_ids={ADMIN_ID}, now=clock.now())
    reply = await manager.send("/invite")
    await client.send(f"/start {token_of(reply.text)}")
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(User).where(User.tg_id == client.id))).role == "rep"
        assert not await nps.sendable(s, survey.id, admin_ids={ADMIN_ID}, now=clock.now())
        # nor to an administrator's account
        assert not await nps.sendable(s, survey.id, admin_ids={client.id}, now=clock.now())


async def test_the_sendable_check_refuses_a_stopped_person_and_an_expired_survey(
    tg, emu, clock
) -> None:
    *_, rep = await team_with_rep(tg)
    await client_on_card(tg, rep, 5012, "Ola")
    await rep.send("/delivered Ola")
    async with tg.app.session_factory() as s:
        survey = await s.scalar(select(Survey))
        sid, expires = survey.id, survey.expires_at
        assert await nps.sendable(s, sid, admin_ids=set(), now=clock.now())
        assert not await nps.sendable(s, sid, admin_ids=set(), now=expires)
    async with write_session(tg.app.session_factory) as s:
        person = await s.scalar(select(User).where(User.tg_id == 5012))
        person.nps_stopped_at = clock.now()  # as if the stop had reached the person alone
    async with tg.app.session_factory() as s:
        assert not await nps.sendable(s, sid, admin_ids=set(), now=clock.now())
        assert not await nps.sendable(s, None, admin_ids=set(), now=clock.now())


async def test_the_question_is_not_sent_to_a_client_who_joined_the_team(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await client_on_card(tg, rep, 5013, "Pat")
    await rep.send("/delivered Pat")
    reply = await manager.send("/invite")
    await client.send(f"/start {token_of(reply.text)}")
    clock.advance(hours=14)
    await tg.app.clockwork.tick()
    assert sent_to(emu, client.id, "recommend") == []


# ---------------------------------------------------------------- 3. who contacted the client
async def test_client_contacted_is_credited_to_who_contacted(tg, emu, clock) -> None:
    admin, mary, rep = await team_with_rep(tg)
    await admin.send("/invite")
    await admin.click("Manager of a team")
    reply = await admin.click(1, admin.last_with_buttons())
    max_ = tg.user(2003, "Max")
    await max_.send(f"/start {token_of(reply.text)}")
    client = await surveyed(tg, clock, rep, 5014, "Dan")
    await client.click("3")
    await tg.app.clockwork.tick()
    mary_alert = next(m for m in mary.bot_messages if "Dan Client gave 3/10" in m["text"])
    max_alert = next(m for m in max_.bot_messages if "Dan Client gave 3/10" in m["text"])
    await mary.click("Take it", mary_alert)
    reply = await max_.click("Client contacted", max_alert)
    [edited] = reply.edited
    assert "Status: 📞 client contacted (Max)" in edited["text"]
    await tg.app.clockwork.tick()
    [news] = sent_to(emu, mary.id, "📞 Max contacted Dan Client about the case.")
    assert "Status: 📞 client contacted (Max)" in news["text"]
    [told] = sent_to(emu, rep.id, "📞 Max contacted Dan Client")
    assert "client contacted (Max)" in told["text"]
    reply = await mary.send("/cases")
    assert "client contacted by Max" in reply.text and "by Maria" not in reply.text
    async with tg.app.session_factory() as s:
        case = await s.scalar(select(NpsCase))
        max_id = await s.scalar(select(User.id).where(User.tg_id == max_.id))
        assert case.taken_by_id == max_id and case.contacted_at is not None
    # the one who took it and contacted the client stays on it
    client2 = await surveyed(tg, clock, rep, 5015, "Eve")
    await client2.click("2")
    await tg.app.clockwork.tick()
    alert = next(m for m in mary.bot_messages if "Eve Client gave 2/10" in m["text"])
    await mary.click("Take it", alert)
    reply = await mary.click("Client contacted", alert)
    assert "Status: 📞 client contacted (Maria)" in reply.edited[0]["text"]


# ---------------------------------------------------------------------- 4. passives in /nps
@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", "1 answer: 0 promoters, 1 passive, 0 detractors · "),
        ("ru", "1 ответ: 0 промоутеров, 1 нейтрал, 0 критиков · "),
    ],
)
async def test_nps_counts_the_passives(tg, emu, clock, language, line) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 5016, "Pam")
    await client.click("7")
    await speak(manager, language)
    reply = await manager.send("/nps")
    assert line in reply.text
    if language == "en":
        assert "NPS 0 · 1 answer: 0 promoters, 1 passive, 0 detractors · response rate 100%" in (
            reply.text
        )
    for score, name in ((8, "Quin"), (9, "Rob")):
        other = await surveyed(tg, clock, rep, 5017 + score, name)
        await other.click(str(score))
    reply = await manager.send("/nps")
    more = {
        "en": "3 answers: 1 promoter, 2 passives, 0 detractors",
        "ru": "3 ответа: 1 промоутер, 2 нейтрала, 0 критиков",
    }[language]
    assert more in reply.text


# ---------------------------------------------------------------- 5. long complaints are marked
LONG = ("Nobody called me back about the broken order. " * 100)[:4096]  # Telegram's longest


async def test_a_long_complaint_is_cut_with_a_mark_and_the_client_is_told(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 5020, "Lou")
    await client.click("3")
    reply = await client.send(LONG)
    assert "passed on" in reply.text
    assert "Your message was very long, so only its first 4,000 characters were kept." in (
        reply.text
    )
    await tg.app.clockwork.tick()
    async with tg.app.session_factory() as s:
        survey = await s.scalar(select(Survey))
        history = await s.scalar(
            select(ContactEvent.new_value).where(ContactEvent.field == "nps_comment")
        )
    assert len(survey.comment) == 4000 and survey.comment.endswith("…")
    assert LONG.startswith(survey.comment[:-1])
    assert len(history) <= 500 and history.endswith("…")
    [alert] = sent_to(emu, manager.id, "The client wrote what went wrong")
    shown = alert["text"].split("What went wrong: “")[1].split("”")[0]
    assert shown.endswith("…") and len(shown) <= 1500
    reply = await manager.send("/nps")
    latest = reply.text.split("Lou Client: ")[1]
    assert "…”" in latest and len(latest.split("”")[0]) <= 302
    # what is short is never marked
    other = await surveyed(tg, clock, rep, 5021, "Mo")
    await other.click("2")
    reply = await other.send("Too slow")
    assert "very long" not in reply.text
    await tg.app.clockwork.tick()
    alerts = sent_to(emu, manager.id, "What went wrong: “Too slow”")
    assert alerts and all("…" not in alert["text"] for alert in alerts)


async def test_long_words_before_the_score_are_cut_with_a_mark_and_the_client_is_told(
    tg, emu, clock
) -> None:
    *_, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 5022, "Kit")
    reply = await client.send("It was slow")
    assert "Thank you, noted!" in reply.text and "very long" not in reply.text
    reply = await client.send(LONG)  # added to the words before: over what a comment keeps
    assert "Thank you, noted!" in reply.text
    assert "only its first 4,000 characters were kept" in reply.text
    async with tg.app.session_factory() as s:
        comment = (await s.scalar(select(Survey))).comment
    assert len(comment) == 4000 and comment.startswith("It was slow\n") and comment.endswith("…")


# ----------------------------------------------------------------- 6. a case resolved by its owner
async def test_a_manager_resolving_a_case_on_their_own_card_is_not_told_a_rep_was_informed(
    tg, emu, clock
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, manager, 5023, "Gil")
    await client.click("1")
    await tg.app.clockwork.tick()
    alert = next(m for m in manager.bot_messages if "Gil Client gave 1/10" in m["text"])
    await manager.click("Resolve", alert)
    reply = await manager.send("Called and apologised")
    assert reply.text.startswith("✅ Case resolved.\n\n")
    assert "rep is informed" not in reply.text
    await tg.app.clockwork.tick()
    assert sent_to(emu, manager.id, "resolved the case") == []  # nobody else to tell
    # a rep's case still says the rep is informed, and they are
    other = await surveyed(tg, clock, rep, 5024, "Hugo")
    await other.click("2")
    await tg.app.clockwork.tick()
    alert = next(m for m in manager.bot_messages if "Hugo Client gave 2/10" in m["text"])
    await manager.click("Resolve", alert)
    reply = await manager.send("Refunded")
    assert reply.text.startswith("✅ Case resolved. The rep is informed.")
    await tg.app.clockwork.tick()
    assert sent_to(emu, rep.id, "resolved the case of Hugo Client")
