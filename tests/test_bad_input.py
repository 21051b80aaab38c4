"""Bad input, tried as a careless or hostile user would: nothing is saved that shouldn't be."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Contact
from tests.helpers import team_with_rep


async def test_a_command_inside_a_dialogue_leaves_it_and_runs(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Nina Orlova, Acme")
    await rep.click("Open card")
    await rep.click("Edit")
    await rep.click("Name")
    reply = await rep.send("/contacts")
    assert "Contacts: 1" in reply.text  # the command ran
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).name == "Nina Orlova"  # not "/contacts"
    reply = await rep.send("Nina Petrova")  # the dialogue is over: plain text isn't a name
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).name == "Nina Orlova"


async def test_a_command_in_the_add_dialogue_adds_nothing(tg) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add")
    reply = await rep.send("/help")
    assert "/find" in reply.text
    async with tg.app.session_factory() as s:
        assert list(await s.scalars(select(Contact))) == []
    reply = await rep.send("/cancel")
    assert "Nothing to cancel" in reply.text
