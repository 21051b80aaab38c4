"""Handler-time benchmark for /find and opening a card, on SQLite and PostgreSQL side by side.

    python bench/bench_contacts.py                       # 100,000 contacts, 1,000,000 touches
    python bench/bench_contacts.py --small               # 10,000 / 100,000, a quick run
    python bench/bench_contacts.py --contacts 1000000    # 1M contacts, 10M touches (long seeding)
    python bench/bench_contacts.py --contacts 1000000 --db /data/b.db --reuse   # measure again
    python bench/bench_contacts.py --pg postgresql://postgres@127.0.0.1:5432/test
    python bench/bench_contacts.py --no-pg               # SQLite only

Seeding runs in a child process (bulk executemany inserts into SQLite); the same rows are then
loaded into a PostgreSQL database (COPY, triggers off, rollups rebuilt), also in a child
process, so the peak RSS printed for the measuring process reflects only the measurement. The
PostgreSQL database (netsales_bench_contacts_<contacts>_<touches>) is kept for --reuse;
--drop-pg drops it at the end. Nothing is asserted: it prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, insert, select, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from bench.bulkload import bulk_loaded  # noqa: E402
from core.contactdata import translit  # noqa: E402
from core.roles import Role  # noqa: E402
from services import contacts as contacts_svc  # noqa: E402
from services import rollup_marks, rollup_replies, rollups  # noqa: E402
from services import timeline as timeline_svc  # noqa: E402
from storage.db import create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Base, Contact, ContactEvent, Team, Touch, User  # noqa: E402
from storage.types import UTCDateTime  # noqa: E402

BATCH = 10_000
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REPS = 20
BIG_REP_SHARE = 0.25  # one rep owns a quarter of all contacts
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

FIRST_LATIN = (
    "Anna Maria Ivan John Peter Olga Dmitry Elena Sergey Natalia Alex Kate Michael Sophie "
    "Andrew Victoria Pavel Irina Nikolai Tatiana George Laura Oleg Julia Roman Daria Boris "
    "Alice Maxim Vera Denis Eva Artem Polina Igor Kira Leonid Nina Stepan Zoe"
).split()
LAST_LATIN = (
    "Smith Johnson Brown Miller Davis Wilson Moore Taylor Anderson Thomas Jackson White Harris "
    "Martin Thompson Garcia Martinez Robinson Clark Lewis Walker Hall Allen Young King Wright "
    "Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner "
    "Parker Collins Edwards Stewart Morris Murphy Cook Rogers Morgan Peterson Cooper Reed Bailey"
).split()
FIRST_CYR = (
    "Анна Мария Иван Пётр Ольга Дмитрий Елена Сергей Наталья Алексей Екатерина Михаил Софья "
    "Андрей Виктория Павел Ирина Николай Татьяна Георгий Лариса Олег Юлия Роман Дарья Борис "
    "Алиса Максим Вера Денис Ева Артём Полина Игорь Кира Леонид Нина Степан Злата Яков"
).split()
LAST_CYR = (
    "Смирнов Иванов Кузнецов Соколов Попов Лебедев Козлов Новиков Морозов Петров Волков "
    "Соловьёв Васильев Зайцев Павлов Семёнов Голубев Виноградов Богданов Воробьёв Фёдоров "
    "Михайлов Беляев Тарасов Белов Комаров Орлов Киселёв Макаров Андреев Ковалёв Ильин Гусев "
    "Титов Кузьмин Кудрявцев Баранов Куликов Алексеев Степанов Яковлев Сорокин Сергеев Романов "
    "Захаров Борисов Королёв Герасимов Пономарёв Григорьев Лазарев Медведев Ершов Никитин"
).split()
COMPANY_WORDS = (
    "Acme Globex Initech Umbrella Stark Wayne Hooli Vandelay Soylent Cyberdyne Tyrell Aperture "
    "Ромашка Вектор Альфа Гранит Сибирь Восток Техно Стройинвест Логистика Агрохим Меридиан"
).split()
COMPANY_KINDS = ("LLC", "Group", "Inc", "ООО", "АО", "Holding", "Lab", "Partners")
POSITIONS = ("CEO", "CTO", "Head of Sales", "Procurement", "Директор", "Менеджер", "Engineer")
TAGS = ("event", "vip", "partner", "hot", "cold", "горячий", "expo2026", "webinar", "b2b")
STATUSES = ("contact", "lead", "client", "partner", "lost")
STAGES = ("identification", "connection", "development", "commercial", "retention")
TOUCH_TYPES = ("call", "meeting", "message", "email", "event", "webinar", "social")
SUMMARIES = (
    "Called, no answer",
    "Discussed the offer, wants a discount",
    "Sent the presentation",
    "Встретились на выставке, интересуется пилотом",
    "Обсудили сроки поставки",
    "Short chat in Telegram",
)


# ------------------------------------------------------------------------------------ seeding


def _name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        first, last = rng.choice(FIRST_CYR), rng.choice(LAST_CYR)
        if first[-1] in "аяь" and last.endswith(("ов", "ев", "ёв", "ин")):
            last += "а"
        return f"{first} {last}"
    return f"{rng.choice(FIRST_LATIN)} {rng.choice(LAST_LATIN)}"


def _fast_writes(engine: Any) -> None:
    """Bulk seeding: no fsync (PRAGMA synchronous must be set outside a transaction)."""
    if engine.dialect.name == "sqlite":
        event.listen(
            engine.sync_engine,
            "connect",
            lambda dbapi, _rec: dbapi.execute("PRAGMA synchronous=OFF"),
        )


def _email_local(name: str, n: int) -> str:
    # the card's number keeps it unique in the team (migration 0013: one phone, one e-mail a team)
    return translit(name).lower().replace(" ", ".").replace("'", "") + str(n)


def _new_phone(rng: random.Random, used: set[str]) -> str:
    """A random phone no other card of the seed has (at 1M cards random ones would repeat)."""
    while (phone := f"+79{rng.randrange(10**9):09d}") in used:
        pass
    used.add(phone)
    return phone


SEEDED = ("contacts", "contact_events", "touches")


async def _seed(db: Path, n_contacts: int, n_touches: int, seed: int) -> None:
    """Bulk-loaded (bench/bulkload.py): the seeded tables' indexes and triggers (the text
    index's, the rollups') off during the load, built back once after it."""
    t0 = time.perf_counter()
    async with bulk_loaded(db, SEEDED) as engine:
        await _fill(engine, n_contacts, n_touches, seed)
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    await engine.dispose()
    print(f"  seeded in {time.perf_counter() - t0:.1f} s (with ANALYZE)", flush=True)


async def _fill(engine: Any, n_contacts: int, n_touches: int, seed: int) -> None:
    rng = random.Random(seed)
    phones: set[str] = set()
    factory = create_session_factory(engine)
    t0 = time.perf_counter()
    async with factory() as session:
        team_ids = []
        for name in ("North", "South"):
            team = Team(name=name, created_at=NOW)
            session.add(team)
            await session.flush()
            team_ids.append(team.id)
        users: list[dict[str, Any]] = [
            {
                "tg_id": 1000 + i,
                "first_name": f"Rep{i}",
                "role": "rep",
                "team_id": team_ids[i % 2],
                "created_at": NOW,
                "last_seen_at": NOW,
            }
            for i in range(REPS)
        ]
        users.append(
            {
                "tg_id": 999,
                "first_name": "Admin",
                "role": None,
                "team_id": None,
                "created_at": NOW,
                "last_seen_at": NOW,
            }
        )
        await session.execute(insert(User), users)
        rep_rows = (await session.execute(select(User.id, User.team_id).order_by(User.id))).all()
        reps = rep_rows[:REPS]

        # touches first (in memory, compactly): their times give each card its last_touch_at
        touch_contact = [int(n_contacts * rng.random() ** 2) + 1 for _ in range(n_touches)]
        touch_minutes = [rng.randrange(0, 3 * 365 * 24 * 60) for _ in range(n_touches)]
        last_touch: list[int | None] = [None] * (n_contacts + 1)
        for cid, minutes in zip(touch_contact, touch_minutes, strict=True):
            prev = last_touch[cid]
            if prev is None or minutes > prev:
                last_touch[cid] = minutes

        owners: list[tuple[int, int]] = []
        for start in range(1, n_contacts + 1, BATCH):
            rows = []
            for cid in range(start, min(start + BATCH, n_contacts + 1)):
                owner = reps[0] if rng.random() < BIG_REP_SHARE else rng.choice(reps[1:])
                owners.append((owner.id, owner.team_id))
                name = _name(rng)
                created = NOW - timedelta(days=rng.randrange(0, 3 * 365))
                row: dict[str, Any] = {
                    "id": cid,
                    "owner_id": owner.id,
                    "team_id": owner.team_id,
                    "name": name,
                    "company": (
                        f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
                        if rng.random() < 0.7
                        else None
                    ),
                    "position": rng.choice(POSITIONS) if rng.random() < 0.5 else None,
                    "kind": rng.choice(("b2b", "b2c")),
                    "icp_fit": rng.choice(("fits", "not_fit", "unknown")),
                    "status": rng.choice(STATUSES),
                    "stage": rng.choice(STAGES),
                    "phone": _new_phone(rng, phones) if rng.random() < 0.8 else None,
                    "email": (
                        f"{_email_local(name, cid)}@example.com" if rng.random() < 0.6 else None
                    ),
                    "tg_username": f"user{cid}_{rng.randrange(1000)}"
                    if rng.random() < 0.3
                    else None,
                    "tags": contacts_svc.join_tags(rng.sample(TAGS, rng.randrange(0, 3))),
                    "notes": "Met at the expo; follow up." if rng.random() < 0.2 else None,
                    "created_at": created,
                    "updated_at": created,
                    "verified_at": created,
                    "last_touch_at": (
                        NOW - timedelta(minutes=last_touch[cid])
                        if last_touch[cid] is not None
                        else None
                    ),
                    "next_step": "Call back" if rng.random() < 0.5 else None,
                    "next_step_due": (
                        NOW + timedelta(days=rng.randrange(-30, 60)) if rng.random() < 0.5 else None
                    ),
                    "archived_at": NOW if rng.random() < 0.02 else None,
                }
                # the same text the service stores (build_search_text reads these attributes)
                row["search_text"] = contacts_svc.build_search_text(SimpleNamespace(**row))  # type: ignore[arg-type]
                rows.append(row)
            await session.execute(insert(Contact.__table__), rows)
            await session.execute(
                insert(ContactEvent.__table__),
                [
                    {
                        "contact_id": r["id"],
                        "actor_id": r["owner_id"],
                        "field": "created",
                        "new_value": r["name"],
                        "at": r["created_at"],
                    }
                    for r in rows
                ],
            )
        t1 = time.perf_counter()
        print(f"  contacts: {n_contacts:,} in {t1 - t0:.1f} s", flush=True)

        for start in range(0, n_touches, BATCH):
            batch = []
            for i in range(start, min(start + BATCH, n_touches)):
                cid = touch_contact[i]
                batch.append(
                    {
                        "contact_id": cid,
                        "author_id": owners[cid - 1][0],
                        "type": TOUCH_TYPES[i % len(TOUCH_TYPES)],
                        "direction": "out" if i % 3 else "in",
                        "summary": SUMMARIES[i % len(SUMMARIES)],
                        "occurred_at": NOW - timedelta(minutes=touch_minutes[i]),
                    }
                )
            await session.execute(insert(Touch.__table__), batch)
        await session.commit()
        t2 = time.perf_counter()
        print(f"  touches: {n_touches:,} in {t2 - t1:.1f} s", flush=True)


# -------------------------------------------------------------------------------- measuring


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # swap two letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:  # drop a letter
        return word[:i] + word[i + 1 :]
    return word[:i] + rng.choice("aeiouнро") + word[i + 1 :]  # wrong letter


def _queries(sample: list[Contact], rng: random.Random, n: int) -> list[tuple[str, str]]:
    """(kind, query) pairs: names, typos, Latin for Cyrillic, phones, e-mails, tags, misses."""
    return [(kind, q) for kind, q, _card in queries_for(sample, rng, n)]


def queries_for(sample: list[Contact], rng: random.Random, n: int) -> list[tuple[str, str, int]]:
    """(kind, query, id of the card it was made from) triples (tests/test_search.py uses them)."""
    makers: list[tuple[str, Callable[[Contact], str | None]]] = [
        ("full name", lambda c: c.name),
        ("last name", lambda c: c.name.split()[-1]),
        ("first name", lambda c: c.name.split()[0]),
        ("typo", lambda c: _typo(c.name.split()[-1], rng)),
        ("latin for cyrillic", lambda c: translit(c.name.split()[-1]).lower()),
        ("company", lambda c: c.company.split()[0] if c.company else None),
        ("phone tail", lambda c: c.phone[-7:] if c.phone else None),
        (
            "phone as typed",
            lambda c: (
                f"8 ({c.phone[2:5]}) {c.phone[5:8]}-{c.phone[8:10]}-{c.phone[10:]}"
                if c.phone
                else None
            ),
        ),
        (
            "e-mail / @user",
            lambda c: (
                c.email.split("@")[0] if c.email else f"@{c.tg_username}" if c.tg_username else None
            ),
        ),
        ("#tag / no match", lambda c: rng.choice(["#vip", "#горячий", "zzqxwv", "Qwertyuiop Inc"])),
    ]
    out: list[tuple[str, str, int]] = []
    i = 0
    while len(out) < n:
        kind, make = makers[i % len(makers)]
        card = rng.choice(sample)
        q = make(card)
        if q:
            out.append((kind, q, card.id))
        i += 1
    return out


def _rss_mb() -> tuple[float, float]:
    """(peak RSS, current RSS) in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    current = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak, current


async def _timed(
    factory: async_sessionmaker[AsyncSession], call: Callable[[AsyncSession], Awaitable[Any]]
) -> float:
    """One handler's worth: a fresh session (as DbSessionMiddleware gives), the call, close."""
    start = time.perf_counter()
    async with factory() as session:
        await call(session)
    return (time.perf_counter() - start) * 1000


def _stats(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


async def _measure(
    url: str, n_queries: int, n_cards: int, seed: int
) -> tuple[str, dict[str, list[float]]]:
    """Time every operation on one database; (a line about the data, {label: timings})."""
    rng = random.Random(seed + 1)
    engine = create_engine(url)
    factory = create_session_factory(engine)
    async with factory() as session:
        rep_id, rep_team = (
            await session.execute(select(User.id, User.team_id).order_by(User.id).limit(1))
        ).one()
        total = await session.scalar(select(func.count(Contact.id)))
        mine = await session.scalar(
            select(func.count(Contact.id)).where(Contact.owner_id == rep_id)
        )
        touches = await session.scalar(select(func.count(Touch.id)))
        ids = list(
            await session.scalars(
                select(Contact.id)
                .where(Contact.owner_id == rep_id, Contact.archived_at.is_(None))
                .order_by(Contact.id)
            )
        )
        sample = list(
            await session.scalars(
                select(Contact)
                .where(Contact.id.in_(rng.sample(ids, min(400, len(ids)))))
                .order_by(Contact.id)
            )
        )
    rep = Role.REP
    rep_scope = contacts_svc.Scope(rep_id, rep, rep_team)
    admin_scope = contacts_svc.Scope(0, Role.ADMIN, None)
    queries = _queries(sample, rng, n_queries)
    cards = rng.sample(ids, min(n_cards, len(ids)))
    about = (
        f"{total:,} contacts, {touches:,} touches; measured rep owns {mine:,} "
        f"({mine / max(total, 1):.0%}). {len(queries)} queries, {len(cards)} cards."
    )

    for _kind, q in queries[:20]:  # warm the page cache and the statement cache
        await _timed(factory, lambda s, q=q: contacts_svc.search(s, rep_scope, q))
        await _timed(factory, lambda s, q=q: contacts_svc.search(s, admin_scope, q))

    results: dict[str, list[float]] = {}

    def add(label: str, ms: float) -> None:
        results.setdefault(label, []).append(ms)

    for kind, q in queries:
        ms = await _timed(factory, lambda s, q=q: contacts_svc.search(s, rep_scope, q))
        add("search (rep scope)", ms)
        add(f"  · {kind}", ms)
    for _kind, q in queries:
        add(
            "search (admin, all)",
            await _timed(factory, lambda s, q=q: contacts_svc.search(s, admin_scope, q)),
        )

    last_touch = select(Touch)
    for cid in cards:
        get_ms = await _timed(factory, lambda s, cid=cid: contacts_svc.get(s, rep_scope, cid))
        tl_ms = await _timed(factory, lambda s, cid=cid: timeline_svc.timeline(s, cid, 0))
        lt_ms = await _timed(
            factory,
            lambda s, cid=cid: s.scalar(
                last_touch.where(Touch.contact_id == cid)
                .order_by(Touch.occurred_at.desc(), Touch.id.desc())
                .limit(1)
            ),
        )

        async def whole(s: AsyncSession, cid: int = cid) -> None:
            await contacts_svc.get(s, rep_scope, cid)
            await timeline_svc.timeline(s, cid, 0)
            await s.scalar(
                last_touch.where(Touch.contact_id == cid)
                .order_by(Touch.occurred_at.desc(), Touch.id.desc())
                .limit(1)
            )

        add("card: get", get_ms)
        add("card: timeline page 0", tl_ms)
        add("card: last touch", lt_ms)
        add("card: all three, one session", await _timed(factory, whole))

    await engine.dispose()
    return about, results


def _print_side_by_side(measured: dict[str, dict[str, list[float]]]) -> None:
    labels = list(dict.fromkeys(k for r in measured.values() for k in r))
    width = max(len(k) for k in labels) + 2
    head = f"{'operation':<{width}}{'n':>5}"
    for name in measured:
        head += f" | {name + ' p50':>16}{'p95':>8}{'max':>8}"
    print(head)
    print("-" * len(head))
    for label in labels:
        line = f"{label:<{width}}"
        n = max(len(r.get(label, [])) for r in measured.values())
        line += f"{n:>5}"
        for r in measured.values():
            values = r.get(label)
            if values:
                p50, p95, worst = _stats(values)
                line += f" | {p50:>16.2f}{p95:>8.2f}{worst:>8.2f}"
            else:
                line += f" | {'':>16}{'':>8}{'':>8}"
        print(line)
    print("-" * len(head))


async def _measure_all(urls: dict[str, str], n_queries: int, n_cards: int, seed: int) -> None:
    gc.collect()
    peak_before, rss_before = _rss_mb()
    measured: dict[str, dict[str, list[float]]] = {}
    for name, url in urls.items():
        about, measured[name] = await _measure(url, n_queries, n_cards, seed)
        print(f"{name}: {about}")
    gc.collect()
    peak_after, rss_after = _rss_mb()
    print("\nTimes in ms, each call in its own session (as a handler's):\n")
    _print_side_by_side(measured)
    print(
        f"RSS of this (measuring) process before: peak {peak_before:.0f} MB, current "
        f"{rss_before:.0f} MB; after: peak {peak_after:.0f} MB, current {rss_after:.0f} MB"
    )


# ------------------------------------------------------------------------------ PostgreSQL
def _pg_url(admin_url: str, name: str, *, driver: bool) -> str:
    base = admin_url.rsplit("/", 1)[0]
    if driver:
        base = base.replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def _pg_exists(admin_url: str, name: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def _pg_admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _converter(col: Any) -> Callable[[Any], Any]:
    if isinstance(col.type, UTCDateTime):

        def to_datetime(v: Any) -> Any:
            return None if v is None else datetime.fromisoformat(v).replace(tzinfo=UTC)

        return to_datetime
    if col.type.python_type is bool:
        return lambda v: None if v is None else bool(v)
    return lambda v: v


async def copy_to_postgres(sqlite_path: Path, admin_url: str, name: str) -> None:
    """A fresh, migrated PostgreSQL database ``name`` holding the SQLite file's rows: COPY with
    triggers off (``session_replication_role = replica``), then the rollups rebuilt as the
    migration does, the sequences moved on, VACUUM ANALYZE (as autovacuum would)."""
    import sqlite3

    import asyncpg

    await _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _pg_admin(admin_url, f'CREATE DATABASE "{name}"')
    engine = create_engine(_pg_url(admin_url, name, driver=True))
    await upgrade(engine)
    await engine.dispose()
    t0 = time.perf_counter()
    src = sqlite3.connect(sqlite_path)
    conn = await asyncpg.connect(_pg_url(admin_url, name, driver=False), timeout=10)
    try:
        await conn.execute("SET session_replication_role = replica")
        for table in Base.metadata.sorted_tables:
            if table.name.startswith("rollup_"):  # rebuilt below, as the migration does
                continue
            cols = [c.name for c in table.columns]
            convert = [_converter(c) for c in table.columns]
            cur = src.execute(f"SELECT {', '.join(cols)} FROM {table.name}")  # noqa: S608
            count = 0
            while rows := cur.fetchmany(50_000):
                records = [tuple(f(v) for f, v in zip(convert, r, strict=True)) for r in rows]
                await conn.copy_records_to_table(table.name, records=records, columns=cols)
                count += len(records)
            if count:
                print(f"  PostgreSQL: {table.name} {count:,} rows", flush=True)
                if "id" in cols:
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
        rebuild = rollups.rebuild_sql("postgresql") + rollup_marks.rebuild_sql("postgresql")
        for sql in rebuild + rollup_replies.rebuild_sql("postgresql"):
            await conn.execute(sql)
        await conn.execute("SET session_replication_role = DEFAULT")
        # A live bot writes an hour's touch rollups during that hour, so they share heap pages;
        # the rebuild above writes them in hash order, one page per row (the digest's 24 hours
        # of a big team read 8,600 pages: 38 ms instead of ~3). Put them back in key order.
        await conn.execute("CLUSTER rollup_touch_hours USING pk_rollup_touch_hours")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
        src.close()
    print(f"  PostgreSQL loaded in {time.perf_counter() - t0:.1f} s", flush=True)


async def _prepare(db: Path, admin_url: str | None, pg_name: str, reuse: bool) -> None:
    """Bring the SQLite file to the current schema (text index, rollups) and load PostgreSQL."""
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    t0 = time.perf_counter()
    await upgrade(engine)
    await engine.dispose()
    print(f"  SQLite migrated in {time.perf_counter() - t0:.1f} s", flush=True)
    if admin_url is None:
        return
    if reuse and await _pg_exists(admin_url, pg_name):
        engine = create_engine(_pg_url(admin_url, pg_name, driver=True))
        await upgrade(engine)
        await engine.dispose()
        return
    await copy_to_postgres(db, admin_url, pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--touches", type=int, default=None, help="default: 10 per contact")
    parser.add_argument("--small", action="store_true", help="10,000 contacts, 100,000 touches")
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: in /tmp)")
    parser.add_argument("--reuse", action="store_true", help="measure existing databases again")
    parser.add_argument(
        "--pg",
        default=PG_ADMIN_URL,
        help="PostgreSQL URL of a database to "
        "connect to for creating the bench's own (default %(default)s)",
    )
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--drop-pg", action="store_true", help="drop the PostgreSQL database after")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.small:
        args.contacts = 10_000
    args.touches = args.touches if args.touches is not None else 10 * args.contacts
    db: Path = args.db or Path(tempfile.gettempdir()) / (
        f"netsales-bench-{args.contacts}-{args.touches}.db"
    )
    url = f"sqlite+aiosqlite:///{db}"
    admin_url = None if args.no_pg else args.pg.replace("postgresql+asyncpg://", "postgresql://")
    pg_name = f"netsales_bench_contacts_{args.contacts}_{args.touches}"
    same = ["--db", str(db), "--contacts", str(args.contacts), "--touches", str(args.touches)]
    same += ["--seed", str(args.seed), "--pg", args.pg] + (["--no-pg"] if args.no_pg else [])

    if args.seed_only:
        asyncio.run(_seed(db, args.contacts, args.touches, args.seed))
        return
    if args.prepare_only:
        asyncio.run(_prepare(db, admin_url, pg_name, args.reuse))
        return
    fresh = not (args.reuse and db.exists())
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        print(f"Seeding {db} with {args.contacts:,} contacts and {args.touches:,} touches…")
        # child processes, so their memory does not count in this one's peak RSS
        subprocess.run([sys.executable, __file__, "--seed-only", *same], check=True)
    reuse = [] if fresh else ["--reuse"]
    subprocess.run([sys.executable, __file__, "--prepare-only", *same, *reuse], check=True)
    urls = {"SQLite": url}
    if admin_url is not None:
        urls["PostgreSQL"] = _pg_url(admin_url, pg_name, driver=True)
    try:
        asyncio.run(_measure_all(urls, args.queries, args.cards, args.seed))
    finally:
        if admin_url is not None and args.drop_pg:
            asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
