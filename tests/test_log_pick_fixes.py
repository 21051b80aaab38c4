"""/log's "Which one?" stays part of the dialogue (a name typed under it searches again, a typed
note kept; /cancel ends it), and a card handed to someone else while a touch or its next step
is being logged says so, with what the rep typed shown back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.textsplit import utf16_len
from storage.models import Touch
from tests.helpers import another_rep, team_with_rep

SAID = {
    "en": {
        "kind": "Touch with Ann Smith. What kind?",
        "cancelled": "Cancelled. Nothing was changed by the unfinished step.",
        "not_yours": "⚠️ The touch with Ann Smith was not saved: this card is no longer yours",
        "yours": "Your text, so that it is not lost:",
    },
    "ru": {
        "kind": "Касание: Ann Smith. Какого типа?",
        "cancelled": "Отменено. Незавершённый шаг ничего не изменил.",
        "not_yours": "⚠️ Ann Smith: касание не сохранено — эта карточка больше не ваша",
        "yours": "Ваш текст, чтобы он не потерялся:",
    },
}
NOT_YOURS = "was not saved: this card is no longer yours"


async def touches(tg) -> list[Touch]:
    async with tg.app.session_factory() as s:
        return list(await s.scalars(select(Touch).order_by(Touch.id)))


async def two_anns(rep) -> None:
    await rep.send("/add Ann Smith, Acme")
    await rep.send("/add Ann Jones, Beta")


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_name_typed_under_which_one_searches_again(tg, language) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await two_anns(rep)
    reply = await rep.send("/log Ann")
    assert sorted(reply.buttons) == ["Ann Jones · Beta", "Ann Smith · Acme"]
    reply = await rep.send("Ann Smith")  # not a card opened, nor a note offered: the touch's
    assert reply.text.startswith(SAID[language]["kind"])
    await rep.click(1)
    await rep.click(1)
    reply = await rep.send("talked about the pilot")
    [touch] = await touches(tg)
    assert touch.summary == "talked about the pilot"


async def test_a_typed_note_survives_a_refined_search(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await two_anns(rep)
    note = "discussed the budget for next year"
    await rep.send(note)
    await rep.click("Someone else")
    reply = await rep.send("Ann")
    assert "Which one?" in reply.text and "more precise name" in reply.text
    older = reply.last
    reply = await rep.send("Ann")  # the same list again: the older one's buttons are stale
    reply = await rep.click("Ann Jones", older)
    assert reply.answer is not None and "out of date" in reply.answer["text"]
    reply = await rep.send("Ann Jones")
    assert reply.text.startswith("Touch with Ann Jones. What kind?")
    await rep.click("call")
    reply = await rep.click("inbound")  # the note is the summary: nothing more asked
    assert "Touch saved" in reply.text
    [touch] = await touches(tg)
    assert (touch.summary, touch.type, touch.direction) == (note, "call", "in")


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_cancel_under_which_one_ends_the_dialogue(tg, language) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await two_anns(rep)
    await rep.send("/log Ann")
    listed = rep.last_with_buttons()
    reply = await rep.send("/cancel")
    assert reply.text == SAID[language]["cancelled"]
    reply = await rep.send("Ann Smith")  # a name alone again: the card, as anywhere
    assert reply.text.startswith("Ann Smith — Acme")
    # the list's buttons are the cards' own "log a touch": a tap starts the touch afresh
    reply = await rep.click("Ann Jones", listed)
    assert reply.text.startswith(SAID[language]["kind"].replace("Smith", "Jones"))


async def test_cancel_under_a_notes_which_one_drops_the_note(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await two_anns(rep)
    await rep.send("discussed the budget for next year")
    await rep.click("Someone else")
    await rep.send("Ann")
    listed = rep.last_with_buttons()
    reply = await rep.send("/cancel")
    assert reply.text == "Cancelled. Nothing was changed by the unfinished step."
    reply = await rep.click("Ann Smith", listed)  # the note went with the dialogue
    assert reply.answer is not None and "out of date" in reply.answer["text"]
    assert await touches(tg) == []


async def hand_over(manager, name: str, to: str) -> None:
    """The manager gives the card called ``name`` to ``to``."""
    await manager.send(f"/find {name}")
    await manager.click("Edit")
    await manager.click("Owner")
    reply = await manager.click(to)
    assert f"{to} now owns this card." in reply.text


async def team_with_card(tg, language: str = "en"):  # noqa: ANN201
    _admin, manager, rep = await team_with_rep(tg, language=language)
    await another_rep(tg, manager, 3004, "Boris")
    await rep.send("/add Ann Smith, Acme")
    return manager, rep


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_summary_for_a_card_handed_over_meanwhile_is_shown_back(tg, language) -> None:
    manager, rep = await team_with_card(tg, language)
    await rep.send("/log Ann Smith")
    await rep.click(1)
    await rep.click(1)  # outbound: the summary is asked
    await hand_over(manager, "Ann Smith", "Boris")
    words = "Ann <b>agreed</b> & wants the pilot in March"
    reply = await rep.send(words)
    assert not reply.errors
    assert SAID[language]["not_yours"] in reply.text
    assert SAID[language]["yours"] + "\n" + words in reply.text  # shown back as typed
    assert "<blockquote>Ann &lt;b&gt;agreed&lt;/b&gt; &amp; wants" in reply.html
    assert await touches(tg) == []
    reply = await rep.send("/cancel")  # the dialogue has ended
    assert "Cancelled" not in reply.text and "Отменено" not in reply.text


async def test_a_long_summary_shown_back_is_cut_to_one_message(tg) -> None:
    manager, rep = await team_with_card(tg)
    await rep.send("/log Ann Smith")
    await rep.click("meeting")
    await rep.click("inbound")
    await hand_over(manager, "Ann Smith", "Boris")
    words = "word😀 " * 570 + "THE END"  # 3,997 characters, 4,567 UTF-16 units
    reply = await rep.send(words)
    assert not reply.errors and len(reply.messages) == 1
    shown = reply.text
    assert NOT_YOURS in shown and utf16_len(shown) <= 4096
    assert "THE END" not in shown and shown.endswith("…") and "word😀 word😀" in shown


async def test_a_kind_tapped_for_a_card_handed_over_says_so_at_once(tg) -> None:
    manager, rep = await team_with_card(tg)
    note = "she asked for the price list again"
    await rep.send("/log Ann Smith")
    await rep.send(note)  # typed ahead of the buttons: kept for the touch
    await hand_over(manager, "Ann Smith", "Boris")
    reply = await rep.click("call")
    assert NOT_YOURS in reply.text and note in reply.text
    assert "outbound" not in reply.text  # not asked on
    assert await touches(tg) == []


async def test_a_next_step_for_a_card_handed_over_meanwhile_is_shown_back(tg) -> None:
    manager, rep = await team_with_card(tg)
    await rep.send("/log Ann Smith")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("talked")
    await rep.send("send the proposal")
    reply = await rep.send("tomorrow 10:00")
    assert "Right?" in reply.text
    await hand_over(manager, "Ann Smith", "Boris")
    reply = await rep.click("Confirm")
    assert "⚠️ The next step with Ann Smith " + NOT_YOURS in reply.text
    assert "send the proposal · " in reply.text


async def test_back_to_a_touch_whose_card_was_handed_over_shows_the_words(tg) -> None:
    manager, rep = await team_with_card(tg)
    words = "she wants a discount for two years"
    await rep.send("/log Ann Smith")
    await rep.send(words)
    reply = await rep.send("/contacts")  # a command leaves the touch: ↩️ Back to it offered
    back = next(m for m in reply.messages if "Back to the touch" in str(m.get("reply_markup")))
    await hand_over(manager, "Ann Smith", "Boris")
    reply = await rep.click("Back to the touch", back)
    assert NOT_YOURS in reply.text and words in reply.text
    assert await touches(tg) == []
