"""Bad input, tried as a careless or hostile user would: nothing is saved that shouldn't be."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Contact, Touch
from tests.helpers import team_with_rep


async def test_a_command_inside_a_dialogue_leaves_it_and_runs(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Nina Orlova, Acme")
    await rep.click("Open card")
    await rep.click("Edit")
    await rep.click("Name")
    reply = await rep.send("/contacts")
    assert "Contacts: 1" in reply.text  # the command ran
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).name == "Nina Orlova"  # not "/contacts"
    reply = await rep.send("Nina Petrova")  # the dialogue is over: plain text isn't a name
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).name == "Nina Orlova"


async def test_a_command_in_the_add_dialogue_adds_nothing(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add")
    reply = await rep.send("/help")
    assert "/find" in reply.text
    async with tg.app.session_factory() as s:
        assert list(await s.scalars(select(Contact))) == []
    reply = await rep.send("/cancel")
    assert "Nothing to cancel" in reply.text


async def test_a_command_that_ends_the_add_dialogue_says_so_and_can_go_back(tg) -> None:
    """Checking /find halfway through /add: the answers typed so far are named, not dropped
    unannounced, and "Continue adding" goes back to the question it was at."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add")
    await rep.send("Ivan <Petrov>")
    await rep.send("Acme & Co")
    await rep.send("CTO")
    await rep.send("+7 912 555 66 77")
    reply = await rep.send("/find Ivan")
    note, found = reply.messages
    assert note["text"] == (  # as sent, HTML: the typed text escaped
        "✋ The contact “Ivan &lt;Petrov&gt;” was not saved: a command ends the /add dialogue.\n"
        "Typed so far: Acme &amp; Co · CTO · +7 912 555-66-77"
    )
    assert "Nothing found" in found["text"]  # the command ran, after the note
    await rep.send("/today")  # another command, another dialogue's end: the answers stay kept
    reply = await rep.click("Continue adding", note)
    assert reply.messages[0]["text"] == "E-mail? (or Skip)"
    await rep.click("Skip")  # e-mail
    await rep.click("B2B")
    await rep.click("event")
    reply = await rep.click("Skip")
    assert "Saved: Ivan <Petrov> — Acme & Co, CTO" in reply.text
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact))
    assert (card.company, card.position, card.phone) == ("Acme & Co", "CTO", "+79125556677")
    assert (card.kind, card.source) == ("b2b", "event")
    async with tg.app.session_factory() as s:
        assert len(list(await s.scalars(select(Contact)))) == 1


async def test_an_older_notes_button_does_not_bring_back_a_later_dialogue(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add")
    await rep.send("Anna")
    first = (await rep.send("/help")).messages[0]
    await rep.send("/add")
    await rep.send("Boris")
    await rep.send("Globex")
    second = (await rep.send("/help")).messages[0]
    reply = await rep.click("Continue adding", first)
    assert reply.messages[0]["text"] == (
        "That unfinished contact is no longer kept. /add to start again."
    )
    reply = await rep.click("Continue adding", second)
    assert reply.messages[0]["text"] == "Position? (or Skip)"


async def test_the_add_dialogue_left_in_russian_and_restarted_with_add(tg) -> None:
    *_, rep = await team_with_rep(tg, language="ru")
    await rep.send("/add")
    await rep.send("Иван Петров")
    reply = await rep.send("/contacts")
    note = reply.messages[0]
    assert note["text"] == "✋ Контакт «Иван Петров» не сохранён: команда прерывает диалог /add."
    assert [b["text"] for row in note["reply_markup"]["inline_keyboard"] for b in row] == [
        "↩️ Продолжить добавление"
    ]
    await rep.send("/add")  # /add again means starting over: nothing to announce
    reply = await rep.send("/add Пётр, Ромашка")
    assert len(reply.messages) == 1 and "Сохранено: Пётр — Ромашка" in reply.text


async def test_a_quick_add_of_someone_else_halfway_through_add_keeps_the_first(tg) -> None:
    """/add with words after it, halfway through adding Ivan, adds Maria: Ivan's answers are
    named and kept, not dropped as a bare /add (starting over) would."""
    *_, rep = await team_with_rep(tg, language="ru")
    await rep.send("/add")
    await rep.send("Иван Петров")
    await rep.send("ООО Ромашка")
    reply = await rep.send("/add Мария Иванова, Ромашка, +7 916 000-11-22")
    note, saved = reply.messages
    assert note["text"] == (
        "✋ Контакт «Иван Петров» не сохранён: команда прерывает диалог /add.\n"
        "Уже введено: ООО Ромашка"
    )
    assert "Сохранено: <b>Мария Иванова</b> — Ромашка" in saved["text"]
    reply = await rep.click("Продолжить добавление", note)
    assert reply.messages[0]["text"] == "Должность? (или «Пропустить»)"
    await rep.send("директор")
    await rep.click("Пропустить")  # phone
    await rep.click("Пропустить")  # e-mail
    await rep.click("Пропустить")  # B2B / B2C
    await rep.click("Пропустить")  # source
    reply = await rep.click("Пропустить")
    assert "Сохранено: Иван Петров — ООО Ромашка, директор" in reply.text
    async with tg.app.session_factory() as s:
        names = sorted(c.name for c in await s.scalars(select(Contact)))
    assert names == ["Иван Петров", "Мария Иванова"]


async def test_a_quick_add_without_a_name_keeps_what_was_typed_and_asks_the_name(tg) -> None:
    """ "/add +7 912 555 66 77 @ivan_k #fair" said "a contact needs a name first", and what was
    typed had to be typed again."""
    *_, rep = await team_with_rep(tg)
    reply = await rep.send("/add +7 912 555 66 77 @ivan_k #fair")
    assert reply.text == "Phone: +7 912 555-66-77 · Telegram: ivan_k · #fair\n\nName?"
    await rep.send("Ivan Kuznetsov")
    await rep.send("Alpha")
    for _step in range(4):  # position, e-mail, B2B / B2C, source
        await rep.click("Skip")
    reply = await rep.click("Skip")  # role
    assert "Saved: Ivan Kuznetsov — Alpha" in reply.text
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact))
    assert (card.phone, card.tg_username, card.tags) == ("+79125556677", "ivan_k", ";fair;")
    reply = await rep.send("/add ,,,")  # nothing at all: said as before
    assert reply.text.startswith("A contact needs a name first")


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "✂️ Name was longer than 256 characters: saved cut to fit."),
        ("ru", "✂️ Имя: длиннее 256 символов, сохранено с обрезкой."),
    ],
)
async def test_a_value_longer_than_its_field_is_said_to_be_cut(tg, language, said) -> None:
    """A 300-character name was saved cut to 256 without a word, on /add and on ✏️ Edit."""
    *_, rep = await team_with_rep(tg, language=language)
    reply = await rep.send("/add " + "N" * 300 + ", Acme")
    assert reply.text.startswith(said)
    async with tg.app.session_factory() as s:
        assert len((await s.scalar(select(Contact))).name) == 256
    reply = await rep.send("/add Short Name, Beta")
    assert "✂️" not in reply.text
    await rep.click(len(reply.buttons))  # Open card
    await rep.click(5)  # Edit
    await rep.click(3)  # Position
    reply = await rep.send("P" * 400)
    assert reply.text.startswith(
        ("Saved. ✂️ Position was longer than 256", "Сохранено. ✂️ Должность")
    )
    await rep.send("/add")  # the dialogue: a name as long as a message may be
    reply = await rep.send("Q" * 4096)
    assert all(len(m["text"]) <= 4096 for m in reply.messages)
    assert len(reply.messages[0]["text"]) < 300  # the name as the card will hold it


async def test_a_phone_or_email_sent_as_company_or_position_goes_where_it_belongs(tg) -> None:
    """A thumb that runs ahead: the phone typed at "Position?", the e-mail at "Company?"."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add")
    await rep.send("Ivan")
    reply = await rep.send("ivan@Acme.io")
    assert reply.messages[0]["text"] == (
        "✉️ That is an e-mail address: saved as the e-mail, ivan@acme.io.\n\nCompany? (or Skip)"
    )
    await rep.send("Acme")
    reply = await rep.send("8 (912) 555-66-77")
    assert reply.messages[0]["text"].startswith(
        "📞 That is a phone number: saved as the phone, +7 912 555-66-77."
    )
    assert reply.messages[0]["text"].endswith("Position? (or Skip)")
    reply = await rep.send("CTO")
    assert reply.messages[0]["text"] == "B2B or B2C?"  # phone and e-mail are not asked again
    await rep.click("Skip")
    await rep.click("Skip")
    reply = await rep.click("Skip")
    assert "Saved: Ivan — Acme, CTO" in reply.text
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact))
    assert (card.company, card.position) == ("Acme", "CTO")
    assert (card.phone, card.email) == ("+79125556677", "ivan@acme.io")


async def test_a_whole_contact_typed_at_the_name_question_is_read_as_add_reads_it(tg) -> None:
    """The tip under "New contact" shows a one-line contact; a rep who types one at the name
    question gets each part where it belongs, not a name with a phone in it."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add")
    reply = await rep.send("Anna Smirnova, Acme, CFO, 8 916 123-45-67 #event, met at the fair")
    assert reply.messages[0]["text"] == (
        "Name: Anna Smirnova · Company: Acme · Position: CFO · Phone: +7 916 123-45-67 · "
        "Notes: met at the fair · #event"
    )
    assert reply.messages[1]["text"] == "E-mail? (or Skip)"  # what was typed is not asked again
    for _step in ("e-mail", "kind", "source", "influence"):
        reply = await rep.click("Skip")
    assert "Saved: Anna Smirnova — Acme, CFO" in reply.text
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact))
    assert (card.name, card.company, card.position) == ("Anna Smirnova", "Acme", "CFO")
    assert (card.phone, card.notes, card.tags) == ("+79161234567", "met at the fair", ";event;")


async def test_a_phone_before_the_name_is_kept_and_the_name_asked(tg) -> None:
    *_, rep = await team_with_rep(tg, language="ru")
    await rep.send("/add")
    reply = await rep.send("+7 916 555-44-33")
    assert reply.messages[0]["text"] == "Телефон: +7 916 555-44-33\n\nИмя?"
    reply = await rep.send("Борис Иванов, Ромашка, zed@@corp")
    assert reply.messages[0]["text"] == (
        "⚠️ «zed@@corp» — некорректный e-mail, он не сохранён.\n\n"
        "Имя: Борис Иванов · Компания: Ромашка · Телефон: +7 916 555-44-33"
    )
    assert reply.messages[1]["text"] == "Должность? (или «Пропустить»)"
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(Contact)) is None  # nothing saved before the last answer

    # the e-mail first, then a name alone: the e-mail is kept, not asked again
    await rep.send("/add")
    reply = await rep.send("ivan@acme.io")
    assert reply.messages[0]["text"] == "E-mail: ivan@acme.io\n\nИмя?"
    reply = await rep.send("Иван")
    assert [m["text"] for m in reply.messages] == ["Имя: Иван", "Компания? (или «Пропустить»)"]
    for _step in ("компания", "должность", "телефон", "тип", "источник", "роль"):
        reply = await rep.click("Пропустить")
    assert "Сохранено: Иван" in reply.text
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact).where(Contact.name == "Иван"))
    assert card.email == "ivan@acme.io"


async def test_an_edited_message_is_answered_it_does_not_change_what_was_saved(tg) -> None:
    """A company typed "Acne", then fixed in Telegram to "Acme": the card kept "Acne" and the
    bot said nothing."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add")
    await rep.send("Anna Smirnova")
    typed = await rep.send("Acne")
    assert "Position?" in typed.text
    reply = await rep.edit(typed.sent, "Acme")
    assert "edited message doesn't change what was saved" in reply.text
    assert "/find" in reply.text and reply.messages[0]["reply_to_message"]["text"] == "Acme"
    reply = await rep.send("CTO")  # the dialogue goes on where it was
    assert "Phone?" in reply.text


async def test_an_edit_by_someone_without_access_gets_no_answer(tg) -> None:
    stranger = tg.user(5005, "Stan", language_code="ru")
    hello = await stranger.send("привет")
    reply = await stranger.edit(hello.sent, "привет!")
    assert reply.messages == []


@pytest.mark.parametrize(
    ("language", "skip", "event", "not_a_choice", "decision_maker"),
    [
        ("en", "skip", "Event", "“from a conference” is not one of the choices", "decision maker"),
        ("ru", "Пропустить", "мероприятие", "«from a conference» — такого варианта нет", "ЛПР"),
    ],
)
async def test_the_add_dialogue_takes_a_dash_skip_and_a_choice_typed_instead_of_tapped(
    tg, language, skip, event, not_a_choice, decision_maker
) -> None:
    """A rep who types rather than taps: "-" at "Company?" was saved as the company, and
    "B2B" at "B2B or B2C?" got "Please use the buttons above"."""
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add")
    await rep.send("Oleg Ivanov")
    await rep.send("-")  # company
    await rep.send(skip)  # position
    await rep.send("—")  # phone: not "not a valid phone number"
    reply = await rep.send("-")  # e-mail
    assert reply.text.startswith("B2B") and len(reply.buttons) == 3
    reply = await rep.send("b2b")
    assert len(reply.buttons) == 10  # the sources and Skip
    reply = await rep.send("from a conference")  # none of the choices: asked again
    assert reply.text.startswith(not_a_choice) and len(reply.buttons) == 10
    await rep.send(event)
    reply = await rep.send(decision_maker)
    assert "✅" in reply.text
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact))
    assert (card.name, card.company, card.position, card.phone, card.email) == (
        "Oleg Ivanov",
        None,
        None,
        None,
        None,
    )
    assert (card.kind, card.source, card.influence) == ("b2b", "event", "decision_maker")


async def test_add_buttons_under_an_older_question_do_nothing_to_the_one_asked_now(tg) -> None:
    """ "Skip" left under "Company?" skipped whatever step was asked later, and an older /add's
    "B2B" set the kind of the contact being added now."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add")
    company = (await rep.send("Oleg")).last  # "Company? (or Skip)"
    await rep.send("Initech")
    stale = await rep.click("Skip", company)  # at "Position?" now
    assert stale.answer["show_alert"] and stale.messages == [] and stale.edited == []
    await rep.send("CTO")
    await rep.click("Skip")  # phone
    await rep.click("Skip")  # e-mail: "B2B or B2C?" of this /add
    kind = next(m for m in rep.bot_messages if m["text"] == "B2B or B2C?")
    await rep.send("/add")  # another contact, at its own "B2B or B2C?"
    await rep.send("Pavel")
    for _step in ("company", "position", "phone", "e-mail"):
        await rep.click("Skip")
    stale = await rep.click("B2C", kind)
    assert stale.answer["show_alert"] and stale.messages == [] and stale.edited == []
    await rep.click("B2B")
    await rep.click("Skip")
    reply = await rep.click("Skip")
    assert "Saved: Pavel" in reply.text
    async with tg.app.session_factory() as s:
        pavel = await s.scalar(select(Contact).where(Contact.name == "Pavel"))
    assert pavel.kind == "b2b"


async def test_a_command_that_ends_the_next_step_says_it_was_not_saved_and_can_go_back(
    tg,
) -> None:
    """The touch is saved, the step and its time typed, then /today before ✅ Confirm: the rep is
    told the step was not saved (it was silently dropped), and goes back to confirm it."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ivan Petrov, Acme")
    await rep.send("/log Ivan")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("Talked about the pilot")
    await rep.send("Meeting <in the office>")
    await rep.send("tomorrow 10:00")
    reply = await rep.send("/today")
    note, day = reply.messages
    assert note["text"].startswith(
        "✋ The next step with Ivan Petrov was not saved: a command ends the dialogue.\n"
        "Typed so far: Meeting &lt;in the office&gt; · "
    )
    assert "Your day" in day["text"]  # the command ran, after the note
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).next_step is None
    reply = await rep.click("Back to the next step", note)
    assert "Step: Meeting <in the office>" in reply.text and "Right?" in reply.text
    reply = await rep.click("Confirm")
    assert "Next step saved" in reply.text
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact))
    assert card.next_step == "Meeting <in the office>" and card.next_step_due is not None
    # left again, twice: the older note's button does not bring back the later dialogue
    await rep.send("/log Ivan")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("Sent the contract")
    await rep.send("Wait for the signature")
    first = (await rep.send("/help")).messages[0]
    await rep.send("/log Ivan")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("Called about the signature")
    await rep.send("Wait for the signature")
    await rep.send("in 3 days")
    second = (await rep.send("/contacts")).messages[0]
    assert "Typed so far: Wait for the signature · " in second["text"]
    reply = await rep.click("Back to the next step", first)
    assert "no longer kept" in reply.text
    reply = await rep.click("Back to the next step", second)
    assert "Step: Wait for the signature" in reply.text


async def test_leaving_the_next_step_question_untouched_says_nothing(tg) -> None:
    """Nothing typed for the step: nothing was lost, no note (the command just runs); and a
    reminder's step being moved is the card's already: only a new time typed is named."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ivan Petrov, Acme")
    await rep.send("/log Ivan")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("Talked about the pilot")
    reply = await rep.send("/today")
    assert len(reply.messages) == 1 and "Your day" in reply.text


async def test_a_name_of_digits_is_not_saved_as_a_name(tg) -> None:
    """ "/add 12345" saved a card named "12345"; at the name question and in Edit, too."""
    *_, rep = await team_with_rep(tg)
    reply = await rep.send("/add 12345")
    assert reply.text == (
        "⚠️ “12345” is not a name: a name has letters (and a phone at least 7 digits).\n\n"
        "A contact needs a name first: /add Anna Smirnova, Acme, CTO, +7 999 123-45-67"
    )
    await rep.send("/add")
    reply = await rep.send("12345")
    assert "is not a name" in reply.text and reply.text.endswith("Name?")
    reply = await rep.send("Nina Orlova")
    assert "Name: Nina Orlova" in reply.text
    await rep.send("/cancel")
    await rep.send("/add Nina Orlova, Acme")
    await rep.click("Open card")
    await rep.click("Edit")
    await rep.click("Name")
    reply = await rep.send("!!!")
    assert reply.text == "“!!!” is not a name: a name has letters. Send a name, or /cancel."
    async with tg.app.session_factory() as s:
        assert [c.name for c in await s.scalars(select(Contact))] == ["Nina Orlova"]


async def test_a_command_that_ends_the_touch_log_says_it_was_not_saved_and_can_go_back(
    tg,
) -> None:
    """The kind and the direction tapped, then /today before the summary: the touch was
    dropped without a word. Now the rep is told, and goes back to the question it was at."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Dan Brown, Acme")
    await rep.send("/log Dan")
    await rep.click("meeting")
    await rep.click("outbound")
    reply = await rep.send("/today")
    note, day = reply.messages
    assert note["text"] == (
        "✋ The touch with Dan Brown was not saved: a command ends the dialogue.\n"
        "Given so far: meeting · outbound"
    )
    assert "Your day" in day["text"]
    reply = await rep.click("Back to the touch", note)
    assert reply.messages[-1]["text"] == "A short summary of the touch? (or Skip)"
    reply = await rep.send("skip")  # typed for "(or Skip)": no summary, not the word
    assert "Touch saved" in reply.text
    async with tg.app.session_factory() as s:
        touch = await s.scalar(select(Touch))
    assert (touch.type, touch.direction, touch.summary) == ("meeting", "out", "")


async def test_a_typed_note_left_by_a_command_is_named_not_lost(tg) -> None:
    """A note typed outside any dialogue, its card picked, then a command before the kind: the
    note's words are named, and going back logs them."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Dan Brown, Acme")
    await rep.send("Dan agreed to a pilot <in March>")
    await rep.click("Dan Brown")
    note = (await rep.send("/contacts")).messages[0]
    assert note["text"] == (
        "✋ The touch with Dan Brown was not saved: a command ends the dialogue.\n"
        "Given so far: “Dan agreed to a pilot &lt;in March&gt;”"
    )
    await rep.click("Back to the touch", note)
    await rep.click("call")
    reply = await rep.click("outbound")
    assert "Touch saved" in reply.text
    async with tg.app.session_factory() as s:
        touch = await s.scalar(select(Touch))
    assert touch.summary == "Dan agreed to a pilot <in March>"


async def test_leaving_the_touch_log_before_any_choice_says_nothing(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Dan Brown, Acme")
    await rep.send("/log Dan")
    reply = await rep.send("/today")
    assert len(reply.messages) == 1 and "Your day" in reply.text


async def test_the_same_name_without_the_company_is_asked_about(tg) -> None:
    """ "/add Anna Smirnova" when "Anna Smirnova, Acme, CTO" exists was saved as a second card
    without a question; now the possible duplicate is shown first."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme, CTO")
    reply = await rep.send("/add Anna Smirnova")
    assert "Possible duplicate" in reply.text and "Saved" not in reply.text
    reply = await rep.send("/add Anna Smirnova, Globex")  # another company: another person
    assert "Saved" in reply.text
    async with tg.app.session_factory() as s:
        assert len(list(await s.scalars(select(Contact)))) == 2


async def test_a_merge_says_which_typed_values_it_could_not_keep(tg) -> None:
    """ "Merge into…" dropped a typed phone in silence when another card had it, or when the
    card had a phone of its own; "Add anyway" said so. Both are said now, the phone as cards
    show it."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Dan Brown, +7 912 000 11 22")
    await rep.send("/add Danny Brown, Acme")  # like Dan Brown: asked about
    await rep.click("Add anyway")
    reply = await rep.send("/add Danny Brown, Acme, 8 912 000 11 22")
    reply = await rep.click("Merge into Danny Brown", reply.last)
    assert (
        "⚠️ Saved without the phone +7 912 000-11-22: it is on the card of Dan Brown" in reply.text
    )
    await rep.send("/add Eva Stone, Beta, +7 912 333 44 55")
    reply = await rep.send("/add Eva Stone, Beta, +7 912 999 88 77")
    reply = await rep.click("Merge", reply.last)
    assert (
        "⚠️ The card keeps its phone +7 912 333-44-55; the one typed, +7 912 999-88-77, was not "
        "saved." in reply.text
    )
    async with tg.app.session_factory() as s:
        phones = {c.name: c.phone for c in await s.scalars(select(Contact))}
    assert phones == {
        "Dan Brown": "+79120001122",
        "Danny Brown": None,
        "Eva Stone": "+79123334455",
    }


async def test_find_dash_a_then_the_name_searches_the_archive(tg) -> None:
    """ "/find -a", then the name: the -a was forgotten ("Nothing active found … /find -a")."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Jane Roe, Acme")
    await rep.click("Open card")
    await rep.click("Archive")
    reply = await rep.send("/find -a")
    assert "archived cards included" in reply.text
    reply = await rep.send("Jane")
    assert "Jane Roe" in reply.text and "Nothing active found" not in reply.text
    await rep.send("/find")
    reply = await rep.send("Jane")  # without -a: said to be in the archive, as before
    assert "archived card matches" in reply.text


async def test_the_end_of_a_phone_as_the_card_shows_it_finds_the_card(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme, +7 999 123-45-67")
    for typed in ("45-67", "45 67", "123-45-67"):
        assert "Anna Smirnova" in (await rep.send(f"/find {typed}")).text, typed


async def test_a_next_step_too_long_is_refused_not_cut_unsaid(tg) -> None:
    """A 745-character step was saved cut to 512 with "✅ Next step saved"."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Dan Brown, Acme")
    await rep.click("Open card")
    await rep.click("Next step")
    reply = await rep.send("Prepare the proposal: " + "item, " * 120 + "END")
    assert reply.text.startswith("This step has 745 characters; a next step holds up to 512.")
    await rep.send("Prepare the proposal")  # still asked: a shorter one is taken
    await rep.send("tomorrow 10:00")
    await rep.click("Confirm")
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).next_step == "Prepare the proposal"


async def test_the_add_left_by_a_command_names_the_username_and_tags_typed(tg) -> None:
    """ "Typed so far: +7 912 555-66-77" left out @ivan_k and #vip, which were kept."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add +7 912 555-66-77 @ivan_k #vip")
    await rep.send("Ivan Kozlov")
    note = (await rep.send("/find zzz")).messages[0]
    assert note["text"].endswith("Typed so far: +7 912 555-66-77 · @ivan_k · #vip")
