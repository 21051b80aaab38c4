"""Network intelligence, computing: load plain rows, run core.network's analysis, store the
results. A run is written in short write transactions (nodes and findings in batches) as
``building`` and becomes visible in one last step (``ready``), which also drops the scope's
older runs. No aiogram here."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import network as net
from core.cadence import effective_cadence
from core.roles import Role
from services import duework, followups
from storage.inline_sqlite import offload
from storage.models import (
    Contact,
    ContactEvent,
    DueWork,
    NetworkFinding,
    NetworkNode,
    NetworkRun,
    Survey,
    Team,
    Touch,
    User,
)
from storage.uow import end_read, write_session

log = logging.getLogger(__name__)

FRESH_FOR = timedelta(days=8)  # a run this recent is used as it is (the job renews weekly)
EVERYONE_MAX = 100_000  # live cards: the whole network is analysed weekly up to this size
RECOMPUTE_AFTER = timedelta(days=7)  # the daily job renews runs older than this
BATCH = 20_000  # rows per write transaction
CHUNK = 500  # ids per IN (...) when reading
MAX_HOPS = 4
STORED_PER_KIND = 200
DATA_CHECK = "data_check"  # a contact event: the stale check was answered "No"
SURVEY_YEARS = timedelta(days=365)
PICTURE_NODES = 300
KIND_CODE = {net.INTRO: "i", net.COLLEAGUE: "c", net.EVENT: "e"}
CODE_KIND = {v: k for k, v in KIND_CODE.items()}


def parse_links(text: str) -> list[tuple[int, str, float]]:
    """A node's stored links: (other contact, kind, weight)."""
    out = []
    for item in text.split(";") if text else ():
        other, code, weight = item.split(":")
        out.append((int(other), CODE_KIND[code], float(weight)))
    return out


# ------------------------------------------------------------------------------------ scopes
@dataclass(frozen=True)
class NetScope:
    """``key``: the run's scope; ``owner``: a rep inside a team sees only their own items."""

    key: str
    team_id: int | None = None
    rep_id: int | None = None
    owner: int | None = None

    def contacts(self) -> Any:
        if self.team_id is not None:
            return Contact.team_id == self.team_id
        if self.rep_id is not None:
            return Contact.owner_id == self.rep_id
        return Contact.id.is_not(None)

    def surveys(self) -> Any:
        if self.team_id is not None:
            return Survey.team_id == self.team_id
        if self.rep_id is not None:
            return Survey.rep_id == self.rep_id
        return Survey.id.is_not(None)


def scope_for(user: User, role: Role) -> NetScope:
    if role is Role.ADMIN and user.team_id is None:
        return NetScope("all")
    if user.team_id is not None:
        owner = user.id if role is Role.REP else None
        return NetScope(f"t{user.team_id}", team_id=user.team_id, owner=owner)
    return NetScope(f"r{user.id}", rep_id=user.id)


# ------------------------------------------------------------------------------------ loading
async def load_input(
    session: AsyncSession,
    scope: NetScope,
    *,
    now: datetime,
    settings_cadence: str | None,
    stale_days: int,
) -> net.NetworkInput:
    """The scope's active cards, the team's touches with them, NPS answers and data checks."""
    alive = (Contact.archived_at.is_(None), Contact.forgotten_at.is_(None), scope.contacts())
    rows = await session.execute(
        select(
            Contact.id,
            Contact.owner_id,
            Contact.name,
            Contact.company,
            Contact.segment,
            Contact.icp_fit,
            Contact.influence,
            Contact.kind,
            Contact.source,
            Contact.source_detail,
            Contact.tags,
            Contact.stage,
            Contact.status,
            Contact.introduced_by_id,
            Contact.created_at,
            Contact.verified_at,
            Contact.last_touch_at,
        ).where(*alive, Contact.status != "lost")
    )
    contacts = [net.ContactRow(*r) for r in rows]
    ids = select(Contact.id).where(*alive)
    d30, d90, d365 = (now - timedelta(days=d) for d in (30, 90, 365))
    tie_rows = await session.execute(
        select(
            Touch.contact_id,
            func.sum(case((Touch.occurred_at >= d30, 1), else_=0)),
            func.sum(case((Touch.occurred_at.between(d90, d30), 1), else_=0)),
            func.sum(case((Touch.occurred_at < d90, 1), else_=0)),
        )
        .where(Touch.contact_id.in_(ids), Touch.occurred_at >= d365, Touch.occurred_at <= now)
        .group_by(Touch.contact_id)
    )
    ties = [net.TieRow(c, int(a or 0), int(b or 0), int(y or 0)) for c, a, b, y in tie_rows]
    positive: dict[int, str] = {}
    for (cid,) in await session.execute(
        select(DueWork.contact_id)
        .where(
            DueWork.contact_id.in_(ids),
            DueWork.kind == followups.REMINDER,
            DueWork.status == duework.DONE,
        )
        .distinct()
    ):
        positive[cid] = "step"
    for (cid,) in await session.execute(
        select(Survey.contact_id).where(Survey.contact_id.in_(ids), Survey.score >= 7).distinct()
    ):
        positive.setdefault(cid, "nps")
    changed: dict[int, tuple[datetime, str]] = {}
    for cid, fld, at in await session.execute(
        select(ContactEvent.contact_id, ContactEvent.field, func.max(ContactEvent.at))
        .where(
            ContactEvent.contact_id.in_(ids),
            ContactEvent.field.in_(["verified", DATA_CHECK, "company"]),
        )
        .group_by(ContactEvent.contact_id, ContactEvent.field)
    ):
        # the "No" is written right after the verification of the same tap: it wins a tie
        if cid not in changed or (changed[cid][0], changed[cid][1] == DATA_CHECK) < (
            at,
            fld == DATA_CHECK,
        ):
            changed[cid] = (at, fld)
    changed_job = {cid for cid, (_at, fld) in changed.items() if fld == DATA_CHECK}
    surveys = await _surveys(session, scope, now)
    team_cadence = None
    if scope.team_id is not None:
        team_cadence = await session.scalar(select(Team.cadence).where(Team.id == scope.team_id))
    return net.NetworkInput(
        contacts=contacts,
        now=now,
        cadence=effective_cadence(settings_cadence, team_cadence),
        stale_days=stale_days,
        ties=ties,
        surveys=surveys,
        positive=positive,
        changed_job=changed_job,
    )


async def _surveys(session: AsyncSession, scope: NetScope, now: datetime) -> list[net.SurveyRow]:
    delivered = func.coalesce(Survey.delivered_at, Survey.created_at)
    rows = (
        await session.execute(
            select(Survey.contact_id, Survey.rep_id, Survey.score, delivered, Contact.segment)
            .join(Contact, Contact.id == Survey.contact_id)
            .where(
                scope.surveys(),
                Survey.score.is_not(None),
                Survey.answered_at >= now - SURVEY_YEARS,
                Contact.forgotten_at.is_(None),
            )
        )
    ).all()
    if not rows:
        return []
    touches: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    contact_ids = sorted({r[0] for r in rows})
    since = now - SURVEY_YEARS - net.WINDOW_BEFORE
    for chunk in _chunks(contact_ids):
        for cid, at, direction in await session.execute(
            select(Touch.contact_id, Touch.occurred_at, Touch.direction).where(
                Touch.contact_id.in_(chunk), Touch.occurred_at >= since
            )
        ):
            touches[cid].append((at, direction))
    out = []
    for cid, rep, score, at, segment in rows:
        before = tuple(t for t in touches.get(cid, ()) if at - net.WINDOW_BEFORE <= t[0] < at)
        out.append(net.SurveyRow(cid, rep, int(score), at, segment, before))
    return out


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


# ------------------------------------------------------------------------------------ storing
def findings_of(a: net.Analysis) -> list[dict[str, Any]]:
    """The analysis as rows of network_findings (without run_id)."""
    out: list[dict[str, Any]] = []

    def add(
        kind: str, rank: int, contact: int | None, owner: int | None, score: float, data: dict
    ) -> None:
        out.append(
            {
                "kind": kind,
                "rank": rank,
                "contact_id": contact,
                "owner_id": owner,
                "score": float(score),
                "data": json.dumps(data, ensure_ascii=False),
            }
        )

    brokers = a.brokers[:STORED_PER_KIND]
    wanted = {cid for b in brokers for cid in b.clusters}
    wanted.update(sorted(a.clusters, key=lambda c: -a.clusters[c].size)[:20])
    for rank, cid in enumerate(sorted(wanted, key=lambda c: (-a.clusters[c].size, c))):
        c = a.clusters[cid]
        add(
            "cluster",
            rank,
            None,
            None,
            c.size,
            {"id": c.id, "size": c.size, "kind": c.label_kind, "label": c.label},
        )
    for rank, b in enumerate(brokers):
        data = {
            "clusters": list(b.clusters),
            "constraint": b.constraint,
            "effective_size": b.effective_size,
            "betweenness": b.betweenness,
        }
        add("broker", rank, b.contact_id, b.owner_id, b.score, data)
    for rank, s in enumerate(a.strong[:STORED_PER_KIND]):
        add("strong", rank, s.contact_id, s.owner_id, s.strength, {"shared": s.shared})
    for rank, d in enumerate(a.dormant[:STORED_PER_KIND]):
        data = {"segments": list(d.segments), "days": d.days_quiet, "reason": d.reason}
        add("dormant", rank, d.contact_id, d.owner_id, d.score, data)
    for rank, acc in enumerate(a.accounts[:STORED_PER_KIND]):
        main = next(
            (c for c in acc.contact_ids if a.owners.get(c) == acc.owner_id), acc.contact_ids[0]
        )
        data = {
            "company": acc.company,
            "known": list(acc.known),
            "missing": list(acc.missing),
            "single": acc.single_threaded,
            "moved": list(acc.changed_job),
            "contacts": len(acc.contact_ids),
        }
        add("account", rank, main, acc.owner_id, acc.score, data)
    for rank, p in enumerate(a.patterns[:STORED_PER_KIND]):
        owner = int(p.key) if p.dimension == "rep" else None
        data = {
            "dimension": p.dimension,
            "key": p.key,
            "measure": p.measure,
            "bucket": p.bucket,
            "group": _interval(p.group),
            "rest": _interval(p.rest),
        }
        add("pattern", rank, None, owner, p.gap, data)
    return out


def _interval(i: net.Interval) -> dict[str, Any]:
    return {
        "n": i.n,
        "nps": i.nps,
        "det": i.detractors,
        "lo": round(i.low, 4),
        "hi": round(i.high, 4),
    }


async def store(
    factory: async_sessionmaker[AsyncSession],
    scope: NetScope,
    analysis: net.Analysis,
    *,
    now: datetime,
    millis: int,
) -> int:
    async with write_session(factory) as session:
        run = NetworkRun(
            scope=scope.key,
            status="building",
            computed_at=now,
            contacts=analysis.contacts,
            edges=len(analysis.edges),
            millis=millis,
        )
        session.add(run)
        await session.flush()
        run_id = run.id
    links: dict[int, list[str]] = defaultdict(list)
    for a, b, kind, w in analysis.edges:
        code = KIND_CODE[kind]
        links[a].append(f"{b}:{code}:{w:.2f}")
        links[b].append(f"{a}:{code}:{w:.2f}")
    nodes = [
        {
            "run_id": run_id,
            "contact_id": cid,
            "owner_id": owner,
            "cluster": analysis.node_cluster.get(cid, -1),
            "tie": analysis.ties.get(cid, 0.0),
            "links": ";".join(links.pop(cid, ())),
        }
        for cid, owner in analysis.owners.items()
    ]
    del links
    await _insert(factory, NetworkNode, nodes)
    del nodes
    await _insert(factory, NetworkFinding, [{"run_id": run_id, **f} for f in findings_of(analysis)])
    async with write_session(factory) as session:
        await session.execute(
            update(NetworkRun).where(NetworkRun.id == run_id).values(status="ready")
        )
        old = (
            await session.scalars(
                select(NetworkRun.id).where(
                    NetworkRun.scope == scope.key,
                    NetworkRun.id != run_id,
                    or_(
                        NetworkRun.status == "ready",
                        NetworkRun.computed_at < now - timedelta(hours=1),
                    ),
                )
            )
        ).all()
        if old:
            for model in (NetworkNode, NetworkFinding):
                await session.execute(delete(model).where(model.run_id.in_(old)))
            await session.execute(delete(NetworkRun).where(NetworkRun.id.in_(old)))
    return run_id


async def _insert(factory: async_sessionmaker[AsyncSession], model: Any, rows: list[dict]) -> None:
    for i in range(0, len(rows), BATCH):
        async with write_session(factory) as session:
            await session.execute(insert(model), rows[i : i + BATCH])


@offload
async def compute(
    factory: async_sessionmaker[AsyncSession],
    scope: NetScope,
    *,
    now: datetime,
    settings_cadence: str | None,
    stale_days: int,
) -> int:
    """Load, analyse (in a worker thread: the loop keeps serving), store; the new run's id."""
    started = time.monotonic()
    async with factory() as session:
        inp = await load_input(
            session, scope, now=now, settings_cadence=settings_cadence, stale_days=stale_days
        )
        await end_read(session)
    analysis = await asyncio.to_thread(net.analyse, inp, limit=STORED_PER_KIND)
    del inp
    millis = int((time.monotonic() - started) * 1000)
    run_id = await store(factory, scope, analysis, now=now, millis=millis)
    log.info(
        "network %s: %s contacts, %s edges, %s brokers in %s ms",
        scope.key,
        analysis.contacts,
        len(analysis.edges),
        len(analysis.brokers),
        millis,
    )
    return run_id


async def scopes_to_refresh(
    session: AsyncSession, now: datetime, *, everyone: bool = False
) -> list[NetScope]:
    """Teams with cards, and reps without a team who have cards, whose run is a week old; with
    ``everyone`` (there are administrators, whose Monday digest covers all teams), the whole
    network too — else their digest said "not analysed yet" week after week — while it is no
    bigger than :data:`EVERYONE_MAX` live cards (bench/README.md: 100,000 cards take ~30 s and
    ~420 MB; a bigger one is analysed per team, and on an administrator's /network)."""
    scopes = [NetScope("all")] if everyone else []
    scopes += [
        NetScope(f"t{tid}", team_id=tid)
        for (tid,) in await session.execute(
            select(Contact.team_id).where(Contact.team_id.is_not(None)).distinct()
        )
    ]
    scopes += [
        NetScope(f"r{uid}", rep_id=uid)
        for (uid,) in await session.execute(
            select(Contact.owner_id).where(Contact.team_id.is_(None)).distinct()
        )
    ]
    latest = dict(
        (
            await session.execute(
                select(NetworkRun.scope, func.max(NetworkRun.computed_at))
                .where(NetworkRun.status == "ready")
                .group_by(NetworkRun.scope)
            )
        ).all()
    )
    due = [s for s in scopes if s.key not in latest or now - latest[s.key] >= RECOMPUTE_AFTER]
    if due and due[0].key == "all":
        live = select(Contact.id).where(Contact.archived_at.is_(None)).limit(EVERYONE_MAX + 1)
        count = await session.scalar(select(func.count()).select_from(live.subquery()))
        if not count or count > EVERYONE_MAX:
            due = due[1:]
    return due
