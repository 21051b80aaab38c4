"""Daily use, polished (issue 14): tappable contact details, a readable timeline, archived cards
out of the way, a client after the service, /contacts filters, wording and the client's side."""

from __future__ import annotations

import pytest

from tests.helpers import team_with_rep


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_card_phone_email_and_telegram_are_tappable(tg, language) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Anna Smirnova, Acme, 8 999 123-45-67, anna&co@acme.io, @anna_s")
    reply = await rep.send("/find Anna")
    # the phone in international format (Telegram makes it a link), e-mail and username links
    assert "+7 999 123-45-67" in reply.text
    assert '<a href="mailto:anna&amp;co@acme.io">anna&amp;co@acme.io</a>' in reply.html
    assert '<a href="https://t.me/anna_s">@anna_s</a>' in reply.html
    assert "+79991234567" not in reply.text
