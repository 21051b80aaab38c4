"""A reply to a client through ↩️ Reply is a touch like any other: it ends with the next step.
The reply was sent and logged, but — unlike /log — the rep was never asked "what next?"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Contact
from tests.helpers import team_with_rep

LABELS = {
    "en": {
        "sent": "✅ Sent to Dan Client and logged as a touch.",
        "question": "What is the next step with Dan Client?",
        "none": "No next step",
        "when": "When?",
        "confirm": "✅ Confirm",
        "saved": "✅ Next step saved.",
        "planned": "Planned now: send the offer",
        "keep": "📌 Keep it",
        "stays": "📌 The next step stays: send the offer",
        "blocked": "⚠️ Not delivered: Dan Client has blocked the bot",
    },
    "ru": {
        "sent": "✅ Ответ отправлен (Dan Client) и записан как касание.",
        "question": "Dan Client: какой следующий шаг?",
        "none": "Без следующего шага",
        "when": "Когда?",
        "confirm": "✅ Подтвердить",
        "saved": "✅ Следующий шаг сохранён.",
        "planned": "Сейчас запланировано: send the offer",
        "keep": "📌 Оставить",
        "stays": "📌 Следующий шаг остаётся: send the offer",
        "blocked": "⚠️ Не доставлено (Dan Client): бот заблокирован или ещё не запущен",
    },
}


async def client_wrote(tg, language: str = "en"):
    """A rep, and a client on their card who wrote to the bot: the notice with ↩️ Reply."""
    *_, rep = await team_with_rep(tg, language=language)
    client = tg.user(9004, "Dan")
    await client.send("/start")
    await rep.share_contact("+79995550011", "Dan", "Client", user_id=client.id)
    await client.send("Is the offer still valid?")
    await tg.app.clockwork.tick()
    notice = rep.last_with_buttons()
    assert "Is the offer still valid?" in notice["text"]
    return rep, client, notice


async def dan(tg) -> Contact:
    async with tg.app.session_factory() as s:
        return await s.scalar(select(Contact).where(Contact.tg_user_id == 9004))


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_reply_sent_asks_for_the_next_step(tg, language) -> None:
    words = LABELS[language]
    rep, client, _notice = await client_wrote(tg, language)
    await rep.click("↩️")
    reply = await rep.send("Yes, until Friday")
    assert client.last["text"].endswith("Yes, until Friday")
    assert words["sent"] in reply.text and words["question"] in reply.text
    assert reply.buttons == [words["none"]]
    # the next text is the step, not another reply to the client
    before = len(client.bot_messages)
    reply = await rep.send("call back")
    assert words["when"] in reply.text
    reply = await rep.send("tomorrow 10:00")
    reply = await rep.click(words["confirm"])
    assert words["saved"] in reply.text
    assert len(client.bot_messages) == before
    card = await dan(tg)
    assert card.next_step == "call back" and card.next_step_due is not None


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_step_still_ahead_is_shown_and_may_stay(tg, language) -> None:
    """As after /log: the card's step ahead is shown under the question, with 📌 Keep it."""
    words = LABELS[language]
    rep, _client, notice = await client_wrote(tg, language)
    # a step planned before the client wrote (from the card, as the rep would)
    await rep.send("/find Dan")
    await rep.click("⏭")
    await rep.send("send the offer")
    await rep.send("in 3 days" if language == "en" else "через 3 дня")
    await rep.click(words["confirm"])
    planned = (await dan(tg)).next_step_due
    await rep.click("↩️", notice)
    reply = await rep.send("Yes, until Friday")
    assert words["sent"] in reply.text and words["planned"] in reply.text
    assert reply.buttons == [words["keep"], words["none"]]
    reply = await rep.click(words["keep"])
    assert words["stays"] in reply.text
    card = await dan(tg)
    assert (card.next_step, card.next_step_due) == ("send the offer", planned)


async def test_a_reply_not_delivered_asks_nothing(tg, emu) -> None:
    """The client blocked the bot: the rep is told, as before, and nothing more is asked."""
    rep, client, notice = await client_wrote(tg)
    await tg.emu.set_blocked(client.id, notify=False)
    await rep.click("↩️", notice)
    reply = await rep.send("Are you there?")
    assert LABELS["en"]["blocked"] in reply.text
    assert "next step" not in reply.text and reply.buttons == []
    reply = await rep.send("call back")  # no dialogue open: not taken as a step
    assert "When?" not in reply.text
    assert (await dan(tg)).next_step is None
