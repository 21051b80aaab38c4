"""Long texts through the chat: a card with long notes stays one message with its buttons and
shows the rest on request; Edit › Notes works on a long note; a touch summary over the limit is
refused with a clear answer; an import that cuts a value says so. And 🗑 Forget on a card."""

from __future__ import annotations

from sqlalchemy import select

from bot.emulator.client import buttons_of, plain
from core.textsplit import utf16_len
from storage.models import Contact, Touch
from tests.helpers import team_with_rep
from tests.test_followups_idempotent import fsm_settings, started  # noqa: F401
from tests.test_team_duplicates import chat, chat_settings  # noqa: F401

CARD_BUTTONS = {"📝 Log touch", "⏭ Next step", "✏️ Edit", "🗄 Archive"}


def long_note(n: int) -> str:
    words = (f"word{i % 97}" + ("\n" if i % 40 == 39 else " ") for i in range(n))
    text = "".join(words)[:n]
    return text[:-1] + "x" if text[-1].isspace() else text


async def stored(tg) -> Contact:  # noqa: ANN001
    async with tg.app.session_factory() as s:
        return await s.scalar(select(Contact))


async def test_an_imported_huge_note_is_cut_with_a_notice_and_read_in_full_on_request(
    chat,  # noqa: F811
) -> None:
    *_, rep = await team_with_rep(chat)
    note = long_note(100_000)
    data = ('name,notes\nNora Notes,"' + note + '"\n').encode()
    reply = await rep.send_document("notes.csv", data)
    assert "1 new" in reply.text
    assert "1 value was longer than its field allows and was cut" in reply.text
    assert "line 2 (Nora Notes): notes longer than 10000 characters: cut" in reply.text
    await rep.click("Import")
    card = await stored(chat)
    assert len(card.notes) <= 10_000 and note.startswith(card.notes)

    reply = await rep.send("/find Nora")
    assert not reply.errors and len(reply.messages) == 1  # one message, its buttons on it
    [message] = reply.messages
    names = {b["text"] for b in buttons_of(message)}
    assert CARD_BUTTONS <= names and "📄 Full notes" in names
    assert "Full notes" in plain(message["text"]) and utf16_len(plain(message["text"])) < 4096

    reply = await rep.click("Full notes", message)
    assert not reply.errors and len(reply.messages) >= 3
    assert all(utf16_len(plain(m["text"])) <= 4096 for m in reply.messages)
    assert all(not buttons_of(m) for m in reply.messages)
    assert reply.edited == []  # the card message keeps its text and buttons
    shown = " ".join(plain(m["text"]) for m in reply.messages)
    assert " ".join(shown.split()).endswith(" ".join(card.notes.split()[-50:]))
    assert "".join(shown.split()).count("word") == card.notes.count("word")


async def test_edit_notes_on_a_long_note(chat) -> None:  # noqa: F811
    *_, rep = await team_with_rep(chat)
    await rep.send("/add Lena Long, Acme")
    await rep.click("Open card")
    await rep.click("Edit")
    await rep.click("Notes")
    first = long_note(4_050)
    reply = await rep.send(first)
    assert "Saved" in reply.text and not reply.errors
    assert (await stored(chat)).notes == first
    card = reply.messages[-1]
    assert {"📄 Full notes", "✏️ Edit"} <= {b["text"] for b in buttons_of(card)}

    await rep.click("Edit", card)
    reply = await rep.click("Notes")
    assert "Notes: send the new value" in reply.text and not reply.errors
    assert "4050 characters in all" in reply.text
    second = long_note(4_090)
    reply = await rep.send(second)
    assert "Saved" in reply.text and not reply.errors
    assert (await stored(chat)).notes == second


async def test_a_touch_summary_over_the_limit_is_refused_and_asked_again(chat) -> None:  # noqa: F811
    *_, rep = await team_with_rep(chat)
    await rep.send("/add Tom Touch, Acme")
    await rep.click("Open card")
    await rep.click("Log touch")
    await rep.click("call")
    await rep.click("outbound")
    reply = await rep.send("x" * 4_090)
    assert "This summary has 4090 characters" in reply.text and "up to 4000" in reply.text
    async with chat.app.session_factory() as s:
        assert await s.scalar(select(Touch)) is None
    reply = await rep.send("Talked about the pilot")
    assert "Touch saved" in reply.text
    async with chat.app.session_factory() as s:
        assert (await s.scalar(select(Touch))).summary == "Talked about the pilot"


async def test_forget_on_a_card_for_a_manager_only(tg) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Fred Forget, Acme, +7 999 123-45-67")
    reply = await rep.click("Open card")
    assert "🗑 Forget" not in reply.buttons  # a rep cannot erase
    reply = await manager.send("/find Fred")
    card = reply.messages[-1]
    assert "🗑 Forget" in reply.buttons
    reply = await manager.click("Forget", card)
    assert "Forget <b>Fred Forget</b>?" in reply.html and reply.edited == []
    reply = await manager.click("Forget for good")
    assert "Erased" in reply.text
    found = await stored(tg)
    assert found.forgotten_at is not None and found.phone is None
