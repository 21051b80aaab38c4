"""Snooze, reschedule and Done are idempotent: any number of taps, in any order, leave one
reminder at the last chosen time — tapped twice in a second, or 20 times at once (each update in
its own task, as in production), with the FSM in memory or in Redis, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.emulator import FakeTelegram
from bot.emulator.client import buttons_of
from bot.emulator.runner import EmulatedBot
from core.clock import FrozenClock
from services import contacts as svc
from services import followups
from storage.db import create_session_factory
from storage.models import Contact, DueWork, Touch, User
from storage.uow import write_session
from tests.conftest import fast_limiter, no_wait
from tests.helpers import team_with_rep
from tests.services import REDIS_PREFIX, REDIS_URL

STEP_AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 15:00, the rep's hours are 09–19 UTC
CHOICES = {
    "+1 hour": datetime(2026, 11, 23, 16, 0, tzinfo=UTC),
    "Tomorrow": datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    "Next week": datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
}


def reminders_to(emu, chat_id: int) -> list[dict]:
    return [
        r.params
        for r in emu.requests
        if r.method == "sendMessage"
        and r.ok
        and r.params["chat_id"] == chat_id
        and "⏰ <b>Next step</b>" in r.params["text"]
    ]


async def delivered_reminder(tg: EmulatedBot, clock: FrozenClock, rep) -> dict:  # noqa: ANN001
    """Boris's step comes due and its reminder is delivered; returns it as sent (with buttons)."""
    await rep.send("/add Boris, Beta")
    await rep.click("Open card")
    await rep.click("Next step")
    await rep.send("call back")
    await rep.send("today 15:00")
    await rep.click("Confirm")
    clock.set(STEP_AT)
    await tg.app.clockwork.tick()
    assert len(reminders_to(tg.emu, rep.id)) == 1
    return copy.deepcopy(rep.last)


def data_of(message: dict, text: str) -> str:
    return next(b["callback_data"] for b in buttons_of(message) if text in b["text"])


async def pending(tg: EmulatedBot) -> list[DueWork]:
    async with tg.app.session_factory() as s:
        return list(
            await s.scalars(
                select(DueWork).where(DueWork.kind == "reminder", DueWork.status == "pending")
            )
        )


async def audit(tg: EmulatedBot) -> list[str]:
    async with tg.app.session_factory() as s:
        return await followups.audit(
            s, now=tg.clock.now(), rules=followups.Rules.of(tg.app.settings)
        )


async def comes_once_at(tg: EmulatedBot, clock: FrozenClock, rep, at: datetime) -> None:  # noqa: ANN001
    before = len(reminders_to(tg.emu, rep.id))
    clock.set(at - timedelta(minutes=1))
    await tg.app.clockwork.tick()
    assert len(reminders_to(tg.emu, rep.id)) == before  # not before its time
    clock.set(at)
    await tg.app.clockwork.tick()
    await tg.app.clockwork.tick()
    assert len(reminders_to(tg.emu, rep.id)) == before + 1  # then once


# ------------------------------------------------------------------------------ two taps
@pytest.mark.parametrize("button", list(CHOICES))
async def test_two_taps_in_the_same_second_leave_one_reminder(tg, emu, clock, button) -> None:
    *_, rep = await team_with_rep(tg)
    reminder = await delivered_reminder(tg, clock, rep)
    first = await rep.tap_data(data_of(reminder, button), reminder)
    second = await rep.tap_data(data_of(reminder, button), reminder)
    [row] = await pending(tg)
    assert row.due_at == CHOICES[button]
    assert "Snoozed until" in first.answer["text"] and "Snoozed until" in second.answer["text"]
    assert len([m for m in first.messages if "I'll remind you" in m["text"]]) == 1
    assert second.messages == []  # the repeated tap changes nothing and says nothing new
    assert await audit(tg) == []
    await comes_once_at(tg, clock, rep, CHOICES[button])


async def test_taps_in_any_order_leave_one_reminder_at_the_last_choice(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    reminder = await delivered_reminder(tg, clock, rep)
    for button in ("Next week", "+1 hour", "Tomorrow", "+1 hour", "Next week", "Tomorrow"):
        await rep.tap_data(data_of(reminder, button), reminder)
        [row] = await pending(tg)
        assert row.due_at == CHOICES[button]
    await rep.tap_data(data_of(reminder, "Reschedule"), reminder)
    await rep.send("wednesday 11:00")
    await rep.click("Confirm")
    await rep.tap_data(data_of(reminder, "Reschedule"), reminder)
    await rep.send("wednesday 12:00")
    await rep.click("Confirm")
    [row] = await pending(tg)
    assert row.due_at == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert await audit(tg) == []
    await comes_once_at(tg, clock, rep, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    for at in CHOICES.values():  # none of the earlier choices comes on its own
        clock.set(max(at, clock.now()))
        await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 2


async def test_done_tapped_twice_logs_one_touch_and_a_snooze_after_is_already_done(
    tg, emu, clock
) -> None:
    *_, rep = await team_with_rep(tg)
    reminder = await delivered_reminder(tg, clock, rep)
    first = await rep.tap_data(data_of(reminder, "Done"), reminder)
    second = await rep.tap_data(data_of(reminder, "Done"), reminder)
    assert "What is the next step" in first.text
    assert second.answer["text"] == "Already done." and second.messages == []
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Touch.id))) == 1
    assert await pending(tg) == [] and await audit(tg) == []
    # a snooze after Done never brings the finished step back (tests/test_reminder_fixes_chat)
    later = await rep.tap_data(data_of(reminder, "Tomorrow"), reminder)
    assert later.answer["text"] == "Already done." and later.messages == []
    assert await pending(tg) == [] and await audit(tg) == []
    async with tg.app.session_factory() as s:
        assert (await s.scalar(select(Contact))).next_step is None
        assert await s.scalar(select(func.count(Touch.id))) == 1


# ------------------------------------------------------------------------------ 20 at once
@pytest.fixture(params=["memory", "redis"])
def fsm_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The FSM in memory (one process) or in Redis (several replicas)."""
    if request.param == "redis":
        request.getfixturevalue("redis_db")
        return settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": REDIS_PREFIX})
    return settings


async def started(settings: Settings, emu: FakeTelegram, clock: FrozenClock, *, tasks: bool):  # noqa: ANN201
    runner = EmulatedBot(
        settings,
        emu,
        clock=clock,
        limiter=fast_limiter(),
        request_sleep=no_wait,
        handle_as_tasks=tasks,
    )
    await runner.start()
    return runner


async def reminder_then_concurrent_bot(settings, emu, clock):  # noqa: ANN001, ANN201
    """The chat up to a delivered reminder (one update at a time), then the same bot restarted
    handling every update in its own task, as in production."""
    setup = await started(settings, emu, clock, tasks=False)
    try:
        *_, rep = await team_with_rep(setup)
        reminder = await delivered_reminder(setup, clock, rep)
    finally:
        await setup.stop()
    return rep, reminder, await started(settings, emu, clock, tasks=True)


async def tap_at_once(tg: EmulatedBot, rep, message: dict, data: str, n: int = 20) -> None:  # noqa: ANN001
    """``n`` taps pushed in one go, then wait until every one of them has been handled."""
    ids = [await tg.emu.user_callback(rep.id, message, data) for _ in range(n)]
    await tg.settle(max(ids))


@pytest.mark.parametrize("button", ["+1 hour", "Tomorrow", "Next week"])
async def test_twenty_taps_at_once_leave_one_reminder(fsm_settings, emu, clock, button) -> None:
    rep, reminder, tg = await reminder_then_concurrent_bot(fsm_settings, emu, clock)
    try:
        await tap_at_once(tg, rep, reminder, data_of(reminder, button))
        [row] = await pending(tg)
        assert row.due_at == CHOICES[button]
        assert await audit(tg) == []
        assert len([m for m in rep.bot_messages if "I'll remind you" in m["text"]]) == 1
        await comes_once_at(tg, clock, rep, CHOICES[button])
    finally:
        await tg.stop()


async def test_twenty_done_taps_at_once_log_one_touch(fsm_settings, emu, clock) -> None:
    rep, reminder, tg = await reminder_then_concurrent_bot(fsm_settings, emu, clock)
    try:
        await tap_at_once(tg, rep, reminder, data_of(reminder, "Done"))
        async with tg.app.session_factory() as s:
            assert await s.scalar(select(func.count(Touch.id))) == 1
            assert (await s.scalar(select(Contact))).next_step_due is None
        assert await pending(tg) == [] and await audit(tg) == []
        assert len([m for m in rep.bot_messages if "Logged: call" in m["text"]]) == 1
    finally:
        await tg.stop()


# ------------------------------------------------------------------------------ the service
async def test_concurrent_snoozes_in_separate_transactions_leave_one_reminder(engine) -> None:
    """Twenty units of work at once, each on its own connection (PostgreSQL runs them truly in
    parallel: the card's row lock and the upsert on the partial index keep one reminder)."""
    factory = create_session_factory(engine)
    now = STEP_AT
    async with write_session(factory) as s:
        rep = User(tg_id=3003, first_name="Rita", role="rep", created_at=now, last_seen_at=now)
        s.add(rep)
        await s.flush()
        c = await svc.create(s, owner=rep, data={"name": "Boris"}, now=now)
        await followups.set_next_step(
            s,
            c,
            actor=rep,
            text="call back",
            due=now,
            reason=None,
            now=now,
            rules=followups.Rules(),
        )
    stamp = followups.step_stamp("call back")
    choices = [now + timedelta(hours=1 + i % 3) for i in range(20)]

    async def tap(due: datetime) -> followups.Moved:
        async with factory() as s:
            card = await s.get(Contact, c.id)
            user = await s.get(User, rep.id)
            return await followups.move_step(
                s, card, actor=user, due=due, stamp=stamp, now=now, rules=followups.Rules()
            )

    results = await asyncio.gather(*(tap(d) for d in choices))
    assert followups.Moved.OUTDATED not in results
    async with factory() as s:
        card = await s.get(Contact, c.id)
        rows = list(
            await s.scalars(
                select(DueWork).where(DueWork.kind == "reminder", DueWork.status == "pending")
            )
        )
        assert len(rows) == 1 and rows[0].due_at == card.next_step_due  # the last one applied
        assert await followups.audit(s, now=now, rules=followups.Rules()) == []
