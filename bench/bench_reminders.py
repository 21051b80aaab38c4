"""Reminder engine bench: claim-query time by table size, and delivery against rate limits.

    python bench/bench_reminders.py                # 1,000,000 contacts, 100,000 due reminders
    python bench/bench_reminders.py --small        # 100,000 contacts, 10,000 due reminders
    python bench/bench_reminders.py --seconds 120  # drive the sender longer

1. Claim query: a due_work table with 10k, 100k and 1M rows (most of them already sent, as in
   a living system; 100 due), timing `services.duework.claim_one` (the delivery loop claims
   one row at a time; rolled back). It must stay flat: the (status, due_at) index finds due
   rows without reading the history.
2. Delivery: seeds contacts and due reminders spread over many reps, starts the emulator with
   Telegram's limits switched on (30 messages/s overall, 1/s per chat with bursts of 3, 429
   with retry_after beyond), and runs the real delivery loop (the Clockwork's pool: claim one
   → render → Sender → close, 32 at a time) for --seconds, then stops it gracefully. Prints
   messages per second against the 30/s limit and the 429s received.
Nothing is asserted; the figures are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bot.app import build_app, create_bot  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.emulator import FakeTelegram, RateLimits  # noqa: E402
from core.clock import FrozenClock  # noqa: E402
from services import duework  # noqa: E402
from storage.db import create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Contact, DueWork, Team, User  # noqa: E402

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # Monday noon: inside working hours
BATCH = 20_000


async def seed_people(session, contacts: int, reps: int) -> list[tuple[int, int]]:  # noqa: ANN001
    await session.execute(insert(Team.__table__), [{"id": 1, "name": "Bench", "created_at": NOW}])
    users = [
        {
            "id": i + 1,
            "tg_id": 500_000 + i,
            "first_name": f"Rep {i}",
            "role": "rep",
            "team_id": 1,
            "reachable": True,
            "created_at": NOW,
            "last_seen_at": NOW,
        }
        for i in range(reps)
    ]
    await session.execute(insert(User.__table__), users)
    for start in range(0, contacts, BATCH):
        rows = []
        for i in range(start, min(contacts, start + BATCH)):
            rows.append(
                {
                    "id": i + 1,
                    "owner_id": (i % reps) + 1,
                    "team_id": 1,
                    "name": f"Client {i}",
                    "company": f"Company {i % 997}",
                    "icp_fit": "unknown",
                    "status": "lead",
                    "stage": "development",
                    "tags": "",
                    "search_text": f"client {i}",
                    "created_at": NOW - timedelta(days=30),
                    "updated_at": NOW,
                    "verified_at": NOW,
                    "next_step": f"call {i}",
                    "next_step_due": NOW - timedelta(minutes=5),
                }
            )
        await session.execute(insert(Contact.__table__), rows)
    await session.commit()
    return [(u["id"], u["tg_id"]) for u in users]


async def seed_due(session, due: int, reps: list[tuple[int, int]], *, history: int = 0) -> None:  # noqa: ANN001
    step_due = (NOW - timedelta(minutes=5)).isoformat()
    for start in range(0, due + history, BATCH):
        rows = []
        for i in range(start, min(due + history, start + BATCH)):
            owner_id, tg_id = reps[i % len(reps)]
            is_history = i >= due
            rows.append(
                {
                    "kind": "reminder",
                    "key": f"bench:{i}",
                    "chat_id": tg_id,
                    "user_id": owner_id,
                    "contact_id": None,
                    "payload": json.dumps({"step_due": step_due}),
                    "due_at": NOW - timedelta(days=1 if is_history else 0, minutes=5),
                    "status": "sent" if is_history else "pending",
                    "attempts": 1 if is_history else 0,
                    "late": False,
                    "created_at": NOW - timedelta(days=2),
                }
            )
        await session.execute(insert(DueWork.__table__), rows)
    await session.commit()


async def claim_timing(path: Path) -> None:
    print("Claim query (one row of 100 due; the rest history), SQLite:")
    print(f"{'rows':>10} {'p50 ms':>9} {'p95 ms':>9}")
    for size in (10_000, 100_000, 1_000_000):
        db = path / f"claim-{size}.db"
        db.unlink(missing_ok=True)
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        await upgrade(engine)
        factory = create_session_factory(engine)
        async with factory() as s:
            reps = await seed_people(s, 0, 100)
            await seed_due(s, 100, reps, history=size - 100)
            await s.execute(text("ANALYZE"))
            await s.commit()
        times = []
        for _ in range(30):
            async with factory() as s:
                t0 = time.perf_counter()
                got = await duework.claim_one(
                    s, now=NOW, worker="bench", lease=timedelta(minutes=5)
                )
                times.append((time.perf_counter() - t0) * 1000)
                assert got is not None
                await s.rollback()
        times.sort()
        print(
            f"{size:>10,} {statistics.median(times):>9.2f} {times[int(len(times) * 0.95) - 1]:>9.2f}"
        )
        await engine.dispose()
        db.unlink(missing_ok=True)


async def delivery(path: Path, contacts: int, due: int, reps: int, seconds: float) -> None:
    db = path / "delivery.db"
    db.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{db}"
    engine = create_engine(url)
    await upgrade(engine)
    factory = create_session_factory(engine)
    t0 = time.perf_counter()
    async with factory() as s:
        people = await seed_people(s, contacts, reps)
        # one due reminder per contact for the first `due` contacts
        step_due = (NOW - timedelta(minutes=5)).isoformat()
        for start in range(0, due, BATCH):
            rows = [
                {
                    "kind": "reminder",
                    "key": f"rem:{i + 1}",
                    "chat_id": people[i % reps][1],
                    "user_id": people[i % reps][0],
                    "contact_id": i + 1,
                    "payload": json.dumps({"step_due": step_due}),
                    "due_at": NOW - timedelta(minutes=5),
                    "status": "pending",
                    "attempts": 0,
                    "late": False,
                    "created_at": NOW - timedelta(days=1),
                }
                for i in range(start, min(due, start + BATCH))
            ]
            await s.execute(insert(DueWork.__table__), rows)
        await s.commit()
    await engine.dispose()
    print(
        f"\nSeeded {contacts:,} contacts, {due:,} due reminders for {reps:,} reps "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    limits = RateLimits(global_per_second=30, global_burst=30, chat_per_second=1, chat_burst=3)
    emu = FakeTelegram(rate_limits=limits)
    await emu.start()
    for _owner_id, tg_id in people:
        emu.add_user(tg_id, f"Rep {tg_id}", started=True)
    settings = Settings(
        _env_file=None,
        database_url=url,
        telegram_api_base=emu.base_url,  # type: ignore[call-arg]
    )
    app = build_app(
        settings,
        clock=FrozenClock(NOW),
        bot=create_bot(settings, token=emu.token),
        start_clockwork=False,
    )
    app.clockwork.pool.start()  # the bot's delivery loop, without the APScheduler clock
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    await app.clockwork.shutdown(grace=1)  # rows still in flight finish or go back
    elapsed = time.perf_counter() - start
    sent = [r for r in emu.requests if r.method == "sendMessage" and r.ok]
    too_many = [
        r
        for r in emu.requests
        if r.method == "sendMessage" and not r.ok and r.error and r.error.startswith("Too Many")
    ]
    rate = len(sent) / elapsed
    print(f"\nDelivery for {elapsed:.1f} s against the emulator's limits (30/s, 1/s per chat):")
    print(f"  messages sent:        {len(sent):,}")
    print(f"  messages per second:  {rate:.2f}  ({rate / 30:.1%} of the 30/s limit)")
    print(f"  429 answers received: {len(too_many)}")
    print(f"  sender stats:         {app.sender.stats}")
    await app.close()
    await emu.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--skip-claim", action="store_true")
    args = parser.parse_args()
    contacts, due = (100_000, 10_000) if args.small else (1_000_000, 100_000)
    with tempfile.TemporaryDirectory(prefix="netsales-bench-") as tmp:
        path = Path(tmp)
        if not args.skip_claim:
            await claim_timing(path)
        await delivery(path, contacts, due, min(args.reps, due), args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
