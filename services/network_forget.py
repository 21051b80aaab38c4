"""/forget reaches the stored network findings at once, not at the next weekly run: the erased
cards' nodes and their findings go, the links to them are cut, and their company name leaves
every finding that carries it (an account's, a cluster's label) — the next run names them again
from the cards that still hold it."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.network_data import norm_key
from storage.models import Contact, NetworkFinding, NetworkNode


def _cut(links: str, ids: set[str]) -> str:
    """``links`` ("<contact id>:<kind>:<weight>;…") without those to ``ids``."""
    return ";".join(part for part in links.split(";") if part and part.split(":", 1)[0] not in ids)


async def forget_in_network(session: AsyncSession, cards: Iterable[Contact]) -> None:
    """Inside the erasing write block, before the cards' fields are cleared."""
    cards = list(cards)
    if not cards:
        return
    ids = [c.id for c in cards]
    companies = {key for c in cards if (key := norm_key(c.company))}
    runs = set(
        await session.scalars(
            select(NetworkNode.run_id).where(NetworkNode.contact_id.in_(ids)).distinct()
        )
    )
    await session.execute(delete(NetworkNode).where(NetworkNode.contact_id.in_(ids)))
    await session.execute(delete(NetworkFinding).where(NetworkFinding.contact_id.in_(ids)))
    if runs:
        named = set(map(str, ids))
        mentions = or_(
            *(NetworkNode.links.like(f"{cid}:%") for cid in ids),
            *(NetworkNode.links.like(f"%;{cid}:%") for cid in ids),
        )
        for node in await session.scalars(
            select(NetworkNode).where(NetworkNode.run_id.in_(runs), mentions)
        ):
            node.links = _cut(node.links, named)
    for finding in await session.scalars(
        select(NetworkFinding).where(NetworkFinding.kind.in_(["account", "cluster"]))
    ):
        data = json.loads(finding.data or "{}")
        if finding.kind == "account":
            if norm_key(data.get("company")) in companies:
                await session.delete(finding)
                continue
            moved = [cid for cid in data.get("moved", []) if cid not in ids]
            if moved != data.get("moved", []):
                data["moved"] = moved
                finding.data = json.dumps(data, ensure_ascii=False)
        elif data.get("kind") == "company" and norm_key(data.get("label")) in companies:
            data["kind"], data["label"] = None, None  # "a group of N people" from now on
            finding.data = json.dumps(data, ensure_ascii=False)
