"""/today's sections count all of their cards (they stopped at 50: "Overdue (50)", "…and 40
more" while /contacts overdue said 60) and open the whole list in /contacts."""

from __future__ import annotations

import pytest

from tests.helpers import team_with_rep

HEAD = "name,company,stage,next_step,next_step_due,created_at\n"


def rows(prefix: str, count: int, due: str = "", stage: str = "development") -> str:
    step = "call back" if due else ""
    return "".join(
        f"{prefix}{n:02} Person,Acme,{stage},{step},{due},2026-09-01\n" for n in range(count)
    )


async def test_today_counts_every_card_and_opens_the_whole_list(tg) -> None:
    *_, rep = await team_with_rep(tg)
    csv = HEAD + rows("Late", 60, "2026-11-02 10:00") + rows("Soon", 12, "2026-11-23 20:00")
    csv += rows("Quiet", 55, stage="connection")  # quiet since September: going cold
    await rep.send_document("many.csv", csv.encode())
    reply = await rep.click("Import")
    assert "127 new" in reply.text, reply.text

    day = await rep.send("/today")
    assert "🔴 Overdue</b> (60)" in day.html, day.text
    assert "…and 50 more" in day.text and "…and 40 more" not in day.text
    assert "📅 Due today</b> (12)" in day.html and "…and 2 more" in day.text
    assert "🥶 Going cold</b> (55)" in day.html and "…and 45 more" in day.text
    assert "🔴 Show all 60" in day.buttons and "📅 Show all 12" in day.buttons
    assert "🥶 Show all 55" in day.buttons

    reply = await rep.click("🔴 Show all 60", day.last)
    assert "Contacts: 60 · overdue · page 1 of 8" in reply.text
    assert not reply.edited  # the day stays; the list comes under it
    reply = await rep.click("📅 Show all 12", day.last)
    assert "Contacts: 12 · due today · page 1 of 2" in reply.text
    reply = await rep.click("🥶 Show all 55", day.last)
    assert "Contacts: 55 · going cold · page 1 of 7" in reply.text
    reply = await rep.send("/contacts overdue")
    assert "Contacts: 60 · overdue" in reply.text


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_short_day_has_no_show_all_button(tg, language) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send_document("few.csv", (HEAD + rows("Late", 3, "2026-11-02 10:00")).encode())
    await rep.click(1)  # Import
    day = await rep.send("/today")
    assert "(3)" in day.text and "…" not in day.text.replace("Late", "")
    assert len(day.buttons) == 3  # the three cards, nothing more to show


async def test_a_managers_show_all_is_their_own_cards(tg) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send_document("rep.csv", (HEAD + rows("Rep", 5, "2026-11-02 10:00")).encode())
    await rep.click(1)
    await manager.send_document("mine.csv", (HEAD + rows("Mine", 11, "2026-11-02 10:00")).encode())
    await manager.click(1)
    day = await manager.send("/today")
    assert "🔴 Overdue</b> (11)" in day.html and "…and 1 more" in day.text
    reply = await manager.click("Show all 11", day.last)
    # /contacts is the team's for a manager: the day's list is their own
    assert "Contacts: 11 · overdue · owner Maria · page 1 of 2" in reply.text
