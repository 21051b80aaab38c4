"""/import of a big file on SQLite: total time, and how long the write lock is held at a time.

    python bench/bench_import.py                 # 100,000 rows (10% update existing cards)
    python bench/bench_import.py --rows 20000    # a quicker run
    python bench/bench_import.py --db /tmp/i.db  # keep the database file

Runs the use cases the bot runs (services.exchange.stage, then apply as if Import was tapped) on
a fresh migrated SQLite file. Every write transaction is timed from its BEGIN IMMEDIATE to its
COMMIT; meanwhile another rep saves a contact every 50 ms in a session of its own (as /add
would), and the time each of those waits is recorded. Nothing is asserted: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select  # noqa: E402

from core.exchange import write_csv  # noqa: E402
from core.roles import Role  # noqa: E402
from services import contacts as contacts_svc  # noqa: E402
from services import exchange as exchange_svc  # noqa: E402
from storage import uow  # noqa: E402
from storage.db import create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Contact, DueWork, Team, User  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FIRST = "Anna Maria Ivan John Olga Dmitry Elena Sergey Alex Kate Пётр Ольга Наталья Игорь".split()
LAST = "Smith Brown Miller Davis Wilson Taylor Смирнов Иванов Кузнецов Попов Соколов".split()
COMPANIES = "Acme Globex Initech Umbrella Hooli Ромашка Вектор Гранит".split()


class WriteTimer:
    """Times every write transaction (BEGIN IMMEDIATE … COMMIT/ROLLBACK) on an engine."""

    def __init__(self) -> None:
        self.phase = "setup"
        self.durations: dict[str, list[float]] = {}

    def install(self, sync_engine: Any) -> None:
        @event.listens_for(sync_engine, "begin")
        def _begin(conn: Any) -> None:
            if uow.in_write():
                conn.info["write_began"] = (time.perf_counter(), self.phase)

        def _end(conn: Any) -> None:
            began = conn.info.pop("write_began", None)
            if began is not None:
                start, phase = began
                self.durations.setdefault(phase, []).append(time.perf_counter() - start)

        event.listen(sync_engine, "commit", _end)
        event.listen(sync_engine, "rollback", _end)


def make_csv(n_rows: int, existing: list[int], rng: random.Random) -> bytes:
    """Rows as /export writes them: 10% update existing cards (by id), 90% are new; a fifth of
    the rows carry a next step."""
    rows: list[dict[str, Any]] = []
    updates = set(rng.sample(existing, min(len(existing), n_rows // 10)))
    for ref in sorted(updates):
        rows.append({"id": ref, "name": f"Card {ref}", "company": "Renamed Ltd", "status": "lead"})
    for i in range(n_rows - len(rows)):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
        row: dict[str, Any] = {
            "name": name,
            "company": f"{rng.choice(COMPANIES)} {rng.randrange(1000)}",
            "phone": f"+7913{i:07d}",
            "email": f"person{i}@example.com",
            "tags": "import;bench",
            "notes": "Met at the expo" if i % 3 == 0 else None,
        }
        if i % 5 == 0:
            row["next_step"] = "Call back"
            row["next_step_due"] = NOW + timedelta(days=1 + i % 30, hours=i % 8)
        rows.append(row)
    rng.shuffle(rows)
    return write_csv(rows)


async def probe(factory: Any, rep_id: int, stop: asyncio.Event, waits: list[float]) -> None:
    """Another rep's /add every 50 ms: the time from asking to save to the commit."""
    n = 0
    while not stop.is_set():
        start = time.perf_counter()
        async with factory() as session, uow.writing(session):
            rep = await session.get(User, rep_id)
            assert rep is not None
            await contacts_svc.create(session, owner=rep, data={"name": f"Probe {n}"}, now=NOW)
        waits.append(time.perf_counter() - start)
        n += 1
        try:
            await asyncio.wait_for(stop.wait(), 0.05)
        except TimeoutError:
            pass


async def timed(label: str, timer: WriteTimer, call: Callable[[], Awaitable[Any]]) -> Any:
    timer.phase = label
    start = time.perf_counter()
    result = await call()
    print(f"  {label:<28}{time.perf_counter() - start:>8.1f} s", flush=True)
    timer.phase = "idle"
    return result


async def run(db: Path, n_rows: int, n_existing: int, seed: int) -> None:
    rng = random.Random(seed)
    engine = create_engine(f"sqlite+aiosqlite:///{db}", strict=True)
    await upgrade(engine)
    timer = WriteTimer()
    timer.install(engine.sync_engine)
    factory = create_session_factory(engine)
    async with factory() as session, uow.writing(session):
        team = Team(name="North", created_at=NOW)
        session.add(team)
        await session.flush()
        importer = User(
            tg_id=1,
            first_name="Rita",
            role="rep",
            team_id=team.id,
            created_at=NOW,
            last_seen_at=NOW,
        )
        other = User(
            tg_id=2,
            first_name="Roman",
            role="rep",
            team_id=team.id,
            created_at=NOW,
            last_seen_at=NOW,
        )
        session.add_all([importer, other])
        await session.flush()
        existing = []
        for i in range(n_existing):
            card = await contacts_svc.create(
                session, owner=importer, data={"name": f"Card {i}"}, now=NOW
            )
            existing.append(card.id)
        importer_id, other_id = importer.id, other.id
    data = make_csv(n_rows, existing, rng)
    print(f"{n_rows:,} rows ({len(data) / 1e6:.1f} MB), {n_existing:,} cards already there\n")

    stop = asyncio.Event()
    waits: list[float] = []
    prober = asyncio.create_task(probe(factory, other_id, stop, waits))
    total_start = time.perf_counter()
    async with factory() as session:
        user = await session.get(User, importer_id)
        assert user is not None
        preview = await timed(
            "stage (check, match, stage)",
            timer,
            lambda: exchange_svc.stage(
                session,
                user=user,
                role=Role.REP,
                data=data,
                kind="csv",
                filename="big.csv",
                region="RU",
                tz=UTC,
                now=NOW,
            ),
        )
        import_id = preview.import_id
        assert import_id is not None
        plan = exchange_svc._plan_reminders

        async def plan_timed(*args: Any, **kwargs: Any) -> None:
            timer.phase = "reminders, clean-up"
            await plan(*args, **kwargs)

        exchange_svc._plan_reminders = plan_timed  # type: ignore[assignment]
        outcome = await timed(
            "apply (Import tapped)",
            timer,
            lambda: exchange_svc.apply(
                session, import_id=import_id, user=user, role=Role.REP, now=NOW, default_tz="UTC"
            ),
        )
    total = time.perf_counter() - total_start
    stop.set()
    await prober
    async with factory() as session:
        cards = await session.scalar(select(func.count()).select_from(Contact))
        reminders = await session.scalar(select(func.count()).select_from(DueWork))
    await engine.dispose()

    print(f"  {'total':<28}{total:>8.1f} s\n")
    print(
        f"preview: {preview.creates:,} new, {preview.updates:,} updates, {preview.skipped:,} "
        f"skipped; outcome {outcome.status}: {outcome.reminders:,} reminders planned\n"
        f"database now: {cards:,} cards (with the probe's), {reminders:,} due-work rows\n"
    )
    print(f"{'write transactions':<28}{'n':>7}{'max ms':>10}{'p95 ms':>10}{'total s':>10}")
    longest = 0.0
    for phase, values in timer.durations.items():
        if phase == "setup":
            continue
        ordered = sorted(values)
        p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
        longest = max(longest, ordered[-1])
        print(
            f"  {phase:<26}{len(values):>7}{ordered[-1] * 1000:>10.0f}{p95 * 1000:>10.0f}"
            f"{sum(values):>10.1f}"
        )
    print(f"longest single write transaction: {longest * 1000:.0f} ms")
    if waits:
        print(
            f"another rep's /add during the import: {len(waits)} saved, median "
            f"{statistics.median(waits) * 1000:.0f} ms, max {max(waits) * 1000:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=20_000, help="cards there before")
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "bench-import.db")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    asyncio.run(run(args.db, args.rows, args.existing, args.seed))


if __name__ == "__main__":
    main()
