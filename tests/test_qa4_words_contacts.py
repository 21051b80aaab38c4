"""QA round 4, /contacts' typed words: words for one thing were silently dropped or changed
("overdue cold": cold became the source "cold outreach"; "lead client": client only;
"partner partner": two "partner"s in the title, which is which?); "партнер" (е for ё), plurals
("клиенты", "leads") unknown; "segment foo lead" swallowed "lead" into the segment."""

from __future__ import annotations

import pytest

from tests.helpers import speak, team_with_rep

CSV = (
    "name,company,segment,status,stage,source,tags\n"
    "Quinn Vip,Q,retail,lead,connection,event,vip\n"
    "Ruth Vip,R,fintech,client,identification,partner,vip\n"
    "Pat Partner,P,retail,partner,connection,partner,\n"
    "Tina Lead,T,,lead,development,digital,\n"
)


async def rep_with_cards(tg, language: str = "en"):  # noqa: ANN001, ANN201
    *_, rep = await team_with_rep(tg)
    if language != "en":
        await speak(rep, language)
    await rep.send_document("cards.csv", CSV.encode())
    reply = await rep.click(1)  # Import
    assert "4 new" in reply.text or "4 нов" in reply.text, reply.text
    return rep


def listed(reply) -> list[str]:  # noqa: ANN001
    return sorted(b.split(" · ")[0] for b in reply.buttons if " · " in b)


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("overdue cold", "One list at a time: “overdue” or “cold”."),
        ("archived overdue", "One list at a time: “archived” or “overdue”."),
        ("lead client", "One status at a time: “lead” or “client”."),
        ("#vip #event", "One tag at a time: “#vip” or “#event”."),
    ],
)
async def test_two_words_for_one_thing_are_refused_naming_them(tg, typed, answer) -> None:
    rep = await rep_with_cards(tg)
    reply = await rep.send(f"/contacts {typed}")
    assert reply.text == answer, reply.text
    assert not listed(reply)


async def test_two_lists_in_russian_are_refused_too(tg) -> None:
    rep = await rep_with_cards(tg, "ru")
    reply = await rep.send("/contacts просрочено остывают")
    assert "просрочено" in reply.text and "остывают" in reply.text, reply.text
    assert "Контакты" not in reply.text and "Contacts" not in reply.text


@pytest.mark.parametrize(
    ("typed", "title", "names"),
    [
        ("partner partner", "Contacts: 1 · status: partner · source: partner", ["Pat Partner"]),
        ("partner", "Contacts: 1 · status: partner ·", ["Pat Partner"]),
        ("client partner", "Contacts: 1 · client · source: partner", ["Ruth Vip"]),
        ("partner client", "Contacts: 1 · client · source: partner", ["Ruth Vip"]),
        ("cold", "Contacts: 0 · going cold", []),
        ("cold outreach", "Contacts: 0 · cold outreach", []),
    ],
)
async def test_a_word_of_two_meanings_is_resolved_and_named(tg, typed, title, names) -> None:
    rep = await rep_with_cards(tg)
    reply = await rep.send(f"/contacts {typed}")
    assert title in reply.text, reply.text
    assert listed(reply) == names


@pytest.mark.parametrize(
    ("typed", "title", "names"),
    [
        ("партнер", "status: partner", ["Pat Partner"]),
        ("клиенты", "Contacts: 1 · client", ["Ruth Vip"]),
        ("лиды", "Contacts: 2 · lead", ["Quinn Vip", "Tina Lead"]),
        ("соцсети", "Contacts: 1 · digital/social", ["Tina Lead"]),
        ("clients", "Contacts: 1 · client", ["Ruth Vip"]),
        ("leads", "Contacts: 2 · lead", ["Quinn Vip", "Tina Lead"]),
        ("партнеры партнеры", "source: partner", ["Pat Partner"]),
    ],
)
async def test_plurals_and_e_for_yo_are_understood(tg, typed, title, names) -> None:
    rep = await rep_with_cards(tg)
    reply = await rep.send(f"/contacts {typed}")
    assert title in reply.text, reply.text
    assert listed(reply) == names


async def test_a_segments_name_stops_at_a_filter_word_and_an_unknown_one_is_said(tg) -> None:
    rep = await rep_with_cards(tg)
    reply = await rep.send("/contacts segment retail lead")
    assert "Contacts: 1 · lead · segment “retail”" in reply.text, reply.text
    reply = await rep.send("/contacts segment foo lead")
    assert reply.text.startswith("No card has the segment “foo”."), reply.text
    assert "“retail”" in reply.text and "“fintech”" in reply.text
    assert not listed(reply)
    reply = await rep.send("/contacts segment “foo lead”")
    assert reply.text.startswith("No card has the segment “foo lead”."), reply.text
