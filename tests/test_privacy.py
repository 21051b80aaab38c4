"""Forgetting a person: no personal data left in any table, the anonymous counts kept."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from bot.config import Settings
from storage.models import Base, Contact, Deal, PrivacyLog, Survey, Touch, User
from tests.conftest import ADMIN_ID
from tests.helpers import speak, team_with_rep
from tests.test_deals_chat import add_deal

PHONE = "+79995550123"
SECRETS = [
    "Zinaida",
    "Quartzova",
    "Quasar Ltd",
    "9995550123",
    "zina@quasar.io",
    "zina_q",
    "likes long lunches",
    "vipclient",
    "Called about the pilot budget",
    "Too slow with invoices",
]


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        admin_ids=frozenset({ADMIN_ID}),
        company_name="Acme Consulting",
    )


async def every_text_value(tg) -> list[str]:
    """Every value of every column of every table, as text."""
    values: list[str] = []
    async with tg.app.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in await conn.execute(text(f'SELECT * FROM "{table.name}"')):
                values += [str(v) for v in row if v is not None]
    return values


async def a_client_with_history(tg, emu, clock):
    admin, manager, rep = await team_with_rep(tg)
    client = tg.user(9100, "Zinaida", last_name="Quartzova", username="zina_q")
    await client.send("/start")
    await rep.share_contact(PHONE, "Zinaida", "Quartzova", user_id=9100)
    await rep.send("/find Zinaida")
    await rep.click("Edit")
    await rep.click("Company")
    await rep.send("Quasar Ltd")
    await rep.click("Edit")
    await rep.click("E-mail")
    await rep.send("zina@quasar.io")
    await rep.click("Edit")
    await rep.click("Notes")
    await rep.send("likes long lunches")
    await rep.click("Edit")
    await rep.click("Tags")
    await rep.send("#vipclient")
    await rep.send("/log Zinaida")
    await rep.click("Call")
    await rep.click("Outbound")
    await rep.send("Called about the pilot budget")
    await rep.send("send the proposal")
    await rep.send("tomorrow 10:00")
    await rep.click("Confirm")
    await rep.send("/delivered Zinaida")
    clock.advance(hours=3)
    await tg.app.clockwork.tick()
    await client.click("3")
    await client.send("Too slow with invoices")
    return admin, manager, rep, client


async def test_a_manager_forgets_a_card_and_no_personal_data_is_left(tg, emu, clock) -> None:
    _admin, manager, rep, _client = await a_client_with_history(tg, emu, clock)
    values = await every_text_value(tg)
    assert [s for s in SECRETS if not any(s in v for v in values)] == []  # it was there

    reply = await rep.send("/forget Zinaida")
    assert "manager or an administrator" in reply.text
    reply = await manager.send("/forget Zinaida")
    assert "Forget" in reply.text and "2 touch notes" in reply.text
    assert "1 survey answer" in reply.text and "1 NPS case" in reply.text
    reply = await manager.click("Forget for good")
    assert "Erased" in reply.text
    async with tg.app.session_factory() as s:
        cid = await s.scalar(select(Contact.id))
    reply = await manager.tap_data(f"fg:do:{cid}")  # a second tap erases nothing more
    assert "not found" in (reply.answer or {}).get("text", "")

    leftovers = [s for s in SECRETS if any(s in v for v in await every_text_value(tg))]
    assert leftovers == []
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact))
        assert card.forgotten_at is not None and card.archived_at is not None
        assert await s.scalar(select(func.count(Touch.id))) >= 2  # the counts stay
        survey = await s.scalar(select(Survey))
        assert survey.score == 3 and survey.comment is None
        assert await s.scalar(select(User).where(User.tg_id == 9100)) is None
        [entry] = list(await s.scalars(select(PrivacyLog)))
        assert entry.action == "forget" and entry.actor_id is not None
    reply = await rep.send("/find Zinaida")
    assert "Nothing found" in reply.text


async def test_a_survey_link_after_forget_is_not_called_an_invite(tg, emu, clock) -> None:
    """The client's old survey link said "This invite link is not valid. Ask … the person who
    invited you" — to a client nobody invited."""
    _admin, manager, _rep, client = await a_client_with_history(tg, emu, clock)
    async with tg.app.session_factory() as s:
        token = (await s.scalar(select(Survey))).token
    await manager.send("/forget Zinaida")
    await manager.click("Forget for good")
    reply = await client.send(f"/start {token}")
    assert reply.text.startswith("This link is not valid: it may have been replaced or withdrawn")
    assert "invite" not in reply.text


async def test_a_client_asks_to_be_forgotten(tg, emu, clock) -> None:
    *_, client = await a_client_with_history(tg, emu, clock)
    reply = await client.send("/forget")
    assert "1 contact card" in reply.text
    reply = await client.click("Delete my data")
    assert "Deleted" in reply.text
    leftovers = [s for s in SECRETS if any(s in v for v in await every_text_value(tg))]
    assert leftovers == []
    async with tg.app.session_factory() as s:
        [entry] = list(await s.scalars(select(PrivacyLog)))
        assert entry.action == "self"


async def test_a_forged_forget_button_outside_the_scope_erases_nothing(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Yuri Safe, Acme")
    async with tg.app.session_factory() as s:
        cid = await s.scalar(select(Contact.id))
    other = tg.user(2999, "Mallory")
    await other.send("/start")
    reply = await other.tap_data(f"fg:do:{cid}", manager.last)
    reply = await rep.tap_data(f"fg:do:{cid}", rep.last)
    assert "not found" in (reply.answer or {}).get("text", "")
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).name == "Yuri Safe"


@pytest.mark.parametrize(
    ("language", "deals", "counted", "kept"),
    [
        ("en", 1, "1 deal title", "💼 1 deal keeps only its amount and dates"),
        ("en", 2, "2 deal titles", "💼 2 deals keep only their amounts and dates"),
        ("ru", 1, "1 название сделки", "💼 1 сделка сохранит только сумму и даты"),
        ("ru", 3, "3 названия сделок", "💼 3 сделки сохранят только суммы и даты"),
        ("ru", 5, "5 названий сделок", "💼 5 сделок сохранят только суммы и даты"),
    ],
)
async def test_the_forget_preview_counts_the_deals_and_forget_erases_their_titles(
    tg, language, deals, counted, kept
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Zinaida Quartzova, Quasar Ltd")
    for n in range(deals):
        await add_deal(rep, "Zinaida", f"{n + 1}000 RUB secret merger {n}")
    await speak(manager, language)
    reply = await manager.send("/forget Zinaida")
    assert counted in reply.text and kept in reply.text
    reply = await manager.click("🗑")
    async with tg.app.session_factory() as s:
        found = list(await s.scalars(select(Deal).order_by(Deal.id)))
        [entry] = list(await s.scalars(select(PrivacyLog)))
    assert [(d.title, d.amount) for d in found] == [("", (n + 1) * 100000) for n in range(deals)]
    assert f'"deals": {deals}' in entry.counts
    leftovers = [v for v in await every_text_value(tg) if "secret merger" in v]
    assert leftovers == []


async def test_forgetting_a_card_with_nothing_written_says_nothing_odd(tg) -> None:
    """ "…notes and tags, and the texts of no notes or answers": with no texts, none named."""
    from tests.helpers import team_with_rep

    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Gleb Gone, Acme")
    reply = await manager.send("/forget Gleb")
    assert "notes and tags. Survey links stop working" in reply.text
    assert "no notes or answers" not in reply.text


async def test_an_erased_card_takes_nothing_more_from_old_buttons_or_a_kept_dialogue(tg) -> None:
    """The forget screen promises nothing more is planned: the card's old buttons (Log touch,
    Next step, Edit, Archive) and a "↩️ Back to the next step" from before the erasure wrote a
    touch, a step and its reminder to card #N."""
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Boris Elkin, Acme")
    await rep.send("/log Boris")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("talked")
    await rep.send("call back about the contract")
    found = await rep.send("/find Boris")  # ✋ … not saved, ↩️ Back; then the card
    back, card = found.messages[0], found.messages[-1]
    assert "Back to the next step" in str(back) and "Log touch" in str(card)
    await manager.send("/forget Boris")
    assert "Erased" in (await manager.click("Forget for good")).text
    async with tg.app.session_factory() as session:
        touches = await session.scalar(select(func.count(Touch.id)))
        contact = await session.scalar(select(Contact))
    for label in ("Log touch", "Next step", "Edit", "Archive"):
        reply = await rep.click(label, card)
        assert "erased" in reply.text and "nothing more can be added" in reply.text, label
    reply = await rep.click("Back to the next step", back)
    if "When?" in reply.text:  # the dialogue may ask again; what is typed must not land
        reply = await rep.send("tomorrow 11:00")
        if reply.buttons:
            reply = await rep.click("Confirm")
    assert "Next step saved" not in reply.text and "no longer kept" in reply.text
    async with tg.app.session_factory() as session:
        assert await session.scalar(select(func.count(Touch.id))) == touches
        after = await session.scalar(select(Contact).where(Contact.id == contact.id))
        assert after.next_step is None and after.next_step_due is None
        assert after.archived_at is not None and after.name == f"#{contact.id}"


async def test_forget_finds_an_archived_card(tg) -> None:
    """ "/forget Boris" for an archived card said "Nothing found" (and "/forget -a Boris" too):
    an archived card holds personal data as much as a live one."""
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Boris Elkin, Acme")
    await rep.send("/find Boris")
    await rep.click("Archive")
    for typed in ("/forget Boris", "/forget -a Boris"):
        reply = await manager.send(typed)
        assert "Forget Boris Elkin?" in reply.text, typed
    assert "Erased" in (await manager.click("Forget for good")).text
