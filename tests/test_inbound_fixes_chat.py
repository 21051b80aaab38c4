"""A client writing to the bot (their Telegram account on a rep's card), and the rep's ↩️ Reply:
what QA found. A client whose card was archived was told "Access is by invitation" and the rep
heard nothing; a client's photo, voice note or document was refused; a long message was quoted
cut without a mark and kept cut; a known client's /start read "invitation only"; the manager's
alert had no button; the reply window took no file, said a summary's limit, and /cancel did not
say the reply was not sent; a rep opening their own used invite link was told to ask for one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.emulator.client import buttons_of, plain
from storage.models import Touch, TouchMedia
from tests.helpers import another_rep, team_with_rep, token_of

CLIENT = 9004


def sent(emu, chat_id: int, method: str = "sendMessage") -> list[dict]:
    """What the bot sent to ``chat_id`` with ``method`` (ok), oldest first."""
    return [
        r.params
        for r in emu.requests
        if r.method == method and r.ok and r.params["chat_id"] == chat_id
    ]


def notices(emu, chat_id: int) -> list[dict]:
    return [p for p in sent(emu, chat_id) if "wrote to me" in p["text"]]


def button_texts(params: dict) -> list[str]:
    return [
        b["text"]
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]


async def rep_and_client(tg, language: str = "en"):
    """A rep, and Dan on their card (his Telegram account shared), who has started the bot."""
    _admin, manager, rep = await team_with_rep(tg, language=language)
    client = tg.user(CLIENT, "Dan")
    await client.send("/start")
    await rep.share_contact("+79995550011", "Dan", "Client", user_id=client.id)
    return manager, rep, client


async def inbound_touches(tg) -> list[Touch]:
    async with tg.app.session_factory() as s:
        return list(
            await s.scalars(select(Touch).where(Touch.direction == "in").order_by(Touch.id))
        )


# ----------------------------------------------------------------------------- 1. archived
async def test_a_client_whose_card_is_archived_still_reaches_the_rep(tg, emu) -> None:
    _manager, rep, client = await rep_and_client(tg)
    await rep.send("/find Dan")
    await rep.click("Archive")
    reply = await client.send("hello again?")
    assert reply.text == "Thank you! Your message has been passed on."
    await tg.app.clockwork.tick()
    [notice] = notices(emu, rep.id)
    assert "“hello again?”" in notice["text"]
    assert "🗄 This card is archived: open it to restore it." in notice["text"]
    assert button_texts(notice) == ["📝 Log reply", "Open card", "↩️ Reply"]
    [touch] = await inbound_touches(tg)
    assert touch.summary == "hello again?"
    # Open card shows it, archived, with Restore
    reply = await rep.click("Open card", rep.last_with_buttons())
    assert "archived" in reply.text and "Restore" in reply.buttons
    # no reply SLA runs on an archived card
    tg.clock.advance(timedelta(days=2))
    await tg.app.clockwork.tick()
    assert [p for p in sent(emu, rep.id) if "waiting for a reply" in p["text"]] == []


async def test_a_live_card_is_told_not_an_archived_one_of_the_same_person(tg, emu) -> None:
    _manager, rep, client = await rep_and_client(tg)
    await rep.send("/find Dan")
    await rep.click("Archive")
    await rep.share_contact("+79995550022", "Dan", "Newcard", user_id=client.id)
    await client.send("it's me")
    await tg.app.clockwork.tick()
    [notice] = notices(emu, rep.id)
    assert "Dan Newcard" in notice["text"] and "archived" not in notice["text"]


async def test_an_erased_card_does_not_know_its_person(tg, emu) -> None:
    manager, rep, client = await rep_and_client(tg)
    await manager.send("/forget Dan")
    await manager.click("Forget for good")
    reply = await client.send("hello?")
    assert "invitation" in reply.text
    await tg.app.clockwork.tick()
    assert notices(emu, rep.id) == []


# ----------------------------------------------------------------------------- 2. media
@pytest.mark.parametrize("kind", ["photo", "voice", "document"])
async def test_a_clients_file_is_passed_on_and_kept_on_the_touch(tg, emu, kind) -> None:
    _manager, rep, client = await rep_and_client(tg)
    if kind == "photo":
        reply = await client.send_photo(caption="the broken part")
    elif kind == "voice":
        reply = await client.send_voice()
    else:
        reply = await client.send_document("spec.pdf", b"%PDF a spec", caption="the broken part")
    assert reply.text == "Thank you! Your message has been passed on."
    method = {"photo": "sendPhoto", "voice": "sendVoice", "document": "sendDocument"}[kind]
    [relayed] = sent(emu, rep.id, method)
    assert plain(relayed["caption"]) == "💬 Dan Client"
    await tg.app.clockwork.tick()
    [notice] = notices(emu, rep.id)
    label = {"photo": "🖼 photo", "voice": "🎤 voice note", "document": "📄 document"}[kind]
    assert label in notice["text"]
    assert ("“the broken part”" in notice["text"]) is (kind != "voice")
    assert button_texts(notice) == ["📝 Log reply", "Open card", "↩️ Reply", label]
    [touch] = await inbound_touches(tg)
    async with tg.app.session_factory() as s:
        [kept] = list(await s.scalars(select(TouchMedia)))
    assert kept.touch_id == touch.id and kept.kind == kind
    assert touch.summary == ("" if kind == "voice" else "the broken part")
    # the notice's button sends the file again
    reply = await rep.click(label, rep.last_with_buttons())
    assert not reply.errors and len(reply.messages) == 1
    assert reply.messages[0][kind]


async def test_a_strangers_photo_is_still_not_taken(tg) -> None:
    await team_with_rep(tg)
    stranger = tg.user(7007, "Stranger")
    reply = await stranger.send_photo()
    assert reply.text == "I can't use this here. /help shows what I can do."


async def test_a_clients_sticker_is_said_to_be_what_cannot_be_passed_on(tg, emu) -> None:
    _manager, rep, client = await rep_and_client(tg)
    reply = await client.send_sticker()
    assert "This kind of message cannot be passed on" in reply.text
    await tg.app.clockwork.tick()
    assert notices(emu, rep.id) == []


# ----------------------------------------------------------------------------- 3. long text
async def test_a_long_message_is_marked_cut_in_the_notice_and_kept_whole(tg, emu) -> None:
    _manager, rep, client = await rep_and_client(tg)
    words = " ".join(f"word{i}" for i in range(900))[:4090].rstrip()
    assert len(words) > 4000
    await client.send(words)
    await tg.app.clockwork.tick()
    [notice] = notices(emu, rep.id)
    assert "…”" in notice["text"]
    assert "The message is longer: the whole of it is on the card's 🕓 Timeline." in notice["text"]
    [touch] = await inbound_touches(tg)
    assert touch.summary == words
    # a short one is quoted as it is
    await client.send("and one more thing")
    await tg.app.clockwork.tick()
    assert notices(emu, rep.id)[-1]["text"].endswith("wrote to me:\n“and one more thing”")


# ----------------------------------------------------------------------------- 4. /start
async def test_a_known_client_is_greeted_with_whom_they_write_to(tg) -> None:
    _manager, _rep, client = await rep_and_client(tg)
    reply = await client.send("/start")
    assert reply.text.startswith("Hello! Write here: your message reaches Rita.")
    assert "invitation" not in reply.text
    reply = await client.send("/help")
    assert reply.text.startswith("Write here: your message reaches Rita.")
    stranger = tg.user(7007, "Stranger")
    assert "invitation" in (await stranger.send("/start")).text


# ----------------------------------------------------------------------------- 5, 7: ↩️ Reply
async def test_a_reply_says_it_was_sent_not_that_a_window_closed(tg) -> None:
    _manager, rep, client = await rep_and_client(tg)
    await client.send("Is the offer still valid?")
    await tg.app.clockwork.tick()
    await rep.click("↩️", rep.last_with_buttons())
    reply = await rep.send("Yes, until Friday")
    assert "✅ Sent to Dan Client and logged as a touch. To write again, tap ↩️ Reply." in reply.text
    assert "window" not in reply.text.lower()


async def test_a_file_in_the_reply_window_is_the_reply(tg, emu) -> None:
    _manager, rep, client = await rep_and_client(tg)
    await client.send("Send me the invoice")
    await tg.app.clockwork.tick()
    await rep.click("↩️", rep.last_with_buttons())
    reply = await rep.send_document("invoice.pdf", b"%PDF invoice", caption="Here it is")
    assert "✅ Sent to Dan Client" in reply.text and "What is the next step" in reply.text
    [got] = sent(emu, client.id, "sendDocument")
    assert plain(got["caption"]) == "💬 Rita\nHere it is"
    async with tg.app.session_factory() as s:
        touch = await s.scalar(select(Touch).where(Touch.direction == "out"))
        [kept] = list(await s.scalars(select(TouchMedia)))
    assert touch.summary == "Here it is" and (kept.touch_id, kept.kind) == (touch.id, "document")


async def test_a_reply_files_long_caption_follows_it_as_text(tg, emu) -> None:
    """Telegram takes 1,024 characters in a caption: longer words come right after the file."""
    _manager, rep, client = await rep_and_client(tg)
    await client.send("Photo of the site, please")
    await tg.app.clockwork.tick()
    await rep.click("↩️", rep.last_with_buttons())
    words = "z" * 1500
    reply = await rep.send_photo(caption=words)
    assert "✅ Sent to Dan Client" in reply.text and not reply.errors
    [photo] = sent(emu, client.id, "sendPhoto")
    assert plain(photo["caption"]) == "💬 Rita"
    assert client.last["text"] == words


async def test_the_reply_window_refuses_what_it_cannot_send_and_stays_open(tg, emu) -> None:
    _manager, rep, client = await rep_and_client(tg)
    await client.send("Hi")
    await tg.app.clockwork.tick()
    await rep.click("↩️", rep.last_with_buttons())
    reply = await rep.send_sticker()
    assert "This cannot be sent as a reply" in reply.text
    reply = await rep.send("x" * 4200)
    assert "This reply has 4200 characters; one Telegram message holds up to 4096." in reply.text
    assert "summary" not in reply.text
    long_but_fine = "y" * 4050  # more than a typed summary holds, less than one message
    reply = await rep.send(long_but_fine)
    assert "✅ Sent to Dan Client" in reply.text
    assert plain(client.last["text"]).endswith(long_but_fine)
    async with tg.app.session_factory() as s:
        touch = await s.scalar(select(Touch).where(Touch.direction == "out"))
    assert touch.summary == long_but_fine


async def test_cancel_in_the_reply_window_says_the_reply_was_not_sent(tg) -> None:
    _manager, rep, client = await rep_and_client(tg)
    await client.send("Hi")
    await tg.app.clockwork.tick()
    await rep.click("↩️", rep.last_with_buttons())
    before = len(client.bot_messages)
    reply = await rep.send("/cancel")
    assert reply.text == "Cancelled: the reply was not sent."
    assert len(client.bot_messages) == before


# ----------------------------------------------------------------------------- 6. manager
async def test_the_managers_alert_opens_the_card_in_scope_only(tg, emu) -> None:
    manager, rep, client = await rep_and_client(tg)
    await client.send("Need a quote")
    tg.clock.advance(timedelta(days=2))
    await tg.app.clockwork.tick()
    [alert] = [m for m in manager.bot_messages if "without a reply" in (m.get("text") or "")]
    assert [b["text"] for b in buttons_of(alert)] == ["Open card"]
    reply = await manager.click("Open card", alert)
    assert "Dan Client" in reply.text and "Owner: Rita" in reply.text
    # the same button tapped by a rep whose card it is not: nothing shown
    other = await another_rep(tg, manager, 3004, "Oleg")
    reply = await other.tap_data(buttons_of(alert)[0]["callback_data"], other.last)
    assert reply.answer["text"] == "Contact not found." and reply.messages == []


# ----------------------------------------------------------------------------- 9. invite
async def test_a_used_invite_opened_by_who_used_it_says_they_are_in(tg) -> None:
    _admin, manager, _rep = await team_with_rep(tg)
    link = (await manager.send("/invite")).text
    oleg = tg.user(3004, "Oleg")
    assert "Welcome, Oleg" in (await oleg.send(f"/start {token_of(link)}")).text
    reply = await oleg.send(f"/start {token_of(link)}")
    assert (
        reply.text == "You are already in the team Maria as sales rep. /help shows what you can do."
    )
    stranger = tg.user(7007, "Stranger")
    assert "already been used" in (await stranger.send(f"/start {token_of(link)}")).text


# -------------------------------------------------------------- 8. 📝 Log reply is outbound
@pytest.mark.parametrize("typed", [False, True])
async def test_log_reply_does_not_ask_the_direction(tg, emu, typed: bool) -> None:
    """A reply to a client's message is outbound: 📝 Log reply asks the kind, then the words,
    never "outgoing or incoming?" (the kind tapped or typed)."""
    _manager, rep, client = await rep_and_client(tg)
    await client.send("Need a quote")
    await tg.app.clockwork.tick()
    reply = await rep.click("📝 Log reply", rep.last_with_buttons())
    assert "What kind?" in reply.text
    reply = await (rep.send("call") if typed else rep.click("call"))
    assert "Outgoing" not in plain(reply.text) and "Outgoing" not in " ".join(reply.buttons)
    reply = await rep.send("Called back with the price")
    async with tg.app.session_factory() as s:
        touch = (await s.scalars(select(Touch).order_by(Touch.id.desc()))).first()
    assert (touch.summary, touch.direction, touch.type) == (
        "Called back with the price",
        "out",
        "call",
    )
    assert "next step" in plain(reply.text).lower()
