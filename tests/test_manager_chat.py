"""Issue 14, for managers: /cases with owner, age and deadline, each case opening its actions and
always showing its status, the news of a case; /team with each rep's numbers, a team's name,
and a rep's work handed to a colleague in one step; the digest's lists open with buttons."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.emulator.client import buttons_of, plain
from storage.models import Contact, DueWork, NpsCase, User
from storage.uow import writing
from tests.conftest import ADMIN_ID
from tests.helpers import another_rep, team_with_rep, token_of


def sent_to(emu, chat_id: int, needle: str, start: int = 0) -> list[dict]:
    return [
        r.params
        for r in emu.requests[start:]
        if r.method == "sendMessage"
        and r.ok
        and r.params["chat_id"] == chat_id
        and needle in plain(r.params["text"])
    ]


async def set_language(user, language: str) -> None:
    await user.send("/settings")
    await user.click("Language")
    await user.click({"en": "English", "ru": "Русский"}[language])


async def detractor(tg, clock, rep, client_id: int, name: str, score: int = 3):
    """A client on the rep's card answers the survey with a low score: a case opens."""
    client = tg.user(client_id, name)
    await client.send("/start")
    await rep.share_contact(f"+7999555{client_id:04d}", name, "Client", user_id=client_id)
    await rep.send(f"/delivered {name}")
    clock.advance(hours=2)
    await tg.app.clockwork.tick()
    await client.click(str(score))
    await tg.app.clockwork.tick()
    return client


CASES = {
    "en": {
        "head": "🚨 2 open detractor cases",
        "sla": "A case is due 24 hours after the client's answer.",
        "overdue": "⚠️ 1 is overdue.",
        "dan": "1. Dan Client — 3/10 · rep Rita · taken by Maria · open for 1 d 3 h · "
        "⚠️ overdue by 3 h",
        "eli": "2. Eli Client — 0/10 · rep Rita · not taken · open for 1 h 0 min · 23 h 0 min left",
        "status": "Status: 🙋 taken by Maria",
        "late": "⚠️ Overdue by 3 h 0 min: the deadline was Tue, 24 Nov 2026, 11:00.",
        "open": "Status: 🆕 open, nobody has taken it yet",
        "left": "⏳ Open for 1 h 0 min; resolve by Wed, 25 Nov 2026, 13:00 (23 h 0 min left).",
        "none": "🎉 No open detractor cases.",
        "digest": "• Eli Client — open for 1 h 0 min (not taken)",
    },
    "ru": {
        "head": "🚨 2 открытых кейса недовольных клиентов",
        "sla": "Кейс нужно решить за 24 часа после ответа клиента.",
        "overdue": "⚠️ Просрочен 1.",
        "dan": "1. Dan Client — 3/10 · менеджер Rita · в работе: Maria · открыт 1 д 3 ч · "
        "⚠️ просрочен на 3 ч",
        "eli": "2. Eli Client — 0/10 · менеджер Rita · никто не взял · открыт 1 ч 0 мин · "
        "осталось 23 ч 0 мин",
        "status": "Статус: 🙋 в работе: Maria",
        "late": "⚠️ Просрочен на 3 ч 0 мин: срок был вт, 24 нояб. 2026, 11:00.",
        "open": "Статус: 🆕 открыт, никто не взял",
        "left": "⏳ Открыт 1 ч 0 мин; решить до ср, 25 нояб. 2026, 13:00 (осталось 23 ч 0 мин).",
        "none": "🎉 Открытых кейсов недовольных клиентов нет.",
        "digest": "• Eli Client — открыт уже 1 ч 0 мин (никто не взял)",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_cases_lists_owner_age_and_deadline_and_opens_each_case(
    tg, emu, clock, language
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    t = CASES[language]
    await set_language(manager, language)
    await detractor(tg, clock, rep, 9004, "Dan")  # answers at 11:00 on Monday
    await manager.click(1, manager.last_with_buttons())  # 🙋 Take it (the alert's first button)
    clock.advance(hours=24)
    await detractor(tg, clock, rep, 9005, "Eli", score=0)  # Tuesday 13:00
    clock.advance(hours=1)
    reply = await manager.send("/cases")
    for key in ("head", "sla", "overdue", "dan", "eli"):
        assert t[key] in reply.text, key
    assert reply.buttons == ["1. Dan Client", "2. Eli Client"]
    assert t["digest"] in (await manager.send("/digest")).text  # in /cases' words, not "(open)"
    case = await manager.click("1. Dan Client", reply.last)
    assert t["status"] in case.text and t["late"] in case.text
    assert "Dan Client" in case.text and "3/10" in case.text
    case = await manager.click("2. Eli Client", reply.last)
    assert t["open"] in case.text and t["left"] in case.text
    assert len(case.buttons) == 4  # take, contacted, resolve, open card
    # resolved, the case leaves the list
    await manager.click(3, case.last)  # ✅ Resolve
    await manager.send("Called back")
    reply = await manager.send("/cases")
    assert reply.buttons == ["1. Dan Client"]


NEWS = {
    "en": {
        "took": "Case update: 🙋 Maria took the case of Dan Client.",
        "escalated": "Case update: ⛔ The case of Dan Client missed its deadline and is escalated "
        "to the administrators.",
        "resolved": "Case update: ✅ Ada (administrator) resolved the case of Dan Client.",
        "status": "Status: ✅ resolved",
        "resolution": "Resolution: Refunded &lt;all&gt;",
    },
    "ru": {
        "took": "Новое по кейсу: 🙋 Кейс «Dan Client» взят в работу: Maria.",
        "escalated": "Новое по кейсу: ⛔ Кейс «Dan Client» просрочен и передан администраторам.",
        "resolved": "Новое по кейсу: ✅ Кейс «Dan Client» решён: Ada (администратор).",
        "status": "Статус: ✅ решён",
        "resolution": "Решение: Refunded &lt;all&gt;",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_the_manager_hears_when_an_admin_resolves_an_escalated_case(
    tg, emu, clock, language
) -> None:
    admin, manager, rep = await team_with_rep(tg, language=language)
    t = NEWS[language]
    await set_language(manager, language)
    await detractor(tg, clock, rep, 9004, "Dan")
    await manager.click(1, manager.last_with_buttons())  # 🙋 Take it
    await tg.app.clockwork.tick()
    # the rep's notice says what changed and who did it
    assert len(sent_to(emu, rep.id, t["took"])) == 1
    clock.advance(hours=25)
    await tg.app.clockwork.tick()
    [escalated] = sent_to(emu, admin.id, "escalated to you")
    for person in (manager, rep):  # both hear of the escalation
        assert len(sent_to(emu, person.id, t["escalated"])) == 1
    # the admin resolves it from the escalation
    await admin.click("Resolve", admin.last_with_buttons())
    reply = await admin.send("Refunded <all>")
    assert "Case resolved" in reply.text and "Status: ✅ resolved" in reply.text
    await tg.app.clockwork.tick()
    for person in (manager, rep):
        [news] = sent_to(emu, person.id, t["resolved"])
        assert t["status"] in plain(news["text"]) and t["resolution"] in news["text"]
    assert sent_to(emu, ADMIN_ID, "Case update") == []  # not told of their own move
    assert escalated


async def test_a_case_opens_only_in_scope(tg, emu, clock) -> None:
    admin, manager, rep = await team_with_rep(tg)
    await detractor(tg, clock, rep, 9004, "Dan")
    reply = await manager.send("/cases")
    data = buttons_of(reply.last)[0]["callback_data"]
    # a rep, and a manager of another team, tapping the same button: not found
    reply = await rep.tap_data(data)
    assert reply.answer["text"] == "Case not found."
    other = await another_team_manager(tg, admin)
    reply = await other.tap_data(data)
    assert reply.answer["text"] == "Case not found."
    reply = await other.send("/cases")
    assert reply.text == "🎉 No open detractor cases."
    reply = await rep.send("/cases")
    assert "not available" in reply.text
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(NpsCase))).status == "open"


async def another_team_manager(tg, admin):
    reply = await admin.send("/invite manager")
    other = tg.user(2100, "Oleg")
    await other.send(f"/start {token_of(reply.text)}")
    return other


async def step(rep, name: str, what: str, when: str) -> None:
    await rep.send(f"/add {name}")
    await rep.click("Open card")
    await rep.click("Next step")
    await rep.send(what)
    await rep.send(when)
    await rep.click("Confirm")


async def touched(rep, name: str) -> None:
    await rep.send(f"/add {name}")
    await rep.click("Open card")
    await rep.click("Log touch")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("talked")
    await rep.click("No next step")
    await rep.click("other")
    await rep.send("later")


TEAM = {
    "en": {
        "head": "Your team: Maria",
        "rita": "• Rita (sales rep): contacts 2 · touches 1 · overdue 1 · going cold 0 · "
        "NPS — (0 answers)",
        "boris": "• Boris (sales rep): contacts 0 · touches 0 · overdue 0 · going cold 0 · "
        "NPS — (0 answers)",
        "renamed": "✅ The team is now called “North & Co”.",
        "new head": "Your team: North & Co",
    },
    "ru": {
        "head": "Ваша команда: Maria",
        "rita": "• Rita (менеджер по продажам): контактов 2 · касаний 1 · просрочено 1 · "
        "остывают 0 · NPS — (0 ответов)",
        "boris": "• Boris (менеджер по продажам): контактов 0 · касаний 0 · просрочено 0 · "
        "остывают 0 · NPS — (0 ответов)",
        "renamed": "✅ Теперь команда называется «North & Co».",
        "new head": "Ваша команда: North & Co",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_team_shows_each_reps_numbers_and_can_be_renamed(tg, clock, language) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await another_rep(tg, manager, 3004, "Boris")
    t = TEAM[language]
    await step(rep, "Anna Smirnova, Acme", "call back", "today 10:00")
    await touched(rep, "Carl Touch, Gamma")
    clock.advance(hours=2)
    await set_language(manager, language)
    reply = await manager.send("/team")
    for key in ("head", "rita", "boris"):
        assert t[key] in reply.text, (key, reply.text)
    async with tg.app.session_factory() as s, writing(s):  # an archived card is not counted
        carl = await s.scalar(select(Contact).where(Contact.name == "Carl Touch"))
        carl.archived_at = clock.now()
    reply = await manager.send("/team")
    assert t["rita"].replace("2", "1", 1) in reply.text, reply.text
    reply = await manager.send("/team name North & Co")
    assert reply.text == t["renamed"]
    assert t["new head"] in (await manager.send("/team")).text
    # by the button and a dialogue
    await manager.click("✏️")
    reply = await manager.send("   ")
    assert "/cancel" in reply.text
    reply = await manager.send("South")
    assert "South" in reply.text
    assert "South" in (await manager.send("/team")).text


HANDOVER = {
    "en": {
        "confirm": "Deactivate Rita? Boris gets 3 contacts, 2 open next steps, 2 pending reminders "
        "and notices, 0 open cases. Rita can no longer use the bot.",
        "done": "✅ Rita is deactivated. Boris got 3 contacts, 2 open next steps, 2 pending "
        "reminders and notices, 0 open cases and is told.",
        "heir": "📦 Maria handed you Rita's work: 3 contacts, 2 open next steps, 2 pending "
        "reminders and notices, 0 open cases. /contacts and /today show them.",
        "off": "Maria deactivated your access to the team; your contacts are now with Boris.",
        "left": "Your access to the team was turned off on Mon, 23 Nov 2026: your contacts and "
        "reminders went to a colleague. If that is a mistake, ask your manager for a new invite "
        "link.",
    },
    "ru": {
        "confirm": "Отключить Rita? Boris получит 3 контакта, 2 открытых следующих шага, "
        "2 ожидающих напоминания и уведомления, 0 открытых кейсов. Rita больше не сможет "
        "пользоваться ботом.",
        "done": "✅ Rita: доступ отключён. Boris: переданы 3 контакта, 2 открытых следующих "
        "шага, 2 ожидающих напоминания и уведомления, 0 открытых кейсов, уведомление отправлено.",
        "heir": "📦 Вам переданы дела сотрудника Rita: 3 контакта, 2 открытых следующих шага, "
        "2 ожидающих напоминания и уведомления, 0 открытых кейсов. Передача: Maria. Они в "
        "/contacts и /today.",
        "off": "Ваш доступ к команде отключён по решению руководителя (Maria). Ваши контакты "
        "теперь ведёт Boris.",
        "left": "Ваш доступ к команде отключён пн, 23 нояб. 2026: ваши контакты и напоминания "
        "переданы коллеге. Если это ошибка, попросите у руководителя новую ссылку-приглашение.",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_deactivating_a_rep_hands_their_work_to_a_colleague(tg, emu, clock, language) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    boris = await another_rep(tg, manager, 3004, "Boris")
    await set_language(boris, language)
    t = HANDOVER[language]
    await step(rep, "Anna Smirnova, Acme", "call back", "today 10:00")
    await step(rep, "Pavel Plan, Beta", "send the offer", "tomorrow 12:00")
    await touched(rep, "Carl Touch, Gamma")
    await set_language(rep, language)
    await set_language(manager, language)
    reply = await manager.send("/team")
    reply = await manager.click("🚪")
    assert reply.buttons[:2] == ["Boris", "Rita"]  # reps only, not the manager herself
    reply = await manager.click("Rita")
    assert reply.buttons[:2] == ["Maria", "Boris"]
    reply = await manager.click("Boris")
    assert reply.text == t["confirm"]
    confirm = reply.last
    reply = await manager.click(1, confirm)
    assert reply.text == t["done"]
    again = await manager.click(1, confirm)  # tapped twice: nothing more
    assert again.answer["show_alert"]
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, boris.id, t["heir"])) == 1
    assert len(sent_to(emu, rep.id, t["off"])) == 1
    # the cards, their reminders and checks are Boris's; Rita is no one
    async with tg.app.session_factory() as s:
        owners = set(await s.scalars(select(Contact.owner_id)))
        rita = await s.scalar(select(User).where(User.tg_id == rep.id))
        b = await s.scalar(select(User).where(User.tg_id == boris.id))
        pending = list(await s.scalars(select(DueWork).where(DueWork.status == "pending")))
    assert owners == {b.id} and rita.role is None and rita.team_id is None
    assert {w.chat_id for w in pending if w.contact_id} == {boris.id}
    # Rita has no access any more, and is told why (she was answered as a stranger)
    assert (await rep.send("/find Anna")).text == t["left"]
    assert (await rep.send("Anna Smirnova")).text == t["left"]
    assert (await rep.send("/help")).text == t["left"]  # not "Access is by invitation only"
    start = len(emu.requests)
    assert (await rep.send("/start")).text == t["left"]
    [menu] = [r for r in emu.requests[start:] if r.method == "setMyCommands"]
    assert "add" not in {c["command"] for c in menu.params["commands"]}  # a stranger's menu
    reply = await boris.send("/find Anna")
    assert "Anna Smirnova" in reply.text
    start = len(emu.requests)
    clock.set(clock.now().replace(day=24, hour=12))
    await tg.app.clockwork.tick()
    assert len(sent_to(emu, boris.id, "send the offer", start)) == 1  # the reminder: to Boris
    assert sent_to(emu, rep.id, "send the offer", start) == []
    # invited again, she is a rep like any other
    invite = await manager.send("/invite")
    await rep.send(f"/start {token_of(invite.text)}")
    assert (await rep.send("/find Anna")).text != t["left"]
    async with tg.app.session_factory() as s:
        rita = await s.scalar(select(User).where(User.tg_id == rep.id))
    assert (rita.role, rita.left_at) == ("rep", None)


DIGEST = {
    "en": {
        "steps": "✅ Next steps: 0 of 0 done\nSteps that fell due in this period. The overdue "
        "count below takes every open step past its date, however long ago it fell due.",
        "overdue": "🔴 Overdue now: 1",
        "overdue button": "🔴 Overdue",
        "cases button": "🚨 Cases",
        "card": "Anna Smirnova",
    },
    "ru": {
        "steps": "✅ Следующие шаги: выполнено 0 из 0\nШаги, срок которых пришёлся на этот период. "
        "В просроченных ниже — все открытые шаги с прошедшим сроком, как бы давно он ни прошёл.",
        "overdue": "🔴 Просрочено сейчас: 1",
        "overdue button": "🔴 Просрочено",
        "cases button": "🚨 Кейсы",
        "card": "Anna Smirnova",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_the_digests_lists_open_with_buttons_and_steps_are_explained(
    tg, clock, language
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    t = DIGEST[language]
    await step(rep, "Anna Smirnova, Acme", "call back", "today 10:00")
    await detractor(tg, clock, rep, 9004, "Dan")  # 11:00; Anna's step is overdue
    clock.advance(days=2)  # the step fell due before the period: 0 of 0, yet overdue
    await set_language(manager, language)
    await manager.send("/digest")  # the first: the last 24 hours
    reply = await manager.send("/digest")
    assert t["steps"] in reply.text and t["overdue"] in reply.text
    listing = await manager.click(t["overdue button"], reply.messages[0])
    assert "Anna Smirnova" in listing.buttons
    card = await manager.click("Anna Smirnova", listing.last)
    assert "call back" in card.text and "Acme" in card.text
    listing = await manager.click(t["cases button"], reply.last)
    assert listing.buttons == ["Dan Client"]
    case = await manager.click("Dan Client", listing.last)
    assert "3/10" in case.text and len(case.buttons) == 4


@pytest.mark.parametrize(
    ("language", "done"),
    [
        ("en", "✅ Rita is deactivated. You got 1 contact, 1 open next step, 1 pending reminder "
         "or notice, 0 open cases."),
        ("ru", "✅ Rita: доступ отключён. Вам переданы 1 контакт, 1 открытый следующий шаг, "
         "1 ожидающее напоминание или уведомление, 0 открытых кейсов."),
    ],
)  # fmt: skip
async def test_a_manager_who_takes_the_work_herself_is_told_so(tg, emu, clock, language, done):
    """She gets no notice (she did it), so the answer says what she got — not "and is told"."""
    _admin, manager, rep = await team_with_rep(tg)
    await step(rep, "Anna Smirnova, Acme", "call back", "tomorrow 10:00")
    await set_language(manager, language)
    await manager.send("/team")
    await manager.click("🚪")
    await manager.click("Rita")
    reply = await manager.click("Maria")
    reply = await manager.click(1, reply.last)
    assert reply.text == done
    start = len(emu.requests)
    await tg.app.clockwork.tick()
    assert sent_to(emu, manager.id, "📦", start) == []
    assert len(sent_to(emu, rep.id, "", start)) == 1  # Rita is told


async def test_deactivating_a_team_s_last_manager_says_who_is_alerted_then(tg, emu, clock) -> None:
    admin, manager, rep = await team_with_rep(tg)
    reply = await admin.send("/team")
    assert reply.buttons == ["Maria"]  # an administrator picks the team first
    await admin.click("Maria")
    reply = await admin.click("🚪")
    reply = await admin.click("Maria")
    reply = await admin.click("Rita")
    assert reply.text.startswith("Deactivate Maria? Rita gets")
    assert "⚠️ The team will have no manager" in reply.text
    assert "alert the administrators" in reply.text
    # a rep's deactivation leaves the manager: no warning
    await admin.send("/team")
    await admin.click("Maria")
    await admin.click("🚪")
    await admin.click("Rita")
    reply = await admin.click("Maria")
    assert reply.text.startswith("Deactivate Rita? Maria gets")
    assert "no manager" not in reply.text


async def test_a_quiet_day_s_digest_says_zero_once_per_section(tg) -> None:
    """Nothing happened: each section is its heading and its zero, without "none" under it or
    the explanation of counts that are both zero."""
    _admin, manager, _rep = await team_with_rep(tg)
    text = (await manager.send("/digest")).text
    assert "📞 Touches: 0\n\n🆕 New contacts: 0\n\n✅ Next steps: 0 of 0 done\n\n" in text
    assert "🔀 Stage moves and status changes: none\n\n" in text
    assert "Steps that fell due" not in text and "Into stages" not in text
    assert "Since the last digest: 0 answers\n" in text


async def test_a_managers_today_is_their_own_day_and_points_to_the_teams(tg, clock) -> None:
    """A manager's /today listed the reps' cards as "your day", "waiting for your reply"."""
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Rita Card, Acme")
    await rep.send("/find Rita Card")
    await rep.click("Next step")
    await rep.send("call back yesterday 10:00")
    await rep.click("Confirm")
    await manager.send("/add Maria Card, Beta")
    await manager.send("/find Maria Card")
    await manager.click("Next step")
    await manager.send("send the offer yesterday 11:00")
    await manager.click("Confirm")
    reply = await manager.send("/today")
    assert "Maria Card" in reply.text and "Rita Card" not in reply.text
    assert reply.text.endswith("Your team's overdue steps and waiting requests: /digest")
    reply = await rep.send("/today")
    assert "Rita Card" in reply.text and "/digest" not in reply.text


async def test_the_handover_preview_counts_what_the_handover_moves(tg, clock) -> None:
    """Deactivating a manager: the preview counted her own digest as "1 pending reminder or
    notice", the result said 0 (a digest is cancelled, not handed over). Both count the same."""
    from services import followups
    from services import team as team_svc

    _admin, manager, rep = await team_with_rep(tg)
    await manager.send("/add Anna Smirnova, Acme")
    await tg.app.clockwork.tick()  # today's digest goes out, tomorrow's is planned
    clock.advance(hours=1)
    await tg.app.clockwork.tick()
    async with tg.app.session_factory() as s:
        mary = await s.scalar(select(User).where(User.tg_id == manager.id))
        rita = await s.scalar(select(User).where(User.tg_id == rep.id))
        rows = list(await s.scalars(select(DueWork).where(DueWork.user_id == mary.id)))
        assert ("digest", "pending") in {(r.kind, r.status) for r in rows}  # cancelled, not moved
        before = await team_svc.preview(s, mary)
        done = await team_svc.deactivate(
            s,
            mary,
            rita,
            actor=mary,
            now=clock.now(),
            rules=followups.Rules.of(tg.app.settings),
        )
    assert done.due == before.due
    assert (done.contacts, done.steps) == (before.contacts, before.steps)


async def test_a_rep_deactivated_mid_dialogue_is_told_once_not_looped(tg, emu, clock) -> None:
    """Rita, half-way through /add, was deactivated: every text got "Please use the buttons
    above, or /cancel", and /find offered "↩️ Continue adding" to a dialogue she can't finish."""
    _admin, manager, rep = await team_with_rep(tg)
    await another_rep(tg, manager, 3004, "Boris")
    await rep.send("/add")
    await rep.send("Boris Ivanov")  # the name; the company is asked
    await manager.send("/team")
    await manager.click("🚪")
    await manager.click("Rita")
    await manager.click("Boris")
    assert "Rita" in (await manager.click(1)).text
    left = HANDOVER["en"]["left"]
    assert (await rep.send("Acme")).text == left
    assert (await rep.send("hello")).text == left
    await rep.send("/add")
    await rep.send("Pavel")
    reply = await rep.send("/find Ivan")
    assert reply.text == left and "Continue" not in str(reply.buttons)
