"""QA's reminder round: a long /add answer no longer breaks the next command's note; a button of
another flow tapped in the middle of a dialogue keeps what was typed and says so; a finished
step stays finished whatever old reminder button is tapped after Done; an archived card's
reminder buttons are refused with the reason; Done shows the touch it logged; the data check's
"No, edit" shows the fields at once and a second "Yes" is answered."""

from __future__ import annotations

import copy
from datetime import timedelta

from sqlalchemy import func, select

from bot.emulator.client import buttons_of, plain
from storage.models import Contact, Touch
from tests.helpers import team_with_rep
from tests.test_followups_idempotent import data_of, delivered_reminder, pending
from views.callbacks import RemindCb, ResumeCb
from views.keyboards import way_back
from views.rendering import h


def failed(emu, start: int) -> list[str]:  # noqa: ANN001
    """The bot's requests since ``start`` that Telegram refused."""
    return [f"{r.method}: {r.error}" for r in emu.requests[start:] if not r.ok]


async def card(tg) -> Contact:  # noqa: ANN001
    async with tg.app.session_factory() as s:
        return await s.scalar(select(Contact).where(Contact.name == "Boris"))


async def touches(tg) -> int:  # noqa: ANN001
    async with tg.app.session_factory() as s:
        return await s.scalar(select(func.count(Touch.id)))


# ------------------------------------------------------------------ 1. a long answer's note
async def test_a_command_after_long_add_answers_says_them_cut_and_runs(tg, emu) -> None:
    *_, rep = await team_with_rep(tg)
    big = "word " * 900  # 4,500 characters: a name and a company far past their fields
    await rep.send("/add")
    await rep.send(big)
    await rep.send("Acme " + big)
    start = len(emu.requests)
    reply = await rep.send("/today")
    assert failed(emu, start) == []  # was: sendMessage "message is too long", /today never ran
    note, day = reply.messages
    assert len(note["text"]) < 400
    assert note["text"].startswith("✋ The contact “word word")
    assert "word…” was not saved: a command ends the /add dialogue." in note["text"]
    assert "\nTyped so far: Acme word" in note["text"] and note["text"].endswith("…")
    assert "Your day" in day["text"]
    reply = await rep.click("Continue adding", note)
    assert reply.messages[0]["text"] == "Position? (or Skip)"  # nothing typed was lost


def test_what_a_left_dialogue_had_been_given_is_cut_to_fit_whole_entities() -> None:
    """views.keyboards.way_back, which every other "not saved" note is built with (the touch's,
    the next step's, the deal's): what was given is cut, never inside an &entity;."""
    given = h("<&> " * 2000)
    text, markup = way_back("✋ Head", given, "↩️ Back", ResumeCb(d="log", n=1))
    assert len(text) < 1100 and text.endswith("…")
    assert text.rstrip("…").endswith(("&lt;", "&amp;", "&gt;", " "))
    assert [b["text"] for b in buttons_of({"reply_markup": markup.model_dump()})] == ["↩️ Back"]
    assert way_back("✋ Head", "", "↩️ Back", ResumeCb(d="log", n=1))[0] == "✋ Head"


# ------------------------------------------------------------------ 2. a tap in a dialogue
async def test_a_reminder_tapped_halfway_through_add_keeps_the_draft(tg, emu, clock) -> None:
    """QA's case: a reminder arrives unasked while Ivan is being added; its 📅 Reschedule says
    that Ivan was not saved (and keeps him), then reschedules; ↩️ Continue adding goes back."""
    *_, rep = await team_with_rep(tg)
    reminder = await delivered_reminder(tg, clock, rep)
    await rep.send("/add")
    await rep.send("Ivan Petrov")
    await rep.send("Globex")
    await rep.send("+7 912 555 66 77")
    reply = await rep.tap_data(data_of(reminder, "Reschedule"), reminder)
    note, question = reply.messages
    assert note["text"] == (
        "✋ The contact “Ivan Petrov” was not saved: a button of another message ends the /add "
        "dialogue.\nTyped so far: Globex · +7 912 555-66-77"
    )
    assert [b["text"] for b in buttons_of(note)] == ["↩️ Continue adding"]
    assert "When should I remind you about Boris?" in question["text"]  # after the note
    await rep.send("wednesday 11:00")
    await rep.click("Confirm")
    reply = await rep.send("/find Ivan")  # a command with nothing open: no note of its own
    assert len(reply.messages) == 1 and "Nothing found" in reply.text
    reply = await rep.click("Continue adding", note)
    assert reply.messages[0]["text"] == "Position? (or Skip)"
    await rep.send("CTO")
    await rep.click("Skip")  # e-mail
    await rep.click("B2B")
    await rep.click("event")
    reply = await rep.click("Skip")
    assert "Saved: Ivan Petrov — Globex, CTO" in reply.text
    async with tg.app.session_factory() as s:
        ivan = await s.scalar(select(Contact).where(Contact.name == "Ivan Petrov"))
    assert (ivan.company, ivan.phone, ivan.kind) == ("Globex", "+79125556677", "b2b")


async def test_buttons_that_leave_a_dialogue_alone_say_nothing(tg, emu, clock) -> None:
    """The dialogue's own buttons, and a button that starts nothing (Open card), keep the
    dialogue going without a note."""
    *_, rep = await team_with_rep(tg)
    reminder = await delivered_reminder(tg, clock, rep)
    await rep.send("/add")
    await rep.send("Ivan Petrov")
    reply = await rep.click("Skip")  # the company: the dialogue's own button
    assert [m["text"] for m in reply.messages] == ["Position? (or Skip)"]
    reply = await rep.tap_data(data_of(reminder, "Open card"), reminder)
    assert len(reply.messages) == 1 and "Boris" in reply.text and "not saved" not in reply.text
    reply = await rep.send("CTO")  # still the position
    assert reply.messages[0]["text"] == "Phone? (or Skip)"


async def test_a_reminders_done_in_the_middle_of_a_next_step_keeps_it(tg, emu, clock) -> None:
    """Another dialogue (the next step of another card) left by a tap: its note, and ↩️ Back."""
    *_, rep = await team_with_rep(tg)
    reminder = await delivered_reminder(tg, clock, rep)
    await rep.send("/add Gleb, Gamma")
    await rep.click("Open card")
    await rep.click("Next step")
    await rep.send("send the offer")  # the time is asked next
    reply = await rep.tap_data(data_of(reminder, "Done"), reminder)
    note = reply.messages[0]
    assert note["text"] == (
        "✋ The next step with Gleb was not saved: a button of another message ends the "
        "dialogue.\nTyped so far: send the offer"
    )
    assert "What is the next step with Boris?" in plain(reply.messages[1]["text"])
    reply = await rep.click("Back to the next step", note)
    assert "send the offer" in reply.text and "When?" in reply.text


# ------------------------------------------------------------------ 3. and 5. after Done
async def test_an_old_snooze_or_reschedule_after_done_is_already_done(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    reminder = await delivered_reminder(tg, clock, rep)
    start = len(emu.requests)
    done = await rep.tap_data(data_of(reminder, "Done"), reminder)
    [shown] = done.edited  # the reminder, its buttons gone, with the touch just logged
    assert "buttons" not in shown and not buttons_of(shown)
    assert plain(shown["text"]).startswith("✅ Done: call back\n\nBoris, Beta\n")
    assert "Last touch: call, " in plain(shown["text"])
    assert "No touches yet." not in plain(shown["text"])
    for button in ("Tomorrow", "+1 hour", "Next week", "Reschedule", "Done"):
        reply = await rep.tap_data(data_of(reminder, button), reminder)
        assert reply.answer["text"] == "Already done.", button
        assert reply.messages == [] and reply.edited == []
    assert failed(emu, start) == []  # no "message is not modified"
    assert (await card(tg)).next_step is None and await pending(tg) == []
    assert await touches(tg) == 1
    reply = await rep.send("/find Boris")
    assert "No next step planned" in reply.text


async def test_snoozed_twice_the_reminder_is_edited_once(tg, emu, clock) -> None:
    """The keyboard goes once; the later snooze (the message as Telegram has it now, without
    buttons) moves the step and edits nothing."""
    *_, rep = await team_with_rep(tg)
    reminder = await delivered_reminder(tg, clock, rep)
    start = len(emu.requests)
    first = await rep.tap_data(data_of(reminder, "Tomorrow"), reminder)
    assert len(first.edited) == 1
    now_shown = copy.deepcopy(reminder)
    now_shown.pop("reply_markup")
    second = await rep.tap_data(data_of(reminder, "Next week"), now_shown)
    assert second.edited == [] and "I'll remind you" in second.text
    assert failed(emu, start) == []


# ------------------------------------------------------------------ 4. an archived card
async def test_an_archived_cards_reminder_buttons_say_why_they_do_nothing(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    reminder = await delivered_reminder(tg, clock, rep)
    await rep.tap_data(data_of(reminder, "Open card"), reminder)
    await rep.click("Archive")
    before = await card(tg)
    cid = before.id
    forged = [RemindCb(a=a, id=cid).pack() for a in ("done", "next")]  # 📝 Log touch, ⏭ Next
    taps = [data_of(reminder, b) for b in ("+1 hour", "Tomorrow", "Next week", "Done")]
    taps += [data_of(reminder, "Reschedule"), *forged]
    for data in taps:
        reply = await rep.tap_data(data, reminder)
        assert reply.answer["show_alert"] is True, data
        assert reply.answer["text"] == (
            "🗄 The card “Boris” is archived: no reminders come for it. Open the card and tap "
            "Restore first."
        )
        assert reply.messages == [] and reply.edited == []
    after = await card(tg)
    assert (after.next_step, after.next_step_due) == (before.next_step, before.next_step_due)
    assert await pending(tg) == [] and await touches(tg) == 0
    reply = await rep.tap_data(data_of(reminder, "Open card"), reminder)  # still opens
    assert "🗄 archived" in reply.text


# ------------------------------------------------------------------ 6. the data check
async def data_check(tg, emu, clock, rep) -> dict:  # noqa: ANN001
    await rep.send("/add Old NoCo, Acme, CTO")
    clock.advance(timedelta(days=182))
    await tg.app.clockwork.run_daily()
    await tg.app.clockwork.tick()
    [check] = [m for m in rep.bot_messages if "Data check" in plain(m.get("text") or "")]
    return copy.deepcopy(check)


async def test_no_edit_on_the_data_check_shows_the_fields_at_once(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    check = await data_check(tg, emu, clock, rep)
    reply = await rep.click("No, edit", check)
    [edited] = reply.edited
    assert plain(edited["text"]) == "What changed for Old NoCo? Choose a field to edit:"
    fields = [b["text"] for b in buttons_of(edited)]
    assert {"Name", "Company", "Position"} <= set(fields) and "✏️ Edit" not in fields
    reply = await rep.click("Position", edited)
    assert "Position: send the new value. Now: CTO" in reply.text
    start = len(emu.requests)
    again = await rep.click("No, edit", check)
    assert again.answer["text"] == "Already answered: choose a field above."
    assert again.messages == [] and again.edited == [] and failed(emu, start) == []


async def test_yes_tapped_twice_on_the_data_check_is_answered(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    check = await data_check(tg, emu, clock, rep)
    first = await rep.click("Yes", check)
    assert plain(first.edited[0]["text"]) == "✅ Old NoCo: data confirmed. Thank you!"
    start = len(emu.requests)
    second = await rep.click("Yes", check)
    assert second.answer["text"] == "Already confirmed."
    assert second.edited == [] and failed(emu, start) == []
