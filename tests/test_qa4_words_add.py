"""QA round 4: /add with the extension after a comma ("+1 212 555 0101, ext. 12") saved
"Peter — Acme, ext. 12" (the extension as the position) and the phone without it."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Contact
from tests.helpers import team_with_rep


async def test_an_extension_after_a_comma_is_the_phones(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    reply = await rep.send("/add Peter, Acme, +1 212 555 0101, ext. 12")
    assert "Saved: Peter — Acme" in reply.text and "ext. 12" not in reply.text, reply.text
    reply = await rep.click("Open card")
    assert "+1 212-555-0101 ext. 12" in reply.text, reply.text
    reply = await rep.send("/add Petr, +7 495 123 45 67, доб. 55")
    assert "Saved: Petr" in reply.text and "доб" not in reply.text, reply.text
    async with tg.app.session_factory() as session:
        cards = {c.name: c for c in await session.scalars(select(Contact))}
    assert (cards["Peter"].phone, cards["Peter"].position) == ("+12125550101;ext=12", None)
    assert (cards["Petr"].phone, cards["Petr"].company) == ("+74951234567;ext=55", None)
