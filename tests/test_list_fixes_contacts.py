"""/contacts as a QA round found it: a page past the end ("page 2 of 1", empty); filters that
did not combine (a tag dropped by a status), typed words the buttons have that were not
understood ("archived", "просрочено"), a help in codes, a tag shown like a status; a choice of
values titled "Choose:"; the stage picker not marking the card's stage."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Contact
from tests.helpers import speak, team_with_rep

CSV = (
    "name,company,segment,status,stage,tags\n"
    "Quinn Vip,Q,retail,lead,connection,vip\n"
    "Ruth Vip,R,fintech,contact,identification,vip;event\n"
    "Sam Lead,S,retail,lead,connection,\n"
    "Tina Lead,T,,lead,development,\n"
)


async def rep_with_cards(tg, language: str = "en"):  # noqa: ANN001, ANN201
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send_document("cards.csv", CSV.encode())
    reply = await rep.click(1)  # Import
    assert "4 new" in reply.text or "4 нов" in reply.text, reply.text
    return rep


def listed(reply) -> list[str]:  # noqa: ANN001
    return sorted(b.split(" · ")[0] for b in reply.buttons if " · " in b)


async def test_an_old_page_button_past_the_end_shows_the_last_page(tg) -> None:
    *_, rep = await team_with_rep(tg)
    names = [f"Anna{n} Test" for n in range(9)]
    csv = "name,company\n" + "".join(f"{n},Acme\n" for n in names)
    await rep.send_document("nine.csv", csv.encode())
    await rep.click(1)
    first = (await rep.send("/contacts")).last
    reply = await rep.tap_data("cl:99:", first)  # a forged page
    assert "Contacts: 9 · page 2 of 2" in reply.text and "page 100" not in reply.text
    second = (await rep.send("/contacts")).last
    second = (await rep.click("»", second)).last
    assert "page 2 of 2" in (second or {}).get("text", "")
    async with tg.app.session_factory() as s:
        card = await s.scalar(select(Contact).where(Contact.name == "Anna0 Test"))
    await rep.tap_data(f"cc:arch:{card.id}:", rep.last_with_buttons())  # one card fewer
    reply = await rep.tap_data("cl:1:", second)  # the old page's own button, again
    assert "Contacts: 8 · page 1 of 1" in reply.text, reply.text
    assert len(listed(reply)) == 8


async def test_filters_combine_from_the_menu_and_name_their_field(tg) -> None:
    rep = await rep_with_cards(tg)
    reply = await rep.send("/contacts #vip")
    assert "Contacts: 2 · #vip ·" in reply.text  # a tag reads as a tag, not as a status
    reply = await rep.click("🔎")
    assert {"Tags: #vip", "Segment"} <= set(reply.buttons), reply.buttons
    reply = await rep.click("Status")
    assert reply.text.startswith("Status:") and "Choose:" not in reply.text
    reply = await rep.click("lead")
    assert "Contacts: 1 · lead · #vip" in reply.text and listed(reply) == ["Quinn Vip"]
    await rep.click("🔎")
    reply = await rep.click("Status: lead")
    assert "• lead" in reply.buttons  # the value the filter has now
    reply = await rep.click("Any")
    assert "Contacts: 2 · #vip" in reply.text
    await rep.click("🔎")
    reply = await rep.click("Tags: #vip")
    assert reply.text.startswith("Tags:") and "• #vip" in reply.buttons
    reply = await rep.click("Any")
    assert listed(reply) == ["Quinn Vip", "Ruth Vip", "Sam Lead", "Tina Lead"]
    await rep.click("🔎")
    reply = await rep.click("Segment")
    assert reply.text.startswith("Segment:") and {"retail", "fintech"} <= set(reply.buttons)
    reply = await rep.click("retail")
    assert "segment “retail”" in reply.text and listed(reply) == ["Quinn Vip", "Sam Lead"]
    await rep.click("🔎")
    reply = await rep.click("Stage")
    assert reply.text.startswith("Stage:")
    reply = await rep.click("connection")
    assert "connection · segment “retail”" in reply.text
    reply = await rep.click("🕓")  # the order keeps the filter too
    assert "connection · segment “retail” · by last touch" in reply.text
    await rep.click("🔎")
    reply = await rep.click("All")
    assert "Contacts: 4 ·" in reply.text
    reply = await rep.tap_data("cl:0:status=lead", rep.last_with_buttons())  # an older button
    assert "Contacts: 3 · lead" in reply.text


@pytest.mark.parametrize(
    ("typed", "title", "names"),
    [
        ("lead connection", "Contacts: 2 · lead · connection", ["Quinn Vip", "Sam Lead"]),
        ("#vip lead", "Contacts: 1 · lead · #vip", ["Quinn Vip"]),
        ("лид установление связи", "Contacts: 2 · lead · connection", ["Quinn Vip", "Sam Lead"]),
        ("segment Retail lead", "Contacts: 2 · lead · segment “retail”", ["Quinn Vip", "Sam Lead"]),
        ("archived", "Contacts: 0 · archived", []),
        ("архив", "Contacts: 0 · archived", []),
        ("просрочено", "Contacts: 0 · overdue", []),
        ("остывают", "Contacts: 0 · going cold", []),
        ("due today", "Contacts: 0 · due today", []),
    ],
)
async def test_every_filter_can_be_typed_and_combined(tg, typed, title, names) -> None:
    rep = await rep_with_cards(tg)
    reply = await rep.send(f"/contacts {typed}")
    assert title in reply.text, reply.text
    assert listed(reply) == names


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["contact, lead, client", "overdue", "going cold", "archived", "#tag"]),
        ("ru", ["контакт, лид, клиент", "просрочено", "остывают", "в архиве"]),
    ],
)
async def test_the_help_lists_the_words_in_the_users_language(tg, language, words) -> None:
    *_, rep = await team_with_rep(tg)
    await speak(rep, language)
    reply = await rep.send("/contacts xyz")
    assert all(w in reply.text for w in words), reply.text
    assert "код статуса" not in reply.text and "status code" not in reply.text
    assert "xyz" in reply.text
    if language == "ru":
        assert "lead" not in reply.text.replace("/contacts", "")


async def test_a_forged_owner_is_left_out_unnamed(tg) -> None:
    rep = await rep_with_cards(tg)
    for data in ("cl:0:owner=1", "cl:0:u1"):  # the admin's id, not in a rep's scope
        listing = (await rep.send("/contacts #vip")).last
        reply = await rep.tap_data(data, listing)
        assert "owner" not in reply.text and "Ada" not in reply.text, reply.text
        assert "Contacts: 4" in reply.text


async def test_the_stage_and_status_pickers_mark_the_cards_value(tg) -> None:
    rep = await rep_with_cards(tg)
    await rep.send("/find Quinn")
    reply = await rep.click("Stage")
    assert "• connection" in reply.buttons and "• identification" not in reply.buttons
    await rep.click("« Back")
    reply = await rep.click("Status")
    assert "• lead" in reply.buttons


def test_the_short_form_round_trips_and_keeps_within_64_bytes() -> None:
    from core.listfilter import ContactFilter, pack, screen, unpack
    from views.contact_list import fits

    full = ContactFilter(
        status="partner",
        stage="identification",
        source="inbound",
        tag="vip-клиенты",
        segment="retail: food",
        flag="overdue",
        owner_id=2**31 - 1,
        by_touch=True,
    )
    assert unpack(pack(full)) == full
    assert screen("?" + pack(full)) == ("menu", None, full)
    assert screen("=#" + pack(full)) == ("pick", "tag", full)
    assert not fits(full)  # ":" cannot travel in callback data
    shorter = full.with_value("segment", "retail food")
    assert fits(shorter) and not fits(shorter.with_value("tag", "я" * 20))
