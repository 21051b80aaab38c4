"""The rep's day with contacts, through the emulator."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from storage.models import Contact, ContactEvent, Touch
from tests.helpers import another_rep, speak, team_with_rep


async def test_quick_add_then_card_touch_and_next_step(tg, clock) -> None:
    _admin, _manager, rep = await team_with_rep(tg)
    reply = await rep.send(
        "/add Anna Smirnova, Acme, CTO, +7 999 123-45-67, anna@acme.io @anna_s #event"
    )
    assert "Saved" in reply.text and "Anna Smirnova" in reply.text
    assert {"Source", "Role", "Status", "Stage"} <= set(reply.buttons)
    reply = await rep.click("Source")
    reply = await rep.click("event")
    assert "Source: event" in reply.text
    reply = await rep.click("Log touch")
    assert "What kind?" in reply.text
    await rep.click("call")
    await rep.click("outbound")
    reply = await rep.send("Discussed the pilot")
    assert "Touch saved" in reply.text and "next step" in reply.text
    await rep.send("send the proposal")
    reply = await rep.send("tomorrow 10:00")
    assert "Tue, 24 Nov 2026, 10:00" in reply.text  # clock: Mon 23 Nov 2026, UTC
    reply = await rep.click("Confirm")
    assert "Next step saved" in reply.text
    assert "send the proposal" in reply.text
    async with tg.app.session_factory() as s:
        c = await s.scalar(select(Contact))
        assert c.phone == "+79991234567" and c.email == "anna@acme.io"
        assert c.tg_username == "anna_s" and c.tags == ";event;"
        assert await s.scalar(select(func.count(Touch.id))) == 1


async def test_bad_input_in_quick_add_keeps_the_rest(tg) -> None:
    *_, rep = await team_with_rep(tg)
    reply = await rep.send("/add <b>Bob</b> & Co 😀, Acme, +7 123 456 78, bob@acme")
    assert "not a valid phone" in reply.text and "not a valid e-mail" in reply.text
    assert "<b>Bob</b> & Co 😀" in reply.text  # shown exactly as typed
    async with tg.app.session_factory() as s:
        c = await s.scalar(select(Contact))
        assert c.name == "<b>Bob</b> & Co 😀" and c.company == "Acme" and c.phone is None


async def test_duplicate_offers_open_merge_add(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme, +7 999 123-45-67")
    reply = await rep.send("/add Анна Смирнова, Acme, anna@acme.io")
    assert "Possible duplicate" in reply.text
    reply = await rep.click("Merge")
    assert "Merged" in reply.text
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Contact.id))) == 1
        c = await s.scalar(select(Contact))
        assert c.email == "anna@acme.io" and c.phone == "+79991234567"
    reply = await rep.send("/add Anna Smirnova, +79991234567")
    reply = await rep.click("Add anyway")
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Contact.id))) == 2


async def test_wizard_with_skips_and_bad_phone(tg) -> None:
    *_, rep = await team_with_rep(tg)
    reply = await rep.send("/add")
    assert "New contact" in reply.text
    await rep.send("Ivan Petrov")
    await rep.send("Romashka")
    await rep.click("Skip")  # position
    reply = await rep.send("12")
    assert "not a valid phone" in reply.text
    await rep.send("8 (912) 345-67-89")
    await rep.click("Skip")  # e-mail
    await rep.click("B2B")
    reply = await rep.send_sticker()
    assert "text" in reply.text or "buttons" in reply.text
    await rep.click("webinar")
    reply = await rep.click("decision maker")
    assert "Saved" in reply.text
    async with tg.app.session_factory() as s:
        c = await s.scalar(select(Contact))
        assert (c.name, c.company, c.phone, c.kind, c.source, c.influence) == (
            "Ivan Petrov",
            "Romashka",
            "+79123456789",
            "b2b",
            "webinar",
            "decision_maker",
        )


async def test_shared_contact_and_forward(tg) -> None:
    *_, rep = await team_with_rep(tg)
    reply = await rep.share_contact("+7 999 000-11-22", "Pavel", "Orlov", user_id=777)
    assert "Saved" in reply.text
    friend = tg.user(777, "Pavel", last_name="Orlov")
    reply = await rep.forward("Can we talk on Monday?", origin=friend)
    assert "Log touch: Pavel Orlov" in reply.buttons
    await rep.click("Log touch")
    await rep.click("message")
    await rep.click("inbound")
    reply = await rep.click("Use the forwarded text")
    assert "Touch saved" in reply.text
    async with tg.app.session_factory() as s:
        t = await s.scalar(select(Touch))
        assert t.summary == "Can we talk on Monday?" and t.direction == "in"


async def test_a_forwarded_message_and_words_typed_before_the_buttons_are_both_kept(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.share_contact("+7 999 000-11-22", "Pavel", "Orlov", user_id=777)
    friend = tg.user(777, "Pavel", last_name="Orlov")
    await rep.forward("Can we talk on Monday?", origin=friend)
    await rep.click("Log touch")
    reply = await rep.send("He wants the price list too")  # typed while "What kind?" is asked
    assert reply.text.startswith("Kept for the touch.")
    await rep.click("message")
    reply = await rep.click("inbound")
    assert "Touch saved" in reply.text
    async with tg.app.session_factory() as s:
        t = await s.scalar(select(Touch))
    assert t.summary == "Can we talk on Monday?\nHe wants the price list too"


async def test_status_change_is_recorded_and_timeline_shows_it(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Olga, Beta")
    reply = await rep.send("/find olga")
    await rep.click("Status")
    reply = await rep.click("lead")
    assert "Status: lead" in reply.text
    reply = await rep.click("Timeline")
    assert "status: contact → lead" in reply.text and "Rita" in reply.text
    async with tg.app.session_factory() as s:
        ev = await s.scalar(select(ContactEvent).where(ContactEvent.field == "status"))
        assert (ev.old_value, ev.new_value) == ("contact", "lead")


async def test_the_timeline_asks_only_for_the_authors_not_loaded_already(tg) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Olga, Beta")
    await rep.send("/find olga")
    await rep.click("Status")
    await rep.click("lead")
    names_read: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if "FROM users WHERE users.id IN" in " ".join(statement.split()):
            names_read.append(statement)

    engine = tg.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        reply = await rep.click("Timeline")  # Rita's own changes: Rita is loaded already
        assert "status: contact → lead" in reply.text and "Rita" in reply.text
        assert names_read == []
        await manager.send("/find olga")
        await manager.click("Status")
        await manager.click("client")
        reply = await manager.click("Timeline")  # Rita's name is read, Maria's is known
        assert "Rita" in reply.text and "Maria" in reply.text
        assert len(names_read) == 1
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_other_reps_card_is_not_found_by_forged_button(tg) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Secret Client, Gamma")
    async with tg.app.session_factory() as s:
        cid = await s.scalar(select(Contact.id))
    other = await another_rep(tg, manager, 3004, "Oleg")
    reply = await other.send("/find Secret")
    assert "Nothing found" in reply.text
    reply = await other.tap_data(f"cc:open:{cid}:", other.last)
    assert "not found" in reply.text
    # the manager sees the team's cards
    reply = await manager.send("/find Secret")
    assert "Secret Client" in reply.text


async def test_find_is_tolerant_and_list_paginates(tg) -> None:
    *_, rep = await team_with_rep(tg)
    for i in range(10):
        await rep.send(f"/add Person {i:02d}, Company {i}")
    await rep.send("/add Анна Смирнова, Ромашка, +7 999 123-45-67, anna@romashka.ru #vip")
    assert "Анна Смирнова" in (await rep.send("/find anna")).text
    assert "Анна Смирнова" in (await rep.send("/find Смирнва")).text
    assert "Анна Смирнова" in (await rep.send("/find 8 999 1234567")).text
    assert "Анна Смирнова" in (await rep.send("/find #vip")).text
    reply = await rep.send("/contacts")
    assert "Contacts: 11" in reply.text and "page 1 of 2" in reply.text
    reply = await rep.click("»")
    assert "page 2 of 2" in reply.text


async def test_next_step_in_the_past_asks_and_no_step_needs_reason(tg, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Kate, Delta")
    await rep.click("Open card")
    await rep.click("Next step")
    await rep.send("call back")
    reply = await rep.send("01.11.2026 10:00")  # within the year back: asked, not refused
    assert "in the past" in reply.text
    await rep.click("Change")
    reply = await rep.send("in 3 days")
    assert "26 Nov 2026" in reply.text
    reply = await rep.click("Confirm")
    assert "Next step: call back, Thu, 26 Nov 2026, 10:00" in reply.text
    await rep.send("/find Kate")
    await rep.click("Next step")
    await rep.click("No next step")
    reply = await rep.click("lost")
    assert "No next step: lost" in reply.text and "Status: lost" in reply.text


async def test_stage_with_ampersand_is_escaped_in_text_and_plain_on_buttons(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Rosa, Rho")
    await rep.click("Open card")
    reply = await rep.click("Stage")
    assert "retention & referral" in reply.buttons
    reply = await rep.click("retention & referral")
    assert "Stage: retention & referral" in reply.text  # valid HTML: the emulator parsed it


async def test_pick_from_telegram_creates_contact_with_user_id(tg) -> None:
    *_, rep = await team_with_rep(tg)
    reply = await rep.send("/add")
    keyboard = tg.emu.chats[rep.id].reply_keyboard
    button = keyboard["keyboard"][0][0]
    assert button["request_users"]["request_id"] == 1
    reply = await rep.pick_users(1, {"id": 4242, "first_name": "Vera", "username": "vera_k"})
    assert "Saved" in reply.text and "Vera" in reply.text
    async with tg.app.session_factory() as s:
        c = await s.scalar(select(Contact))
        assert (c.tg_user_id, c.tg_username) == (4242, "vera_k")


async def test_long_note_is_stored_whole_and_shown_split(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Nora, Nu")
    await rep.click("Open card")
    await rep.click("Edit")
    await rep.click("Notes")
    note = ("Long <note> & details. " * 180)[:4000]
    reply = await rep.send(note)
    assert len(reply.messages) >= 2
    assert all(len(m["text"]) <= 4096 for m in reply.messages)
    assert note.replace(" ", "") in reply.text.replace("\n", "").replace(" ", "")
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).notes == note


async def test_edit_archive_filter_and_timeline_pages(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Otto, Omicron")
    await rep.click("Open card")
    await rep.click("Edit")
    await rep.click("E-mail")
    reply = await rep.send("not-an-email")
    assert "not a valid e-mail" in reply.text
    reply = await rep.send("otto@omicron.io")
    assert "otto@omicron.io" in reply.text
    for status in ("lead", "client", "partner") * 4:
        await rep.click("Status", rep.last_with_buttons())
        await rep.click(status)
    reply = await rep.click("Timeline")
    assert "Older »" in reply.buttons
    reply = await rep.click("Older »")
    assert "card created" in reply.text
    await rep.send("/find Otto")
    reply = await rep.click("Archive")
    assert "archived" in reply.text
    reply = await rep.send("/contacts")
    assert "Contacts: 0" in reply.text
    await rep.click("Filter")
    reply = await rep.click("Archived")
    assert "Otto" in reply.buttons[0]
    reply = await rep.click("Otto")
    reply = await rep.click("Restore")
    reply = await rep.send("/contacts")
    assert "Contacts: 1" in reply.text


async def test_forward_from_hidden_user_offers_add(tg) -> None:
    *_, rep = await team_with_rep(tg)
    reply = await rep.forward("Interested in your offer", hidden_name="Petra Hidden")
    assert "Petra Hidden" in reply.text
    reply = await rep.click("Add Petra Hidden")
    assert "Saved" in reply.text


async def test_merge_two_cards_keeps_both_histories(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Paul Green, Pi")
    await rep.send("/log Paul")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("first card's call")
    await rep.send("/add Pavel Grin, +79990002233")  # the same person, spelt differently
    await rep.send("/log Pavel")
    await rep.click("meeting")
    await rep.click("outbound")
    await rep.send("second card's meeting")
    await rep.send("/find Paul Green")
    await rep.click("Edit")
    await rep.click("Merge with")
    reply = await rep.send("+79990002233")
    reply = await rep.click("Pavel Grin")
    assert "Merge the two cards?" in reply.text and "Merged" not in reply.text  # a preview first
    reply = await rep.click("✅ Merge")
    assert "Merged" in reply.text and "+7 999 000-22-33" in reply.text  # international format
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Contact.id))) == 1
        summaries = set(await s.scalars(select(Touch.summary)))
        assert summaries == {"first card's call", "second card's meeting"}


async def test_contacts_filtered_by_tag_and_status_from_the_command(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Quinn, Q #vip")
    await rep.send("/add Ruth, R")
    reply = await rep.send("/contacts #vip")
    assert "Contacts: 1" in reply.text and "Quinn" in reply.buttons[0]
    reply = await rep.send("/contacts contact")
    assert "Contacts: 2" in reply.text
    reply = await rep.send("/contacts whatever")
    assert "#tag" in reply.text
    await speak(rep, "ru")
    reply = await rep.send("/contacts контакт")  # a status as the cards show it, in Russian
    assert "Контакты: 2" in reply.text
    await rep.send("/settings")
    await rep.click("Язык")
    await rep.click("English")
    reply = await rep.send("/contacts lead")  # the rep has contacts: none is a lead
    assert "None of your contacts matches this filter." in reply.text
    assert "No contacts here yet" not in reply.text


async def test_b2c_contact_is_asked_for_influence_source(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add")
    await rep.send("Sara")
    for _step in range(4):  # company, position, phone, e-mail
        await rep.click("Skip")
    await rep.click("B2C")
    await rep.click("Skip")  # source
    last = rep.last_with_buttons()
    assert "What influences their choice?" in last["text"]
    reply = await rep.click("reviews")
    assert "Saved" in reply.text
    async with tg.app.session_factory() as s:
        c = await s.scalar(select(Contact))
        assert (c.kind, c.influence) == ("b2c", "reviews")


async def test_right_to_left_name_is_shown_exactly_as_typed(tg) -> None:
    *_, rep = await team_with_rep(tg)
    name = "מרים כהן"  # Hebrew, right to left
    reply = await rep.send(f"/add {name}, שלום בע״מ")
    assert name in reply.text
    reply = await rep.send("/find מרים")
    assert f"{name} — שלום בע״מ" in reply.text


async def test_a_phone_or_email_sent_alone_finds_whose_it_is(tg) -> None:
    """A number typed without /find (it was "I didn't understand that")."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Nora Lind, Acme, +7 999 111-22-33, nora@acme.io")
    reply = await rep.send("8 999 111 22 33")
    assert reply.text.startswith("Nora Lind — Acme")
    reply = await rep.send("Nora@Acme.io")
    assert reply.text.startswith("Nora Lind — Acme")
    reply = await rep.send("+7 900 000-00-00")
    assert reply.text == "Nothing found for “+7 900 000-00-00”. /add creates a contact."
    reply = await rep.send("Room 101")  # not a number alone: a name, looked up as /find would
    assert reply.text == "Nothing found for “Room 101”. /add creates a contact."


async def test_the_card_says_when_its_next_step_is_overdue_or_it_is_going_cold(tg, clock) -> None:
    _admin, _manager, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    reply = await rep.click("Open card")
    assert "No next step planned" in reply.text
    assert "Going cold" not in reply.text and "overdue" not in reply.text
    clock.advance(days=30)  # identification asks for no touches: never going cold
    reply = await rep.send("/find Anna")
    assert "Going cold" not in reply.text
    await rep.click("Stage")
    reply = await rep.click("development")
    # development asks for a touch at least every 14 days; quiet since it was added, as /today says
    assert "🥶 Going cold: no touch for 30 days" in reply.text
    assert "at least every 14 days" in reply.text
    reply = await rep.send("/today")
    assert "Going cold (1)" in reply.text
    reply = await rep.click("Anna Smirnova")
    assert "🥶 Going cold: no touch for 30 days" in reply.text
    await rep.click("Next step")
    await rep.send("send the proposal")
    await rep.send("tomorrow 10:00")
    reply = await rep.click("Confirm")
    assert "send the proposal" in reply.text
    assert "overdue" not in reply.text and "Going cold" not in reply.text
    clock.advance(days=2)
    reply = await rep.send("/find Anna")
    assert "send the proposal, Thu, 24 Dec 2026, 10:00 — 🔴 overdue" in reply.text
    assert "Going cold" not in reply.text


async def test_a_card_quiet_for_less_than_a_day_does_not_read_the_team_cadence(tg, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.click("Stage")
    await rep.click("development")
    cadence_read: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if "teams.cadence" in statement:
            cadence_read.append(statement)

    engine = tg.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        clock.advance(hours=23)
        reply = await rep.send("/find Anna")
        assert "No next step planned" in reply.text and "Going cold" not in reply.text
        assert cadence_read == []  # no cadence is shorter than a day
        clock.advance(days=20)
        reply = await rep.send("/find Anna")
        assert "Going cold: no touch for 20 days" in reply.text
        assert len(cadence_read) == 1
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_the_card_in_russian_counts_days_right(tg, clock) -> None:
    _admin, _manager, rep = await team_with_rep(tg, language="ru")
    await rep.send("/add Анна Смирнова, Ромашка")
    await rep.click("Этап")
    await rep.click("развитие")
    clock.advance(days=22)
    reply = await rep.send("/find Анна")
    assert "🥶 Остывает: без касаний уже 22 дня" in reply.text
    assert "не реже раза в 14 дней" in reply.text


async def test_role_source_kind_and_icp_fit_can_be_changed_after_the_card_is_saved(tg) -> None:
    """The four were offered only by the buttons under "Saved" after /add: once those were
    gone, the card's ICP fit, role in the buying group, source and B2B/B2C could never be set
    or corrected."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Paul Green, Pi")
    await rep.send("/find Paul Green")
    reply = await rep.click("Edit")
    assert reply.buttons[6:12] == [
        "B2B / B2C",
        "Role",
        "Source",
        "Segment",
        "ICP fit",
        "ICP criterion",
    ]
    await rep.click("B2B / B2C")
    await rep.click("B2B")
    await rep.click("Edit")
    await rep.click("Role")
    await rep.click("decision maker")
    await rep.click("Edit")
    await rep.click("Source")
    await rep.click("referral")
    await rep.click("Edit")
    await rep.click("ICP fit")
    reply = await rep.click("fits ICP")
    assert "B2B · decision maker · fits ICP" in reply.text and "Source: referral" in reply.text
    await rep.click("Edit")
    await rep.click("ICP fit")
    await rep.click("does not fit ICP")  # and corrected later
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact))
    assert (card.kind, card.influence, card.source, card.icp_fit) == (
        "b2b",
        "decision_maker",
        "referral",
        "not_fit",
    )


async def test_two_cards_that_read_alike_are_told_apart_on_their_buttons(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Dina Yun, Gamma, +7 912 000 00 01")
    await rep.send("/add Dina Yun, Gamma")
    await rep.click("Add anyway")
    reply = await rep.send("/find Dina")
    assert reply.buttons[:2] == ["Dina Yun · Gamma · +7 912 000-00-01", "Dina Yun · Gamma · #2"]
    reply = await rep.send("/delivered Dina")
    assert reply.buttons == ["Dina Yun · Gamma · +7 912 000-00-01", "Dina Yun · Gamma · #2"]


async def test_who_introduced_whom_is_kept_from_the_card(tg) -> None:
    """The method keeps who introduced whom: a rep records it from ✏️ Edit, and only with a
    card in their own scope."""
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Boris Kim, Alpha")
    await rep.send("/add Boris Orlov, Beta")
    await rep.send("/add Petr Sokolov, Vega")
    await rep.click("Open card")
    await rep.click("Edit")
    reply = await rep.click("Introduced by")
    assert reply.text.startswith("Who introduced Petr Sokolov to you?")
    reply = await rep.send("Nobody Here")
    assert "Nothing found for “Nobody Here”" in reply.text
    reply = await rep.send("Boris")
    assert reply.text == "Which one introduced them?"
    reply = await rep.click("Boris Kim")
    assert "Introduced by: Boris Kim" in reply.text and "Source: referral" in reply.text
    async with tg.app.session_factory() as s:
        petr = await s.scalar(select(Contact).where(Contact.name == "Petr Sokolov"))
        kim = await s.scalar(select(Contact).where(Contact.name == "Boris Kim"))
    assert (petr.introduced_by_id, petr.source) == (kim.id, "referral")
    await rep.click("Edit")
    reply = await rep.click("Introduced by")
    assert "Now: Boris Kim. Send “-” to clear it." in reply.text
    reply = await rep.send("-")
    assert "Introduced by" not in reply.text and "Source: referral" in reply.text
    # a card outside the rep's scope, named in a forged button, is "not found"
    stranger = await another_rep(tg, manager, 3010, "Sam")
    await stranger.send("/add Secret Person, Zeta")
    async with tg.app.session_factory() as s:
        secret = await s.scalar(select(Contact).where(Contact.name == "Secret Person"))
    reply = await rep.tap_data(f"cc:introby:{petr.id}:{secret.id}")
    assert reply.answer is not None and reply.answer["text"] == "Contact not found."
    async with tg.app.session_factory() as s:
        assert (await s.get(Contact, petr.id)).introduced_by_id is None


async def test_tags_typed_in_the_editor_are_read_as_import_reads_them(tg) -> None:
    """Edit › Tags: "b;c" said "Saved." and left no tags; "#<html> #ok" kept only #ok, unsaid."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Tina Tags, Acme")

    async def typed(text: str):
        await rep.send("/find Tina")
        await rep.click("Edit")
        await rep.click("Tags")
        return await rep.send(text)

    async def stored() -> str:
        async with tg.app.session_factory() as s:
            return (await s.scalar(select(Contact))).tags

    assert "Saved." in (await typed("b;c")).text
    assert await stored() == ";b;c;"
    assert "Saved." in (await typed("#a, b;c")).text
    assert await stored() == ";a;b;c;"
    reply = await typed("#<html> #ok")
    assert "Not a tag: “<html>”" in reply.text and "Saved." not in reply.text
    assert await stored() == ";a;b;c;"


async def test_find_says_when_more_cards_match_than_it_lists(tg, clock) -> None:
    """ "/find Person" with 12 matches said "Found 10:", as if that were all."""
    from services import contacts as svc
    from storage.repo import users as users_repo
    from storage.uow import write_session

    *_, rep = await team_with_rep(tg)
    async with write_session(tg.app.session_factory) as s:
        owner = await users_repo.get_by_tg_id(s, rep.id)
        for i in range(12):
            await svc.create(s, owner=owner, data={"name": f"Person {i:02d}"}, now=clock.now())
    reply = await rep.send("/find Person")
    assert reply.text.startswith("Found more than 10; the best 10")
    assert len(reply.buttons) == 10
    for i in range(2):
        await rep.send(f"/find Person {i:02d}")
        await rep.click("Archive")
    reply = await rep.send("/find Person")
    assert reply.text.startswith("Found 10:") and len(reply.buttons) == 10


async def test_introduced_by_refuses_the_card_itself_and_a_circle(tg) -> None:
    """ "Fedor introduced by Fedor" said "Nothing found for “Fedor”" (the card exists); and
    Anna ← Dina was saved while Dina ← Carl ← Anna: a circle nobody can have walked."""
    *_, rep = await team_with_rep(tg)

    async def introduce(name: str, by: str):
        await rep.send(f"/find {name}")
        await rep.click("Edit")
        await rep.click("Introduced by")
        return await rep.send(by)

    for name in ("Anna Alpha", "Carl Gamma", "Dina Delta", "Fedor Fox"):
        await rep.send(f"/add {name}")
    reply = await introduce("Fedor", "Fedor Fox")
    assert "cannot be introduced by themselves" in reply.text
    assert "Introduced by: Anna Alpha" in (await introduce("Carl", "Anna Alpha")).text
    assert "Introduced by: Carl Gamma" in (await introduce("Dina", "Carl Gamma")).text
    reply = await introduce("Anna", "Dina Delta")
    assert "Dina Delta came to you through Anna Alpha" in reply.text, reply.text
    reply = await rep.send("-")  # still asked: "-" clears it, as offered
    assert "Saved." in reply.text
    async with tg.app.session_factory() as s:
        anna = await s.scalar(select(Contact).where(Contact.name == "Anna Alpha"))
    assert anna.introduced_by_id is None


@pytest.mark.parametrize(
    ("status", "offered"), [(None, True), ("lead", True), ("partner", False), ("client", False)]
)
async def test_retention_stage_offers_to_mark_a_contact_a_client(tg, status, offered) -> None:
    """A contact or lead moved to "retention & referral" is offered ⭐ Mark as client on the
    card (conversion and retention count clients; the stage alone left them a "contact")."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Rosa, Rho")
    await rep.click("Open card")
    if status is not None:
        await rep.click("Status")
        await rep.click(status)
    await rep.click("Stage")
    reply = await rep.click("development")
    assert "⭐ Mark as client" not in reply.buttons
    await rep.click("Stage")
    reply = await rep.click("retention & referral")
    assert ("⭐ Mark as client" in reply.buttons) is offered
    if offered:
        reply = await rep.click("⭐ Mark as client")
        assert "Status: client" in reply.text and "⭐ Mark as client" not in reply.buttons
