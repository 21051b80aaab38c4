"""Network intelligence: load plain rows, run core.network's analysis, store and read results.

A run belongs to a scope: a team ("t<id>"), a rep without a team ("r<id>") or everyone ("all").
It is written in short write transactions (nodes, edges, findings in batches) as ``building`` and
becomes visible in one last step (``ready``), which also drops the scope's older runs. A rep in a
team reads the team's run, filtered to their own contacts. No aiogram here.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import network as net
from core.roles import Role
from services import search
from services.network_compute import (
    DATA_CHECK,
    FRESH_FOR,
    MAX_HOPS,
    PICTURE_NODES,
    NetScope,
    _chunks,
    compute,
    load_input,
    parse_links,
    scope_for,
    scopes_to_refresh,
    store,
)
from services.scope import Scope
from storage.inline_sqlite import offload
from storage.models import (
    Contact,
    ContactEvent,
    NetworkFinding,
    NetworkNode,
    NetworkRun,
    Team,
    User,
)
from storage.uow import transactional

log = logging.getLogger(__name__)

__all__ = [
    "NetScope",
    "compute",
    "scope_for",
    "scopes_to_refresh",
    "load_input",
    "store",
    "parse_links",
]


# ------------------------------------------------------------------------------------ reading
async def latest_run(session: AsyncSession, scope: NetScope) -> NetworkRun | None:
    return await session.scalar(
        select(NetworkRun)
        .where(NetworkRun.scope == scope.key, NetworkRun.status == "ready")
        .order_by(NetworkRun.computed_at.desc(), NetworkRun.id.desc())
        .limit(1)
    )


def is_fresh(run: NetworkRun | None, now: datetime) -> bool:
    return run is not None and now - run.computed_at < FRESH_FOR


REFRESH_AFTER = timedelta(hours=1)  # a team's run older than this is renewed if cards changed


async def needs_run(
    session: AsyncSession, run: NetworkRun | None, scope: NetScope, now: datetime
) -> bool:
    """Whether /network and /intro analyse the scope again before answering: with no run or a
    week-old one; and for a team or a rep, once the run is an hour old, when a card of the scope
    changed or was touched since (who introduced whom just recorded showed no effect for a
    week). Everyone's network is renewed by the weekly job only (up to minutes at 100,000)."""
    if not is_fresh(run, now):
        return True
    assert run is not None
    if now - run.computed_at < REFRESH_AFTER or (scope.team_id is None and scope.rep_id is None):
        return False
    since = run.computed_at
    changed = await session.scalar(
        select(Contact.id)
        .where(scope.contacts(), or_(Contact.updated_at > since, Contact.last_touch_at > since))
        .limit(1)
    )
    return changed is not None


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    company: str | None
    owner: str | None = None  # the rep's display name


@dataclass(frozen=True)
class Finding:
    kind: str
    person: Person | None
    score: float
    data: dict[str, Any]


@dataclass
class Overview:
    computed_at: datetime
    contacts: int
    edges: int | None  # None for a rep: the team's count of links is not theirs to see
    clusters: dict[int, dict[str, Any]]
    brokers: list[Finding] = field(default_factory=list)
    strong: list[Finding] = field(default_factory=list)
    dormant: list[Finding] = field(default_factory=list)
    accounts: list[Finding] = field(default_factory=list)
    patterns: list[Finding] = field(default_factory=list)
    reps: dict[int, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.brokers or self.dormant or self.accounts or self.patterns or self.strong)


async def _people(session: AsyncSession, ids: Iterable[int]) -> dict[int, Person]:
    wanted = sorted(set(ids))
    out: dict[int, Person] = {}
    for chunk in _chunks(wanted):
        rows = await session.execute(
            select(Contact.id, Contact.name, Contact.company, User)
            .join(User, User.id == Contact.owner_id)
            .where(
                Contact.id.in_(chunk),
                Contact.archived_at.is_(None),
                Contact.forgotten_at.is_(None),
            )
        )
        for cid, name, company, owner in rows:
            out[cid] = Person(cid, name, company, owner.display_name)
    return out


async def _own_cards(session: AsyncSession, owner: int) -> int:
    live = (Contact.archived_at.is_(None), Contact.forgotten_at.is_(None))
    return (
        await session.scalar(select(func.count(Contact.id)).where(Contact.owner_id == owner, *live))
        or 0
    )


async def overview(
    session: AsyncSession, run: NetworkRun, *, owner: int | None, limit: int = 5
) -> Overview:
    """The run's top findings (a rep in a team: their own), with current names."""
    per_kind: dict[str, list[NetworkFinding]] = defaultdict(list)
    for kind in ("broker", "strong", "dormant", "account", "pattern", "cluster"):
        stmt: Select = select(NetworkFinding).where(
            NetworkFinding.run_id == run.id, NetworkFinding.kind == kind
        )
        if owner is not None and kind != "cluster":
            stmt = stmt.where(NetworkFinding.owner_id == owner)
        take = 40 if kind == "cluster" else limit * 3  # room for cards archived since
        per_kind[kind] = list(await session.scalars(stmt.order_by(NetworkFinding.rank).limit(take)))
    people = await _people(
        session, (f.contact_id for fs in per_kind.values() for f in fs if f.contact_id)
    )
    contacts, edges = run.contacts, run.edges
    if owner is not None:  # a rep: their own cards, not the team's size
        contacts, edges = await _own_cards(session, owner), None
    ov = Overview(
        computed_at=run.computed_at,
        contacts=contacts,
        edges=edges,
        clusters={d["id"]: d for d in (json.loads(f.data) for f in per_kind["cluster"])},
    )
    for kind, target in (
        ("broker", ov.brokers),
        ("strong", ov.strong),
        ("dormant", ov.dormant),
        ("account", ov.accounts),
        ("pattern", ov.patterns),
    ):
        for f in per_kind[kind]:
            person = people.get(f.contact_id) if f.contact_id else None
            if f.contact_id and person is None:
                continue  # archived or erased since the run
            target.append(Finding(kind, person, f.score, json.loads(f.data)))
            if len(target) >= limit:
                break
    rep_ids = {int(f.data["key"]) for f in ov.patterns if f.data["dimension"] == "rep"}
    if rep_ids:
        for user in await session.scalars(select(User).where(User.id.in_(rep_ids))):
            ov.reps[user.id] = user.display_name
    return ov


# --------------------------------------------------------------------------------- /intro
@dataclass(frozen=True)
class Intro:
    path: list[Person]  # from the team's strong tie to the target
    kinds: list[str]


@dataclass
class IntroResult:
    targets: int
    paths: list[Intro]
    already: list[Person]  # targets the team already holds a strong tie with


@offload
async def intro(
    session: AsyncSession,
    run: NetworkRun,
    query: str,
    *,
    who: Scope,
    owner: int | None,
    limit: int = 3,
) -> IntroResult:
    """Warm paths to people matching ``query`` (a company or a name, found as /find finds them):
    the shortest chains from a strong tie, read level by level from the targets outwards over
    the stored links (a rep in a team: over their own contacts only)."""
    found = [c.id for c in await search.find(session, who, query, limit=50)]
    nodes = await _nodes(session, run.id, found)
    targets = {c for c in found if c in nodes and (owner is None or nodes[c][0] == owner)}
    if not targets:
        return IntroResult(0, [], [])
    anchors = {c: nodes[c][1] for c in targets if nodes[c][1] >= net.STRONG_TIE}
    already_ids = sorted(anchors, key=lambda c: -anchors[c])
    edges: list[tuple[int, int, str, float]] = []
    seen = set(targets)
    frontier = sorted(targets)
    for _hop in range(MAX_HOPS):
        if anchors or not frontier:
            break
        new: set[int] = set()
        for cid in frontier:
            for other, kind, w in nodes[cid][2]:
                edges.append((cid, other, kind, w))
                if other not in seen:
                    new.add(other)
        if not new:
            break
        nodes.update(await _nodes(session, run.id, sorted(new)))
        if owner is not None:
            new = {c for c in new if c in nodes and nodes[c][0] == owner}
        else:
            new = {c for c in new if c in nodes}
        seen |= new
        edges = [e for e in edges if e[1] in seen]
        for cid in new:
            if nodes[cid][1] >= net.STRONG_TIE:
                anchors[cid] = nodes[cid][1]
        frontier = sorted(new)
    paths = []
    if anchors:
        paths = net.intro_paths(targets - set(already_ids), edges, anchors, limit=limit)
    people = await _people(session, [*already_ids, *(v for p in paths for v in p.nodes)])
    result = IntroResult(len(targets), [], [people[c] for c in already_ids[:limit] if c in people])
    for p in paths:
        if all(v in people for v in p.nodes):
            result.paths.append(Intro([people[v] for v in p.nodes], list(p.kinds)))
    return result


async def _nodes(
    session: AsyncSession, run_id: int, ids: Sequence[int]
) -> dict[int, tuple[int, float, list[tuple[int, str, float]]]]:
    """Stored nodes: owner, tie strength, links."""
    out: dict[int, tuple[int, float, list[tuple[int, str, float]]]] = {}
    for chunk in _chunks(ids):
        rows = await session.execute(
            select(
                NetworkNode.contact_id, NetworkNode.owner_id, NetworkNode.tie, NetworkNode.links
            ).where(NetworkNode.run_id == run_id, NetworkNode.contact_id.in_(chunk))
        )
        for cid, own, tie, links in rows:
            out[cid] = (own, tie, parse_links(links))
    return out


# ------------------------------------------------------------------------------- the picture
@dataclass
class Picture:
    nodes: dict[int, int]  # contact -> cluster
    edges: list[tuple[int, int]]
    brokers: set[int]
    labels: dict[int, str]  # cluster -> its label (segment or company), when named


@offload
async def picture(
    session: AsyncSession, run: NetworkRun, *, owner: int | None, limit: int = PICTURE_NODES
) -> Picture:
    """A drawable part of the network: the brokers and the biggest clusters (sampled)."""
    stmt = select(NetworkFinding).where(
        NetworkFinding.run_id == run.id, NetworkFinding.kind.in_(["broker", "cluster"])
    )
    findings = list(await session.scalars(stmt.order_by(NetworkFinding.rank)))
    brokers = {
        f.contact_id
        for f in findings
        if f.kind == "broker" and f.contact_id and (owner is None or f.owner_id == owner)
    }
    clusters = [json.loads(f.data) for f in findings if f.kind == "cluster"]
    labels = {c["id"]: c["label"] for c in clusters if c["label"]}
    wanted = [c["id"] for c in sorted(clusters, key=lambda c: -c["size"])]
    members: dict[int, list[int]] = defaultdict(list)
    links: dict[int, str] = {}
    for chunk in _chunks(wanted, 50):
        q = select(NetworkNode.contact_id, NetworkNode.cluster, NetworkNode.links).where(
            NetworkNode.run_id == run.id, NetworkNode.cluster.in_(chunk)
        )
        if owner is not None:
            q = q.where(NetworkNode.owner_id == owner)
        for cid, cl, text in await session.execute(q.limit(limit * 4)):
            members[cl].append(cid)
            links[cid] = text
    chosen = net.sample_nodes([members[c] for c in wanted if c in members], brokers, limit)
    missing = sorted(chosen - set(links))
    for cid, text in (await _links(session, run.id, missing)).items():
        links[cid] = text
    cluster_of = {cid: cl for cl, ids in members.items() for cid in ids}
    nodes = {cid: cluster_of.get(cid, -1) for cid in chosen}
    edges = [
        (a, b)
        for a in sorted(chosen)
        for b, _kind, _w in parse_links(links.get(a, ""))
        if a < b and b in chosen
    ]
    return Picture(nodes, edges, brokers & chosen, labels)


async def _links(session: AsyncSession, run_id: int, ids: Sequence[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(ids):
        rows = await session.execute(
            select(NetworkNode.contact_id, NetworkNode.links).where(
                NetworkNode.run_id == run_id, NetworkNode.contact_id.in_(chunk)
            )
        )
        out.update(dict(rows.tuples().all()))
    return out


# ----------------------------------------------------------------------------- data checks
@transactional
async def note_data_changed(
    session: AsyncSession, contact: Contact, *, actor: User, now: datetime
) -> None:
    """The stale-data check was answered "No": the person may have changed jobs (a champion
    who moved is flagged on their old account until the card is corrected)."""
    session.add(
        ContactEvent(
            contact_id=contact.id,
            actor_id=actor.id,
            field=DATA_CHECK,
            old_value=None,
            new_value="changed",
            at=now,
        )
    )


async def digest_overview(session: AsyncSession, user: User, role: Role) -> Overview | None:
    """The Monday digest's section: the latest stored run of the manager's scope (the daily
    job renews it weekly before the digest goes out); None when there is none yet."""
    scope = scope_for(user, role)
    run = await latest_run(session, scope)
    if run is None:
        return None
    return await overview(session, run, owner=scope.owner, limit=3)


async def team_name(session: AsyncSession, team_id: int) -> str | None:
    """A team's name, for the title of its network."""
    return await session.scalar(select(Team.name).where(Team.id == team_id))
