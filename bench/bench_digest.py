"""How long the manager's digest and /stats take on a big team, on SQLite and PostgreSQL.

    python bench/bench_digest.py                      # 100,000 contacts, 1,000,000 touches
    python bench/bench_digest.py --small              # 10,000 / 100,000, a quick run
    python bench/bench_digest.py --contacts 1000000   # 1M contacts, 10M touches (long seeding)
    python bench/bench_digest.py --no-pg              # SQLite only
    python bench/bench_digest.py --reuse              # measure the existing databases again
    python bench/bench_digest.py --pg postgresql://postgres@127.0.0.1:5432/test

Seeds one team (a manager and 12 reps) holding every card, with the contacts, touches,
status/stage history, NPS surveys and cases, and due work (reminders, inbound SLA alerts) in
sensible proportions, into SQLite (a child process, bulk inserts); the same rows go into a
PostgreSQL database by COPY (bench_contacts.copy_to_postgres; kept for --reuse, --drop-pg drops
it). Then times, each in a fresh session as the bot does: building the digest (the SQL behind
it), the whole digest as sent (rendered and split), /stats 30d and 90d and each measure of the
90 days, the chart's data, and an admin's digest across all teams — on SQLite without
statistics (as a fresh bot database), SQLite after ANALYZE, and PostgreSQL, side by side.
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text, update  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession  # noqa: E402

from bench import bench_contacts as bc  # noqa: E402
from bench.bulkload import bulk_loaded  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.i18n import create_i18n  # noqa: E402
from core.roles import Role  # noqa: E402
from services import digest as dg  # noqa: E402
from services import metrics as mx  # noqa: E402
from services import reports, rollup_moves  # noqa: E402
from services.followups import Rules  # noqa: E402
from storage.db import create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Contact,
    ContactEvent,
    DueWork,
    NpsCase,
    Survey,
    Team,
    Touch,
    User,
)
from views import digest as view  # noqa: E402

BATCH = 10_000
REPS = 12
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, the digest's hour
SPAN_DAYS = 730
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

STATUSES = (("contact", 40), ("lead", 25), ("client", 20), ("partner", 5), ("lost", 10))
STAGE_OF = {
    "contact": ("identification", "connection"),
    "lead": ("development", "commercial"),
    "client": ("commercial", "retention"),
    "partner": ("retention",),
    "lost": ("identification", "connection", "development", "commercial"),
}
PATH = {  # the status changes that lead to the current status
    "contact": (),
    "lead": ("lead",),
    "client": ("lead", "client"),
    "partner": ("partner",),
    "lost": ("lead", "lost"),
}
SOURCES = ("event", "community", "partner", "digital", "webinar", "inbound", "referral", "cold")
SOURCE_WEIGHTS = (20, 10, 8, 15, 10, 12, 10, 15)
TOUCH_TYPES = ("call", "meeting", "message", "email", "event", "webinar", "social", "service")
TOUCH_WEIGHTS = (25, 10, 30, 20, 3, 2, 5, 5)


def _ago(rng: random.Random, power: float = 1.2) -> timedelta:
    """Somewhere in the last two years, denser towards now."""
    return timedelta(minutes=int(SPAN_DAYS * 24 * 60 * rng.random() ** power))


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        await session.execute(insert(model), rows[i : i + BATCH])


async def seed(
    engine: AsyncEngine,
    n_contacts: int,
    n_touches: int,
    seed_: int = 7,
    *,
    last_touches: bool = True,
) -> None:
    """The rows; ``last_touches`` False leaves the cards' last touch unset (the caller sets it
    with :func:`set_last_touches` once the touches' index exists)."""
    rng = random.Random(seed_)
    t0 = time.perf_counter()
    factory = create_session_factory(engine)
    async with factory() as session:
        north = Team(name="North", created_at=NOW - timedelta(days=SPAN_DAYS))
        south = Team(name="South", created_at=NOW - timedelta(days=SPAN_DAYS))
        session.add_all([north, south])
        await session.flush()
        people = [
            {"tg_id": 500, "first_name": "Mia", "role": "manager", "team_id": north.id},
            {"tg_id": 999, "first_name": "Ada", "role": None, "team_id": None},
            {"tg_id": 600, "first_name": "Sam", "role": "manager", "team_id": south.id},
        ] + [
            {"tg_id": 1000 + i, "first_name": f"Rep{i}", "role": "rep", "team_id": north.id}
            for i in range(REPS)
        ]
        for p in people:
            p["created_at"] = p["last_seen_at"] = NOW - timedelta(days=SPAN_DAYS)
        await session.execute(insert(User), people)
        manager_id = await session.scalar(select(User.id).where(User.tg_id == 500))
        reps = list(
            await session.scalars(select(User.id).where(User.role == "rep").order_by(User.id))
        )
        base = int(await session.scalar(select(func.coalesce(func.max(Contact.id), 0))) or 0)

        # ------------------------------------------------------------------ contacts, events
        statuses = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES], k=n_contacts)
        contacts, events, owners, created_at = [], [], [], []
        for i in range(n_contacts):
            cid = base + i + 1
            status = statuses[i]
            created = NOW - _ago(rng, 1.0)
            owner = rng.choice(reps)
            owners.append(owner)
            created_at.append(created)
            source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
            has_step = status != "lost" and rng.random() < 0.5
            contacts.append(
                {
                    "id": cid,
                    "owner_id": owner,
                    "team_id": north.id,
                    "name": f"Contact {cid}",
                    "company": f"Company {cid % 5000}",
                    "source": source,
                    "introduced_by_id": (
                        base + rng.randrange(1, i + 1) if source == "referral" and i else None
                    ),
                    "status": status,
                    "stage": rng.choice(STAGE_OF[status]),
                    "search_text": f"contact {cid}",
                    "tags": "",
                    "icp_fit": "unknown",
                    "created_at": created,
                    "updated_at": created,
                    "verified_at": created + (NOW - created) * rng.random() ** 3,
                    "next_step": "call back" if has_step else None,
                    "next_step_due": (
                        NOW + timedelta(hours=rng.randrange(-24 * 30, 24 * 60))
                        if has_step
                        else None
                    ),
                    "archived_at": NOW - timedelta(days=3) if rng.random() < 0.02 else None,
                }
            )
            events.append({"contact_id": cid, "actor_id": owner, "field": "created", "at": created})
            old, at = "contact", created
            for new in PATH[status]:
                at = at + (NOW - at) * rng.random() * 0.5
                events.append(
                    {
                        "contact_id": cid,
                        "actor_id": owner,
                        "field": "status",
                        "old_value": old,
                        "new_value": new,
                        "at": at,
                    }
                )
                old = new
            if rng.random() < 0.6:
                events.append(
                    {
                        "contact_id": cid,
                        "actor_id": owner,
                        "field": "stage",
                        "old_value": "identification",
                        "new_value": contacts[-1]["stage"],
                        "at": created + (NOW - created) * rng.random(),
                    }
                )
        await _insert(session, Contact, contacts)
        await _insert(session, ContactEvent, events)
        t1 = time.perf_counter()
        print(f"  {n_contacts:,} contacts, {len(events):,} events: {t1 - t0:.1f} s", flush=True)

        # ------------------------------------------------------------------------ touches
        inbound: list[tuple[int, int, int, datetime]] = []  # touch, contact, owner, time
        rows: list[dict[str, Any]] = []
        next_touch_id = 1
        for _ in range(n_touches):
            i = int(n_contacts * rng.random() ** 2)  # a few cards get many touches
            cid = base + i + 1
            at = max(NOW - _ago(rng), created_at[i])
            direction = "in" if rng.random() < 0.15 else "out"
            rows.append(
                {
                    "id": next_touch_id,
                    "contact_id": cid,
                    "author_id": owners[i],
                    "type": rng.choices(TOUCH_TYPES, TOUCH_WEIGHTS)[0],
                    "direction": direction,
                    "summary": "",
                    "occurred_at": at,
                }
            )
            if direction == "in" and rng.random() < 0.2:
                inbound.append((next_touch_id, cid, owners[i], at))
            next_touch_id += 1
            if len(rows) >= BATCH:
                await session.execute(insert(Touch), rows)
                rows = []
        if rows:
            await session.execute(insert(Touch), rows)
        t2 = time.perf_counter()
        print(f"  {n_touches:,} touches: {t2 - t1:.1f} s", flush=True)

        # ------------------------------------------- surveys and cases, due work, last touch
        n_surveys = max(n_contacts // 5, 10)
        surveys, cases = [], []
        for sid in range(1, n_surveys + 1):
            i = rng.randrange(n_contacts)
            delivered = NOW - _ago(rng)
            answered = delivered + timedelta(hours=rng.randrange(1, 72))
            score = None
            if rng.random() < 0.6 and answered < NOW:
                score = min(10, max(0, int(rng.gauss(8, 2.2))))
            surveys.append(
                {
                    "id": sid,
                    "contact_id": base + i + 1,
                    "rep_id": owners[i],
                    "team_id": north.id,
                    "token": f"bench{uuid.uuid4().hex[:16]}{sid}",
                    "status": "answered" if score is not None else "sent",
                    "scheduled_for": delivered,
                    "delivered_at": delivered,
                    "expires_at": delivered + timedelta(days=7),
                    "score": score,
                    "answered_at": answered if score is not None else None,
                    "created_at": delivered,
                }
            )
            if score is not None and score <= 6:
                cases.append(
                    {
                        "survey_id": sid,
                        "contact_id": base + i + 1,
                        "rep_id": owners[i],
                        "team_id": north.id,
                        "status": "open" if NOW - answered < timedelta(days=20) else "resolved",
                        "opened_at": answered,
                        "deadline_at": answered + timedelta(days=1),
                    }
                )
        await _insert(session, Survey, surveys)
        await _insert(session, NpsCase, cases)
        work: list[dict[str, Any]] = []
        for c in contacts:
            if c["next_step_due"] is None:
                continue
            due = c["next_step_due"]
            past = due < NOW
            status = rng.choice(("sent", "done")) if past else "pending"
            work.append(
                {
                    "kind": "reminder",
                    "key": f"rem:{c['id']}",
                    "chat_id": 1,
                    "user_id": c["owner_id"],
                    "contact_id": c["id"],
                    "due_at": due,
                    "status": status,
                    "sent_at": due if status == "sent" else None,
                    "created_at": due - timedelta(days=2),
                }
            )
        for touch_id, cid, owner, at in inbound:
            late = rng.random() < 0.3
            due = at + timedelta(hours=2)
            work.append(
                {
                    "kind": "inbound_rep",
                    "key": f"inb:{touch_id}",
                    "chat_id": 1,
                    "user_id": owner,
                    "contact_id": cid,
                    "ref_id": touch_id,
                    "due_at": due,
                    "status": "sent" if late else "done",
                    "sent_at": due if late else None,
                    "created_at": at,
                }
            )
        for k in range(0, 40):  # the manager's past digests
            day = NOW - timedelta(days=k + 1)
            work.append(
                {
                    "kind": "digest",
                    "key": f"digest:bench:{k}",
                    "chat_id": 500,
                    "user_id": manager_id,
                    "due_at": day,
                    "status": "sent",
                    "sent_at": day,
                    "created_at": day,
                }
            )
        for w in work:
            w.setdefault("ref_id", None)
            w.setdefault("attempts", 1)
            w.setdefault("late", False)
        await _insert(session, DueWork, work)
        if last_touches:
            await set_last_touches(session)
        await session.commit()
        t3 = time.perf_counter()
        print(
            f"  {len(surveys):,} surveys, {len(cases):,} cases, {len(work):,} due work, "
            f"last touches: {t3 - t2:.1f} s",
            flush=True,
        )


async def set_last_touches(session: AsyncSession | AsyncConnection) -> None:
    """Every card's last touch, in one statement."""
    last = (
        select(func.max(Touch.occurred_at)).where(Touch.contact_id == Contact.id).scalar_subquery()
    )
    await session.execute(
        update(Contact).values(last_touch_at=last).execution_options(synchronize_session=False)
    )


async def _analyze(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()


async def _time(
    engine: AsyncEngine, call: Callable[[AsyncSession], Awaitable[Any]], runs: int
) -> tuple[float, float, float]:
    """(first, median, max) of ``runs`` calls in ms, each in a fresh session."""
    factory = create_session_factory(engine)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        async with factory() as session:
            await call(session)
        times.append((time.perf_counter() - start) * 1000)
    return times[0], statistics.median(times), max(times)


async def measure(engine: AsyncEngine, label: str, runs: int) -> list[tuple[str, Any]]:
    settings = Settings(_env_file=None, database_url="sqlite+aiosqlite:///unused.db")  # type: ignore[call-arg]
    i18n = create_i18n("en")
    factory = create_session_factory(engine)
    async with factory() as session:
        manager = await session.scalar(select(User).where(User.tg_id == 500))
        admin = await session.scalar(select(User).where(User.tg_id == 999))
        counts = {
            "contacts": await session.scalar(select(func.count(Contact.id))),
            "touches": await session.scalar(select(func.count(Touch.id))),
            "events": await session.scalar(select(func.count(ContactEvent.id))),
            "due work": await session.scalar(select(func.count(DueWork.id))),
            "surveys": await session.scalar(select(func.count(Survey.id))),
        }
    assert manager is not None and admin is not None
    print(f"\n{label}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    since = NOW - timedelta(hours=24)
    scope = dg.scope_of(manager, Role.MANAGER)

    async def build(s: AsyncSession) -> None:
        await dg.build(
            s,
            manager,
            Role.MANAGER,
            since=since,
            now=NOW,
            settings_cadence=settings.cadence_days,
            stale_days=settings.stale_after_days,
        )

    async def whole(s: AsyncSession) -> None:
        with i18n.context(), i18n.use_locale("en"):
            since_ = await dg.since_for(s, manager.id, NOW)
            digest = await dg.build(
                s,
                manager,
                Role.MANAGER,
                since=since_,
                now=NOW,
                settings_cadence=settings.cadence_days,
                stale_days=settings.stale_after_days,
            )
            composed = await view.compose(reports.Prepared(digest, None), "UTC", "en")
            assert composed.parts

    def stats(period: str) -> Callable[[AsyncSession], Awaitable[Any]]:
        async def run(s: AsyncSession) -> None:
            await reports.stats_for(
                s,
                scope,
                period=period,
                now=NOW,
                tz="UTC",
                rules=Rules.of(settings),
            )

        return run

    async def chart_data(s: AsyncSession) -> None:
        await mx.nps_by_week(s, scope, end=NOW)
        await mx.funnel_by_stage(s, scope)

    async def admin_digest(s: AsyncSession) -> None:
        await dg.build(
            s,
            admin,
            Role.ADMIN,
            since=since,
            now=NOW,
            settings_cadence=settings.cadence_days,
            stale_days=settings.stale_after_days,
        )

    out = []
    for name, call in (
        ("digest: build (SQL)", build),
        ("digest: as sent (rendered, split)", whole),
        ("/stats 30d", stats("30d")),
        ("/stats 90d", stats("90d")),
        *_stats_parts(scope, settings),
        ("chart data", chart_data),
        ("admin digest (all teams)", admin_digest),
    ):
        first, med, worst = await _time(engine, call, runs)
        out.append((name, (first, med, worst)))
        print(
            f"  {name:<36} first {first:8.1f} ms   median {med:8.1f} ms   max {worst:8.1f} ms",
            flush=True,
        )
    return out


def _stats_parts(scope: Any, settings: Settings) -> list[tuple[str, Any]]:
    start, end = NOW - timedelta(days=90), NOW

    async def cadence(s: AsyncSession) -> Any:
        return await mx.cadence_for(s, scope, settings.cadence_days)

    async def frequency(s: AsyncSession) -> None:
        await mx.touch_frequency(s, scope, start, end, cadence=await cadence(s))

    async def reply(s: AsyncSession) -> None:
        hours = settings.inbound_reply_hours
        await mx.reply_speed(s, scope, start, end, now=NOW, window_hours=hours)

    async def fresh(s: AsyncSession) -> None:
        await mx.freshness(s, scope, now=NOW, stale_days=settings.stale_after_days)

    return [
        ("  · reach and frequency", frequency),
        ("  · conversion", lambda s: mx.conversion(s, scope, start, end)),
        ("  · referral share", lambda s: mx.referral_share(s, scope, start, end)),
        ("  · retention", lambda s: mx.retention(s, scope, start, end)),
        ("  · NPS", lambda s: mx.nps(s, scope, start, end)),
        ("  · reply speed", reply),
        ("  · freshness", fresh),
    ]


def _print_side_by_side(results: dict[str, list[tuple[str, tuple[float, float, float]]]]) -> None:
    names = [n for n, _ in next(iter(results.values()))]
    width = max(len(n) for n in names) + 2
    head = f"{'median / max, ms':<{width}}"
    for label in results:
        head += f" | {label:>22}"
    print(head)
    print("-" * len(head))
    for i, name in enumerate(names):
        line = f"{name:<{width}}"
        for rows in results.values():
            _first, med, worst = rows[i][1]
            line += f" | {med:>11.1f} / {worst:>8.1f}"
        print(line)
    print("-" * len(head))


async def _forget_statistics(engine: AsyncEngine) -> None:
    """A reused SQLite file measured as a fresh bot database: no ANALYZE statistics."""
    async with engine.connect() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        await conn.execute(text("DROP TABLE IF EXISTS sqlite_stat4"))
        await conn.commit()


async def run(path: Path, pg_url: str | None, runs: int) -> None:
    measured: dict[str, list[tuple[str, Any]]] = {}
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    await _forget_statistics(engine)
    await engine.dispose()
    engine = create_engine(url)
    measured["SQLite"] = await measure(engine, "SQLite (no ANALYZE statistics)", runs)
    await _analyze(engine)
    await engine.dispose()
    engine = create_engine(url)
    measured["SQLite + ANALYZE"] = await measure(engine, "SQLite after ANALYZE", runs)
    await engine.dispose()
    if pg_url is not None:
        engine = create_engine(pg_url)
        measured["PostgreSQL"] = await measure(engine, "PostgreSQL", runs)
        await engine.dispose()
    print()
    _print_side_by_side(measured)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this (measuring) process: {peak:.0f} MB")


SEEDED = ("contacts", "contact_events", "touches", "surveys", "nps_cases", "due_work")


async def _seed_sqlite(path: Path, n_contacts: int, n_touches: int) -> None:
    """Bulk-loaded (bench/bulkload.py): the seeded tables' indexes and triggers off during the
    load, built back once after it, the rollups and the text index rebuilt."""
    async with bulk_loaded(path, SEEDED, before_rebuild=set_last_touches) as engine:
        await seed(engine, n_contacts, n_touches, last_touches=False)


async def _prepare(path: Path, admin_url: str | None, pg_name: str, reuse: bool) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    t0 = time.perf_counter()
    await upgrade(engine)  # a file seeded before the text index and the rollups gets them
    await engine.dispose()
    print(f"  SQLite migrated in {time.perf_counter() - t0:.1f} s", flush=True)
    if admin_url is None:
        return
    if reuse and await bc._pg_exists(admin_url, pg_name):
        engine = create_engine(bc._pg_url(admin_url, pg_name, driver=True))
        await upgrade(engine)
        await engine.dispose()
        return
    await bc.copy_to_postgres(path, admin_url, pg_name)
    # bench_contacts' copy rebuilds the rollups it knows; the stage moves' too
    t0 = time.perf_counter()
    engine = create_engine(bc._pg_url(admin_url, pg_name, driver=True))
    async with engine.begin() as conn:
        for sql in rollup_moves.rebuild_sql("postgresql"):
            await conn.execute(text(sql))
    await engine.dispose()
    print(f"  PostgreSQL: stage moves rebuilt in {time.perf_counter() - t0:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="10,000 contacts, 100,000 touches")
    parser.add_argument("--contacts", type=int)
    parser.add_argument("--touches", type=int, help="default: 10 per contact")
    parser.add_argument("--db", help="SQLite file (default /tmp/netsales-digest-<n>-<t>.db)")
    parser.add_argument("--reuse", action="store_true", help="measure existing databases again")
    parser.add_argument(
        "--pg",
        default=PG_ADMIN_URL,
        help="PostgreSQL URL of a database to "
        "connect to for creating the bench's own (default %(default)s)",
    )
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--drop-pg", action="store_true", help="drop the PostgreSQL database after")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n_contacts = args.contacts or (10_000 if args.small else 100_000)
    n_touches = args.touches or 10 * n_contacts
    path = Path(args.db or f"/tmp/netsales-digest-{n_contacts}-{n_touches}.db")
    admin_url = None if args.no_pg else args.pg.replace("postgresql+asyncpg://", "postgresql://")
    pg_name = f"netsales_bench_digest_{n_contacts}_{n_touches}"
    same = ["--db", str(path), "--contacts", str(n_contacts), "--touches", str(n_touches)]
    same += ["--pg", args.pg] + (["--no-pg"] if args.no_pg else [])
    if args.seed_only:
        asyncio.run(_seed_sqlite(path, n_contacts, n_touches))
        return
    if args.prepare_only:
        asyncio.run(_prepare(path, admin_url, pg_name, args.reuse))
        return
    fresh = not args.reuse or not path.exists()
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        print(f"Seeding SQLite {path} ...", flush=True)
        # child processes, so their memory does not count in this one's peak RSS
        subprocess.run([sys.executable, __file__, "--seed-only", *same], check=True)
    reuse = [] if fresh else ["--reuse"]
    subprocess.run([sys.executable, __file__, "--prepare-only", *same, *reuse], check=True)
    pg_url = None if admin_url is None else bc._pg_url(admin_url, pg_name, driver=True)
    try:
        asyncio.run(run(path, pg_url, args.runs))
    finally:
        if admin_url is not None and args.drop_pg:
            asyncio.run(
                bc._pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            )


if __name__ == "__main__":
    main()
