"""The load benchmark's own parts: its script must keep running clean against today's bot."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update

from bot.config import Settings
from bot.emulator.runner import EmulatedBot

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_load.py"


@pytest.fixture(scope="module")
def bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module
    spec.loader.exec_module(module)
    return module


def test_percentiles_are_nearest_rank(bench: Any) -> None:
    stats = bench.Stats(latencies=[i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert stats.pct(50) == pytest.approx(50)
    assert stats.pct(95) == pytest.approx(95)
    assert stats.pct(99) == pytest.approx(99)
    assert stats.pct(100) == pytest.approx(100)
    assert stats.pct(95, [0.001, 0.002]) == pytest.approx(2)


async def test_a_round_of_the_script_runs_clean_against_the_bot(
    bench: Any, tg: EmulatedBot, settings: Settings
) -> None:
    """Seeded reps (storage models in a unit of work) go through a whole round: every step
    answered as the script expects, no apology, no refused request."""
    reps = await bench.seed(settings.database_url, 2)
    assert len(reps) == 2 and all(len(r.names) == 4 for r in reps)
    for rep in reps:
        tg.emu.add_user(rep.uid, f"Rep{rep.index}", started=True)
    tracker, inbox = bench.Tracker(), bench.Inbox(tg.emu)
    assert tg.app is not None
    dp = tg.app.dispatcher
    original = dp.feed_update

    async def feed_update(bot: Bot, update: Update, **kwargs: Any) -> Any:
        try:
            return await original(bot, update, **kwargs)
        finally:
            tracker.feed(f"D {update.update_id}")

    dp.feed_update = feed_update  # type: ignore[method-assign]
    for rep in reps:
        user = bench.SimUser(tg.emu, tracker, inbox, rep.uid, 10)
        await bench.rep_round(user, rep, random.Random(rep.uid))
        stats = user.stats
        assert stats.errors == 0 and not inbox.failed
        assert stats.updates in (13, 14)  # 14 when /add asks about a possible duplicate
        assert set(stats.by_kind) == {"find", "open card", "timeline", "touch log", "add"}
        assert len(stats.busy) == len(stats.latencies) == stats.updates
        assert all(b >= 0 for b in stats.busy)
    assert not tracker.pushed  # every update was reported done
