"""Handler-time benchmark for /find and opening a card on a big SQLite database.

    python bench/bench_contacts.py                 # 100,000 contacts, 1,000,000 touches
    python bench/bench_contacts.py --small         # 10,000 / 100,000, a quick run
    python bench/bench_contacts.py --contacts 50000 --touches 500000 --db /tmp/b.db --reuse

Seeding runs in a child process (bulk executemany inserts), so the peak RSS printed for the
measuring process reflects only the measurement itself. Nothing is asserted: it prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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

from core.contactdata import translit  # noqa: E402
from core.roles import Role  # noqa: E402
from services import contacts as contacts_svc  # noqa: E402
from storage.db import create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Contact, ContactEvent, Team, Touch, User  # noqa: E402

BATCH = 10_000
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
            engine.sync_engine, "connect", lambda dbapi, _rec: dbapi.execute("PRAGMA synchronous=OFF")
        )


def _email_local(name: str, n: int) -> str:
    return translit(name).lower().replace(" ", ".").replace("'", "") + str(n % 1000)


async def _seed(url: str, n_contacts: int, n_touches: int, seed: int) -> None:
    rng = random.Random(seed)
    engine = create_engine(url)
    _fast_writes(engine)
    await upgrade(engine)
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
                    "phone": f"+79{rng.randrange(10**9):09d}" if rng.random() < 0.8 else None,
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
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    await engine.dispose()
    print(f"  seeded in {time.perf_counter() - t0:.1f} s (with ANALYZE)", flush=True)


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


async def _measure(url: str, n_queries: int, n_cards: int, seed: int) -> None:
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
    print(
        f"\nDB: {total:,} contacts, {touches:,} touches; measured rep owns {mine:,} "
        f"({mine / max(total, 1):.0%}). {len(queries)} queries, {len(cards)} cards.\n"
    )

    for _kind, q in queries[:10]:  # warm the page cache and the statement cache
        await _timed(factory, lambda s, q=q: contacts_svc.search(s, rep_scope, q))
    gc.collect()
    peak_before, rss_before = _rss_mb()

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
        tl_ms = await _timed(factory, lambda s, cid=cid: contacts_svc.timeline(s, cid, 0))
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
            await contacts_svc.timeline(s, cid, 0)
            await s.scalar(
                last_touch.where(Touch.contact_id == cid)
                .order_by(Touch.occurred_at.desc(), Touch.id.desc())
                .limit(1)
            )

        add("card: get", get_ms)
        add("card: timeline page 0", tl_ms)
        add("card: last touch", lt_ms)
        add("card: all three, one session", await _timed(factory, whole))

    gc.collect()
    peak_after, rss_after = _rss_mb()
    await engine.dispose()

    width = max(len(k) for k in results) + 2
    print(f"{'operation':<{width}}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    print("-" * (width + 36))
    for label, values in results.items():
        p50, p95, worst = _stats(values)
        print(f"{label:<{width}}{len(values):>6}{p50:>10.2f}{p95:>10.2f}{worst:>10.2f}")
    print("-" * (width + 36))
    print(
        f"RSS before measuring: peak {peak_before:.0f} MB, current {rss_before:.0f} MB\n"
        f"RSS after measuring:  peak {peak_after:.0f} MB, current {rss_after:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--touches", type=int, default=1_000_000)
    parser.add_argument("--small", action="store_true", help="10,000 contacts, 100,000 touches")
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: in /tmp)")
    parser.add_argument("--reuse", action="store_true", help="measure an existing --db as is")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.small:
        args.contacts, args.touches = 10_000, 100_000
    db: Path = args.db or Path(tempfile.gettempdir()) / (
        f"netsales-bench-{args.contacts}-{args.touches}.db"
    )
    url = f"sqlite+aiosqlite:///{db}"

    if args.seed_only:
        asyncio.run(_seed(url, args.contacts, args.touches, args.seed))
        return
    if not (args.reuse and db.exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        print(f"Seeding {db} with {args.contacts:,} contacts and {args.touches:,} touches…")
        # a child process, so its memory does not count in this one's peak RSS
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--seed-only",
                "--db",
                str(db),
                "--contacts",
                str(args.contacts),
                "--touches",
                str(args.touches),
                "--seed",
                str(args.seed),
            ],
            check=True,
        )
    asyncio.run(_measure(url, args.queries, args.cards, args.seed))


if __name__ == "__main__":
    main()
