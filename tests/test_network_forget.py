"""/forget reaches the stored network findings at once (issue 15): the card's nodes, links and
findings go, and its company name leaves the accounts and cluster labels that carried it."""

from __future__ import annotations

from sqlalchemy import select, text

from bot.emulator.client import plain
from storage.models import Contact, NetworkFinding, NetworkNode
from tests.helpers import team_with_rep
from tests.test_network_chat import seed_network


async def network_texts(tg) -> str:
    """Every finding's data and every node's links, as stored."""
    async with tg.app.engine.connect() as conn:
        rows = await conn.execute(text("SELECT data FROM network_findings"))
        links = await conn.execute(text("SELECT contact_id, links FROM network_nodes"))
        return "\n".join([r[0] for r in rows] + [f"{c} {lk}" for c, lk in links])


async def test_forget_removes_the_card_and_its_company_from_the_findings_at_once(tg, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    ids = await seed_network(tg, rep.id, clock.now())
    reply = await manager.send("/network")
    assert "Delta Corp — missing" in plain(reply.text) and "Boris Broker" in plain(reply.text)
    assert "Delta Corp" in await network_texts(tg)
    async with tg.app.session_factory() as s:
        delta = await s.scalar(select(Contact.id).where(Contact.name == "Delta initiator"))
        assert await s.scalar(select(NetworkFinding).where(NetworkFinding.contact_id == delta))
    for name in ("Delta initiator", "Boris Broker"):
        await manager.send(f"/forget {name}")
        await manager.click("Forget for good")
    # the stored results, read again (no new run): neither the broker nor the account is there
    reply = await manager.send("/network")
    text = plain(reply.text)
    assert "Analysing" not in text
    assert "Delta Corp" not in text and "Boris" not in text
    stored = await network_texts(tg)
    assert "Delta Corp" not in stored
    broker = ids["broker"]
    async with tg.app.session_factory() as s:
        for cid in (delta, broker):
            assert await s.scalar(select(NetworkNode).where(NetworkNode.contact_id == cid)) is None
            assert (
                await s.scalar(select(NetworkFinding).where(NetworkFinding.contact_id == cid))
                is None
            )
        for links in await s.scalars(select(NetworkNode.links)):
            assert all(
                part.split(":")[0] not in {str(delta), str(broker)} for part in links.split(";")
            )
    # the people Boris introduced are still there, without the link to him
    reply = await rep.send("/intro Beta")
    assert "Boris" not in plain(reply.text)
