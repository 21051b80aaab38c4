"""Deals as the QA tester found them (a card → 💼 Deals → ➕ New deal / a deal's 💰 Amount), in
English and Russian: amounts read wrong without a word ("1e9 USD", "3 billion USD", "2 млрд
руб", "1.234", "100 XYZ", "0"); a new deal left by a command lost without a word; a closed deal
showing its expected close instead of the day it was closed; Won/Lost in one tap with no way
back; no way to change what a deal is for; "за" kept in the title."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.middlewares import CommandLeavesDialogue
from storage.models import Contact, Deal
from tests.helpers import another_rep, team_with_rep
from views import deals as deal_views

NB, THIN = "\u00a0", "\u2009"
ASK_CLOSE = (
    "When do you expect it to close? E.g. “31.12”, “in 2 weeks”, “next friday”. "
    "Send - if you don't know yet."
)


async def new_deal(rep, name: str = "Ivan"):  # noqa: ANN201
    await rep.send(f"/find {name}")
    await rep.click("💼")
    return await rep.click("➕")


async def deals_of(tg) -> list[Deal]:
    async with tg.app.session_factory() as s:
        return list(await s.scalars(select(Deal).order_by(Deal.id)))


async def contact(tg, name: str) -> Contact:
    async with tg.app.session_factory() as s:
        return await s.scalar(select(Contact).where(Contact.name == name))


# ------------------------------------------------------------------------ 1. amounts, 5. "за"
@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (
            "1e9 USD",
            "“1e9 USD”: write the amount without an exponent, e.g. 1 000 000 000 USD or 1 bn USD.",
        ),
        (
            "100 XYZ",
            "“100 XYZ”: I don't know the currency XYZ. Write a code or sign I know, e.g. 100 EUR "
            "or 100 ₽; if XYZ is what the deal is for: 100 USD XYZ.",
        ),
        ("0", "“0”: the amount must be above zero. E.g. 12 000 ₽."),
        ("-5 EUR", "“-5 EUR”: the amount must be above zero. E.g. 12 000 ₽."),
        (
            "1.2345",
            "“1.2345”: an amount in USD has at most 2 decimals, and I don't round. "
            "Thousands are written 1 234, a fraction 1.23.",
        ),
        (
            "1000.5 JPY",
            "“1000.5 JPY”: an amount in JPY has no decimals, and I don't round. "
            "Send a whole number, e.g. 1 234.",
        ),
        (
            "99999999999999",
            "“99999999999999” is too large for a deal: up to 10 trillion. E.g. 2.5 bn ₽.",
        ),
    ],
)
async def test_an_amount_not_taken_is_said_why_quoting_what_was_typed(tg, typed, said) -> None:
    """Each was read as something else ("1e9 USD" as 1, "100 XYZ" as 100 in the default
    currency, "1.2345" as 1.23) or refused as unreadable ("0"); now the reason is said, the
    amount is asked again and nothing is saved."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ivan Petrov, Acme")
    await new_deal(rep)
    reply = await rep.send(typed)
    assert reply.text == said
    assert await deals_of(tg) == []
    reply = await rep.send("5000 EUR pilot")  # still the amount asked
    assert reply.text == ASK_CLOSE


async def test_what_was_typed_is_quoted_escaped(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ivan Petrov, Acme")
    await new_deal(rep)
    reply = await rep.send("1e5 <b>USD</b>")
    assert "“1e5 &lt;b&gt;USD&lt;/b&gt;”" in reply.html


@pytest.mark.parametrize(
    ("language", "typed"),
    [
        ("ru", "1e9 USD"),
        ("ru", "100 XYZ"),
        ("ru", "0"),
        ("ru", "1,234"),  # the decimal comma: 1.234, never silently 1.23
        ("ru", "1,2345 руб"),
    ],
)
async def test_an_amount_not_taken_is_said_why_in_russian(tg, language, typed) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Иван Петров, Acme")
    await new_deal(rep, "Иван")
    reply = await rep.send(typed)
    assert typed in reply.text  # quoted
    assert "Не удалось прочитать сумму" not in reply.text  # the reason, not "unreadable"
    assert "Когда ожидается закрытие" not in reply.text and "31.12" not in reply.text
    assert await deals_of(tg) == []


@pytest.mark.parametrize(
    ("language", "typed", "minor", "currency", "title"),
    [
        ("en", "3 billion USD", 3_000_000_000_00, "USD", ""),
        ("en", "2 bn", 2_000_000_000_00, "USD", ""),
        ("ru", "2 млрд руб", 2_000_000_000_00, "RUB", ""),
        ("ru", "1.234", 1234_00, "RUB", ""),
        ("en", "1.234", 1234_00, "USD", ""),
        ("ru", f"1{THIN}234{THIN}567 ₽", 1_234_567_00, "RUB", ""),
        ("ru", "50 000 за аудит сайта", 50_000_00, "RUB", "аудит сайта"),
        ("ru", "1,5 тыс. руб за аудит", 1500_00, "RUB", "аудит"),
        ("en", "5000 EUR for the website audit", 5000_00, "EUR", "the website audit"),
        ("en", "5000 SEO audit", 5000_00, "USD", "SEO audit"),
    ],
)
async def test_amounts_as_people_type_them_are_saved_as_meant(
    tg, language, typed, minor, currency, title
) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Ivan Petrov, Acme")
    await new_deal(rep)
    await rep.send(typed)
    await rep.send("-")
    [deal] = await deals_of(tg)
    assert (deal.amount, deal.currency, deal.title) == (minor, currency, title)


async def test_a_deals_new_amount_is_read_the_same_way(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ivan Petrov, Acme")
    await new_deal(rep)
    await rep.send("5000 EUR pilot")
    await rep.send("-")
    await rep.click("pilot")
    await rep.click("💰")
    reply = await rep.send("1e9 EUR")
    assert reply.text.startswith("“1e9 EUR”: write the amount without an exponent")
    reply = await rep.send("100 XYZ")
    assert "if XYZ is what the deal is for: 100 EUR XYZ" in reply.text  # the deal's currency
    [deal] = await deals_of(tg)
    assert deal.amount == 5000_00
    reply = await rep.send("2 bn")
    assert "Amount: €2,000,000,000" in reply.text
    [deal] = await deals_of(tg)
    assert (deal.amount, deal.currency) == (2_000_000_000_00, "EUR")


# ------------------------------------------------------------- 2. a command leaves a new deal
@pytest.fixture
def tg_kept(tg):  # noqa: ANN001, ANN201
    """The bot as it runs: bot/app.py names the deal dialogue among those a command leaves kept."""
    return tg


async def test_the_app_keeps_a_new_deal_a_command_leaves(tg) -> None:
    [leaves] = [
        m
        for m in tg.app.dispatcher.message.outer_middleware
        if isinstance(m, CommandLeavesDialogue)
    ]
    assert leaves.kept.get("DealForm") == ("", deal_views.deal_left)


@pytest.mark.parametrize(
    ("language", "given"),
    [("en", "Given so far: €5,000 · big project"), ("ru", f"5{NB}000{NB}€ · big project")],
)
async def test_a_command_that_leaves_a_new_deal_says_so_and_goes_back(
    tg_kept, language, given
) -> None:
    """➕ New deal, "5000 EUR big project", then /contacts: the deal was dropped without a word.
    Now, as for a touch or a next step, the rep is told and goes back to the close date."""
    tg = tg_kept
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Ivan Petrov, Acme")
    await new_deal(rep)
    await rep.send("5000 EUR big project")
    reply = await rep.send("/contacts")
    note, listing = reply.messages
    assert given in note["text"] and "Ivan Petrov" in note["text"]
    if language == "en":
        assert note["text"] == (
            "✋ The deal with Ivan Petrov was not saved: a command ends the dialogue.\n" + given
        )
        assert reply.buttons == ["Ivan Petrov · Acme", "🔎 Filter", "🕓 By last touch"]
    assert "1 · " in listing["text"]  # the command ran: the list of one contact
    reply = await rep.click(1, note)  # ↩️ Back to the deal
    assert given in reply.messages[-1]["text"]
    if language == "en":
        assert reply.messages[-1]["text"] == given + "\n" + ASK_CLOSE
    assert await deals_of(tg) == []
    await rep.send("-")
    [deal] = await deals_of(tg)
    assert (deal.amount, deal.currency, deal.title) == (5000_00, "EUR", "big project")


async def test_what_the_deal_is_for_typed_first_is_kept_too(tg_kept) -> None:
    tg = tg_kept
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ivan Petrov, Acme")
    await new_deal(rep)
    await rep.send("Website <audit>")
    note = (await rep.send("/today")).messages[0]
    assert note["text"] == (
        "✋ The deal with Ivan Petrov was not saved: a command ends the dialogue.\n"
        "Given so far: Website &lt;audit&gt;"
    )
    reply = await rep.click("Back to the deal", note)
    assert reply.messages[-1]["text"].startswith(
        "“Website &lt;audit&gt;”: kept as what the deal is for"
    )
    await rep.send("150k")
    await rep.send("-")
    [deal] = await deals_of(tg)
    assert (deal.amount, deal.title) == (150_000_00, "Website <audit>")


async def test_leaving_before_anything_is_typed_says_nothing_and_an_old_note_is_gone(
    tg_kept,
) -> None:
    tg = tg_kept
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ivan Petrov, Acme")
    await new_deal(rep)
    reply = await rep.send("/contacts")
    assert len(reply.messages) == 1 and "not saved" not in reply.text
    await new_deal(rep)
    await rep.send("700 EUR first")
    old = (await rep.send("/today")).messages[0]
    await new_deal(rep)
    await rep.send("900 EUR second")
    new = (await rep.send("/today")).messages[0]
    await new_deal(rep)
    await rep.send("300 EUR third")  # a deal in progress when the old note's button is tapped
    reply = await rep.click("Back to the deal", old)
    assert reply.messages[-1]["text"] == (
        "That unfinished deal is no longer kept. Open the card's 💼 Deals to add it again."
    )
    await rep.send("-")  # the deal in progress goes on
    assert [(d.amount, d.title) for d in await deals_of(tg)] == [(300_00, "third")]
    reply = await rep.click("Back to the deal", new)
    assert "€900 · second" in reply.messages[-1]["text"]
    await rep.send("-")
    assert [d.title for d in await deals_of(tg)] == ["third", "second"]


# ------------------------------------------------------------ 3. closed: its day; a question
@pytest.mark.parametrize(
    ("language", "closed", "expected"),
    [
        ("en", "Closed on: Wed, 25 Nov 2026", "Expected close"),
        ("ru", "ср, 25 нояб. 2026", "Ожидаемое закрытие"),
    ],
)
async def test_won_or_lost_is_asked_once_more_and_a_closed_deal_shows_its_day(
    tg, clock, language, closed, expected
) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Ivan Petrov, Acme")
    await new_deal(rep)
    await rep.send("1.5k EUR audit")
    await rep.send("31.12")
    clock.advance(days=2)  # Wednesday
    reply = await rep.click("audit")
    assert expected in reply.text
    card_buttons = reply.buttons
    rows = [len(r) for r in reply.last["reply_markup"]["inline_keyboard"]]
    assert rows == [2, 1, 2, 1] and "✏️" in card_buttons[2]
    reply = await rep.click("🏆")
    if language == "en":
        assert reply.text.endswith("Mark this deal as won?")
        assert reply.buttons == ["🏆 Yes, won", "« Back"]
    assert len(reply.buttons) == 2
    [deal] = await deals_of(tg)
    assert deal.status == "open"  # not yet
    assert (await contact(tg, "Ivan Petrov")).status == "lead"
    reply = await rep.click(2)  # « Back
    assert reply.buttons == card_buttons and reply.edited and not reply.messages
    await rep.click("✖️")
    reply = await rep.click("✖️")  # ✖️ Yes, lost
    [deal] = await deals_of(tg)
    assert deal.status == "lost"
    assert closed in reply.text and expected not in reply.text
    assert reply.buttons == ["« Deals" if language == "en" else "« Сделки"]
    # the question's yes once the deal is closed: nothing changes
    anna = await contact(tg, "Ivan Petrov")
    reply = await rep.tap_data(f"dl:won!:{anna.id}:{deal.id}")
    assert reply.answer["text"] in ("Already done.", "Уже отмечено.")
    [deal] = await deals_of(tg)
    assert deal.status == "lost"
    assert (await contact(tg, "Ivan Petrov")).status == "lead"


async def test_won_after_the_question_makes_the_contact_a_client(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ivan Petrov, Acme")
    await new_deal(rep)
    await rep.send("700 USD")
    await rep.send("-")
    await rep.click("$700")
    await rep.click("Won")
    reply = await rep.click("Yes, won")
    assert reply.answer["text"] == "🏆 Won!"
    assert "Closed on: Mon, 23 Nov 2026" in reply.text and "Status: closed won" in reply.text
    assert (await contact(tg, "Ivan Petrov")).status == "client"


# -------------------------------------------------------------------------- 4. ✏️ Title
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_what_a_deal_is_for_can_be_changed_and_cleared(tg, language) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Ivan Petrov, Acme")
    await new_deal(rep)
    await rep.send("5000 EUR pilot")
    await rep.send("-")
    await rep.click("pilot")
    reply = await rep.click("✏️")
    assert "pilot" in reply.text  # what it is now
    if language == "en":
        assert reply.text == (
            "What: pilot\nWhat is the deal for? Send e.g. website redesign, or - for nothing. "
            "/cancel to stop."
        )
    reply = await rep.send("Website   <redesign>")
    assert "Website &lt;redesign&gt;" in reply.html
    [deal] = await deals_of(tg)
    assert deal.title == "Website <redesign>"
    await rep.click("✏️")
    reply = await rep.send("-")
    [deal] = await deals_of(tg)
    assert deal.title == "" and "redesign" not in reply.text
    assert (deal.amount, deal.status) == (5000_00, "open")


async def test_the_new_deal_buttons_are_checked_against_the_scope(tg) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Anna, Acme")
    await new_deal(rep, "Anna")
    await rep.send("100 USD pilot")
    await rep.send("-")
    anna = await contact(tg, "Anna")
    [deal] = await deals_of(tg)
    oleg = await another_rep(tg, manager, 3004, "Oleg")
    for action in ("ttl", "won!", "lost!", "card"):
        reply = await oleg.tap_data(f"dl:{action}:{anna.id}:{deal.id}")
        assert reply.answer["text"] == "Contact not found."
    [deal] = await deals_of(tg)
    assert (deal.title, deal.status) == ("pilot", "open")
