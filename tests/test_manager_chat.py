"""Issue 14, for managers: /cases with owner, age and deadline, each case opening its actions and
always showing its status, the news of a case; /team with each rep's numbers, a team's name,
and a rep's work handed to a colleague in one step; the digest's lists open with buttons."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.emulator.client import buttons_of, plain
from storage.models import NpsCase
from tests.conftest import ADMIN_ID
from tests.helpers import team_with_rep, token_of


def sent_to(emu, chat_id: int, needle: str) -> list[dict]:
    return [
        r.params
        for r in emu.requests
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
    },
    "ru": {
        "head": "🚨 2 открытых случая недовольных клиентов",
        "sla": "Случай нужно решить за 24 часа после ответа клиента.",
        "overdue": "⚠️ Просрочен 1.",
        "dan": "1. Dan Client — 3/10 · менеджер Rita · взял Maria · открыт 1 д 3 ч · "
        "⚠️ просрочен на 3 ч",
        "eli": "2. Eli Client — 0/10 · менеджер Rita · никто не взял · открыт 1 ч 0 мин · "
        "осталось 23 ч 0 мин",
        "status": "Статус: 🙋 взял Maria",
        "late": "⚠️ Просрочен на 3 ч 0 мин: срок был вт, 24 нояб. 2026, 11:00.",
        "open": "Статус: 🆕 открыт, никто не взял",
        "left": "⏳ Открыт 1 ч 0 мин; решить до ср, 25 нояб. 2026, 13:00 (осталось 23 ч 0 мин).",
        "none": "🎉 Открытых случаев недовольных клиентов нет.",
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
    case = await manager.click("1. Dan Client")
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
        "took": "Новое по случаю: 🙋 Maria взяла случай Dan Client.",
        "escalated": "Новое по случаю: ⛔ Случай Dan Client просрочен и передан администраторам.",
        "resolved": "Новое по случаю: ✅ Ada (администратор) решила случай Dan Client.",
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
    assert "Case resolved" in reply.text
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
