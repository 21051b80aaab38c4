"""Next-step dates in the chat: what the bot answers, and when the reminder really comes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.emulator import UserClient
from bot.emulator.client import Reply
from storage.models import Contact
from tests.helpers import team_with_rep
from tests.test_followups import reminders_to

FRIDAY_EVENING = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)  # Fri 16:30 in Moscow


LABELS = {
    "en": {"open": "Open card", "next": "Next step", "what": "call back"},
    "ru": {"open": "Открыть карточку", "next": "Следующий шаг", "what": "позвонить"},
}


async def open_next_step(
    rep: UserClient, name: str, lang: str = "en", what: str | None = None
) -> Reply:
    """/add a contact, open the card, tap Next step and say what it is: the bot asks "When?"."""
    await rep.send(f"/add {name}")
    await rep.click(LABELS[lang]["open"])
    await rep.click(LABELS[lang]["next"])
    return await rep.send(what or LABELS[lang]["what"])


async def the_step(tg) -> tuple[str | None, datetime | None]:
    """The only card's next step and its due time, as stored."""
    async with tg.app.session_factory() as s:
        contact = await s.scalar(select(Contact))
        return contact.next_step, contact.next_step_due


async def test_confirmation_says_when_the_reminder_comes_in_english(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/settings")
    await rep.click("Time zone")
    assert "Moscow, UTC+3" in (await rep.send("Moscow")).text
    clock.set(FRIDAY_EVENING)
    await open_next_step(rep, "Anna Smirnova, Acme", what="send the proposal")

    reply = await rep.send("today 21:00")
    assert reply.text == (
        "Next step on Fri, 27 Nov 2026, 21:00. The reminder will come on Fri, 27 Nov 2026, "
        "18:45, in your working hours. Right?"
    )
    reply = await rep.send("01.12 15:00")  # inside working hours: nothing to add
    assert reply.text == "Next step on Tue, 1 Dec 2026, 15:00. Right?"
    reply = await rep.send("tomorrow 10:00")
    assert reply.text == (
        "Next step on Sat, 28 Nov 2026, 10:00. The reminder will come on Mon, 30 Nov 2026, "
        "09:00, in your working hours. Right?"
    )
    assert reply.buttons == ["✅ Confirm", "Change"]
    await rep.click("Confirm")

    # and so it does: Monday 09:00 in Moscow is 06:00 UTC
    clock.set(datetime(2026, 11, 30, 5, 59, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id) == []
    clock.set(datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    [sent] = reminders_to(emu, rep.id)
    assert "send the proposal" in sent["text"]


async def test_confirmation_says_when_the_reminder_comes_in_russian(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg, language="ru")
    clock.set(FRIDAY_EVENING)  # the rep's zone is UTC: Friday 13:30
    await open_next_step(rep, "Анна Смирнова, Acme", "ru")
    reply = await rep.send("сегодня в 21:00")
    assert reply.text == (
        "Следующий шаг: пт, 27 нояб. 2026, 21:00. Напоминание придёт в ваше рабочее время: "
        "пт, 27 нояб. 2026, 18:45. Верно?"
    )
    reply = await rep.send("10 декабря 14")
    assert reply.text == "Следующий шаг: чт, 10 дек. 2026, 14:00. Верно?"
    await rep.click("Подтвердить")
    assert await the_step(tg) == ("позвонить", datetime(2026, 12, 10, 14, 0, tzinfo=UTC))


async def test_a_step_and_its_time_in_one_message_in_english(tg, clock) -> None:
    *_, rep = await team_with_rep(tg)
    clock.set(FRIDAY_EVENING)  # the rep's zone is UTC: Friday 13:30
    reply = await open_next_step(
        rep, "Anna Smirnova, Acme", what="send <b>terms</b> & price monday 11:00"
    )
    assert reply.text == (
        "Step: send <b>terms</b> & price\nNext step on Mon, 30 Nov 2026, 11:00. Right?"
    )
    assert reply.buttons == ["✅ Confirm", "Change"]
    reply = await rep.click("Confirm")
    assert reply.text.startswith("✅ Next step saved.")
    assert await the_step(tg) == (
        "send <b>terms</b> & price",
        datetime(2026, 11, 30, 11, 0, tzinfo=UTC),
    )


async def test_only_a_date_is_kept_and_the_step_asked_for_in_russian(tg, clock) -> None:
    *_, rep = await team_with_rep(tg, language="ru")
    clock.set(FRIDAY_EVENING)
    reply = await open_next_step(rep, "Анна Смирнова, Acme", "ru", what="в понедельник")
    assert reply.text == (
        "пн, 30 нояб. 2026, 10:00: какой будет следующий шаг? Например, «отправить КП»."
    )
    reply = await rep.send("позвонить")
    assert reply.text == "Шаг: позвонить\nСледующий шаг: пн, 30 нояб. 2026, 10:00. Верно?"
    await rep.click("Подтвердить")
    assert await the_step(tg) == ("позвонить", datetime(2026, 11, 30, 10, 0, tzinfo=UTC))


async def test_a_date_typed_as_the_reason_for_no_step_is_asked_about_once_in_russian(
    tg, emu, clock
) -> None:
    *_, rep = await team_with_rep(tg, language="ru")
    clock.set(FRIDAY_EVENING)
    await rep.send("/add Анна Смирнова, Acme")
    await rep.click(LABELS["ru"]["open"])
    await rep.click(LABELS["ru"]["next"])
    await rep.click("Без следующего шага")
    reply = await rep.send("завтра в 10")  # meant as the step's time: the reminder is kept
    assert reply.text == (
        "«завтра в 10» похоже на дату: сб, 28 нояб. 2026, 10:00. Какой тогда следующий шаг? "
        "Чтобы всё же указать это причиной, нажмите «Без следующего шага» и отправьте ещё раз."
    )
    assert reply.buttons == ["Без следующего шага"]
    reply = await rep.send("позвонить")
    assert reply.text.startswith("Шаг: позвонить\nСледующий шаг: сб, 28 нояб. 2026, 10:00.")
    await rep.click("Подтвердить")
    assert await the_step(tg) == ("позвонить", datetime(2026, 11, 28, 10, 0, tzinfo=UTC))

    # given as the reason all the same: asked once, then taken as said
    await rep.click("Следующий шаг")
    await rep.click("Без следующего шага")
    reply = await rep.send("после 15 января")  # not a date: a reason, saved at once
    assert reply.text.startswith("Без следующего шага: после 15 января.")
    await rep.click("Следующий шаг")
    await rep.click("Без следующего шага")
    reply = await rep.send("15 января")
    assert reply.text.startswith("«15 января» похоже на дату")
    await rep.click("Без следующего шага")
    reply = await rep.send("15 января")
    assert reply.text.startswith("Без следующего шага: 15 января.")
    assert await the_step(tg) == (None, None)


async def test_a_step_without_a_date_is_still_asked_when_in_russian(tg, clock) -> None:
    *_, rep = await team_with_rep(tg, language="ru")
    clock.set(FRIDAY_EVENING)
    reply = await open_next_step(
        rep, "Анна Смирнова, Acme", "ru", what="отправить КП на 10 страниц"
    )
    assert reply.text.startswith("Когда?")
    reply = await rep.send("завтра позвонить")  # a date with words is not a date
    assert reply.text.startswith("Не удалось")


async def test_the_owners_working_hours_are_named_when_someone_else_plans(tg, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Boris, Beta")
    clock.set(FRIDAY_EVENING)
    await manager.send("/find Boris")
    await manager.click("Next step")
    await manager.send("call back")
    reply = await manager.send("tomorrow 10:00")
    assert reply.text == (
        "Next step on Sat, 28 Nov 2026, 10:00. The reminder will come to Rita on Mon, "
        "30 Nov 2026, 09:00, in their working hours. Right?"
    )


async def test_out_of_range_and_unreadable_dates_are_refused_in_english(tg, clock) -> None:
    *_, rep = await team_with_rep(tg)
    clock.set(FRIDAY_EVENING)
    await open_next_step(rep, "Carl, Gamma")
    reply = await rep.send("31.12.9999 23:00")
    assert reply.text == (
        "“31.12.9999 23:00” is too far in the future. A next step can be set from "
        "Thu, 27 Nov 2025 to Thu, 27 Nov 2031."
    )
    assert "✅ Confirm" not in reply.buttons and "Tomorrow 10:00" in reply.buttons
    reply = await rep.send("01.01.0001 00:30")
    assert reply.text.startswith("“01.01.0001 00:30” is too far in the past.")
    reply = await rep.send("in 99999999 days")
    assert "too far in the future" in reply.text
    reply = await rep.send("someday <b>maybe</b>")
    assert reply.text.startswith("I couldn't read a date in “someday <b>maybe</b>”.")
    assert "<b>maybe" not in reply.html  # the typed text is escaped
    # nothing was saved, and the card still shows
    reply = await rep.send("/find Carl")
    assert "No next step planned" in reply.text


async def test_out_of_range_and_unreadable_dates_are_refused_in_russian(tg, clock) -> None:
    *_, rep = await team_with_rep(tg, language="ru")
    clock.set(FRIDAY_EVENING)
    await open_next_step(rep, "Дмитрий, Delta", "ru")
    reply = await rep.send("через 100000000000 дней")
    assert reply.text == (
        "«через 100000000000 дней» — это слишком далеко в будущем. Следующий шаг можно "
        "назначить с чт, 27 нояб. 2025 по чт, 27 нояб. 2031."
    )
    reply = await rep.send("01.01.2020")
    assert "слишком далеко в прошлом" in reply.text
    reply = await rep.send("когда-нибудь")
    assert reply.text.startswith("Не удалось распознать дату в «когда-нибудь».")


QUOTED = re.compile(r"[“«]([^”»]+)[”»]")


async def hint_examples_work(rep: UserClient, lang: str, *, unreadable: str, confirm: str) -> None:
    """Every example the bot's hints suggest is a date the bot then reads, and so are the
    quick buttons under them."""
    prompt = await open_next_step(rep, "Erik, Epsilon", lang)
    refusal = await rep.send("???")
    assert refusal.text.startswith(unreadable)
    examples = QUOTED.findall(prompt.text) + QUOTED.findall(refusal.text)[1:]  # [0] is "???"
    assert len(examples) == 8, examples
    for example in examples:
        reply = await rep.send(example)
        assert reply.text.startswith(confirm), (example, reply.text)
    for button in (1, 2, 3):
        await rep.send("???")  # refused while a date waits for confirmation
        reply = await rep.click(button)
        assert reply.text.startswith(confirm), reply.text


async def test_the_hints_only_suggest_dates_that_work_in_english(tg, clock) -> None:
    clock.set(FRIDAY_EVENING)
    *_, rep = await team_with_rep(tg)
    await hint_examples_work(
        rep, "en", unreadable="I couldn't read a date in “???”.", confirm="Next step on "
    )


async def test_the_hints_only_suggest_dates_that_work_in_russian(tg, clock) -> None:
    clock.set(FRIDAY_EVENING)
    *_, rep = await team_with_rep(tg, language="ru")
    await hint_examples_work(
        rep, "ru", unreadable="Не удалось распознать дату в «???».", confirm="Следующий шаг: "
    )


@pytest.mark.parametrize(
    ("language", "text", "said", "then"),
    [
        ("en", "tomorrow 25:00", "No clock shows the time in “tomorrow 25:00”", "Next step on "),
        ("ru", "завтра в 10:75", "Таких часов нет: «завтра в 10:75»", "Следующий шаг: "),
    ],
)
async def test_a_time_no_clock_shows_is_named_as_such_and_asked_again(
    tg, clock, language, text, said, then
) -> None:
    """It was read as the day at 10:00, the time written dropped in silence."""
    *_, rep = await team_with_rep(tg, language=language)
    clock.set(FRIDAY_EVENING)
    await open_next_step(rep, "Carl, Gamma", language)
    reply = await rep.send(text)
    assert reply.text.startswith(said) and reply.buttons[0] != "✅ Confirm"
    reply = await rep.send(text.replace("25", "15").replace("75", "30"))
    assert reply.text.startswith(then)


async def test_a_step_and_an_impossible_time_in_one_message_keep_the_step(tg, clock) -> None:
    """ "call back tomorrow 25:00": the step is "call back", the time is asked about again (the
    whole message was taken for the step and the rep asked "When?" as if none was written)."""
    *_, rep = await team_with_rep(tg)
    clock.set(FRIDAY_EVENING)
    reply = await open_next_step(rep, "Carl, Gamma", what="call back tomorrow 25:00")
    assert reply.text.startswith("No clock shows the time in “tomorrow 25:00”")
    reply = await rep.send("tomorrow 15:00")
    assert reply.text.startswith("Next step on Sat, 28 Nov 2026, 15:00.")
    await rep.click("✅ Confirm")
    assert (await the_step(tg))[0] == "call back"


async def test_a_day_no_calendar_has_is_named_as_such_and_the_step_kept(tg, clock) -> None:
    """ "отправить КП 31 февраля": "I couldn't read a date" (as for words that are no date)."""
    *_, rep = await team_with_rep(tg, language="ru")
    clock.set(FRIDAY_EVENING)
    reply = await open_next_step(rep, "Carl, Gamma", "ru", what="отправить КП 31 февраля")
    assert reply.text.startswith("Такого дня нет в календаре: «31 февраля».")
    reply = await rep.send("28 февраля")
    assert reply.text.startswith("Следующий шаг: вс, 28 февр. 2027, 10:00.")
    await rep.click("✅ Подтвердить")
    assert (await the_step(tg))[0] == "отправить КП"


async def test_next_step_buttons_under_an_older_question_do_nothing_to_another_card(tg) -> None:
    """A's "In 3 days" or "Confirm", left under A's questions, tapped while B's next step is
    at the same question: it went on with B's dialogue (B's step confirmed from A's message)."""
    *_, rep = await team_with_rep(tg)
    for name in ("Anna, Acme", "Boris, Beta"):
        await rep.send(f"/add {name}")
    await rep.send("/log Anna")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("talked")
    when_a = (await rep.send("send the offer")).last  # A's "When?"
    right_a = (await rep.send("in a week")).last  # A's "Right?" — left unanswered
    await rep.send("/log Boris")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("talked")
    when_b = (await rep.send("call back")).last  # B's "When?"
    stale = await rep.click("In 3 days", when_a)
    assert stale.answer["show_alert"] and stale.messages == [] and stale.edited == []
    await rep.click("In a week", when_b)  # B's "Right?"
    for button in ("✅ Confirm", "Change"):
        stale = await rep.click(button, right_a)
        assert stale.answer["show_alert"] and stale.messages == [] and stale.edited == []
    reply = await rep.click("✅ Confirm")
    assert "Next step saved" in reply.text and "Boris" in reply.text
    async with tg.app.session_factory() as s:
        steps = dict((await s.execute(select(Contact.name, Contact.next_step))).all())
    assert steps == {"Anna": None, "Boris": "call back"}


@pytest.mark.parametrize(
    ("lang", "typed"),
    [
        ("en", "No next step"),
        ("en", "skip"),
        ("en", "none"),
        ("ru", "Без следующего шага"),
        ("ru", "нет"),
    ],
)
async def test_no_next_step_typed_at_the_step_question_is_the_button(tg, lang, typed) -> None:
    """Typing the button's label (or "skip", "нет") was saved as the step itself, with a
    reminder: "Следующий шаг: Без следующего шага, пт, 4 дек."."""
    *_, rep = await team_with_rep(tg)
    if lang == "ru":
        await rep.send("/settings")
        await rep.click("Language")
        await rep.click("Русский")
    await rep.send("/add Anna Smirnova, Acme")
    await rep.click(LABELS[lang]["open"])
    await rep.click(LABELS[lang]["next"])
    reply = await rep.send(typed)
    asked = "only with a reason" if lang == "en" else "только с указанием причины"
    assert asked in reply.text, reply.text
    assert await the_step(tg) == (None, None)


@pytest.mark.parametrize("typed", ["31 февраля", "завтра в 25:00", "01.01.2020"])
async def test_a_date_that_is_no_date_at_the_step_question_is_said_so(tg, typed) -> None:
    """At "What is the next step?" these were kept as the step's words ("завтра в 25:00") while
    "When?" refuses them with a reason."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.click("Open card")
    await rep.click("Next step")
    reply = await rep.send(typed)
    assert "When?" not in reply.text
    assert any(w in reply.text for w in ("No calendar", "No clock", "too far", "past")), reply.text
    assert await the_step(tg) == (None, None)


@pytest.mark.parametrize("typed", ["today", "now", "сегодня"])
async def test_today_is_this_minute_not_a_time_in_the_past(tg, clock, typed) -> None:
    """ "today" at 16:30:45 is 16:30: it was "⚠️ … 16:30 is in the past. Save it anyway?"."""
    *_, rep = await team_with_rep(tg)
    clock.set(datetime(2026, 11, 27, 13, 30, 45, tzinfo=UTC))
    await open_next_step(rep, "Anna Smirnova, Acme")
    reply = await rep.send(typed)
    assert "in the past" not in reply.text and "Right?" in reply.text, reply.text
