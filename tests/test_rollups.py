"""The rollups answer as the direct queries do, on both backends.

- On the hand-worked data set of tests/test_metrics.py: every rollup-backed measure equals its
  direct count, for several moments and periods (the metric tests themselves run unchanged).
- A Hypothesis property: after any sequence of writes (cards added, moved between owners,
  teams and stages, archived, lost, given steps, verified, deleted; touches logged, moved by a
  merge, deleted; status and stage events added, corrected, deleted; bulk inserts), the
  trigger-kept rollup tables equal a rebuild from scratch,
  and the measures equal the direct queries.
- On SQLite, the statements behind conversion, referral share, retention, reply speed and the
  digest's stage moves read the rollups through indexes, with the same plans before and after ANALYZE.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, text, update

from services import metrics as mx
from services import rollup_marks, rollup_moves, rollup_replies, rollups
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import (
    Contact,
    ContactEvent,
    RollupCards,
    RollupLastTouch,
    RollupMark,
    RollupMarkDays,
    RollupMoveHours,
    RollupReply,
    RollupReplyDays,
    RollupTouches,
    RollupTouchHours,
    Team,
    Touch,
    User,
)
from storage.uow import writing
from tests.services import create_pg_database, drop_pg_database
from tests.test_metrics import CADENCE, END, START, seed

STAGES = ("identification", "connection", "development", "commercial", "retention")
STATUSES = ("contact", "lead", "client", "lost")
BASE = datetime(2026, 11, 1, tzinfo=UTC)


async def snapshot(session) -> dict[str, set[tuple]]:
    out = {}
    models = (RollupCards, RollupTouches, RollupTouchHours, RollupLastTouch)
    more = (RollupMark, RollupMarkDays, RollupReply, RollupReplyDays, RollupMoveHours)
    for model in (*models, *more):
        rows = (await session.execute(select(model.__table__))).all()
        out[model.__tablename__] = {
            tuple(str(v) for v in r) for r in rows if getattr(r, "n", 1) != 0
        }
    return out


async def assert_rollups_rebuild_alike(session) -> None:
    kept = await snapshot(session)
    dialect = session.bind.dialect.name
    rebuild = rollups.rebuild_sql(dialect) + rollup_marks.rebuild_sql(dialect)
    rebuild += rollup_moves.rebuild_sql(dialect)
    for sql in rebuild + rollup_replies.rebuild_sql(dialect):
        await session.execute(text(sql))
    assert kept == await snapshot(session)


async def assert_measures_agree(
    session, now: datetime, teams: list[int], reps: list[int], *, thorough: bool = True
) -> None:
    scopes = [mx.MetricScope.everyone()]
    scopes += [mx.MetricScope.team(t) for t in teams] + [mx.MetricScope.rep(r) for r in reps]
    periods = [
        (now - timedelta(days=30), now),
        (now - timedelta(days=3, minutes=1), now + timedelta(hours=1)),
        (now - timedelta(days=20), now - timedelta(days=10)),  # touches after it: direct
    ]
    if thorough:
        periods += [(now - timedelta(days=7, hours=5), now), (now - timedelta(hours=20), now)]
    for scope in scopes:
        everyone = scope.team_id is None and scope.rep_id is None
        groups = (None, "owner", "team") if thorough else ("team" if everyone else "owner",)
        for by in groups:
            kwargs = dict(now=now, settings_cadence=CADENCE, stale_days=10, by=by)
            new = await mx.card_counts(session, scope, **kwargs)
            old = await mx.card_counts_direct(session, scope, **kwargs)
            empty = mx.CardCounts(0, 0, 0)
            assert {k: v for k, v in new.items() if v != empty} == {
                k: v for k, v in old.items() if v != empty
            }, (scope, by)
        assert await mx.freshness(session, scope, now=now, stale_days=10) == (
            await mx.freshness_direct(session, scope, now=now, stale_days=10)
        )
        for start, end in periods:
            for fast, slow in (
                (mx.conversion, mx.conversion_direct),
                (mx.referral_share, mx.referral_share_direct),
                (mx.retention, mx.retention_direct),
            ):
                assert await fast(session, scope, start, end) == (
                    await slow(session, scope, start, end)
                ), (fast.__name__, scope, start, end)
            for hours in (2, 30):
                kw = dict(now=now, window_hours=hours)
                assert await mx.reply_speed(session, scope, start, end, **kw) == (
                    await mx.reply_speed_direct(session, scope, start, end, **kw)
                ), (scope, start, end, hours)
            direct = await mx.stage_counts_direct(session, scope, start, end)
            freq = await mx.touch_frequency(session, scope, start, end, cadence={})
            got = {f.stage: (f.touches, f.contacts) for f in freq if f.touches or f.contacts}
            assert got == direct, (scope, start, end)
            assert await mx.reach(session, scope, start, end) == (
                await mx.reach_direct(session, scope, start, end)
            )
            assert await mx.moves(session, scope, start, end) == (
                await mx.moves_direct(session, scope, start, end)
            ), (scope, start, end)
            for by in ("owner", "team"):
                mx.forget_memo(session)
                got = await mx.touch_counts(session, scope, start, end, by=by)
                direct = await mx.touch_counts_direct(session, scope, start, end, by=by)
                assert got == {k: n for k, n in direct.items() if n}, (scope, start, end, by)


# ------------------------------------------------------------------- the hand-worked set
@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def metrics_db(request, tmp_path):
    name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    else:
        url, name = await create_pg_database()
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with create_session_factory(engine)() as s:
            await seed(s)
        yield engine
    finally:
        await engine.dispose()
        if name is not None:
            await drop_pg_database(name)


async def test_hand_worked_set_rollups_equal_direct(metrics_db) -> None:
    async with create_session_factory(metrics_db)() as session:
        await assert_rollups_rebuild_alike(session)
        await session.rollback()
        for now in (END, END - timedelta(days=6, hours=3), START + timedelta(days=20, minutes=7)):
            await assert_measures_agree(session, now, teams=[1, 2], reps=[2, 3, 4])
        # the rollup path really answers the usual /stats period (no touch after its end)
        assert (
            await rollups.touches_by_stage(session, team_id=1, rep_id=None, start=START, end=END)
            is not None
        )


# ------------------------------------------------------------------ the property test
OWNERS = {1: 1, 2: 1, 3: 2, 4: None}  # user -> team

card_ops = st.tuples(
    st.sampled_from(sorted(OWNERS)),
    st.sampled_from(STAGES),
    st.sampled_from(STATUSES),
    st.integers(0, 40),  # created, days after BASE - 20
    st.one_of(st.none(), st.integers(-15, 40)),  # next step due, days after BASE
    st.integers(0, 40),  # verified
    st.booleans(),  # archived
)
touch_op = st.tuples(
    st.integers(0, 30), st.integers(0, 60 * 24 * 45), st.sampled_from("io"), st.booleans()
)
change_op = st.tuples(
    st.integers(0, 30),
    st.sampled_from(
        ["owner", "team", "stage", "status", "archive", "step", "verify", "last", "type"]
        + ["source"]
    ),
    st.integers(0, 1000),
)
# a status change in the card's history (not always consistent with the card: imports and
# merges leave such histories too), at some minute of 45 days
event_op = st.tuples(
    st.integers(0, 30),
    st.sampled_from((*STATUSES, "partner")),
    st.sampled_from((*STATUSES, "partner")),
    st.integers(0, 60 * 24 * 45),
)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("card"), card_ops),
        st.tuples(st.just("touch"), touch_op),
        st.tuples(st.just("change"), change_op),
        st.tuples(st.just("merge"), st.tuples(st.integers(0, 30), st.integers(0, 30))),
        st.tuples(st.just("drop_card"), st.integers(0, 30)),
        st.tuples(st.just("drop_touch"), st.integers(0, 500)),
        st.tuples(st.just("event"), event_op),
        st.tuples(
            st.just("stage_event"),
            st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 60 * 24 * 45)),
        ),
        st.tuples(st.just("drop_event"), st.integers(0, 500)),
    ),
    min_size=1,
    max_size=40,
)


def at(days: float) -> datetime:
    return BASE + timedelta(days=days)


async def apply(session, steps) -> None:
    cards: list[int] = []
    for kind, arg in steps:
        if kind == "card":
            owner, stage, status, created, due, verified, archived = arg
            cid = await session.scalar(
                insert(Contact)
                .values(
                    owner_id=owner, team_id=OWNERS[owner], name="x", stage=stage, status=status,
                    icp_fit="unknown", tags="", search_text="x",
                    created_at=at(created - 20), updated_at=at(0), verified_at=at(verified - 20),
                    next_step_due=None if due is None else at(due + 0.37),
                    archived_at=at(1) if archived else None,
                )
                .returning(Contact.id)
            )  # fmt: skip
            cards.append(cid)
        elif not cards:
            continue
        elif kind == "touch":
            i, minutes, direction, meeting = arg
            cid = cards[i % len(cards)]
            when = BASE - timedelta(days=5) + timedelta(minutes=minutes)
            owner = await session.scalar(select(Contact.owner_id).where(Contact.id == cid))
            await session.execute(
                insert(Touch).values(
                    contact_id=cid, author_id=owner, type="meeting" if meeting else "call",
                    direction="in" if direction == "i" else "out", summary="", occurred_at=when,
                )
            )  # fmt: skip
            await session.execute(
                update(Contact).where(Contact.id == cid).values(last_touch_at=when)
            )
        elif kind == "change":
            i, what, k = arg
            cid = cards[i % len(cards)]
            owner = sorted(OWNERS)[k % len(OWNERS)]
            values = {
                "owner": {"owner_id": owner},
                "team": {"team_id": [1, 2, None][k % 3]},
                "stage": {"stage": STAGES[k % len(STAGES)]},
                "status": {"status": STATUSES[k % len(STATUSES)]},
                "archive": {"archived_at": None if k % 2 else at(2)},
                "step": {"next_step_due": None if k % 3 == 0 else at(k % 50 - 10 + 0.61)},
                "verify": {"verified_at": at(k % 40 - 20 + 0.2)},
                "last": {"last_touch_at": at(k % 40 - 20 + 0.9)},
                "source": {"source": ["referral", "event", None][k % 3]},
                "type": {},
            }[what]
            if what == "type":  # a touch's type corrected
                await session.execute(
                    update(Touch)
                    .where(Touch.contact_id == cid)
                    .values(type=["call", "meeting", "email"][k % 3])
                )
                continue
            await session.execute(update(Contact).where(Contact.id == cid).values(**values))
        elif kind == "merge":
            keep, drop = cards[arg[0] % len(cards)], cards[arg[1] % len(cards)]
            if keep != drop:
                await session.execute(
                    update(Touch).where(Touch.contact_id == drop).values(contact_id=keep)
                )
                await session.execute(
                    update(ContactEvent)
                    .where(ContactEvent.contact_id == drop)
                    .values(contact_id=keep)
                )
                await session.execute(delete(Contact).where(Contact.id == drop))
                cards.remove(drop)
        elif kind == "drop_card":
            cid = cards.pop(arg % len(cards))
            await session.execute(delete(Contact).where(Contact.id == cid))
        elif kind == "event":
            i, old, new, minutes = arg
            await session.execute(
                insert(ContactEvent).values(
                    contact_id=cards[i % len(cards)], field="status", old_value=old,
                    new_value=new, at=BASE - timedelta(days=25) + timedelta(minutes=minutes),
                )
            )  # fmt: skip
        elif kind == "stage_event":  # a stage move; or an event's time or value corrected
            i, k, minutes = arg
            when = BASE - timedelta(days=25) + timedelta(minutes=minutes)
            ids = list(await session.scalars(select(ContactEvent.id).order_by(ContactEvent.id)))
            if k % 4 == 3 and ids:
                await session.execute(
                    update(ContactEvent)
                    .where(ContactEvent.id == ids[i % len(ids)], ContactEvent.field == "stage")
                    .values(at=when, new_value=STAGES[k % len(STAGES)])
                )
                continue
            await session.execute(
                insert(ContactEvent).values(
                    contact_id=cards[i % len(cards)], field="stage", old_value=None,
                    new_value=STAGES[k % len(STAGES)] if k % 7 else None, at=when,
                )
            )  # fmt: skip
        elif kind == "drop_event":
            ids = list(await session.scalars(select(ContactEvent.id).order_by(ContactEvent.id)))
            if ids:
                await session.execute(
                    delete(ContactEvent).where(ContactEvent.id == ids[arg % len(ids)])
                )
        elif kind == "drop_touch":
            ids = list(await session.scalars(select(Touch.id).order_by(Touch.id)))
            if ids:
                await session.execute(delete(Touch).where(Touch.id == ids[arg % len(ids)]))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def prop_db(request, tmp_path_factory):
    name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('rollups') / 'bot.db'}"
    else:
        url, name = asyncio.run(create_pg_database())

    async def prepare() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        async with create_session_factory(engine)() as s, writing(s):
            s.add_all([Team(id=t, name=f"T{t}", created_at=BASE) for t in (1, 2)])
            s.add(Team(id=3, name="T3", cadence="commercial=30,connection=2", created_at=BASE))
            await s.flush()
            for uid, team in OWNERS.items():
                s.add(
                    User(id=uid, tg_id=700 + uid, first_name=f"U{uid}", role="rep",
                         team_id=team, created_at=BASE, last_seen_at=BASE)
                )  # fmt: skip
        await engine.dispose()

    asyncio.run(prepare())
    yield url
    if name is not None:
        asyncio.run(drop_pg_database(name))


ENGINES: dict[str, Any] = {}


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=ops, now_days=st.floats(5, 35))
def test_rollups_follow_every_write(prop_db, steps, now_days) -> None:
    async def run() -> None:
        # one engine for every example, its pool emptied after each (each runs in a loop of its
        # own): a new engine compiled the same ~170 statements again in every example
        if prop_db not in ENGINES:
            ENGINES[prop_db] = create_engine(prop_db)
        engine = ENGINES[prop_db]
        try:
            async with create_session_factory(engine)() as session:
                async with session.begin():
                    await apply(session, steps)
                    await assert_rollups_rebuild_alike(session)
                    await assert_measures_agree(session, at(now_days), teams=[1, 2], reps=[1, 3, 4])
                    await session.rollback()
        finally:
            await engine.dispose()

    asyncio.run(run())


# ------------------------------------------------------------------------------ the plans
@pytest.mark.parametrize("metrics_db", ["sqlite"], indirect=True)  # PostgreSQL plans by statistics
async def test_sqlite_plans_read_indexes_before_and_after_analyze(metrics_db) -> None:
    """The statements behind conversion, referral share, retention, reply speed and the stage
    moves read the rollups through their indexes (no table scan), with or without ANALYZE's statistics."""
    from sqlalchemy import event

    seen: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, tuple(params)))

    event.listen(metrics_db.sync_engine, "before_cursor_execute", record)
    try:
        async with create_session_factory(metrics_db)() as session:
            for scope in (mx.MetricScope.team(1), mx.MetricScope.rep(2), mx.MetricScope()):
                for start, end in ((START, END), (START + timedelta(hours=5), END)):
                    await mx.conversion(session, scope, start, end)
                    await mx.referral_share(session, scope, start, end)
                    await mx.retention(session, scope, start, end)
                    await mx.reply_speed(session, scope, start, end, now=END, window_hours=2)
                    await mx.moves(session, scope, start, end)
    finally:
        event.remove(metrics_db.sync_engine, "before_cursor_execute", record)
    assert seen

    async def plans() -> list[str]:
        out = []
        async with metrics_db.connect() as conn:
            for sql, params in seen:
                rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
                out.append("\n".join(str(r[-1]) for r in rows.all()))
        return out

    before = await plans()
    for (sql, _), p in zip(seen, before, strict=True):
        for line in p.splitlines():
            if line.startswith("SCAN") and "rollup_" in line:
                assert "INDEX" in line, (sql, p)
            assert not (line.startswith("SCAN") and line.split()[1] in ("touches", "contacts")), (
                sql,
                p,
            )
    async with metrics_db.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")
        await conn.commit()
    after = await plans()
    for (sql, _), b, a in zip(seen, before, after, strict=True):
        assert a == b, (sql, b, a)
