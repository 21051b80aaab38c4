"""The NPS loop played by rep, client and manager through the emulator, on an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from storage.models import Contact, ContactEvent, NpsCase, Survey, User
from storage.uow import write_session
from tests.conftest import ADMIN_ID
from tests.helpers import team_with_rep

REVIEW = "https://g.page/r/acme-review"


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        admin_ids=frozenset({ADMIN_ID}),
        review_url=REVIEW,
        company_name="Acme Consulting",
    )


def sent_to(emu, chat_id: int, needle: str) -> list[dict]:
    return [
        r.params
        for r in emu.requests
        if r.method == "sendMessage"
        and r.ok
        and r.params["chat_id"] == chat_id
        and needle in r.params["text"]
    ]


async def client_on_card(
    tg, rep, client_id: int = 9001, name: str = "Carl", *, language: str = "en"
):
    """A client who has started the bot and whose Telegram id is on the rep's card."""
    client = tg.user(client_id, name, language_code=language)
    await client.send("/start")
    last = "Клиент" if language == "ru" else "Client"
    await rep.share_contact(f"+7999555{client_id:04d}", name, last, user_id=client_id)
    return client


async def surveyed(tg, clock, rep, client_id: int, name: str, *, language: str = "en"):
    """A client on the rep's card, the service delivered and the question sent (two hours
    later, as the survey's delay says)."""
    client = await client_on_card(tg, rep, client_id, name, language=language)
    await rep.send(f"/delivered {name}")
    clock.advance(hours=2)
    await tg.app.clockwork.tick()
    return client


async def test_promoter_gets_referral_and_review_and_the_referral_becomes_a_contact(
    tg, emu, clock
) -> None:
    *_, rep = await team_with_rep(tg)
    client = await client_on_card(tg, rep)
    reply = await rep.send("/delivered Carl")
    assert "Service delivered to Carl Client is logged" in reply.text
    assert "NPS question goes to Carl Client on Mon, 23 Nov 2026, 11:00" in reply.text
    clock.advance(hours=1, minutes=59)
    await tg.app.clockwork.tick()
    assert sent_to(emu, client.id, "recommend") == []
    clock.advance(minutes=1)
    await tg.app.clockwork.tick()
    [q] = sent_to(emu, client.id, "recommend Acme Consulting")
    assert [b["text"] for row in q["reply_markup"]["inline_keyboard"] for b in row] == [
        str(i) for i in range(11)
    ]
    assert "Carl" not in q["text"] and "+7999" not in q["text"]  # nothing from the CRM
    reply = await client.click("10")
    assert "share this personal link" in reply.text and REVIEW in reply.text
    ref_link = next(w for w in reply.text.split() if "start=ref_" in w)
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, rep.id, "10/10 (promoter)")) == 1

    friend = tg.user(9100, "Fiona")
    reply = await friend.send("/start " + ref_link.split("start=")[1])
    assert "friend's recommendation" in reply.text
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, rep.id, "New referral")) == 1
    async with tg.app.session_factory() as s:
        carl = await s.scalar(select(Contact).where(Contact.tg_user_id == client.id))
        fiona = await s.scalar(select(Contact).where(Contact.tg_user_id == friend.id))
        assert fiona.source == "referral" and fiona.introduced_by_id == carl.id
        assert fiona.owner_id == carl.owner_id
    # opened twice, or by the promoter themself: nothing new
    reply = await friend.send("/start " + ref_link.split("start=")[1])
    assert "already know each other" in reply.text
    reply = await client.send("/start " + ref_link.split("start=")[1])
    assert "your own referral link" in reply.text
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Contact.id))) == 2


async def test_client_without_the_bot_gets_a_link_and_passive_answer_reaches_rep(
    tg, emu, clock
) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Paula Passive, Beta")
    reply = await rep.send("/delivered Paula")
    assert "hasn't started the bot" in reply.text
    link = next(w for w in reply.text.split() if "?start=" in w)
    client = tg.user(9002, "Paula")
    reply = await client.send("/start " + link.split("start=")[1])
    assert "How likely are you to recommend" in reply.text
    reply = await client.send("hello?")
    assert "tap a number" in reply.text
    reply = await client.click("8")
    assert "make it a 10" in reply.text
    reply = await client.send("Faster replies <please> & thanks")
    assert "passed on" in reply.text and REVIEW in reply.text  # reviews are asked of everyone
    await tg.app.clockwork.tick()
    [note] = sent_to(emu, rep.id, "wrote: “Faster replies &lt;please&gt; &amp; thanks”")
    assert "8/10" in note["text"]
    async with tg.app.session_factory() as s:
        c = await s.scalar(select(Contact))
        assert c.tg_user_id == client.id  # the link linked the account
        fields = set(
            await s.scalars(select(ContactEvent.field).where(ContactEvent.contact_id == c.id))
        )
        assert {"nps", "nps_comment"} <= fields
    # someone else's link
    stranger = tg.user(9003, "Sam")
    reply = await stranger.send("/start " + link.split("start=")[1])
    assert "belongs to someone else" in reply.text


async def test_detractor_case_from_alert_to_resolution(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9004, "Dan")
    reply = await client.click("3")
    assert "sorry" in reply.text and "What went wrong" in reply.text
    assert REVIEW not in reply.text
    await tg.app.clockwork.tick()
    [alert] = sent_to(emu, manager.id, "Detractor")
    assert "Dan Client gave 3/10" in alert["text"]
    [notice] = sent_to(emu, rep.id, "A case was opened")
    # it does not say the manager is on it while the case shows nobody has taken it
    assert "your manager has been told" in notice["text"]
    assert "nobody has taken it yet" in notice["text"]
    assert sent_to(emu, rep.id, "answered the survey") == []  # the case's notice said it
    reply = await client.send("Nobody called me back")
    assert "passed on" in reply.text
    await tg.app.clockwork.tick()
    # the words come as an addition to the case, with its buttons, not as a second alert
    [comment] = sent_to(emu, manager.id, "Nobody called me back")
    assert comment["text"].startswith("💬 The client wrote what went wrong.")
    assert "Resolve within" not in comment["text"] and buttons_of(comment)
    [told] = sent_to(emu, rep.id, "Nobody called me back")
    assert told["text"].startswith("💬 Your client wrote what went wrong.")
    # what the client writes next reaches the case's manager too (it went to the rep alone)
    await client.send("And the invoice was wrong")
    await tg.app.clockwork.tick()
    [more] = sent_to(emu, manager.id, "invoice")
    assert more["text"] == (
        "💬 <b>Dan Client</b>, whose detractor case is open, wrote to me:\n"
        "“And the invoice was wrong”"
    )
    assert buttons_of(more)[:2] == ["📝 Log reply", "Open card"]
    # the rep, whose card it is, hears it once, and that the case is still open
    [to_rep] = sent_to(emu, rep.id, "wrote to me:\n“And the invoice was wrong”")
    assert "whose detractor case is open" in to_rep["text"]
    # the case opened from /cases shows it under what went wrong
    await manager.send("/cases")
    reply = await manager.click("Dan Client")
    assert (
        "What went wrong: “Nobody called me back”\n"
        "Then the client wrote:\n• “And the invoice was wrong”\n"
    ) in reply.text
    case_message = next(m for m in manager.bot_messages if "Nobody called me back" in m["text"])
    reply = await manager.click("Take it", case_message)
    assert "📞 Client contacted" in reply.buttons
    reply = await manager.click("Client contacted", case_message)
    await manager.click("Resolve", case_message)
    reply = await manager.send("Called, refunded the visit")
    assert "Case resolved" in reply.text
    await tg.app.clockwork.tick()
    assert sent_to(emu, rep.id, "resolved")
    await client.send("Thanks for the refund")  # the case is closed: the rep alone hears it
    await tg.app.clockwork.tick()
    assert sent_to(emu, manager.id, "refund”") == []
    [to_rep] = sent_to(emu, rep.id, "refund”")
    assert "whose detractor case is open" not in to_rep["text"]
    async with tg.app.session_factory() as s:
        case = await s.scalar(select(NpsCase))
        assert case.status == "resolved" and case.resolution == "Called, refunded the visit"
        assert case.taken_at and case.contacted_at and case.resolved_at
    # no reminder or escalation for a resolved case
    clock.advance(hours=30)
    await tg.app.clockwork.tick()
    assert sent_to(emu, ADMIN_ID, "escalated") == []


async def test_a_case_taken_by_a_manager_who_left_tells_the_administrators(tg, emu, clock) -> None:
    """The client's messages go to whoever handles the case: not a taker who has left since."""
    admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9031, "Ed")
    await client.click("3")
    await client.send("Too slow")
    await tg.app.clockwork.tick()
    await manager.click("Take it", next(m for m in manager.bot_messages if "Too slow" in m["text"]))
    await admin.send("/team")
    await admin.click("Maria")
    await admin.click("🚪")
    await admin.click("Maria")
    reply = await admin.click("Rita")
    await admin.click(1, reply.last)  # Maria leaves; her cases go to Rita, the team has no lead
    await client.send("Anyone there?")
    await tg.app.clockwork.tick()
    assert sent_to(emu, manager.id, "Anyone there?") == []
    [told] = sent_to(emu, ADMIN_ID, "Anyone there?")
    assert "whose detractor case is open" in told["text"]


async def test_case_sla_reminds_then_escalates_to_admins(tg, emu, clock) -> None:
    admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9005, "Eli")
    await client.click("0")
    await tg.app.clockwork.tick()
    clock.advance(hours=18)
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, manager.id, "deadline is close")) == 1
    assert sent_to(emu, admin.id, "escalated") == []
    clock.advance(hours=6)
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, admin.id, "escalated to you")) == 1
    assert len(sent_to(emu, rep.id, "escalated to the administrators")) == 1


async def test_answer_changes_within_ten_minutes_then_refused_and_forgeries(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9006, "Fay")
    question = client.last_with_buttons()
    await client.click("7", question)
    clock.advance(minutes=5)
    reply = await client.click("9", question)
    assert "changed to 9" in reply.text
    clock.advance(minutes=6)
    reply = await client.click("2", question)
    assert reply.answer and "already answered" in reply.answer["text"]
    async with tg.app.session_factory() as s:
        survey = await s.scalar(select(Survey))
        assert survey.score == 9
    sid = survey.id
    reply = await client.tap_data(f"n:{sid}:11", question)
    assert "0 to 10" in reply.answer["text"]
    reply = await client.tap_data(f"n:{sid + 100}:5", question)
    assert "not yours" in reply.answer["text"]
    other = tg.user(9007, "Gus")
    await other.send("/start")
    reply = await other.tap_data(f"n:{sid}:0", question)
    assert "not yours" in reply.answer["text"]
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Survey))).score == 9


async def test_reminder_once_then_expiry(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9008, "Hal")
    clock.advance(hours=24)
    await tg.app.clockwork.tick()
    clock.advance(hours=24)
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, client.id, "gentle reminder")) == 1
    clock.advance(days=6)
    reply = await client.click("5", client.last_with_buttons())
    assert "expired" in reply.answer["text"]


async def test_throttle_and_stop(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    client = await client_on_card(tg, rep, 9009, "Ida")
    await rep.send("/delivered Ida")
    clock.advance(days=30)
    reply = await rep.send("/delivered Ida")
    assert "less than 90 days ago" in reply.text
    reply = await client.send("/stop")
    assert "won't receive any more surveys" in reply.text
    clock.advance(days=70)
    reply = await rep.send("/delivered Ida")
    assert "asked for no surveys" in reply.text
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).nps_stopped_at is not None


async def test_blocked_client_turns_into_a_link_for_the_rep(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    client = await client_on_card(tg, rep, 9010, "Jo")
    await rep.send("/delivered Jo")
    emu.chats[client.id].blocked = True
    clock.advance(hours=2)
    await tg.app.clockwork.tick()
    await tg.app.clockwork.tick()
    [note] = sent_to(emu, rep.id, "can't get the survey from me directly")
    assert "?start=" in note["text"]


async def test_service_touch_triggers_survey_and_nps_command(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await client_on_card(tg, rep, 9011, "Kim")
    await rep.send("/log Kim")
    reply = await rep.click("service delivered")
    await rep.click("outbound")
    reply = await rep.send("Workshop done")
    assert "NPS question goes to Kim Client" in reply.text
    clock.advance(hours=2)
    await tg.app.clockwork.tick()
    await client.click("10")
    reply = await manager.send("/nps")
    assert (
        "NPS +100 · 1 answer: 1 promoter, 0 passives, 0 detractors · response rate 100%"
        in reply.text
    )
    assert "<b>NPS</b>, last 90 days" in reply.html
    reply = await rep.send("/nps")
    assert "not available" in reply.text


async def test_review_gating_keeps_the_link_for_promoters(tg, emu, clock, monkeypatch) -> None:
    *_, rep = await team_with_rep(tg)
    monkeypatch.setattr(tg.app.settings, "review_gating", True)
    client = await surveyed(tg, clock, rep, 9012, "Lu")
    await client.click("7")
    reply = await client.send("More updates")
    assert REVIEW not in reply.text


async def test_nps_delay_lands_in_client_daytime(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await client_on_card(tg, rep, 9013, "Max")
    clock.advance(hours=10)  # 19:00 UTC: +2 h is 21:00, after the client's daytime
    reply = await rep.send("/delivered Max")
    assert "Tue, 24 Nov 2026, 10:00" in reply.text
    clock.advance(timedelta(hours=2))
    await tg.app.clockwork.tick()
    assert sent_to(emu, 9013, "recommend") == []


async def test_the_question_is_in_the_clients_language(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9014, "Олег", language="ru")
    [q] = sent_to(emu, client.id, "Acme Consulting")
    assert "порекомендуете" in q["text"]
    reply = await client.click("6")
    assert "Что пошло не так" in reply.text


async def test_referral_card_shows_who_introduced_and_the_manager_sees_the_owner(
    tg, emu, clock
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9015, "Pia")
    reply = await client.click("9")
    ref = next(w for w in reply.text.split() if "start=ref_" in w)
    friend = tg.user(9016, "Quentin")
    await friend.send("/start " + ref.split("start=")[1])
    reply = await rep.send("/find Quentin")
    assert "Introduced by: Pia Client" in reply.text and "Source: referral\n" in reply.text
    assert "Owner:" not in reply.text
    reply = await manager.send("/find Quentin")
    assert "Owner: Rita" in reply.text


@pytest.mark.parametrize("who", ["rep", "manager", "admin"])
async def test_staff_cannot_open_or_answer_a_clients_survey(tg, emu, clock, who) -> None:
    admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Sasha Client, Acme")
    reply = await rep.send("/delivered Sasha")
    link = next(w for w in reply.text.split() if "?start=" in w)
    token = link.split("start=")[1]
    staff = {"rep": rep, "manager": manager, "admin": admin}[who]
    reply = await staff.send("/start " + token)
    assert "only the client can answer" in reply.text
    assert "How likely" not in reply.text
    async with tg.app.session_factory() as s:
        survey = await s.scalar(select(Survey))
        card = await s.scalar(select(Contact))
    assert survey.client_tg_id is None and survey.status == "link" and survey.score is None
    assert card.tg_user_id is None  # the card was not linked to a colleague's account
    # a forged score tap from staff changes nothing either
    reply = await staff.tap_data(f"n:{survey.id}:10")
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Survey))).score is None
    # the real client still can
    client = tg.user(9010, "Sasha")
    reply = await client.send("/start " + token)
    assert "How likely are you to recommend" in reply.text
    reply = await client.click("9")
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Survey))).score == 9


@pytest.mark.parametrize(
    ("language", "shown", "changed", "notice"),
    [
        (
            "en",
            "✅ Your answer: {}/10",
            "Your answer is changed to 10",
            "changed their survey answer: 8/10 → 10/10 (promoter).\nThey got the referral link.",
        ),
        (
            "ru",
            "✅ Ваша оценка: {}/10",
            "Ваш ответ изменён на 10",
            "ответ на опрос изменён — 8/10 → 10/10 (промоутер).\nКлиент получил реферальную ссылку.",
        ),
    ],
)
async def test_the_survey_shows_the_score_and_a_change_to_promoter_gets_the_referral(
    tg, emu, clock, language, shown, changed, notice
) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    client = tg.user(9020, "Vic", language_code=language)
    await client.send("/start")
    await rep.share_contact("+79995550020", "Vic", "Client", user_id=client.id)
    await rep.send("/delivered Vic")
    clock.advance(hours=2)
    await tg.app.clockwork.tick()
    question = client.last_with_buttons()
    reply = await client.click("8", question)
    [edited] = reply.edited  # the question itself now shows the score
    assert shown.format(8) in edited["text"]
    marked = [b["text"] for row in edited["reply_markup"]["inline_keyboard"] for b in row]
    assert marked == [f"✅ {i}" if i == 8 else str(i) for i in range(11)]
    assert "start=ref_" not in reply.text
    await tg.app.clockwork.tick()
    clock.advance(minutes=3)
    reply = await client.click("10", question)
    assert shown.format(10) in reply.edited[0]["text"]
    assert changed in reply.text and "start=ref_" in reply.text  # the promoter's follow-up
    await tg.app.clockwork.tick()
    [note] = sent_to(emu, rep.id, notice)
    assert "Vic Client" in note["text"]
    # the same number again: nothing new for the rep or the client
    before = len(sent_to(emu, rep.id, ""))
    clock.advance(minutes=1)
    reply = await client.click("10", question)
    assert reply.messages == []
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, rep.id, "")) == before


async def test_a_change_to_detractor_asks_what_went_wrong_and_opens_a_case(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9021, "Wes")
    question = client.last_with_buttons()
    await client.click("9", question)
    clock.advance(minutes=2)
    reply = await client.click("4", question)
    assert "changed to 4" in reply.text and "What went wrong" in reply.text
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, manager.id, "Wes Client gave 4/10")) == 1
    assert len(sent_to(emu, rep.id, "9/10 → 4/10 (detractor)")) == 1


async def test_a_change_to_detractor_after_a_comment_waits_for_what_went_wrong(
    tg, emu, clock
) -> None:
    """A promoter's words ("ok, thanks") then a change to 4: the case showed them as "What went
    wrong", and the answer to the question asked next went to the rep as an ordinary message,
    never to the case or its manager."""
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9023, "Yuri")
    question = client.last_with_buttons()
    await client.click("10", question)
    await client.send("ok, thanks")
    clock.advance(minutes=3)
    reply = await client.click("4", question)
    assert "What went wrong" in reply.text
    reply = await client.send("Nobody called back for a week")
    assert "passed on" in reply.text
    await tg.app.clockwork.tick()
    alert, _told = sent_to(emu, manager.id, "Yuri Client gave 4/10")
    assert "ok, thanks" not in alert["text"]  # those words answered the promoter's question
    [told] = sent_to(emu, manager.id, "The client wrote what went wrong")
    assert "What went wrong: “Nobody called back for a week”" in told["text"]
    assert sent_to(emu, rep.id, "wrote to me") == []  # not an ordinary message
    async with tg.app.session_factory() as s:
        survey = await s.scalar(select(Survey))
        assert (survey.score, survey.comment) == (4, "Nobody called back for a week")
        kept = list(
            await s.scalars(
                select(ContactEvent.new_value).where(ContactEvent.field == "nps_comment")
            )
        )
    assert kept == ["ok, thanks", "Nobody called back for a week"]  # both in the card's history


async def test_a_promoters_comment_reaches_the_rep(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9022, "Xena")
    await client.click("10")
    reply = await client.send("Great team, <fast> & kind")
    assert "passed on" in reply.text
    await tg.app.clockwork.tick()
    [note] = sent_to(emu, rep.id, "wrote: “Great team, &lt;fast&gt; &amp; kind”")
    assert "Xena Client answered 10/10" in note["text"]


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_promoter_names_a_friend_and_the_rep_adds_them_in_one_tap(
    tg, emu, clock, language
) -> None:
    """A promoter writes a friend's name and phone instead of forwarding the link: under their
    words the rep gets ➕ Add the person they recommend; the card is a referral introduced by
    the promoter (who-introduced-whom kept), its source not asked again."""
    *_, rep = await team_with_rep(tg, language=language)
    client = await surveyed(tg, clock, rep, 9022, "Xena")
    await client.click("10")
    await client.send("My friend Olga Ivanova, +7 999 111 22 33")
    await tg.app.clockwork.tick()
    words = {"en": "answered 10/10 and wrote", "ru": "оценка 10/10 и комментарий"}[language]
    notice = rep.last
    assert words in notice["text"]
    button = {"en": "Add the person they recommend", "ru": "Добавить того, кого рекомендуют"}
    reply = await rep.click(button[language], notice)
    assert "Xena Client" in reply.text
    await rep.send("Olga Ivanova, +7 999 111 22 33")
    for _ in range(5):  # company, position… up to the saved card: each question skipped
        if not (rep.last.get("reply_markup") or {}).get("inline_keyboard"):
            break
        texts = [b["text"] for row in rep.last["reply_markup"]["inline_keyboard"] for b in row]
        if not any(t in ("Skip", "Пропустить") for t in texts):
            break
        reply = await rep.click(texts.index("Skip" if language == "en" else "Пропустить") + 1)
    intro = {"en": "🤝 Introduced by Xena Client", "ru": "🤝 Рекомендация от: Xena Client"}
    assert intro[language] in reply.text
    async with tg.app.session_factory() as s:
        xena = await s.scalar(select(Contact).where(Contact.name == "Xena Client"))
        olga = await s.scalar(select(Contact).where(Contact.name == "Olga Ivanova"))
    assert olga is not None and olga.phone == "+79991112233"
    assert (olga.source, olga.introduced_by_id) == ("referral", xena.id)


async def test_a_shared_contact_keeps_the_recommendation_and_a_passive_has_no_button(
    tg, emu, clock
) -> None:
    *_, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9022, "Xena")
    await client.click("10")
    await client.send("Call my brother Boris")
    await tg.app.clockwork.tick()
    await rep.click("Add the person they recommend", rep.last)
    await rep.share_contact("+79995554433", "Boris", "Brother")
    async with tg.app.session_factory() as s:
        boris = await s.scalar(select(Contact).where(Contact.name == "Boris Brother"))
    assert boris.source == "referral" and boris.introduced_by_id is not None
    passive = await surveyed(tg, clock, rep, 9023, "Pavel")
    await passive.click("8")
    await passive.send("Faster answers, please")
    await tg.app.clockwork.tick()
    [note] = sent_to(emu, rep.id, "Pavel Client answered 8/10")
    assert [b["text"] for row in note["reply_markup"]["inline_keyboard"] for b in row] == [
        "Open card"
    ]


EN_FORWARD = "Thank you for working with Acme Consulting! Could you answer one short question?"
RU_FORWARD = "Спасибо, что работаете с Acme Consulting! Ответите на один короткий вопрос?"


@pytest.mark.parametrize("rep_language", ["en", "ru"])
async def test_the_text_to_forward_is_in_both_languages_when_the_card_does_not_know(
    tg, rep_language
) -> None:
    *_, rep = await team_with_rep(tg, language=rep_language)
    await rep.send("/add Paula Passive, Beta")
    reply = await rep.send("/delivered Paula")
    forward = reply.messages[-1]["text"]
    assert EN_FORWARD in forward and RU_FORWARD in forward
    assert forward.count("?start=") == 2  # the same personal link in each
    explanation = reply.messages[-2]["text"]
    assert ("hasn't started the bot" in explanation) is (rep_language == "en")


@pytest.mark.parametrize(("language", "text", "other"), [("ru", RU_FORWARD, EN_FORWARD)])
async def test_the_text_to_forward_is_in_the_clients_language_when_the_card_knows_it(
    tg, emu, clock, language, text, other
) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Paula Passive, Beta")
    async with write_session(tg.app.session_factory) as s:
        (await s.scalar(select(Contact))).language = language
    reply = await rep.send("/delivered Paula")
    assert "hasn't started the bot" in reply.text  # the rep's own language around it
    forward = reply.messages[-1]["text"]
    assert text in forward and other not in forward
    # a client who blocked the bot: their Telegram language chooses the text in the notice
    client = tg.user(9023, "Yana", language_code=language)
    await client.send("/start")
    await rep.share_contact("+79995550023", "Yana", "Client", user_id=client.id)
    await rep.send("/delivered Yana")
    emu.chats[client.id].blocked = True
    clock.advance(hours=2)
    await tg.app.clockwork.tick()
    await tg.app.clockwork.tick()
    [note] = sent_to(emu, rep.id, "can't get the survey from me directly")
    assert text in note["text"] and other not in note["text"]


async def test_a_score_typed_instead_of_tapped_is_the_answer(tg, emu, clock) -> None:
    """ "3" typed by a client who does not tap: the answer, a case for the manager at once.
    A sentence before it is no score: it is kept as the comment (it was answered with a nudge
    and lost), and the client is not asked what went wrong once more."""
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9021, "Gus")
    reply = await client.send("It was OK I guess")
    assert (
        reply.text == "Thank you, noted! And one tap, please: choose a number from 0 to 10 above."
    )
    reply = await client.send("but the invoice came late")
    assert "noted" in reply.text
    reply = await client.send("3/10")
    assert reply.text.startswith("✅ Your answer: 3/10")
    assert "Your words have been passed on" in reply.text and "What went wrong?" not in reply.text
    await tg.app.clockwork.tick()
    [alert] = sent_to(emu, manager.id, "Detractor")
    assert "Gus Client gave 3/10" in alert["text"]
    assert "It was OK I guess\nbut the invoice came late" in alert["text"]
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(NpsCase))).status == "open"
        survey = await s.scalar(select(Survey))
        assert survey.comment == "It was OK I guess\nbut the invoice came late"
    reply = await client.send("Please call me")  # after that: a message to the rep, as before
    assert "passed on" in reply.text


async def test_a_score_typed_in_words_in_russian(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9022, "Лев", language="ru")
    reply = await client.send("Десять!")
    assert reply.text.startswith("✅ Ваша оценка: 10/10")
    assert "персональной ссылкой" in reply.text  # a promoter: the referral link
    reply = await client.send("Быстро и качественно")
    assert "передали" in reply.text  # now the comment


async def test_a_promoter_s_words_before_the_score_reach_the_rep(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9023, "Майя", language="ru")
    reply = await client.send("Всё отлично, спасибо")
    assert reply.text.startswith("Спасибо, записал!")
    reply = await client.click("10")
    assert "персональной ссылкой" in reply.text
    await tg.app.clockwork.tick()
    [notice] = sent_to(emu, rep.id, "Всё отлично, спасибо")
    assert "10" in notice["text"]


def buttons_of(sent: dict) -> list[str]:
    return [b["text"] for row in sent["reply_markup"]["inline_keyboard"] for b in row]


async def test_a_case_on_an_administrators_own_card_alerts_the_administrator(
    tg, emu, clock
) -> None:
    admin = tg.user(ADMIN_ID, "Ada")
    await admin.send("/start")
    client = await surveyed(tg, clock, admin, 9011, "Gus")
    await client.click("2")
    await tg.app.clockwork.tick()
    [alert] = sent_to(emu, ADMIN_ID, "Detractor")  # there is no team, so no manager: the admin
    assert "Gus Client gave 2/10" in alert["text"] and "🙋 Take it" in buttons_of(alert)
    assert sent_to(emu, ADMIN_ID, "A case was opened") == []  # the alert says it all
    reply = await admin.click("Take it")
    assert "taken by Ada" in reply.text
    # /nps names the administrator who sold, not their user id
    reply = await admin.send("/nps")
    by_rep = reply.text.split("By rep\n")[1].split("\n")[0]
    assert by_rep.startswith("Ada: NPS -100")


async def test_a_team_whose_manager_left_has_its_cases_go_to_the_administrators(
    tg, emu, clock
) -> None:
    _admin, manager, rep = await team_with_rep(tg, language="ru")
    async with write_session(tg.app.session_factory) as s:
        left = await s.scalar(select(User).where(User.tg_id == manager.id))
        left.role = None  # the manager has left the team
    client = await surveyed(tg, clock, rep, 9012, "Ира", language="ru")
    await client.click("4")
    await tg.app.clockwork.tick()
    [alert] = sent_to(emu, ADMIN_ID, "Detractor")
    assert "Ира Клиент gave 4/10" in alert["text"] and "🙋 Take it" in buttons_of(alert)
    assert sent_to(emu, manager.id, "Detractor") == []
    [notice] = sent_to(emu, rep.id, "По вашему клиенту открыт кейс")
    assert "администраторы уже в курсе" in notice["text"]
    await client.send("Никто не перезвонил")
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, ADMIN_ID, "Никто не перезвонил")) == 1  # the comment follows


async def test_delivered_with_a_close_spelling_asks_which_card_before_any_survey(
    tg, emu, clock
) -> None:
    """ "/delivered Anastasya" (a slip) with Anya on the list surveyed her at once: a client is written to, so
    a card found by a close spelling is confirmed with a tap."""
    *_, rep = await team_with_rep(tg)
    await client_on_card(tg, rep, 9013, "Anastasia")
    reply = await rep.send("/delivered Anastasya")
    assert reply.text == "Did you mean Anastasia Client?" and reply.buttons == ["Anastasia Client"]
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Survey.id))) == 0
    reply = await rep.click("Anastasia Client")
    assert "Service delivered to Anastasia Client is logged" in reply.text
    reply = await rep.send("/delivered anastasia")  # her name as typed: no question
    assert "Service delivered to Anastasia Client is logged" in reply.text


async def test_a_clients_card_shows_the_latest_answer_and_its_case(tg, emu, clock) -> None:
    """The rep opening a client's card before a call sees the score and where its case is."""
    _admin, manager, rep = await team_with_rep(tg)
    client = await surveyed(tg, clock, rep, 9031, "Zoe")
    await client.click("4")
    await tg.app.clockwork.tick()
    card = await rep.send("/find Zoe")
    assert "NPS: 4/10 (detractor)" in card.text
    assert "🚨 case open, nobody has taken it yet" in card.text
    [alert] = sent_to(emu, manager.id, "Detractor")
    await manager.tap_data(alert["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    card = await rep.send("/find Zoe")
    assert "NPS: 4/10 (detractor)" in card.text and "— 🙋 case taken" in card.text
