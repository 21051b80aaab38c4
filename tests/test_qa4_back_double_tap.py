"""QA round 4: a second tap of a "↩️ Back to …" / "↩️ Continue adding" button — a double tap, the
dialogue it took back open now — is answered quietly and leaves that dialogue as it is (it used
to say the dialogue was not saved, then that it was no longer kept, and end it); a note typed
under /log's "Which one?" that finds no card is kept for the touch, and the card picked logs it."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from storage.models import Contact, Deal, Touch
from tests.helpers import team_with_rep


def failed(emu, start: int) -> list[str]:  # noqa: ANN001
    """The bot's requests since ``start`` that Telegram refused."""
    return [f"{r.method}: {r.error}" for r in emu.requests[start:] if not r.ok]


async def touches(tg) -> list[Touch]:  # noqa: ANN001
    async with tg.app.session_factory() as s:
        return list(await s.scalars(select(Touch).order_by(Touch.id)))


async def step_of(tg, name: str) -> str | None:  # noqa: ANN001
    async with tg.app.session_factory() as s:
        return await s.scalar(select(Contact.next_step).where(Contact.name == name))


def quiet(reply) -> bool:  # noqa: ANN001
    """Nothing sent or edited, the tap answered with no words."""
    return not reply.all and reply.answer is not None and not reply.answer.get("text")


# ------------------------------------------------------------------ 1. a second tap of Back
async def test_back_to_the_next_step_tapped_twice_keeps_the_step_open(tg, emu) -> None:
    """QA's steps: a card's button of another message leaves the next step being confirmed;
    Back takes it back; the same Back tapped again is quiet, and the time typed then is the
    step's."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ann Smith, Acme")
    await rep.send("/add Bob Jones, Beta")
    ann = (await rep.send("/find Ann Smith")).last
    await rep.send("/log Bob Jones")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("talked")
    await rep.send("next monday call back")
    reply = await rep.click("Next step", ann)  # Ann's card: another flow
    note = copy.deepcopy(reply.messages[0])  # as first sent, with its button
    assert note["text"].startswith("✋ The next step with Bob Jones was not saved")
    reply = await rep.click("Back to the next step", note)
    assert "Right?" in reply.text
    start = len(emu.requests)
    reply = await rep.click("Back to the next step", note)  # as first sent: a double tap
    assert quiet(reply), reply.text  # was: "✋ … not saved", then "no longer kept"
    assert failed(emu, start) == []  # was: editMessageReplyMarkup "message is not modified"
    reply = await rep.send("tomorrow at 11")
    assert "Right?" in reply.text  # still the step's time, not a note to log
    reply = await rep.click("Confirm")
    assert "Next step saved" in reply.text
    assert await step_of(tg, "Bob Jones") == "call back"


async def test_back_to_the_touch_tapped_twice_keeps_the_touch_open(tg, emu) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Dan Brown, Acme")
    await rep.send("/log Dan")
    await rep.click("meeting")
    await rep.click("outbound")
    note = copy.deepcopy((await rep.send("/today")).messages[0])
    reply = await rep.click("Back to the touch", note)
    assert reply.messages[-1]["text"] == "A short summary of the touch? (or Skip)"
    start = len(emu.requests)
    reply = await rep.click("Back to the touch", note)
    assert quiet(reply), reply.text  # was: "That unfinished touch is no longer kept."
    assert failed(emu, start) == []
    reply = await rep.send("agreed on a pilot")
    assert "Touch saved" in reply.text
    [touch] = await touches(tg)
    assert (touch.type, touch.direction, touch.summary) == ("meeting", "out", "agreed on a pilot")
    # and once the touch is saved (its next step asked now), the old button still ends nothing
    reply = await rep.click("Back to the touch", note)
    assert quiet(reply), reply.text
    reply = await rep.send("send the proposal tomorrow 10:00")
    assert "Right?" in reply.text


async def test_continue_adding_tapped_twice_keeps_adding(tg, emu) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add")
    await rep.send("Carl Smith")
    note = copy.deepcopy((await rep.send("/help")).messages[0])
    reply = await rep.click("Continue adding", note)
    assert reply.messages[-1]["text"] == "Company? (or Skip)"
    start = len(emu.requests)
    reply = await rep.click("Continue adding", note)
    assert quiet(reply), reply.text  # was: "That unfinished contact is no longer kept."
    assert failed(emu, start) == []
    await rep.send("Carlco")
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(Contact.name).where(Contact.company == "Carlco")) is None
    reply = await rep.send("/cancel")  # still in /add: it is the one cancelled


async def test_back_to_the_deal_tapped_twice_keeps_the_deal_open(tg, emu) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ivan Petrov, Acme")
    await rep.send("/find Ivan")
    await rep.click("💼")
    await rep.click("➕")
    await rep.send("5000 EUR big project")
    note = copy.deepcopy((await rep.send("/contacts")).messages[0])
    await rep.click("Back to the deal", note)
    start = len(emu.requests)
    reply = await rep.click("Back to the deal", note)
    assert quiet(reply), reply.text  # was: "That unfinished deal is no longer kept."
    assert failed(emu, start) == []
    await rep.send("-")
    async with tg.app.session_factory() as s:
        [deal] = list(await s.scalars(select(Deal)))
    assert (deal.amount, deal.title) == (5000_00, "big project")


async def test_an_older_back_does_not_end_the_touch_log_open_now(tg) -> None:
    """A Back button whose dialogue is gone says so, and the dialogue open now goes on (it used
    to be ended, as the deal's and /add's never were)."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Dan Brown, Acme")
    await rep.send("/log Dan")
    await rep.click("meeting")
    old = (await rep.send("/today")).messages[0]
    await rep.send("/log Dan")
    await rep.click("call")
    await rep.send("/today")  # a newer note: the older one's dialogue is gone
    await rep.send("/log Dan")
    await rep.click("e-mail")
    reply = await rep.click("Back to the touch", old)
    assert "no longer kept" in reply.text
    await rep.click("inbound")
    reply = await rep.send("they asked for the price")
    assert "Touch saved" in reply.text
    [touch] = await touches(tg)
    assert (touch.type, touch.direction) == ("email", "in")


# ------------------------------------------------------------------ 2. a note under Which one?
SAID = {
    "en": ("Kept for the touch. Which one?", "Touch with Ann Jones. What kind?"),
    "ru": ("Сохранено для касания. Какой из них?", "Касание: Ann Jones. Какого типа?"),
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_note_typed_under_which_one_is_kept_for_the_touch(tg, language) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Ann Smith, Acme")
    await rep.send("/add Ann Jones, Beta")
    first = (await rep.send("/log Ann")).last
    note = "talked about the pilot in March"
    reply = await rep.send(note)
    assert reply.messages[0]["text"].startswith(SAID[language][0])  # was: "Nothing found for…"
    assert sorted(reply.buttons) == ["Ann Jones · Beta", "Ann Smith · Acme"]
    assert [m["message_id"] for m in reply.edited] == [first["message_id"]]  # its buttons gone
    reply = await rep.click("Ann Jones")
    assert reply.text.startswith(SAID[language][1])
    assert "✋" not in reply.text  # picking the note's card is no other flow
    await rep.click(1)
    reply = await rep.click(1)  # the note is the summary: nothing more asked
    [touch] = await touches(tg)
    assert touch.summary == note


async def test_a_mistyped_name_under_which_one_is_still_not_found(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ann Smith, Acme")
    await rep.send("/add Ann Jones, Beta")
    await rep.send("/log Ann")
    reply = await rep.send("Ann Smyth")
    assert reply.text.startswith("Nothing found for “Ann Smyth”")
    reply = await rep.click("Ann Smith")  # the list above still works
    assert reply.text.startswith("Touch with Ann Smith. What kind?")


async def test_picking_the_card_of_a_note_sent_alone_says_nothing_was_lost(tg) -> None:
    """A note typed alone, 🔎 Someone else, a name, a card of the list: the note is logged on
    it — no "✋ The note was not logged" said first (the list was the note's own)."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ann Smith, Acme")
    await rep.send("/add Ann Jones, Beta")
    await rep.send("we talked about the pilot in march with her")
    await rep.click("Someone else")
    await rep.send("Ann")
    reply = await rep.send("and she asked for a discount")  # more words: kept with the note
    assert reply.text.startswith("Kept for the touch. Which one?")
    reply = await rep.click("Ann Smith")
    assert reply.text.startswith("Touch with Ann Smith. What kind?"), reply.text
    await rep.click("call")
    reply = await rep.click("inbound")
    assert "Touch saved" in reply.text
    [touch] = await touches(tg)
    assert (
        touch.summary == "we talked about the pilot in march with her\nand she asked for a discount"
    )
