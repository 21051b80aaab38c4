"""Daily use for reps (issue 14): a pasted contact offered as "Add?", voice notes, photos and
documents kept on touches and shown in the timeline, a business card's photo on the new card,
and replying to a client's message from the bot."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.emulator.client import buttons_of
from storage.models import Contact, Touch, TouchMedia
from tests.helpers import another_rep, speak, team_with_rep
from views.media import MediaCb

PASTE = "Anna Smirnova\nAcme\nCTO\n+7 999 123-45-67\nanna@acme.io"


@pytest.mark.parametrize(
    ("language", "looks", "add", "no", "not_added", "saved"),
    [
        ("en", "This looks like a contact:", "➕ Add contact", "No", "OK, not added.", "Saved"),
        (
            "ru",
            "Похоже на контакт:",
            "➕ Добавить контакт",
            "Нет",
            "Хорошо, не добавляю.",
            "Сохранено",
        ),
    ],
)
async def test_a_pasted_contact_is_offered_as_add(
    tg, language, looks, add, no, not_added, saved
) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    reply = await rep.send(PASTE)
    assert looks in reply.text
    assert "Anna Smirnova — Acme, CTO" in reply.text
    assert "+7 999 123-45-67 · anna@acme.io" in reply.text
    assert reply.buttons == [add, no]
    offer = rep.last_with_buttons()
    tap = buttons_of(offer)[0]["callback_data"]
    reply = await rep.click(add)
    assert saved in reply.text and "Anna Smirnova" in reply.text
    async with tg.app.session_factory() as s:
        anna = await s.scalar(select(Contact).where(Contact.name == "Anna Smirnova"))
        assert (anna.phone, anna.email, anna.company) == ("+79991234567", "anna@acme.io", "Acme")
    # the offer is used up: a second tap on it adds nothing
    reply = await rep.tap_data(tap, offer)
    assert "Anna" not in reply.text
    # ordinary chat text, even with a number in it, is not offered
    for text in ("call me at +7 999 123-45-67 tomorrow", "Meeting moved to 12.05.2026 10:00"):
        reply = await rep.send(text)
        assert looks not in reply.text and add not in reply.buttons  # a note, not a contact
    # "No" adds nothing
    await rep.send("Boris Petrov, Beta, +7 999 765-43-21")
    reply = await rep.click(no)
    assert not_added in reply.text
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(Contact).where(Contact.name == "Boris Petrov")) is None


@pytest.mark.parametrize(
    ("language", "kept", "voice", "photo", "card_photo"),
    [
        (
            "en",
            "📎 Kept on the touch with Anna Smirnova.",
            "🎤 voice note [1]",
            "🖼 photo [2]",
            "📇 The business card photo is attached to Boris Petrov.",
        ),
        (
            "ru",
            "📎 Сохранено в касании: Anna Smirnova.",
            "🎤 голосовое сообщение [1]",
            "🖼 фото [2]",
            "📇 Фото визитки прикреплено к карточке Boris Petrov.",
        ),
    ],
)
async def test_voice_and_photo_are_kept_on_the_touch_and_resent_from_the_timeline(
    tg, language, kept, voice, photo, card_photo
) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.send("/find Anna")
    await rep.click("📝")
    await rep.click(1)  # call
    await rep.click(1)  # outbound
    reply = await rep.send_voice()  # instead of a summary: the touch is saved with it
    assert "✅" in reply.text
    reply = await rep.send_photo()  # while the next step is asked: on the same touch
    assert kept in reply.text
    async with tg.app.session_factory() as s:
        touch = await s.scalar(select(Touch))
        media = list(await s.scalars(select(TouchMedia).order_by(TouchMedia.id)))
        assert [(m.kind, m.touch_id) for m in media] == [("voice", touch.id), ("photo", touch.id)]
    await rep.send("/cancel")
    await rep.send("/find Anna")
    reply = await rep.click("🕓")
    assert voice in reply.text and photo in reply.text
    assert "🎤 1" in reply.buttons and "🖼 2" in reply.buttons
    reply = await rep.click("🎤 1")
    sent = [m for m in reply.messages if "voice" in m]
    assert sent and sent[0]["voice"]["file_id"] == media[0].file_id
    # a business card's photo sent with /add goes on the new card
    reply = await rep.send_photo(caption="/add Boris Petrov, Beta")
    assert card_photo in reply.text
    async with tg.app.session_factory() as s:
        boris = await s.scalar(select(Contact).where(Contact.name == "Boris Petrov"))
        kept_on_card = await s.scalar(select(TouchMedia).where(TouchMedia.contact_id == boris.id))
        assert kept_on_card.kind == "photo" and kept_on_card.touch_id is None
    await rep.send("/find Boris")
    reply = await rep.click("🕓")
    assert "📇" in reply.text
    reply = await rep.click("🖼 1")
    assert reply.photos


async def test_a_loose_photo_starts_the_add_and_goes_on_the_card(tg) -> None:
    *_, rep = await team_with_rep(tg)
    reply = await rep.send_photo()
    assert "Business card photo received" in reply.text and "New contact" in reply.text
    await rep.send("Carl Card")
    for _step in range(7):  # company … role: skipped
        if rep.last_with_buttons() and "Skip" in [
            b["text"]
            for row in rep.last_with_buttons()["reply_markup"]["inline_keyboard"]
            for b in row
        ]:
            reply = await rep.click("Skip")
        else:
            reply = await rep.send("-")
    async with tg.app.session_factory() as s:
        carl = await s.scalar(select(Contact).where(Contact.name == "Carl Card"))
        assert carl is not None
        assert await s.scalar(select(TouchMedia).where(TouchMedia.contact_id == carl.id))


async def test_another_reps_file_is_not_sent(tg) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send_photo(caption="/add Boris Petrov, Beta")
    async with tg.app.session_factory() as s:
        media = await s.scalar(select(TouchMedia))
    other = await another_rep(tg, manager, 3004, "Oleg")
    reply = await other.tap_data(MediaCb(id=media.id).pack(), other.last)
    assert reply.answer["text"] == "This file is no longer available."
    assert reply.messages == []


@pytest.mark.parametrize(
    ("language", "window", "sent", "blocked"),
    [
        (
            "en",
            "Write your reply to Dan Client",
            "✅ Sent to Dan Client and logged as a touch. To write again, tap ↩️ Reply.",
            "⚠️ Not delivered: Dan Client has blocked the bot",
        ),
        (
            "ru",
            "Напишите ответ (Dan Client)",
            "✅ Ответ отправлен (Dan Client) и записан как касание. Чтобы написать ещё, нажмите ↩️ Ответить.",
            "⚠️ Не доставлено (Dan Client): бот заблокирован или ещё не запущен",
        ),
    ],
)
async def test_the_rep_replies_to_a_client_from_the_bot(
    tg, language, window, sent, blocked
) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    client = tg.user(9004, "Dan")
    await client.send("/start")
    await rep.share_contact("+79995550011", "Dan", "Client", user_id=client.id)
    await client.send("Is the offer still valid?")
    await tg.app.clockwork.tick()
    notice = rep.last_with_buttons()
    assert "Is the offer still valid?" in notice["text"]
    reply = await rep.click("↩️")
    assert window in reply.text
    reply = await rep.send("Yes, until Friday")
    assert sent in reply.text
    assert "Yes, until Friday" in client.last["text"]
    async with tg.app.session_factory() as s:
        touch = await s.scalar(select(Touch).where(Touch.direction == "out"))
        assert (touch.type, touch.summary) == ("message", "Yes, until Friday")
    # the window is closed: the next text is not relayed
    before = len(client.bot_messages)
    await rep.send("Thanks")
    assert len(client.bot_messages) == before
    # a client who blocked the bot: the rep is told clearly, the touch says so
    await tg.emu.set_blocked(client.id, notify=False)
    await rep.click("↩️", notice)
    reply = await rep.send("Are you there?")
    assert blocked in reply.text
    async with tg.app.session_factory() as s:
        last = await s.scalar(select(Touch).order_by(Touch.id.desc()))
        assert last.summary.startswith("⚠️") and "Are you there?" in last.summary


async def test_the_card_of_someone_the_bot_can_write_to_has_reply(tg) -> None:
    """/today's "waiting for your reply" opens the card: the reply goes from there too (only
    the notice of their message had ↩️ Reply)."""
    *_, rep = await team_with_rep(tg)
    client = tg.user(9004, "Dan")
    await client.send("/start")
    await rep.share_contact("+79995550011", "Dan", "Client", user_id=client.id)
    await rep.send("/add Anna Smirnova, Acme")  # no Telegram: nothing to reply through
    assert "↩️ Reply" not in (await rep.send("/find Anna")).buttons
    await client.send("Is the offer still valid?")
    reply = await rep.send("/today")
    reply = await rep.click("Dan Client")
    assert reply.buttons[-1] == "↩️ Reply"
    await rep.click("↩️ Reply")
    await rep.send("Yes, until Friday")
    assert client.last["text"].endswith("Yes, until Friday")
    await rep.click("Archive", reply.last)
    assert "↩️ Reply" not in (await rep.send("/find -a Dan")).buttons  # archived: no reply


async def test_forgetting_a_card_erases_its_kept_files(tg) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send_photo(caption="/add Boris Petrov, Beta")
    reply = await manager.send("/forget Boris")
    reply = await manager.click("Forget for good")
    assert "Erased" in reply.text
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(TouchMedia)) is None


@pytest.mark.parametrize(
    ("language", "got_voice", "which", "kept", "on_timeline", "none_open", "no_cards"),
    [
        (
            "en",
            "🎤 Got the voice note. Which card should it go on?",
            "Or open the card (/find name), tap 📝 Log touch and send the file there.",
            "📎 2 files kept on the card of Anna Smirnova",
            ["📎 voice note kept on the card", "📎 document kept on the card"],
            "Nothing is waiting to be attached",
            "📄 Got the document. To keep it on a card: open the card (/find name)",
        ),
        (
            "ru",
            "🎤 Получено: голосовое сообщение. К какой карточке его прикрепить?",
            "Или откройте карточку (/find имя), нажмите 📝 Записать касание",
            "📎 2 файла сохранены в карточке Anna Smirnova",
            ["📎 голосовое сообщение: сохранено в карточке", "📎 документ: сохранено в карточке"],
            "Прикреплять нечего",
            "📄 Получено: документ. Чтобы сохранить его в карточке: откройте карточку",
        ),
    ],
)
async def test_a_loose_voice_note_or_document_is_offered_to_the_latest_cards(
    tg, clock, language, got_voice, which, kept, on_timeline, none_open, no_cards
) -> None:
    _admin, manager, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Anna Smirnova, Acme")
    clock.advance(minutes=1)
    await rep.send("/add Boris Petrov, Beta")
    reply = await rep.send_voice()  # no dialogue open
    assert got_voice in reply.text and which in reply.text
    assert reply.buttons == ["📎 Boris Petrov · Beta", "📎 Anna Smirnova · Acme"]
    offer = rep.last_with_buttons()
    reply = await rep.send_document("contract.pdf", b"%PDF a contract")
    assert "Anna Smirnova" in " ".join(reply.buttons)
    assert ".csv" in reply.text and "contract.pdf" in reply.text  # in case it was for /import
    reply = await rep.click("Anna Smirnova")
    assert kept in reply.text
    async with tg.app.session_factory() as s:
        anna = await s.scalar(select(Contact).where(Contact.name == "Anna Smirnova"))
        media = list(await s.scalars(select(TouchMedia).order_by(TouchMedia.id)))
    assert [(m.contact_id, m.touch_id, m.kind) for m in media] == [
        (anna.id, None, "voice"),
        (anna.id, None, "document"),
    ]
    assert media[1].file_name == "contract.pdf"
    reply = await rep.click(1)  # Open card
    reply = await rep.click("🕓")
    assert all(line in reply.text for line in on_timeline)
    reply = await rep.click("📄 1")
    assert [m for m in reply.messages if "document" in m]
    reply = await rep.click("Boris", offer)  # the first offer: its file is on Anna's card
    assert none_open in reply.answer["text"]
    # a CSV is still an import, and a photo still starts an add
    reply = await rep.send_document("people.csv", b"name\nCarl\n")
    assert "Anna" not in " ".join(reply.buttons) and "📎" not in reply.text
    await rep.send("/cancel")
    reply = await rep.send_photo()
    assert "📇" in reply.text
    # a rep with no cards yet is told how; a card out of the viewer's scope gets nothing
    oleg = await another_rep(tg, manager, 3004, "Oleg")
    await speak(oleg, language)
    reply = await oleg.send_document("notes.txt", b"notes")
    assert no_cards in reply.text and reply.buttons == []
    reply = await oleg.tap_data(f"ma:{anna.id}")
    assert none_open in reply.answer["text"]
    async with tg.app.session_factory() as s:
        assert len(list(await s.scalars(select(TouchMedia)))) == 2


async def test_today_lists_the_step_of_a_lost_contact_its_reminder_comes_for(tg, clock) -> None:
    """A card marked lost keeps the step the rep set, and its reminder comes: /today said
    "Nothing is due" while the card showed the step overdue."""
    from datetime import timedelta

    *_, rep = await team_with_rep(tg)
    await rep.send("/add Dan Brown, Acme")
    await rep.click("Open card")
    await rep.click("Next step")
    await rep.send("send the deck")
    await rep.send("tomorrow 10:00")
    await rep.click("Confirm")
    await rep.click("Status")
    await rep.click("lost")
    clock.advance(timedelta(days=1, hours=2))
    reply = await rep.send("/today")
    assert "Overdue" in reply.text and "Dan Brown" in reply.text
    assert "Going cold" not in reply.text  # a lost card is not chased for touches
