"""/delivered for a card that is archived: "/delivered Ann" answered "Nothing found for “Ann”."
while /find -a showed her card. A rep often archives a card once the job is done, so the archived
card is offered (with a tap, never on a guess) and the delivery works on it; an erased card
(/forget) stays out entirely."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import Contact, Survey, Touch
from tests.helpers import team_with_rep


async def archived_card(rep, name: str) -> None:
    await rep.send(f"/add {name}, Acme")
    await rep.send(f"/find {name}")
    await rep.click("🗄")  # 🗄 Archive / 🗄 В архив


async def service_touches(tg, name: str) -> int:
    async with tg.app.session_factory() as s:
        return await s.scalar(
            select(func.count(Touch.id))
            .join(Contact, Contact.id == Touch.contact_id)
            .where(Contact.name == name, Touch.type == "service")
        )


@pytest.mark.parametrize(
    ("language", "deliver", "restore", "logged"),
    [
        ("en", "🤝 Service delivered", "Restore", "Service delivered to Ann Smith is logged"),
        ("ru", "🤝 Услуга оказана", "Восстановить", "Оказание услуги записано: Ann Smith"),
    ],
)
async def test_delivered_offers_the_archived_card_and_delivers_on_it(
    tg, language, deliver, restore, logged
) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await archived_card(rep, "Ann Smith")
    reply = await rep.send("/delivered Ann")
    assert "Nothing found" not in reply.text and "ничего не найдено" not in reply.text
    assert "Ann Smith" in reply.text and "🗄" in reply.text
    assert reply.buttons == [deliver, restore]
    offer = rep.last_with_buttons()
    assert await service_touches(tg, "Ann Smith") == 0  # nothing is taken on a guess
    reply = await rep.click(deliver, offer)
    assert logged in reply.text
    assert await service_touches(tg, "Ann Smith") == 1
    async with tg.app.session_factory() as s:
        ann = await s.scalar(select(Contact).where(Contact.name == "Ann Smith"))
        assert ann.archived_at is not None  # delivered, and still in the archive
        assert await s.scalar(select(func.count(Survey.id))) == 1
    await rep.click(deliver, offer)  # the same button again: nothing new
    assert await service_touches(tg, "Ann Smith") == 1
    # Restore, from the same answer: the card is back, shown with its buttons
    reply = await rep.click(restore, offer)
    async with tg.app.session_factory() as s:
        ann = await s.scalar(select(Contact).where(Contact.name == "Ann Smith"))
        assert ann.archived_at is None
    assert deliver in reply.buttons


async def test_several_archived_cards_are_listed_as_archived(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await archived_card(rep, "Ann Smith")
    await archived_card(rep, "Ann Jones")
    reply = await rep.send("/delivered Ann")
    assert "Only archived cards match “Ann”" in reply.text
    assert sorted(reply.buttons) == ["🗄 Ann Jones · Acme", "🗄 Ann Smith · Acme"]
    reply = await rep.click("Ann Jones")
    assert "Service delivered to Ann Jones is logged" in reply.text
    assert (await service_touches(tg, "Ann Jones"), await service_touches(tg, "Ann Smith")) == (
        1,
        0,
    )


async def test_a_live_card_is_still_taken_first(tg) -> None:
    """Archived cards are only offered when no live one matches: "/delivered Ann" with a live Ann
    goes on as before (the archive is out of the way)."""
    *_, rep = await team_with_rep(tg)
    await archived_card(rep, "Ann Smith")
    await rep.send("/add Ann Lee, Beta")
    reply = await rep.send("/delivered Ann Lee")
    assert "Service delivered to Ann Lee is logged" in reply.text
    assert "🗄" not in reply.text


async def test_an_erased_card_is_not_offered(tg) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await archived_card(rep, "Boris Elkin")
    await manager.send("/forget Boris")
    assert "Erased" in (await manager.click("Forget for good")).text
    reply = await rep.send("/delivered Boris")
    assert "Nothing found for “Boris”." in reply.text
    assert reply.buttons == []
    reply = await manager.send("/delivered Boris")
    assert "Nothing found for “Boris”." in reply.text
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Touch.id)).where(Touch.type == "service")) == 0
