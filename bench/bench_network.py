"""The weekly network analysis at scale, and /network and /intro from the stored results.

    python bench/bench_network.py [--contacts 100000] [--db data/bench_network.db]

A team of ``--contacts`` cards (about three links per card: colleagues, events, introductions)
in "regions" of ~200 people that are well mixed inside and apart from each other, with planted
answers: brokers joining two otherwise separate clusters, dormant weak ties into an un-reached
ICP segment among many active ties, accounts missing a decision maker, a rep whose sparse touches
precede detractors. Each phase runs in a fresh process so that peak RSS is the phase's own:

1. build the database (not timed);
2. the weekly analysis (services.network.compute: load, analyse, store) — time and peak RSS;
3. the overview of /network and the paths of /intro read from the stored run, 50 times each
   (services + views, as the handlers call them) — p95;
and prints precision and recall of the findings against the planted answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PLANTED_BROKERS = 20
PLANTED_DORMANT = 20
PLANTED_ACCOUNTS = 20
REGION = 200


def build(url: str, n: int, plan_path: Path) -> None:
    from sqlalchemy import insert

    from core.contactdata import search_key
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade
    from storage.models import Contact, DueWork, Survey, Team, Touch, User
    from storage.uow import write_session

    rnd = random.Random(42)
    reps = list(range(1, 21))
    contacts: list[dict] = []
    touches: list[dict] = []
    due: list[dict] = []
    surveys: list[dict] = []
    plan: dict[str, list] = {"brokers": [], "dormant": [], "accounts": [], "pattern": []}
    next_id = [1]

    def add(**kw) -> int:  # noqa: ANN003
        cid = next_id[0]
        next_id[0] += 1
        row = {
            "id": cid,
            "owner_id": kw.pop("owner_id", rnd.choice(reps)),
            "team_id": 1,
            "name": kw.pop("name", f"Person {cid}"),
            "status": kw.pop("status", "contact"),
            "stage": kw.pop("stage", "development"),
            "icp_fit": kw.pop("icp_fit", "unknown"),
            "tags": "",
            "search_text": "",
            "created_at": NOW - timedelta(days=rnd.randint(30, 700)),
            "updated_at": NOW,
            "verified_at": kw.pop("verified_at", NOW - timedelta(days=rnd.randint(1, 150))),
            "last_touch_at": kw.pop("last_touch_at", NOW - timedelta(days=rnd.randint(1, 10))),
            "company": None,
            "segment": None,
            "kind": None,
            "influence": None,
            "source": None,
            "source_detail": None,
            "introduced_by_id": None,
        }
        row.update(kw)
        row["search_text"] = search_key(" ".join(x for x in (row["name"], row["company"]) if x))
        contacts.append(row)
        return cid

    def touch(cid: int, owner: int, days: int, direction: str = "out") -> None:
        touches.append(
            {
                "contact_id": cid,
                "author_id": owner,
                "type": "call",
                "direction": direction,
                "summary": "",
                "occurred_at": NOW - timedelta(days=days),
            }
        )

    def step_done(cid: int, owner: int) -> None:
        due.append(
            {
                "kind": "reminder",
                "key": f"bench:{cid}",
                "chat_id": owner,
                "user_id": owner,
                "contact_id": cid,
                "due_at": NOW - timedelta(days=70),
                "status": "done",
                "created_at": NOW - timedelta(days=80),
            }
        )

    # --- planted: brokers between two clusters of 12 people each (companies + an event)
    for i in range(PLANTED_BROKERS):
        broker = add(name=f"Broker {i}", segment="Consulting")
        for side in ("A", "B"):
            for j in range(12):
                add(
                    company=f"Pl{i}{side} Co {j // 6}",
                    segment=f"Planted{side}{i}",
                    source="event",
                    source_detail=f"pl-{i}-{side}",
                    introduced_by_id=broker if j < 3 else None,
                )
        plan["brokers"].append(broker)
    # --- planted: dormant ties into "Healthcare" (no clients), among many active ones
    for i in range(PLANTED_DORMANT + 400):
        company = f"Health Org {i}"
        for _k in range(2):
            add(company=company, segment="Healthcare", icp_fit="fits", stage="identification")
        dormant = i < PLANTED_DORMANT
        owner = rnd.choice(reps)
        cid = add(
            company=company,
            owner_id=owner,
            last_touch_at=NOW - timedelta(days=60 if dormant else 3),
        )
        step_done(cid, owner)
        if dormant:
            touch(cid, owner, 60)
            plan["dormant"].append(cid)
        else:
            touch(cid, owner, 3)
    # --- planted: accounts in the commercial stage without a decision maker; many covered ones
    for i in range(PLANTED_ACCOUNTS + 500):
        roles = ("initiator", "procurement", "user")
        if i >= PLANTED_ACCOUNTS:
            roles += ("decision_maker",)
        name = f"Account {i}"
        for role in roles:
            add(company=name, kind="b2b", influence=role, stage="commercial",
                verified_at=NOW - timedelta(days=10))  # fmt: skip
        if i < PLANTED_ACCOUNTS:
            plan["accounts"].append(name)
    # --- planted: rep 20 touches their clients rarely before delivery; detractors follow
    for rep in reps:
        for i in range(40 if rep == 20 else 60):
            cid = add(owner_id=rep, status="client", stage="retention", segment="Services")
            delivered = NOW - timedelta(days=20 + i)
            if rep == 20:
                touch(cid, rep, 20 + i + 50)
                score = (2, 4, 5, 6, 8, 3, 6, 5)[i % 8]
            else:
                for k in range(1, 6):
                    touch(cid, rep, 20 + i + 7 * k)
                score = (9, 10, 8, 9, 7, 10, 6, 9)[i % 8]
            surveys.append(
                {
                    "contact_id": cid,
                    "rep_id": rep,
                    "team_id": 1,
                    "token": f"bench{cid}",
                    "status": "answered",
                    "scheduled_for": delivered,
                    "delivered_at": delivered,
                    "expires_at": delivered + timedelta(days=7),
                    "score": score,
                    "answered_at": delivered + timedelta(hours=3),
                    "created_at": delivered,
                }
            )
    plan["pattern"].append(["rep", "20", "touches", "sparse"])
    # --- the background: regions of ~200 people, well mixed inside (small companies; events
    # whose members are drawn across the region; a few introductions), apart from each other
    region = 0
    segments = ("Retail", "Fintech", "Logistics", "Education", "Energy", "Media")
    while next_id[0] <= n:
        size = min(REGION, n - next_id[0] + 1)
        members: list[int] = []
        seg = segments[region % len(segments)]
        j = 0
        while j < size:
            company = f"R{region} Co {j}"
            for _k in range(min(rnd.randint(3, 4), size - j)):
                status = "client" if rnd.random() < 0.1 else "contact"
                event = f"r{region}-ev{rnd.randint(0, 9)}" if rnd.random() < 0.55 else None
                intro = rnd.choice(members) if members and rnd.random() < 0.15 else None
                cid = add(
                    company=company,
                    segment=seg,
                    icp_fit="fits" if rnd.random() < 0.3 else "unknown",
                    status=status,
                    source="event" if event else None,
                    source_detail=event,
                    introduced_by_id=intro,
                )
                members.append(cid)
                if rnd.random() < 0.05:  # a strong tie: touched three times this month
                    for days in (2, 9, 20):
                        touch(cid, contacts[-1]["owner_id"], days)
                elif rnd.random() < 0.3:
                    touch(cid, contacts[-1]["owner_id"], rnd.randint(1, 300))
                j += 1
        region += 1

    async def run() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        factory = create_session_factory(engine)
        async with write_session(factory) as s:
            s.add(Team(id=1, name="Bench", created_at=NOW))
            await s.flush()
            for rep in reps:
                s.add(User(id=rep, tg_id=10_000 + rep, first_name=f"Rep{rep}", role="rep",
                           team_id=1, created_at=NOW, last_seen_at=NOW))  # fmt: skip
        for model, rows in (
            (Contact, contacts),
            (Touch, touches),
            (DueWork, due),
            (Survey, surveys),
        ):
            for i in range(0, len(rows), 20_000):
                async with write_session(factory) as s:
                    await s.execute(insert(model), rows[i : i + 20_000])
        await engine.dispose()

    asyncio.run(run())
    plan_path.write_text(json.dumps(plan))
    print(f"built: {len(contacts)} contacts, {len(touches)} touches, {len(surveys)} surveys")


def analyse(url: str) -> None:
    from services import network as svc
    from storage.db import create_engine, create_session_factory

    async def run() -> dict:
        engine = create_engine(url)
        factory = create_session_factory(engine)
        started = time.perf_counter()
        run_id = await svc.compute(
            factory, svc.NetScope("t1", team_id=1), now=NOW, settings_cadence=None, stale_days=180
        )
        seconds = time.perf_counter() - started
        await engine.dispose()
        return {"run_id": run_id, "seconds": seconds}

    out = asyncio.run(run())
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def query(url: str, plan_path: Path) -> None:
    from bot.i18n import create_i18n
    from core.roles import Role
    from services import network as svc
    from services.scope import Scope
    from storage.db import create_engine, create_session_factory
    from storage.models import NetworkFinding
    from storage.uow import end_read
    from views import network as views

    plan = json.loads(plan_path.read_text())
    i18n = create_i18n("en")

    async def run() -> dict:
        engine = create_engine(url)
        factory = create_session_factory(engine)
        scope = svc.NetScope("t1", team_id=1)
        who = Scope(user_id=1, role=Role.MANAGER, team_id=1)
        times: dict[str, list[float]] = {"network": [], "intro": []}
        targets = ["Pl3A Co", "Account 3", "R7 Co", "Health Org 5", "Person 4242"]
        stats: dict = {}
        with i18n.context(), i18n.use_locale("en"):
            for i in range(50):
                started = time.perf_counter()
                async with factory() as session:
                    run = await svc.latest_run(session, scope)
                    ov = await svc.overview(session, run, owner=None)
                    await end_read(session)
                views.overview_text(ov, scope="team Bench", tz="UTC", lang="en")
                times["network"].append(time.perf_counter() - started)
                started = time.perf_counter()
                async with factory() as session:
                    run = await svc.latest_run(session, scope)
                    res = await svc.intro(
                        session, run, targets[i % len(targets)], who=who, owner=None
                    )
                    await end_read(session)
                views.intro_text(targets[i % len(targets)], res)
                times["intro"].append(time.perf_counter() - started)
            async with factory() as session:
                run = await svc.latest_run(session, scope)
                rows = (
                    await session.execute(
                        NetworkFinding.__table__.select().where(NetworkFinding.run_id == run.id)
                    )
                ).all()
                stats["contacts"], stats["edges"] = run.contacts, run.edges
        await engine.dispose()
        for key, values in times.items():
            values.sort()
            stats[f"{key}_p95_ms"] = values[int(0.95 * len(values)) - 1] * 1000
        found: dict[str, list] = {"broker": [], "dormant": [], "account": [], "pattern": []}
        for r in sorted(rows, key=lambda r: r.rank):
            data = json.loads(r.data)
            if r.kind == "broker":
                found["broker"].append(r.contact_id)
            elif r.kind == "dormant":
                found["dormant"].append(r.contact_id)
            elif r.kind == "account" and "decision_maker" in data["missing"]:
                found["account"].append(data["company"])
            elif r.kind == "pattern":
                found["pattern"].append(
                    [data["dimension"], data["key"], data["measure"], data["bucket"]]
                )
        for kind, planted in (
            ("broker", plan["brokers"]),
            ("dormant", plan["dormant"]),
            ("account", plan["accounts"]),
            ("pattern", plan["pattern"]),
        ):
            got = [json.dumps(x) for x in found[kind]]
            want = {json.dumps(x) for x in planted}
            hit = len(want & set(got))
            top = len(want & set(got[: max(3, len(want))]))
            stats[kind] = {
                "reported": len(got),
                "planted": len(want),
                "precision": round(hit / len(got), 3) if got else None,
                "recall": round(hit / len(want), 3),
                "recall_top": round(top / len(want), 3),
            }
        return stats

    print(json.dumps(asyncio.run(run())))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--db", default="data/bench_network.db")
    parser.add_argument("--phase", choices=["build", "analyse", "query"])
    args = parser.parse_args()
    db = Path(args.db)
    url = f"sqlite+aiosqlite:///{db}"
    plan = db.with_suffix(".plan.json")
    if args.phase == "build":
        return build(url, args.contacts, plan)
    if args.phase == "analyse":
        return analyse(url)
    if args.phase == "query":
        return query(url, plan)
    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)

    def phase(name: str) -> str:
        cmd = [
            sys.executable,
            __file__,
            "--phase",
            name,
            "--contacts",
            str(args.contacts),
            "--db",
            str(db),
        ]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()

    print(phase("build"))
    analysed = json.loads(phase("analyse").splitlines()[-1])
    print(f"weekly analysis: {analysed['seconds']:.1f} s, peak RSS {analysed['rss_mb']:.0f} MB")
    stats = json.loads(phase("query").splitlines()[-1])
    print(f"graph: {stats['contacts']} contacts, {stats['edges']} edges")
    print(
        f"/network p95 {stats['network_p95_ms']:.1f} ms; /intro p95 {stats['intro_p95_ms']:.1f} ms"
    )
    for kind in ("broker", "dormant", "account", "pattern"):
        s = stats[kind]
        print(
            f"{kind:8s} planted {s['planted']:3d} reported {s['reported']:3d} "
            f"precision {s['precision']} recall {s['recall']} (recall in top {max(3, s['planted'])}: {s['recall_top']})"
        )
    ok = analysed["seconds"] < 60 and analysed["rss_mb"] < 600
    ok = ok and stats["network_p95_ms"] < 100 and stats["intro_p95_ms"] < 100
    print("OK" if ok else "OVER BUDGET")


if __name__ == "__main__":
    main()
