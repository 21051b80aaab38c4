"""The follow-up invariant as a stateful property (Hypothesis ``RuleBasedStateMachine``).

Random sequences of everything that touches a next step — add, touch with a step, an inbound
touch, edit, snooze (repeated taps), Done (repeated taps), reschedule, no step, import, merge,
"service delivered", archive, restore, a new owner, the owner's time zone and working hours, time
passing with scheduler ticks and the daily scan — run against the services on the injected clock
(core.clock.FrozenClock); the deliveries go through scheduler.delivery's loop to a recording
sender. After every step:

- ``services.followups.audit`` finds nothing (one pending reminder per open step, at the step's
  time in the owner's working hours, addressed to the owner; none otherwise; the cold, stale and
  inbound work right);
- the cards and their pending reminders are what a model of the rules says: each row of the
  model is a reminder for one (step time, step text, owner), so a reminder reaches its owner once
  per choice of the step — never twice, never not at all;
- every reminder was delivered exactly once, at a tick no earlier than its time and inside the
  owner's working hours, and nothing due is left pending after a tick.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, text

from bot.app import register_renderers
from bot.config import Settings
from bot.i18n import create_i18n
from bot.sender import SendResult, SendStatus
from core.clock import FrozenClock
from core.enums import Direction, Stage, TouchType
from core.workhours import WorkHours, is_working_time, snooze_until, step_reminder_time
from scheduler import Clockwork
from scheduler.delivery import deliver_due
from services import contacts as svc
from services import followups
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Base, Contact, DueWork, Team, User
from storage.uow import write_session
from tests.services import create_pg_database, drop_pg_database
from views.callbacks import RemindCb

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
RULES = followups.Rules(
    default_tz="UTC",
    cadence="connection=1,development=2,commercial=1,retention=3",
    stale_days=2,
    inbound_reply_hours=2,
)
STEPS = ("call back", "send the proposal", "meet for coffee")
ZONES = ("UTC", "Asia/Novosibirsk", "America/New_York")
HOURS = ("12345 09:00-19:00", "123456 10:00-17:00", "1234567 08:00-12:00")
REPS = (3001, 3002)  # tg ids of the two reps who own cards
MAX_CARDS = 4


# ------------------------------------------------------------------------------ the model
@dataclass
class Row:
    """One reminder row: for which step (its time, text) and owner; pending, sent or settled."""

    seq: int
    step_due: datetime
    text: str
    owner: int
    status: str = "pending"
    merged: bool = False  # its card's step did not survive a merge: history only


@dataclass
class Card:
    owner: int
    step_due: datetime | None = None
    text: str | None = None
    archived: bool = False
    rows: list[Row] = field(default_factory=list)
    # the card's newest "next step" event: (seq, "set" | "done", text)
    last_event: tuple[int, str, str | None] = (0, "set", None)

    @property
    def pending(self) -> Row | None:
        found = [r for r in self.rows if r.status == "pending"]
        assert len(found) <= 1
        return found[0] if found else None

    @property
    def closed(self) -> str | None:
        """The step last closed as done, if nothing was planned since."""
        _seq, kind, text_ = self.last_event
        return (text_ or "") if kind == "done" and self.step_due is None else None


class Model:
    """The reminder rules, stated plainly (see services.followups for the implementation)."""

    def __init__(self) -> None:
        self.cards: dict[int, Card] = {}
        self.seq = itertools.count(1)

    def event(self, card: Card, kind: str, text_: str | None) -> None:
        card.last_event = (next(self.seq), kind, text_)

    def sync(self, card: Card, *, renew: bool) -> None:
        live = not card.archived and card.step_due is not None
        pending = card.pending
        if not live:
            if pending:
                pending.status = "settled"
            return
        assert card.step_due is not None
        text_ = card.text or ""
        if pending and pending.text == text_:
            pending.step_due, pending.owner = card.step_due, card.owner  # moved in place
            return
        if pending:
            pending.status = "settled"
        if not renew:
            same = [
                r
                for r in card.rows
                if (r.step_due, r.text, r.owner) == (card.step_due, text_, card.owner)
                and not r.merged
            ]
            if same and max(same, key=lambda r: r.seq).status == "sent":
                return  # this step already reached this owner
        card.rows.append(Row(next(self.seq), card.step_due, text_, card.owner))

    def choose(self, card: Card, text_: str | None, due: datetime | None) -> bool:
        """Someone sets (or snoozes, reschedules) the step; False for a repeated choice."""
        text_ = (text_ or "").strip() or None
        if due is not None and (card.step_due, card.text) == (due, text_) and card.pending:
            self.sync(card, renew=False)
            return False
        card.step_due, card.text = due, text_
        self.event(card, "set", text_)
        self.sync(card, renew=True)
        return True

    def step_for(self, card: Card, stamp: int) -> str | None:
        """The open step a button moves (a step done since stays done: Moved.DONE)."""
        if card.step_due is not None and stamp == followups.step_stamp(card.text):
            return card.text or ""
        return None

    def not_moved(self, card: Card, stamp: int) -> followups.Moved:
        closed = card.closed
        done = closed is not None and stamp == followups.step_stamp(closed)
        return followups.Moved.DONE if done else followups.Moved.OUTDATED


# ------------------------------------------------------------------------------ plumbing
class RecordingSender:
    """The sender, recording what would go out and when (everything is delivered)."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.sent: list[tuple[int, str, Any, datetime]] = []

    async def send(
        self, chat_id: int, text_: str, reply_markup: Any = None, guard: Any = None
    ) -> SendResult:
        if guard is not None and not guard():
            return SendResult(SendStatus.ABORTED)
        self.sent.append((chat_id, text_, reply_markup, self.clock.now()))
        return SendResult(SendStatus.SENT)

    async def send_photo(
        self, chat_id: int, png: bytes, caption: str | None = None, guard: Any = None
    ) -> SendResult:
        if guard is not None and not guard():
            return SendResult(SendStatus.ABORTED)
        self.sent.append((chat_id, caption or "", None, self.clock.now()))
        return SendResult(SendStatus.SENT)


def reminder_of(markup: Any) -> RemindCb | None:
    """The reminder a message is (its Done button), or None for any other message."""
    if markup is None:
        return None
    first = markup.inline_keyboard[0][0].callback_data
    return RemindCb.unpack(first) if first.startswith("rm:ok:") else None


@dataclass
class Backend:
    loop: asyncio.AbstractEventLoop
    url: str
    template: Path | None = None  # SQLite: a migrated file copied for each example

    def fresh_url(self) -> str:
        if self.template is None:
            self.loop.run_until_complete(_truncate(self.url))
            return self.url
        target = self.template.with_name(f"run-{next(_runs)}.db")
        shutil.copy(self.template, target)
        return f"sqlite+aiosqlite:///{target}"


_runs = itertools.count()


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


# ------------------------------------------------------------------------------ the machine
class FollowUps(RuleBasedStateMachine):
    backend: Backend  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.loop = self.backend.loop
        self.clock = FrozenClock(START)
        self.engine = create_engine(self.backend.fresh_url(), strict=True)
        self.factory = create_session_factory(self.engine)
        self.sender = RecordingSender(self.clock)
        bot_settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=None,
            database_url="sqlite+aiosqlite:///unused.db",
            default_timezone=RULES.default_tz,
        )
        self.cw = Clockwork(
            session_factory=self.factory,
            clock=self.clock,
            sender=self.sender,  # type: ignore[arg-type]
            i18n=create_i18n("en"),
            settings=bot_settings,
        )
        register_renderers(self.cw)  # as the app factory does
        self.model = Model()
        self.users: dict[int, int] = {}  # tg id -> user id
        self.run(self._seed())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.engine.dispose())

    async def _seed(self) -> None:
        async with write_session(self.factory) as s:
            team = Team(name="Team", created_at=START)
            s.add(team)
            await s.flush()
            people = [(2001, "manager", "UTC", None)]
            people += [(REPS[0], "rep", None, None), (REPS[1], "rep", ZONES[1], HOURS[1])]
            for tg_id, role, tz, hours in people:
                u = User(
                    tg_id=tg_id,
                    first_name=f"U{tg_id}",
                    role=role,
                    team_id=team.id,
                    timezone=tz,
                    work_hours=hours,
                    created_at=START,
                    last_seen_at=START,
                )
                s.add(u)
                await s.flush()
                self.users[tg_id] = u.id

    # -------------------------------------------------------------- helpers
    def card_id(self, i: int) -> int | None:
        ids = sorted(self.model.cards)
        return ids[i % len(ids)] if ids else None

    async def load(self, s: Any, cid: int) -> tuple[Contact, User]:
        c = await s.get(Contact, cid)
        assert c is not None
        owner = await s.get(User, c.owner_id)
        assert owner is not None
        return c, owner

    def owner_tz_hours(self, owner: User) -> tuple[str, WorkHours]:
        return followups.user_tz(owner, RULES.default_tz), followups.user_hours(owner)

    # -------------------------------------------------------------- rules
    @initialize(
        cards=st.lists(
            st.tuples(
                st.sampled_from(REPS),
                st.none() | st.integers(-2 * 24 * 60, 5 * 24 * 60),
                st.sampled_from(STEPS),
            ),
            min_size=2,
            max_size=3,
        )
    )
    def cards(self, cards: list[tuple[int, int | None, str]]) -> None:
        """A few cards to start with, some with a step planned (past or future)."""
        for rep, minutes, step in cards:
            self.add(rep)
            if minutes is not None:
                self.import_step(-1, minutes, step)

    @precondition(lambda self: len(self.model.cards) < MAX_CARDS)
    @rule(rep=st.sampled_from(REPS))
    def add(self, rep: int) -> None:
        async def go() -> int:
            async with write_session(self.factory) as s:
                owner = await s.get(User, self.users[rep])
                c = await svc.create(s, owner=owner, data={"name": f"Card {rep}"}, now=self.now)
                return c.id

        cid = self.run(go())
        self.model.cards[cid] = Card(owner=self.users[rep])

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @precondition(lambda self: self.model.cards)
    @rule(
        i=st.integers(0, 9),
        minutes=st.integers(-3 * 24 * 60, 10 * 24 * 60),
        step=st.sampled_from(STEPS),
        direction=st.sampled_from([d.value for d in Direction]),
    )
    def touch_with_step(self, i: int, minutes: int, step: str, direction: str) -> None:
        """The touch dialogue: a touch, then the next step and its time."""
        cid = self.card_id(i)
        assert cid is not None
        due = self.now + timedelta(minutes=minutes)

        async def go() -> None:
            async with self.factory() as s:
                c, owner = await self.load(s, cid)
                await followups.log_touch(
                    s,
                    c,
                    author=owner,
                    type_=TouchType.CALL.value,
                    direction=direction,
                    summary="talked",
                    now=self.now,
                    rules=RULES,
                )
                await followups.set_next_step(
                    s, c, actor=owner, text=step, due=due, reason=None, now=self.now, rules=RULES
                )

        self.run(go())
        card = self.model.cards[cid]
        self.model.sync(card, renew=False)
        self.model.choose(card, step, due)

    @precondition(lambda self: self.model.cards)
    @rule(i=st.integers(0, 9))
    def no_next_step(self, i: int) -> None:
        cid = self.card_id(i)
        assert cid is not None

        async def go() -> None:
            async with self.factory() as s:
                c, owner = await self.load(s, cid)
                await followups.set_next_step(
                    s, c, actor=owner, text=None, due=None, reason="lost", now=self.now, rules=RULES
                )

        self.run(go())
        self.model.choose(self.model.cards[cid], None, None)

    @precondition(lambda self: self.model.cards)
    @rule(i=st.integers(0, 9), stage=st.sampled_from([s.value for s in Stage]))
    def edit(self, i: int, stage: str) -> None:
        cid = self.card_id(i)
        assert cid is not None

        async def go() -> None:
            async with self.factory() as s:
                c, owner = await self.load(s, cid)
                await followups.change(s, c, actor=owner, now=self.now, rules=RULES, stage=stage)

        self.run(go())
        self.model.sync(self.model.cards[cid], renew=False)

    def stamp_of(self, card: Card, which: str) -> int:
        if which == "current":
            return followups.step_stamp(card.text)
        if which == "closed":
            return followups.step_stamp(card.closed)
        return 12345  # a button of a step long gone

    @precondition(lambda self: self.model.cards)
    @rule(
        i=st.integers(0, 9),
        option=st.sampled_from(["1h", "tomorrow", "week"]),
        taps=st.integers(1, 3),
        which=st.sampled_from(["current", "closed", "bogus"]),
    )
    def snooze(self, i: int, option: str, taps: int, which: str) -> None:
        cid = self.card_id(i)
        assert cid is not None
        card = self.model.cards[cid]
        stamp = self.stamp_of(card, which)

        async def go() -> list[followups.Moved]:
            results = []
            for _ in range(taps):
                async with self.factory() as s:
                    c, owner = await self.load(s, cid)
                    tz, hours = self.owner_tz_hours(owner)
                    due = snooze_until(option, self.now, tz, hours)
                    results.append(
                        await followups.move_step(
                            s, c, actor=owner, due=due, stamp=stamp, now=self.now, rules=RULES
                        )
                    )
            return results

        owner_tz, owner_hours = self.run(self._tz_hours(card.owner))
        due = snooze_until(option, self.now, owner_tz, owner_hours)
        results = self.run(go())
        for result in results:
            step = self.model.step_for(card, stamp)
            if step is None:
                assert result is self.model.not_moved(card, stamp)
                continue
            changed = self.model.choose(card, step, due)
            assert result is (followups.Moved.MOVED if changed else followups.Moved.UNCHANGED)

    async def _tz_hours(self, user_id: int) -> tuple[str, WorkHours]:
        async with self.factory() as s:
            user = await s.get(User, user_id)
            assert user is not None
            return self.owner_tz_hours(user)

    @precondition(lambda self: self.model.cards)
    @rule(i=st.integers(0, 9), minutes=st.integers(1, 14 * 24 * 60))
    def reschedule(self, i: int, minutes: int) -> None:
        cid = self.card_id(i)
        assert cid is not None
        card = self.model.cards[cid]
        due = self.now + timedelta(minutes=minutes)
        stamp = followups.step_stamp(card.text if card.step_due else card.closed)

        async def go() -> followups.Moved:
            async with self.factory() as s:
                c, owner = await self.load(s, cid)
                return await followups.move_step(
                    s, c, actor=owner, due=due, stamp=stamp, now=self.now, rules=RULES
                )

        result = self.run(go())
        step = self.model.step_for(card, stamp)
        if step is None:
            assert result is self.model.not_moved(card, stamp)
        else:
            changed = self.model.choose(card, step, due)
            assert result is (followups.Moved.MOVED if changed else followups.Moved.UNCHANGED)

    @precondition(lambda self: self.model.cards)
    @rule(
        i=st.integers(0, 9),
        taps=st.integers(1, 3),
        which=st.sampled_from(["current", "closed", "bogus"]),
    )
    def done(self, i: int, taps: int, which: str) -> None:
        cid = self.card_id(i)
        assert cid is not None
        card = self.model.cards[cid]
        stamp = self.stamp_of(card, which)

        async def go() -> list[followups.Completed]:
            out = []
            for _ in range(taps):
                async with self.factory() as s:
                    c, owner = await self.load(s, cid)
                    out.append(
                        await followups.complete_step(
                            s, c, actor=owner, stamp=stamp, now=self.now, rules=RULES
                        )
                    )
            return out

        for result in self.run(go()):
            if card.step_due is not None and stamp == followups.step_stamp(card.text):
                assert result.touch is not None and result.step == (card.text or "")
                self.model.event(card, "done", card.text)
                card.step_due, card.text = None, None
                self.model.sync(card, renew=False)
            else:
                assert result.touch is None  # a repeated or an outdated tap closes nothing

    @precondition(lambda self: self.model.cards)
    @rule(
        i=st.integers(0, 9),
        minutes=st.integers(-24 * 60, 10 * 24 * 60),
        step=st.sampled_from(STEPS),
    )
    def import_step(self, i: int, minutes: int, step: str) -> None:
        """/import's path: the card's step is set, then services.followups.plan_reminder."""
        cid = self.card_id(i)
        assert cid is not None
        due = self.now + timedelta(minutes=minutes)

        async def go() -> None:
            async with write_session(self.factory) as s:
                c, owner = await self.load(s, cid)
                await svc.set_next_step(
                    s, c, actor=owner, text=step, due=due, reason=None, now=self.now
                )
                await followups.plan_reminder(s, c, default_tz=RULES.default_tz, now=self.now)

        self.run(go())
        card = self.model.cards[cid]
        card.step_due, card.text = due, step
        self.model.event(card, "set", step)
        self.model.sync(card, renew=False)

    @precondition(lambda self: len(self.model.cards) >= 2)
    @rule(i=st.integers(0, 9), j=st.integers(0, 9))
    def merge(self, i: int, j: int) -> None:
        keep_id, drop_id = self.card_id(i), self.card_id(j)
        if keep_id == drop_id:
            return
        assert keep_id is not None and drop_id is not None

        async def go() -> None:
            async with self.factory() as s:
                keep, owner = await self.load(s, keep_id)
                drop, _ = await self.load(s, drop_id)
                await followups.merge(s, keep, drop, actor=owner, now=self.now, rules=RULES)

        self.run(go())
        keep, drop = self.model.cards[keep_id], self.model.cards.pop(drop_id)
        gone = drop if keep.step_due is not None else keep if drop.step_due is not None else None
        if gone is not None:  # the step that does not survive: its reminders are history only
            if gone.pending:
                gone.pending.status = "settled"
            for row in gone.rows:
                row.merged = True
        keep.rows = sorted(keep.rows + drop.rows, key=lambda r: r.seq)
        if drop.step_due is not None and keep.step_due is None:
            keep.step_due, keep.text = drop.step_due, drop.text
        keep.last_event = max(keep.last_event, drop.last_event)
        self.model.sync(keep, renew=False)

    @precondition(lambda self: self.model.cards)
    @rule(i=st.integers(0, 9))
    def delivered(self, i: int) -> None:
        """/delivered: a "service delivered" touch (the survey is planned by the NPS loop)."""
        cid = self.card_id(i)
        assert cid is not None

        async def go() -> None:
            async with self.factory() as s:
                c, owner = await self.load(s, cid)
                await followups.log_touch(
                    s,
                    c,
                    author=owner,
                    type_=TouchType.SERVICE.value,
                    direction=Direction.OUT.value,
                    summary="",
                    now=self.now,
                    rules=RULES,
                )

        self.run(go())
        self.model.sync(self.model.cards[cid], renew=False)

    @precondition(lambda self: self.model.cards)
    @rule(i=st.integers(0, 9), archive=st.booleans())
    def archive_or_restore(self, i: int, archive: bool) -> None:
        cid = self.card_id(i)
        assert cid is not None

        async def go() -> None:
            async with self.factory() as s:
                c, owner = await self.load(s, cid)
                use_case = followups.archive if archive else followups.restore
                await use_case(s, c, actor=owner, now=self.now, rules=RULES)

        self.run(go())
        card = self.model.cards[cid]
        card.archived = archive
        self.model.sync(card, renew=False)

    @precondition(lambda self: self.model.cards)
    @rule(i=st.integers(0, 9), rep=st.sampled_from(REPS))
    def new_owner(self, i: int, rep: int) -> None:
        cid = self.card_id(i)
        assert cid is not None

        async def go() -> None:
            async with self.factory() as s:
                c, _owner = await self.load(s, cid)
                manager = await s.get(User, self.users[2001])
                to = await s.get(User, self.users[rep])
                await followups.change_owner(s, c, to, actor=manager, now=self.now, rules=RULES)

        self.run(go())
        card = self.model.cards[cid]
        if card.owner != self.users[rep]:
            card.owner = self.users[rep]
            self.model.sync(card, renew=False)

    @rule(rep=st.sampled_from(REPS), tz=st.sampled_from(ZONES), hours=st.sampled_from(HOURS))
    def owner_settings(self, rep: int, tz: str, hours: str) -> None:
        """/settings: the owner's time zone and working hours; what is pending moves along."""

        async def go() -> None:
            async with write_session(self.factory) as s:
                user = await s.get(User, self.users[rep])
                assert user is not None
                user.timezone, user.work_hours = tz, hours
                await followups.replan_owner(s, user, now=self.now, rules=RULES)

        self.run(go())
        for card in self.model.cards.values():
            if card.owner == self.users[rep] and card.pending:
                self.model.sync(card, renew=False)

    @precondition(lambda self: self.model.cards)
    @rule(i=st.integers(0, 9))
    def inbound(self, i: int) -> None:
        """The contact writes (an inbound touch): the reply SLA starts, the step stays."""
        cid = self.card_id(i)
        assert cid is not None

        async def go() -> None:
            async with self.factory() as s:
                c, owner = await self.load(s, cid)
                await followups.log_touch(
                    s,
                    c,
                    author=owner,
                    type_=TouchType.MESSAGE.value,
                    direction=Direction.IN.value,
                    summary="any news?",
                    now=self.now,
                    rules=RULES,
                )

        self.run(go())
        self.model.sync(self.model.cards[cid], renew=False)

    @rule()
    def daily_scan(self) -> None:
        async def go() -> None:
            async with write_session(self.factory) as s:
                await followups.scan(
                    s,
                    now=self.now,
                    settings_cadence=RULES.cadence or "",
                    stale_days=RULES.stale_days or 180,
                    default_tz=RULES.default_tz,
                )

        self.run(go())

    @rule(minutes=st.integers(1, 4 * 24 * 60))
    def time_passes(self, minutes: int) -> None:
        """The clock moves on; the scheduler ticks at every reminder's time on the way."""
        target = self.now + timedelta(minutes=minutes)
        while True:
            nxt = self.run(self._next_due())
            if nxt is None or nxt > target:
                break
            self.clock.set(max(nxt, self.now))
            self.tick()
        self.clock.set(target)
        self.tick()

    async def _next_due(self) -> datetime | None:
        async with self.factory() as s:
            return await s.scalar(
                select(DueWork.due_at)
                .where(DueWork.kind == followups.REMINDER, DueWork.status == "pending")
                .order_by(DueWork.due_at)
                .limit(1)
            )

    def tick(self) -> None:
        """One scheduler tick: exactly the reminders due are delivered, each once."""
        due_cards = self.run(self._due_cards())
        before = len(self.sender.sent)
        self.run(deliver_due(self.cw))
        now = self.now
        got: list[int] = []
        for chat_id, _text, markup, at in self.sender.sent[before:]:
            cb = reminder_of(markup)
            if cb is None:
                continue
            got.append(cb.id)
            card = self.model.cards[cb.id]
            assert at == now
            owner_tz, owner_hours = self.run(self._tz_hours(card.owner))
            assert card.step_due is not None
            assert at >= step_reminder_time(card.step_due, owner_tz, owner_hours)  # its time
            assert is_working_time(at, owner_tz, owner_hours)  # inside the owner's hours
            assert chat_id == self.run(self._tg_id(card.owner))
            assert cb.t == followups.step_stamp(card.text)
        assert sorted(got) == sorted(due_cards)  # each due reminder once, nothing else
        assert self.run(self._due_cards()) == []  # nothing due is left behind
        for cid in due_cards:
            row = self.model.cards[cid].pending
            assert row is not None, "a reminder went out that the rules did not plan"
            row.status = "sent"

    async def _due_cards(self) -> list[int]:
        async with self.factory() as s:
            return list(
                await s.scalars(
                    select(DueWork.contact_id).where(
                        DueWork.kind == followups.REMINDER,
                        DueWork.status == "pending",
                        DueWork.due_at <= self.now,
                    )
                )
            )

    async def _tg_id(self, user_id: int) -> int:
        async with self.factory() as s:
            user = await s.get(User, user_id)
            assert user is not None
            return user.tg_id

    # -------------------------------------------------------------- invariants
    @invariant()
    def the_invariant_holds(self) -> None:
        async def go() -> list[str]:
            async with self.factory() as s:
                return await followups.audit(s, now=self.now, rules=RULES)

        assert self.run(go()) == []

    @invariant()
    def cards_and_reminders_are_what_the_rules_say(self) -> None:
        async def go() -> tuple[dict[int, Any], dict[int, Any]]:
            async with self.factory() as s:
                cards = {
                    c.id: (c.next_step_due, c.next_step, c.owner_id, c.archived_at is not None)
                    for c in await s.scalars(select(Contact))
                }
                rows = {}
                for r in await s.scalars(
                    select(DueWork).where(
                        DueWork.kind == followups.REMINDER, DueWork.status == "pending"
                    )
                ):
                    payload = followups.payload_of(r)
                    rows[r.contact_id] = (payload["step_due"], payload["step"], r.user_id)
                return cards, rows

        cards, rows = self.run(go())
        expected_cards = {
            cid: (c.step_due, c.text, c.owner, c.archived) for cid, c in self.model.cards.items()
        }
        # a card made by a referral or an import outside the model would show up here
        assert cards == expected_cards
        expected_rows = {
            cid: (r.step_due.isoformat(), followups.step_stamp(r.text), r.owner)
            for cid, c in self.model.cards.items()
            if (r := c.pending) is not None
        }
        assert rows == expected_rows


# ------------------------------------------------------------------------------ the tests
def _run(backend: Backend, examples: int, steps: int) -> None:
    FollowUps.backend = backend
    run_state_machine_as_test(
        FollowUps,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            derandomize=False,
        ),
    )


@pytest.fixture
def loop() -> Any:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_follow_ups_on_sqlite(tmp_path: Path, loop: asyncio.AbstractEventLoop) -> None:
    template = tmp_path / "template.db"
    url = f"sqlite+aiosqlite:///{template}"

    async def migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    loop.run_until_complete(migrate())
    _run(Backend(loop, url, template), examples=30, steps=30)


def test_follow_ups_on_postgresql(loop: asyncio.AbstractEventLoop) -> None:
    url, name = loop.run_until_complete(create_pg_database())
    try:

        async def migrate() -> None:
            engine = create_engine(url)
            await upgrade(engine)
            await engine.dispose()

        loop.run_until_complete(migrate())
        _run(Backend(loop, url), examples=10, steps=20)
    finally:
        loop.run_until_complete(drop_pg_database(name))
