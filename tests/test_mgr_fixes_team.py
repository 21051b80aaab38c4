"""/team name: a name longer than a team's may be is saved cut, and said to be (as a card's)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Team
from tests.helpers import team_with_rep


@pytest.mark.parametrize("typed", [False, True])
async def test_a_long_team_name_is_said_to_be_cut(tg, typed: bool) -> None:
    _admin, manager, _rep = await team_with_rep(tg)
    long = "Sales " + "x" * 300
    if typed:  # /team name, then the name on its own
        await manager.send("/team name")
        reply = await manager.send(long)
    else:
        reply = await manager.send(f"/team name {long}")
    assert reply.text.startswith(
        "✂️ Team name was longer than 128 characters: saved cut to fit.\n"
        "✅ The team is now called “Sales xxx"
    ), reply.text
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(Team.name)) == long[:128]
    reply = await manager.send("/team name South")
    assert reply.text == "✅ The team is now called “South”."
