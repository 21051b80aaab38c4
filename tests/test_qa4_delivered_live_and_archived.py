"""/delivered looked at live cards only and took a guess: with Ivan Petrov archived and Ivan
Petrenko live, "/delivered Ivan Petrov" offered "Did you mean Ivan Petrenko?" (the archived card
named exactly was not offered) and "/delivered Ivan" logged the delivery on Petrenko at once,
planning his survey; "/delivered Петров" logged it on Анна Петрова without a tap. Live and
archived cards are now searched together, the card named exactly first; the delivery is logged
at once only for the one live card the words name, nothing else matching."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Contact, Survey, Touch
from tests.helpers import team_with_rep


async def archived_card(rep, name: str, company: str) -> None:
    await rep.send(f"/add {name}, {company}")
    await rep.send(f"/find {name}")
    await rep.click("🗄")  # 🗄 Archive


async def deliveries(tg) -> dict[str, int]:
    """Service touches by card name, and the surveys planned."""
    async with tg.app.session_factory() as s:
        rows = await s.execute(
            select(Contact.name, func.count(Touch.id))
            .join(Touch, Touch.contact_id == Contact.id)
            .where(Touch.type == "service")
            .group_by(Contact.name)
        )
        found = {name: n for name, n in rows}
        found["surveys"] = await s.scalar(select(func.count(Survey.id)))
    return found


async def test_an_archived_card_named_exactly_is_offered_not_a_live_look_alike(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await archived_card(rep, "Ivan Petrov", "Acme")
    await rep.send("/add Ivan Petrenko, Beta")
    reply = await rep.send("/delivered Ivan Petrov")
    assert "Ivan Petrenko" not in reply.text
    assert "🗄 Ivan Petrov is archived" in reply.text
    assert reply.buttons == ["🤝 Service delivered", "Restore"]
    assert await deliveries(tg) == {"surveys": 0}


async def test_a_query_matching_a_live_and_an_archived_card_asks_which_one(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await archived_card(rep, "Ivan Petrov", "Acme")
    await rep.send("/add Ivan Petrenko, Beta")
    reply = await rep.send("/delivered Ivan")
    assert "Service delivered" not in reply.text
    assert reply.text.startswith("Which one?") and "🗄 — archived" in reply.text
    assert sorted(reply.buttons) == ["Ivan Petrenko · Beta", "🗄 Ivan Petrov · Acme"]
    assert await deliveries(tg) == {"surveys": 0}  # nothing is taken on a guess
    reply = await rep.click("Ivan Petrenko")
    assert "Service delivered to Ivan Petrenko is logged" in reply.text
    assert await deliveries(tg) == {"Ivan Petrenko": 1, "surveys": 1}
    # the live card's full name, nothing else matching: logged at once, as before
    reply = await rep.send("/delivered Ivan Petrenko")
    assert "Service delivered to Ivan Petrenko is logged" in reply.text
    assert await deliveries(tg) == {"Ivan Petrenko": 2, "surveys": 1}


async def test_the_card_named_exactly_comes_first_archived_or_not(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await archived_card(rep, "Ann Lee", "Acme")
    await rep.send("/add Ann Leeds, Beta")
    reply = await rep.send("/delivered Ann Lee")
    assert reply.text.startswith("Which one?")
    assert reply.buttons == ["🗄 Ann Lee · Acme", "Ann Leeds · Beta"]
    assert await deliveries(tg) == {"surveys": 0}


async def test_part_of_a_word_is_confirmed_with_a_tap(tg) -> None:
    """ "Петров" is not "Петрова": asked, never logged on a guess."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Анна Петрова, Бета")
    reply = await rep.send("/delivered Петров")
    assert reply.text == "Did you mean Анна Петрова?"
    assert reply.buttons == ["Анна Петрова · Бета"]
    assert await deliveries(tg) == {"surveys": 0}
    reply = await rep.send("/delivered Анна")  # her name, a whole word: no question
    assert "Service delivered to Анна Петрова is logged" in reply.text
