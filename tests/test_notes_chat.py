"""A note typed outside any dialogue: "Lunch with Anna at Acme…" becomes a touch on her card in
three taps; a name alone opens the card; nothing else is ever logged without a tap."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import Contact, Touch, TouchMedia
from tests.helpers import another_rep, team_with_rep


async def touches(tg) -> list[Touch]:
    async with tg.app.session_factory() as s:
        return list(await s.scalars(select(Touch).order_by(Touch.id)))


async def test_a_note_naming_a_card_is_logged_on_it_in_three_taps(tg) -> None:
    _admin, _manager, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.send("/add Boris Petrov, Initech")
    note = "Lunch with Anna at Acme, she wants a pilot in March"
    reply = await rep.send(note)
    assert reply.text.startswith("📝 Log this as a touch?") and note in reply.text
    assert "With whom?" in reply.text
    assert reply.buttons == ["Anna Smirnova · Acme", "🔎 Someone else"]
    assert await touches(tg) == []  # nothing is logged without a tap
    reply = await rep.click("Anna Smirnova")
    assert "Touch with Anna Smirnova. What kind?" in reply.text
    await rep.click("meeting")
    reply = await rep.click("outbound")  # no question about the summary: the note is it
    assert "Touch saved" in reply.text and "next step with Anna Smirnova" in reply.text
    [touch] = await touches(tg)
    assert (touch.type, touch.direction, touch.summary) == ("meeting", "out", note)
    await rep.send("send the pilot proposal")
    await rep.send("tomorrow 10:00")
    reply = await rep.click("Confirm")
    assert "Next step saved" in reply.text and "Lunch with Anna at Acme" in reply.text


async def test_a_name_alone_opens_the_card_and_an_unknown_one_says_so(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    reply = await rep.send("Anna Smirnova")
    assert reply.text.startswith("Anna Smirnova — Acme")
    reply = await rep.send("acme")
    assert reply.text.startswith("Anna Smirnova — Acme")
    reply = await rep.send("Olga")
    assert reply.text == "Nothing found for “Olga”. /add creates a contact."
    reply = await rep.send("Olga Petrova")
    assert reply.text == "Nothing found for “Olga Petrova”. /add creates a contact."
    reply = await rep.send("ok")
    assert "didn't understand" in reply.text and "log it as a touch" in reply.text
    assert await touches(tg) == []


async def test_a_note_naming_nobody_offers_the_latest_cards_or_someone_else(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.send("/add Boris Petrov, Initech")
    await rep.send("/add Boris Orlov, Globex")
    reply = await rep.send("Sent the proposal")  # three words, not a name: a note
    assert "Your latest cards" in reply.text
    reply = await rep.send("discussed the budget for next year")
    assert "Your latest cards" in reply.text
    assert reply.buttons[-2:] == ["🔎 Someone else", "➕ New card"] and len(reply.buttons) == 5
    reply = await rep.click("Someone else")
    assert "Touch with whom?" in reply.text
    reply = await rep.send("Boris")
    assert "Which one?" in reply.text
    reply = await rep.click("Boris Orlov")
    await rep.click("call")
    reply = await rep.click("inbound")
    assert "Touch saved" in reply.text
    [touch] = await touches(tg)
    assert touch.summary == "discussed the budget for next year" and touch.direction == "in"
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(Contact.name).where(Contact.id == touch.contact_id)) == (
            "Boris Orlov"
        )


async def test_a_first_note_about_someone_new_adds_the_card_and_logs_it(tg) -> None:
    """A rep with no cards yet types what happened: the note is offered with ➕ New card, the
    card takes only a name (or the whole line), and the note is logged on it."""
    *_, rep = await team_with_rep(tg)
    note = "Called Ivan from Acme, he asked to call back on Monday"
    reply = await rep.send(note)
    assert "With whom? Find their card, or add a new one:" in reply.text
    assert reply.buttons == ["🔎 Find a card", "➕ New card"]
    reply = await rep.send("Добрый день")  # a greeting is not offered as a note
    assert "didn't understand" in reply.text
    reply = await rep.click("New card")  # and the offer still stands
    assert reply.text.startswith("A new card for this touch. Send the name")
    reply = await rep.send("Ivan Petrov, Acme, +7 912 555 66 77")
    assert "Saved: Ivan Petrov — Acme" in reply.text
    assert "Touch with Ivan Petrov. What kind?" in reply.text  # no more questions first
    await rep.click("call")
    reply = await rep.click("inbound")
    assert "Touch saved" in reply.text and "next step with Ivan Petrov" in reply.text
    [touch] = await touches(tg)
    async with tg.app.session_factory() as s:
        card = await s.get(Contact, touch.contact_id)
    assert (card.name, card.company, card.phone) == ("Ivan Petrov", "Acme", "+79125556677")
    assert (touch.type, touch.direction, touch.summary) == ("call", "in", note)


async def test_a_note_whose_person_is_not_found_adds_them_in_one_tap(tg) -> None:
    *_, rep = await team_with_rep(tg, language="ru")
    await rep.send("/add Анна Смирнова, Ромашка")
    note = "Встретились с Олегом на выставке, интересуется аудитом"
    await rep.send(note)
    reply = await rep.click("С другим контактом")
    reply = await rep.send("Олег Сидоров")
    assert reply.text == (
        "По запросу «Олег Сидоров» ничего не найдено. Попробуйте другое имя или добавьте карточку:"
    )
    reply = await rep.click("Новая карточка: Олег Сидоров")
    assert "Сохранено: Олег Сидоров" in reply.text
    assert "Касание: Олег Сидоров. Какого типа?" in reply.text
    await rep.click("встреча")
    reply = await rep.click("исходящее")
    assert "Касание сохранено" in reply.text
    [touch] = await touches(tg)
    assert touch.summary == note
    async with tg.app.session_factory() as s:
        assert (await s.get(Contact, touch.contact_id)).name == "Олег Сидоров"


async def test_a_new_card_for_a_note_that_looks_like_a_duplicate_still_gets_the_note(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Oleg Sidorov")
    reply = await rep.send("discussed the audit, he waits for the estimate")
    offer = rep.last_with_buttons()
    await rep.send("and a second note about nobody in particular")
    reply = await rep.click("New card", offer)  # an older offer's button: out of date
    assert reply.answer is not None and "out of date" in reply.answer["text"]
    reply = await rep.click("New card")
    reply = await rep.send("Oleg Sidorov")
    assert "Possible duplicate" in reply.text
    reply = await rep.click("Add anyway")
    assert "Saved: Oleg Sidorov" in reply.text and "What kind?" in reply.text
    await rep.click("e-mail")
    await rep.click("outbound")
    [touch] = await touches(tg)
    assert touch.summary == "and a second note about nobody in particular"
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(Contact)) == 2


async def test_a_note_left_at_a_possible_duplicate_is_not_logged_by_a_later_add(tg) -> None:
    """➕ New card, a possible duplicate, Open — and the rep moves on: a contact shared later
    is only added; the note left behind goes on nobody's card."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Oleg Sidorov")
    await rep.send("discussed the audit, he waits for the estimate")
    await rep.click("New card")
    await rep.send("Oleg Sidorov")
    reply = await rep.click("Open")
    assert reply.text.startswith("Oleg Sidorov")
    reply = await rep.share_contact("+7 912 555 66 77", "Vera", "Lebedeva")
    assert "Saved: Vera Lebedeva" in reply.text and "What kind?" not in reply.text
    assert await touches(tg) == []


async def test_an_older_offer_does_not_log_a_newer_note(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.send("Anna called about the invoice")
    first = rep.last_with_buttons()
    await rep.send("Anna asked for a discount")
    reply = await rep.click("Anna Smirnova", first)
    assert reply.answer is not None and "out of date" in reply.answer["text"]
    assert await touches(tg) == []
    await rep.click("Anna Smirnova")  # the latest offer works
    await rep.click("message")
    await rep.click("inbound")
    [touch] = await touches(tg)
    assert touch.summary == "Anna asked for a discount"


async def test_notes_in_russian_find_inflected_names_and_never_another_reps_cards(tg) -> None:
    _admin, manager, rep = await team_with_rep(tg, language="ru")
    await rep.send("/add Пётр Сидоров, ООО Ромашка")
    other = await another_rep(tg, manager, 3004, "Oleg")
    await other.send("/add Пётр Иванов, Вектор")
    reply = await rep.send("Позвонил Петру Сидорову, договорились о встрече в Ромашке")
    assert reply.text.startswith("📝 Записать это как касание?")
    assert reply.buttons == ["Пётр Сидоров · ООО Ромашка", "🔎 С другим контактом"]
    async with tg.app.session_factory() as s:
        theirs = await s.scalar(select(Contact.id).where(Contact.name == "Пётр Иванов"))
    reply = await rep.tap_data(f"cc:notelog:{theirs}:")  # a forged button: not in scope
    assert "не найден" in (reply.text or reply.answer["text"]).lower()
    await rep.click("Пётр Сидоров")
    await rep.click("звонок")
    reply = await rep.click("исходящее")
    assert "Касание сохранено" in reply.text
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Touch.id))) == 1


async def test_a_note_with_markup_characters_is_shown_and_kept_as_typed(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    note = "Anna <3 the demo & wants <b>more</b>"
    reply = await rep.send(note)
    assert note in reply.text and not reply.errors
    await rep.click("Anna Smirnova")
    await rep.click("call")
    await rep.click("outbound")
    [touch] = await touches(tg)
    assert touch.summary == note


@pytest.mark.parametrize(
    ("language", "kept_kind", "kept_direction", "call", "inbound", "saved"),
    [
        (
            "en",
            "Kept for the touch. What kind of touch was it?",
            "Kept for the touch. Call: outbound (you reached out) or inbound",
            "Call",
            "inbound.",
            "✅ Touch saved.",
        ),
        (
            "ru",
            "Сохранено для касания. Какое это было касание?",
            "Сохранено для касания. Звонок: исходящее",
            "Звонок",
            "Входящий",  # as people say it (the label is "входящее"): taken too
            "✅ Касание сохранено.",
        ),
    ],
)
async def test_a_summary_typed_before_the_buttons_is_kept_and_a_typed_choice_is_the_tap(
    tg, language, kept_kind, kept_direction, call, inbound, saved
) -> None:
    """A thumb that runs ahead of the touch log's buttons: the summary typed while the kind or
    the direction is asked is kept (it got "Please use the buttons above" and was lost), and
    the kind or direction typed as a word is taken as the tap."""
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.send("/log Anna")
    note = "Talked about the budget, she wants a proposal"
    reply = await rep.send(note)  # typed while "What kind?" is asked
    assert reply.text.startswith(kept_kind) and len(reply.buttons) == 9
    reply = await rep.send("Next: a call with her CFO")  # a second message: added to the first
    assert reply.text.startswith(kept_kind)
    reply = await rep.send(call)  # the kind typed: as if tapped
    assert reply.text.startswith(kept_direction.split(". ", 1)[1]) and len(reply.buttons) == 2
    reply = await rep.send("She is in Moscow until Friday")  # while the direction is asked
    assert reply.text.startswith(kept_direction)
    assert await touches(tg) == []  # nothing is logged before the direction
    reply = await rep.send(inbound)  # the direction typed: the touch is saved with the text
    assert reply.text.startswith(saved)
    [touch] = await touches(tg)
    assert (touch.type, touch.direction) == ("call", "in")
    assert touch.summary == f"{note}\nNext: a call with her CFO\nShe is in Moscow until Friday"


async def test_a_voice_note_sent_before_the_buttons_is_kept_on_the_touch(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.send("/log Anna")
    reply = await rep.send_voice()  # while "What kind?" is asked
    assert reply.text.startswith("Kept for the touch. What kind of touch was it?")
    await rep.click("meeting")
    reply = await rep.click("outbound")  # no summary asked: the voice note is the touch's
    assert reply.text.startswith("✅ Touch saved.")
    [touch] = await touches(tg)
    async with tg.app.session_factory() as s:
        kinds = list(
            await s.scalars(select(TouchMedia.kind).where(TouchMedia.touch_id == touch.id))
        )
    assert (touch.type, touch.summary, kinds) == ("meeting", "", ["voice"])


async def test_a_summary_too_long_before_the_buttons_is_refused_and_the_kind_still_asked(
    tg,
) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.send("/log Anna")
    reply = await rep.send("x" * 4001)
    assert reply.text.startswith("This summary has 4001 characters")
    await rep.send("x" * 3000)
    reply = await rep.send("y" * 1000)  # the two together are too long: the second is refused
    assert reply.text.startswith("This summary has 4001 characters")
    await rep.click("call")
    await rep.click("outbound")
    [touch] = await touches(tg)
    assert touch.summary == "x" * 3000


async def test_words_then_a_captioned_photo_before_the_buttons_keep_both(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.send("/log Anna")
    await rep.send("Met at the fair")
    reply = await rep.send_photo(caption="her business card")  # the caption joins the words
    assert reply.text.startswith("Kept for the touch.")
    await rep.click("event")
    await rep.click("inbound")
    [touch] = await touches(tg)
    async with tg.app.session_factory() as s:
        kinds = list(
            await s.scalars(select(TouchMedia.kind).where(TouchMedia.touch_id == touch.id))
        )
    assert (touch.summary, kinds) == ("Met at the fair\nher business card", ["photo"])


async def test_touch_log_buttons_under_an_older_question_do_nothing_to_another_card(tg) -> None:
    """A's "meeting" or "inbound", left under A's questions, tapped while B's touch is at the
    same question, set B's kind or direction (and saved B's touch from A's message)."""
    *_, rep = await team_with_rep(tg)
    for name in ("Anna, Acme", "Boris, Beta"):
        await rep.send(f"/add {name}")
    kind_a = (await rep.send("/log Anna")).last
    direction_a = (await rep.send("call")).last  # typed: A's "What kind?" keeps its buttons
    await rep.send("/log Boris")
    stale = await rep.click("meeting", kind_a)
    assert stale.answer["show_alert"] and stale.messages == [] and stale.edited == []
    await rep.click("message")  # B's own
    stale = await rep.click("inbound", direction_a)
    assert stale.answer["show_alert"] and stale.messages == [] and stale.edited == []
    await rep.click("outbound")
    reply = await rep.send("sent the deck")
    assert reply.text.startswith("✅ Touch saved.")
    [touch] = await touches(tg)
    async with tg.app.session_factory() as s:
        boris = await s.scalar(select(Contact).where(Contact.name == "Boris"))
    assert (touch.contact_id, touch.type, touch.direction) == (boris.id, "message", "out")


@pytest.mark.parametrize(
    ("language", "typed", "kind"),
    [("ru", "письмо", "email"), ("ru", "созвон", "call"), ("en", "mail", "email")],
)
async def test_a_kind_typed_in_other_words_is_the_tap(tg, language, typed, kind) -> None:
    """ "письмо" at "Какого типа?" was kept as the summary: the button says "e-mail"."""
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.send("/log Anna")
    reply = await rep.send(typed)
    assert len(reply.buttons) == 2, reply.text  # the direction is asked next
    await rep.click(1)
    await rep.click(1)  # Skip the summary
    [touch] = await touches(tg)
    assert touch.type == kind and touch.summary == ""
