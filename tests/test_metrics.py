"""Every measure on a small data set whose figures are worked out by hand, on SQLite and PostgreSQL.

The period is November 2026: [1 Nov 00:00, 1 Dec 00:00) UTC, 30 days; "now" is its end.
Team T1 (manager Mia; reps Rob and Sue) is the one measured; team T2 (rep Tom) must stay out of
T1's figures and show up only for "everyone".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event

from core import metrics as m
from core.roles import Role
from services import digest as dg
from services import metrics as mx
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Contact, ContactEvent, DueWork, NpsCase, Survey, Team, Touch, User
from tests.services import create_pg_database, drop_pg_database

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)  # also "now"
CADENCE = "connection=7,development=14,commercial=3,retention=30"


def d(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def seed(session) -> dict[str, int]:
    t1 = Team(id=1, name="North", created_at=d(1, 1))
    t2 = Team(id=2, name="South", cadence="commercial=30", created_at=d(1, 1))
    users = [
        User(id=1, tg_id=501, first_name="Mia", role="manager", team_id=1),
        User(id=2, tg_id=502, first_name="Rob", role="rep", team_id=1),
        User(id=3, tg_id=503, first_name="Sue", role="rep", team_id=1),
        User(id=4, tg_id=504, first_name="Tom", role="rep", team_id=2),
    ]
    for u in users:
        u.created_at = u.last_seen_at = d(1, 1)
    session.add_all([t1, t2, *users])
    await session.flush()

    def contact(cid, name, owner, team, created, status, stage, *, source=None, **kw):
        kw.setdefault("verified_at", created)
        return Contact(
            id=cid,
            name=name,
            owner_id=owner,
            team_id=team,
            created_at=created,
            updated_at=created,
            status=status,
            stage=stage,
            source=source,
            search_text=name.lower(),
            **kw,
        )

    session.add_all(
        [
            # A: a client since 15 Oct, touched twice in November        -> retained
            contact(1, "A", 2, 1, d(10, 1), "client", "retention", last_touch_at=d(11, 10)),
            # B: created a client in April, never touched, not verified since -> not retained,
            #    going cold (retention, 30 d), stale (verified 1 Apr < 4 Jun)
            contact(2, "B", 2, 1, d(4, 1), "client", "retention"),
            # C: referral, a contact until it became a client on 20 Nov; step due 25 Nov (overdue)
            contact(
                3, "C", 2, 1, d(10, 10), "client", "development", source="referral",
                last_touch_at=d(11, 20), next_step="send the offer", next_step_due=d(11, 25, 9),
            ),
            # D: new (5 Nov), referral: contact -> lead (8 Nov) -> lost (25 Nov)
            contact(
                4, "D", 2, 1, d(11, 5), "lost", "connection", source="referral",
                last_touch_at=d(11, 6, 11), next_step_due=d(11, 20), introduced_by_id=3,
            ),
            # E: new (10 Nov), event: contact -> client (12 Nov); met on 11 Nov
            contact(
                5, "E", 2, 1, d(11, 10), "client", "commercial", source="event",
                last_touch_at=d(11, 12, 13),
            ),
            # F: new (15 Nov), Sue's, event; wrote on 20 Nov and got no reply; step overdue
            contact(
                6, "F", 3, 1, d(11, 15), "contact", "identification", source="event",
                last_touch_at=d(11, 20, 9), next_step_due=d(11, 15, 9),
            ),
            # G: new (28 Nov), Sue's, no source, created as a lead; step due after the period
            contact(7, "G", 3, 1, d(11, 28), "lead", "connection", next_step_due=d(12, 3)),
            # I: archived, J: lost — not active, so out of freshness, cold, stale, overdue
            contact(8, "I", 2, 1, d(5, 1), "contact", "connection", archived_at=d(6, 1)),
            contact(9, "J", 2, 1, d(3, 1), "lost", "connection"),
            # K: team T2 (commercial cadence 30 d there: touched 3 Nov, not cold)
            contact(
                10, "K", 4, 2, d(11, 2), "contact", "commercial", source="referral",
                last_touch_at=d(11, 3),
            ),
        ]
    )  # fmt: skip
    await session.flush()

    def ev(cid, field, old, new, at):
        return ContactEvent(contact_id=cid, field=field, old_value=old, new_value=new, at=at)

    session.add_all(
        [
            ev(1, "status", "lead", "client", d(10, 15)),
            ev(3, "status", "contact", "client", d(11, 20)),
            ev(3, "stage", "connection", "development", d(11, 20)),
            ev(4, "status", "contact", "lead", d(11, 8)),
            ev(4, "stage", "identification", "connection", d(11, 8)),
            ev(4, "status", "lead", "lost", d(11, 25)),
            ev(5, "status", "contact", "client", d(11, 12)),
            ev(5, "stage", "connection", "commercial", d(11, 12)),
            ev(7, "created", None, "G", d(11, 28)),
        ]
    )

    def touch(tid, cid, author, type_, direction, at):
        return Touch(
            id=tid, contact_id=cid, author_id=author, type=type_, direction=direction,
            summary="", occurred_at=at,
        )  # fmt: skip

    session.add_all(
        [
            touch(1, 1, 2, "call", "out", d(10, 20)),  # before the period
            touch(2, 1, 2, "call", "out", d(11, 3)),
            touch(3, 1, 2, "service", "out", d(11, 10)),
            touch(4, 3, 2, "meeting", "out", d(11, 20)),
            touch(5, 4, 2, "message", "in", d(11, 6, 10)),
            touch(6, 4, 2, "message", "out", d(11, 6, 11)),  # reply after 1 h
            touch(7, 5, 2, "meeting", "out", d(11, 11, 10)),
            touch(8, 5, 2, "message", "in", d(11, 12, 9)),
            touch(9, 5, 2, "email", "out", d(11, 12, 13)),  # reply after 4 h
            touch(10, 6, 3, "message", "in", d(11, 20, 9)),  # never answered
            touch(11, 10, 4, "call", "out", d(11, 3)),  # team T2
        ]
    )  # fmt: skip

    def survey(sid, cid, rep, team, delivered, answered=None, score=None):
        return Survey(
            id=sid,
            contact_id=cid,
            rep_id=rep,
            team_id=team,
            token=f"tok{sid}",
            status="answered" if score is not None else "sent",
            scheduled_for=delivered,
            delivered_at=delivered,
            expires_at=delivered + timedelta(days=7),
            score=score,
            answered_at=answered,
            created_at=delivered,
        )

    session.add_all(
        [
            survey(1, 1, 2, 1, d(11, 2), d(11, 3), 10),
            survey(2, 1, 2, 1, d(11, 4), d(11, 5), 9),
            survey(3, 5, 2, 1, d(11, 6), d(11, 7), 9),
            survey(4, 5, 2, 1, d(11, 8), d(11, 9), 10),
            survey(5, 3, 2, 1, d(11, 10), d(11, 11), 7),
            survey(6, 3, 2, 1, d(11, 12), d(11, 13), 8),
            survey(7, 1, 2, 1, d(10, 28), d(11, 2), 8),  # delivered before the period
            survey(8, 2, 2, 1, d(11, 14), d(11, 15), 3),  # the detractor
            survey(9, 2, 2, 1, d(11, 20)),  # unanswered
            survey(10, 5, 2, 1, d(11, 22)),  # unanswered
            survey(11, 1, 2, 1, d(10, 1), d(10, 2), 10),  # the 30 days before
            survey(12, 10, 4, 2, d(11, 5), d(11, 6), 0),  # team T2
        ]
    )  # fmt: skip
    await session.flush()
    session.add_all(
        [
            NpsCase(
                id=1, survey_id=8, contact_id=2, rep_id=2, team_id=1, status="open",
                opened_at=d(11, 15), deadline_at=d(11, 16),
            ),
            NpsCase(
                id=2, survey_id=6, contact_id=3, rep_id=2, team_id=1, status="resolved",
                opened_at=d(11, 13), deadline_at=d(11, 14),
            ),
            NpsCase(
                id=3, survey_id=12, contact_id=10, rep_id=4, team_id=2, status="taken",
                opened_at=d(11, 6), deadline_at=d(11, 7),
            ),
        ]
    )  # fmt: skip

    def work(wid, kind, cid, user, due, status, sent=None, ref=None):
        return DueWork(
            id=wid,
            kind=kind,
            key=f"k{wid}",
            chat_id=500 + user,
            user_id=user,
            contact_id=cid,
            ref_id=ref,
            due_at=due,
            status=status,
            sent_at=sent,
            created_at=due - timedelta(1),
        )

    session.add_all(
        [
            work(1, "reminder", 1, 2, d(11, 5, 9), "sent", d(11, 5, 9)),  # A: touched 10 Nov
            work(2, "reminder", 1, 2, d(11, 7, 9), "sent", d(11, 7, 9)),  # A again (snoozed)
            work(3, "reminder", 3, 2, d(11, 25, 9), "sent", d(11, 25, 9)),  # C: no touch since
            work(4, "reminder", 5, 2, d(11, 11, 12), "done"),  # E: settled by the meeting
            work(5, "reminder", 6, 3, d(11, 15, 9), "cancelled"),  # F: moved, doesn't count
            work(6, "reminder", 7, 3, d(12, 3, 9), "pending"),  # G: after the period
            work(7, "inbound_rep", 4, 2, d(11, 6, 12), "done", None, 5),  # D: replied in time
            work(8, "inbound_rep", 5, 2, d(11, 12, 11), "done", d(11, 12, 11), 8),  # E: late
            work(9, "inbound_rep", 6, 3, d(11, 20, 11), "sent", d(11, 20, 11), 10),  # F: none
        ]
    )  # fmt: skip
    await session.commit()
    return {"team": 1, "manager": 1, "sue": 3}


# the data set is seeded once per backend; every test reads it (and rolls back what it adds)
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgresql"])
async def seeded(request, tmp_path_factory):
    name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('metrics') / 'bot.db'}"
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


@pytest_asyncio.fixture(loop_scope="module")
async def session(seeded):
    async with create_session_factory(seeded)() as s:
        yield s
        await s.rollback()


TEAM = mx.MetricScope.team(1)
SUE = mx.MetricScope.rep(3)
ALL = mx.MetricScope.everyone()


async def test_reach_and_touch_frequency(session) -> None:
    # touches in November: A 2, C 1, D 2, E 3, F 1 -> 5 contacts (A's October call is outside)
    assert await mx.reach(session, TEAM, START, END) == 5
    assert await mx.reach(session, SUE, START, END) == 1  # F
    assert await mx.reach(session, ALL, START, END) == 6  # + K
    freq = await mx.touch_frequency(
        session, TEAM, START, END, cadence=await mx.cadence_for(session, TEAM, CADENCE)
    )
    by_stage = {f.stage: f for f in freq}
    # identification F 1/1, no cadence; connection D 2/1 vs 30/7; development C 1/1 vs 30/14;
    # commercial E 3/1 vs 30/3; retention A 2/1 vs 30/30
    assert [(f.stage, f.touches, f.contacts) for f in freq] == [
        ("identification", 1, 1),
        ("connection", 2, 1),
        ("development", 1, 1),
        ("commercial", 3, 1),
        ("retention", 2, 1),
    ]
    assert by_stage["identification"].expected is None
    assert by_stage["connection"].expected == Fraction(30, 7)
    assert m.fmt_ratio(by_stage["connection"].expected) == "4.3"
    assert m.fmt_ratio(by_stage["development"].expected) == "2.1"
    assert by_stage["commercial"].expected == 10
    assert by_stage["retention"].expected == 1
    assert m.fmt_ratio(by_stage["commercial"].per_contact) == "3.0"


async def test_conversion_cohort(session) -> None:
    # created in November: D, E, F, G. Lead or later by the end: D (lead on 8 Nov, lost since),
    # E (client), G (created a lead) = 3 of 4; client: E = 1; a meeting: E = 1.
    c = await mx.conversion(session, TEAM, START, END)
    assert c == mx.Conversion(cohort=4, lead=3, client=1, meeting=1)
    assert m.fmt_percent(c.lead, c.cohort) == "75%"
    assert m.fmt_percent(c.client, c.cohort) == "25%"
    # Sue: F and G; only G is a lead
    assert await mx.conversion(session, SUE, START, END) == mx.Conversion(2, 1, 0, 0)
    # by 11 Nov 09:00, D is already a lead, but E is not a client yet and has not met
    early = await mx.conversion(session, TEAM, START, d(11, 11, 9))
    assert early == mx.Conversion(cohort=2, lead=1, client=0, meeting=0)


async def test_referral_share(session) -> None:
    # new: D (referral), E, F, G -> 1/4; became clients in November: C (referral), E -> 1/2
    r = await mx.referral_share(session, TEAM, START, END)
    assert r == mx.ReferralShare(new=4, new_referral=1, clients=2, clients_referral=1)
    assert m.fmt_percent(r.new_referral, r.new) == "25%"
    assert m.fmt_percent(r.clients_referral, r.clients) == "50%"
    everyone = await mx.referral_share(session, ALL, START, END)
    assert (everyone.new, everyone.new_referral) == (5, 2)  # + K -> 40%


async def test_retention(session) -> None:
    # clients on 1 Nov: A (since 15 Oct) and B (created a client); C became one on 20 Nov.
    # touched in November: A only -> 1/2
    assert await mx.retention(session, TEAM, START, END) == mx.Retention(clients=2, retained=1)
    # on 1 Oct, A was still a lead: only B was a client, and B was never touched
    assert await mx.retention(session, TEAM, d(10, 1, 0), START) == mx.Retention(1, 0)


async def test_nps_and_response_rate(session) -> None:
    # answered in November: 10, 9, 9, 10, 7, 8, 8 (delivered in October), 3
    # -> 8 answers, 4 promoters, 1 detractor: 100 × 3 / 8 = 37.5 -> 38 (half away from zero)
    # delivered in November: surveys 1–6, 8, 9, 10 = 9 -> response rate 8/9 = 89%
    f = await mx.nps(session, TEAM, START, END)
    assert (f.answers, f.promoters, f.passives, f.detractors, f.delivered) == (8, 4, 3, 1, 9)
    assert f.score == 38
    assert m.fmt_percent(f.answers, f.delivered) == "89%"
    # everyone: + T2's 0 -> 9 answers, 4 − 2 -> 100 × 2 / 9 = 22.2 -> 22
    assert (await mx.nps(session, ALL, START, END)).score == 22
    # Sue has no answers: "—"
    sue = await mx.nps(session, SUE, START, END)
    assert sue.score is None and m.fmt_nps(sue.score) == "—"
    # by week (7 days back from 1 Dec, oldest first): 27 Oct–3 Nov: the 8 -> 0;
    # 3–10 Nov: 10, 9, 9, 10 -> 100; 10–17 Nov: 7, 8, 3 -> −33; others empty
    weeks = await mx.nps_by_week(session, TEAM, end=END)
    assert [w.figures.score for w in weeks] == [None, None, None, 0, 100, -33, None, None]
    assert weeks[0].start == END - timedelta(days=56)


async def test_reply_speed(session) -> None:
    # inbound: D 10:00 -> 11:00 (1 h), E 09:00 -> 13:00 (4 h), F unanswered
    # median of the answered = (3600 + 14400) / 2 = 9000 s; within 2 h: D only -> 1/3
    r = await mx.reply_speed(session, TEAM, START, END, now=END, window_hours=2)
    assert (r.inbound, r.answered, r.within) == (3, 2, 1)
    assert r.median_seconds == 9000
    assert m.fmt_percent(r.within, r.inbound) == "33%"
    # a 4-hour window takes E in too
    r4 = await mx.reply_speed(session, TEAM, START, END, now=END, window_hours=4)
    assert r4.within == 2
    # an odd count: only D's request, in the first week
    r1 = await mx.reply_speed(session, TEAM, START, d(11, 8), now=END, window_hours=2)
    assert (r1.inbound, r1.median_seconds) == (1, 3600)
    sue = await mx.reply_speed(session, SUE, START, END, now=END, window_hours=2)
    assert (sue.inbound, sue.answered, sue.median_seconds) == (1, 0, None)
    assert (sue.open, sue.decided) == (0, 1)  # 11 days unanswered: late


@pytest.mark.parametrize("direct", [False, True])
async def test_a_request_still_in_its_window_is_neither_in_time_nor_late(session, direct) -> None:
    """F wrote at 09:00 on 20 Nov: at 10:30 the 2-hour window is still open, so the share is
    over the other two (D in time, E late); at 11:00 sharp still open, after it late. E's
    request, answered at 13:00, is still open at 10:00 (its reply comes after "now")."""
    speed = mx.reply_speed_direct if direct else mx.reply_speed

    async def at(now: datetime, hours: float = 2) -> mx.ReplySpeed:
        return await speed(session, TEAM, START, now, now=now, window_hours=hours)

    r = await at(d(11, 20, 10, 30))
    assert (r.inbound, r.answered, r.within, r.open, r.decided) == (3, 2, 1, 1, 2)
    assert (await at(d(11, 20, 11))).open == 1
    assert (await at(d(11, 20, 11, 1))).open == 0
    r = await at(d(11, 12, 10))  # E's request an hour old, unanswered as of then
    assert (r.inbound, r.answered, r.within, r.open) == (2, 1, 1, 1)
    assert (await at(d(11, 12, 10), hours=0.5)).open == 0  # past a half-hour window: late


async def test_freshness(session) -> None:
    # active (not archived, not lost): A, B, C, E, F, G = 6; B verified 1 Apr, before the
    # 180-day window (4 Jun) -> 5/6 = 83%
    f = await mx.freshness(session, TEAM, now=END, stale_days=180)
    assert f == mx.Freshness(active=6, fresh=5)
    assert m.fmt_percent(f.fresh, f.active) == "83%"


async def test_stats_bundle(session) -> None:
    s = await mx.stats(
        session, TEAM, START, END, now=END, settings_cadence=CADENCE, stale_days=180,
        reply_hours=2,
    )  # fmt: skip
    assert (s.reach, s.conversion.cohort, s.retention.retained, s.nps.score) == (5, 4, 1, 38)
    assert s.reply.median_seconds == 9000 and s.freshness.fresh == 5


async def test_digest_figures(session) -> None:
    manager = await session.get(User, 1)
    digest = await dg.build(
        session, manager, Role.MANAGER, since=START, now=END, settings_cadence=CADENCE,
        stale_days=180,
    )  # fmt: skip
    assert digest.title == "North" and not digest.everyone
    # touches: message D in, D out, E in, F in = 4; meeting C, E = 2; call 1; service 1; email 1
    assert digest.touches == [
        ("message", 4), ("meeting", 2), ("call", 1), ("email", 1), ("service", 1),
    ]  # fmt: skip
    assert digest.touches_total == 9
    # new: E, F event; D referral; G no source
    assert digest.new == [("event", 2), (None, 1), ("referral", 1)] or digest.new == [
        ("event", 2), ("referral", 1), (None, 1),
    ]  # fmt: skip
    # steps due in November: A (twice, counts once; touched 10 Nov after -> done),
    # C (due 25 Nov, no touch since -> not done), E (settled by a touch -> done); F cancelled
    assert digest.steps == mx.Steps(due=3, done=2)
    # overdue now: F (15 Nov), C (25 Nov); D is lost
    assert digest.overdue == 2
    assert [i.name for i in digest.overdue_oldest] == ["F", "C"]
    assert digest.overdue_oldest[1].new == "send the offer"
    # moves: into connection D, development C, commercial E; statuses lead D, client C+E, lost D
    assert digest.moves.stages == [("connection", 1), ("development", 1), ("commercial", 1)]
    assert digest.moves.statuses == [("lead", 1), ("client", 2), ("lost", 1)]
    # cold: B (retention, never touched), E (commercial, 3 d; touched 12 Nov); stale: B
    assert (digest.cold, digest.stale) == (2, 1)
    # missed reply windows: E's and F's SLA alerts went out; D was answered in time
    assert digest.missed == 2
    # NPS since: as for the period; 30 days before: one 10 -> 100; change 38 − 100 = −62
    assert digest.nps_since.score == 38
    assert (digest.nps_30.score, digest.nps_prev.score) == (38, 100)
    assert m.fmt_change(m.nps_change(digest.nps_30.score, digest.nps_prev.score)) == "-62"
    # open cases: B's (open); C's is resolved; T2's is another team's
    assert digest.cases == 1 and [i.name for i in digest.cases_oldest] == ["B"]
    # referrals received: D, introduced by C
    assert digest.referrals == 1
    assert [(i.name, i.extra) for i in digest.referrals_latest] == [("D", "C")]
    # per rep: Rob A, C, D, E; Sue F, G; Mia nothing
    lines = {line.name: line for line in digest.lines}
    assert set(lines) == {"Mia", "Rob", "Sue"}
    assert (lines["Rob"].touches, lines["Rob"].new, lines["Rob"].overdue) == (8, 2, 1)
    assert (lines["Sue"].touches, lines["Sue"].new, lines["Sue"].overdue) == (1, 2, 1)
    assert (lines["Rob"].cold, lines["Rob"].stale, lines["Rob"].missed) == (2, 1, 1)
    assert (lines["Sue"].missed, lines["Rob"].steps_due, lines["Rob"].steps_done) == (1, 3, 2)
    assert lines["Mia"].touches == 0


async def test_admin_digest_spans_all_teams(session) -> None:
    admin = User(id=9, tg_id=1001, first_name="Ada", created_at=START, last_seen_at=START)
    session.add(admin)
    await session.flush()
    digest = await dg.build(
        session, admin, Role.ADMIN, since=START, now=END, settings_cadence=CADENCE,
        stale_days=180,
    )  # fmt: skip
    assert digest.everyone and digest.touches_total == 10
    assert digest.cases == 2 and digest.referrals == 2
    # K is commercial, touched 3 Nov: cold by the default 3 days, not by South's 30 days
    assert digest.cold == 2
    lines = {line.name: line for line in digest.lines}
    assert (lines["North"].touches, lines["South"].touches) == (9, 1)


async def test_funnel_by_stage(session) -> None:
    # active: F identification, G connection, C development, E commercial, A + B retention
    assert await mx.funnel_by_stage(session, TEAM) == [
        ("identification", 1), ("connection", 1), ("development", 1), ("commercial", 1),
        ("retention", 2),
    ]  # fmt: skip


async def test_section_lists(session) -> None:
    manager = await session.get(User, 1)

    async def names(section: str) -> list[str]:
        items = await dg.section_items(
            session, manager, Role.MANAGER, section, since=START, now=END,
            settings_cadence=CADENCE, stale_days=180,
        )  # fmt: skip
        return [i.name for i in items]

    assert await names("overdue") == ["F", "C"]
    assert await names("cold") == ["B", "E"]
    assert await names("stale") == ["B"]
    assert sorted(await names("inbound")) == ["E", "F"]
    assert await names("steps") == ["C", "A", "E"]  # not done first
    assert await names("referrals") == ["D"]
    assert await names("cases") == ["B"]
    assert len(await names("nps")) == 8
    assert len(await names("touches")) == 9


async def test_the_oldest_open_cases_are_the_scopes_first_five(session) -> None:
    """The digest's five oldest open cases: the scope's open cases in opening order, cut after
    the scope and the status (the limit is taken before the cards are read)."""
    sid = 100

    def case(cid: int, rep: int, team: int, status: str, opened: datetime) -> list:
        nonlocal sid
        sid += 1
        survey = Survey(
            id=sid, contact_id=cid, rep_id=rep, team_id=team, token=f"case{sid}",
            status="answered", scheduled_for=opened, delivered_at=opened,
            expires_at=opened + timedelta(days=7), score=2, answered_at=opened, created_at=opened,
        )  # fmt: skip
        kase = NpsCase(
            id=sid, survey_id=sid, contact_id=cid, rep_id=rep, team_id=team, status=status,
            opened_at=opened, deadline_at=opened + timedelta(days=1),
        )  # fmt: skip
        return [survey, kase]

    rows = [
        *case(1, 2, 1, "taken", d(11, 3)),  # A, Rob's
        *case(6, 3, 1, "open", d(11, 1)),  # F, Sue's: the oldest open of the team
        *case(5, 2, 1, "resolved", d(10, 1)),  # resolved: not listed, however old
        *case(10, 4, 2, "open", d(9, 1)),  # another team's
        *case(7, 3, 1, "contacted", d(11, 9)),  # G
        *case(3, 2, 1, "open", d(11, 20)),  # C
        *case(4, 2, 1, "open", d(11, 18)),  # D
    ]
    for row in rows:  # surveys before their cases
        session.add(row)
        await session.flush()
    manager = await session.get(User, 1)
    kw = dict(since=START, now=END, settings_cadence=CADENCE, stale_days=180)
    digest = await dg.build(session, manager, Role.MANAGER, **kw)
    # open in team 1: F 1 Nov, A 3 Nov, G 9 Nov, B 15 Nov (seeded), D 18 Nov, C 20 Nov
    assert digest.cases == 6
    assert [i.name for i in digest.cases_oldest] == ["F", "A", "G", "B", "D"]
    assert [i.code for i in digest.cases_oldest] == ["open", "taken", "contacted", "open", "open"]
    # a scope of one rep's cards (someone without a team): Rob's
    assert [i.name for i in await dg._cases(session, mx.MetricScope.rep(2), 5)] == [
        "A", "B", "D", "C",
    ]  # fmt: skip
    items = await dg.section_items(session, manager, Role.MANAGER, "cases", limit=3, **kw)
    assert [i.name for i in items] == ["F", "A", "G"]


async def test_the_digests_due_steps_and_cases_read_their_indexes(session) -> None:
    """The digest's due steps and open cases are read through their indexes: on PostgreSQL the
    steps from index entries alone (kind and due time carrying status and card; the card's scope
    by id), the open cases through the partial indexes of a team's and a rep's open cases
    (0024); on SQLite the cases through the team's index. Guards the indexes' shape and the
    partial indexes' condition against the statuses the code asks for (core.nps.OPEN_CASES)."""
    engine = session.bind
    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        seen.append((statement, params))

    manager = await session.get(User, 1)
    kw = dict(since=START, now=END, settings_cadence=CADENCE, stale_days=180)
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await dg.build(session, manager, Role.MANAGER, **kw)
        await dg._cases(session, mx.MetricScope.rep(2), 5)
        await mx.open_cases(session, mx.MetricScope.rep(2))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    await session.rollback()
    steps = [s for s in seen if "FROM due_work" in s[0] and "EXISTS" in s[0]]
    cases = [s for s in seen if "FROM nps_cases" in s[0]]
    assert len(steps) == 1 and len(cases) == 4, [s for s, _ in seen]
    postgresql = engine.dialect.name == "postgresql"
    if postgresql:
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM ANALYZE due_work, contacts, nps_cases")

    async def plan(sql: str, params: Any) -> str:
        async with engine.connect() as conn:
            if not postgresql:
                rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
                return "\n".join(str(r[-1]) for r in rows.all())
            # a table this small is cheapest read whole: without that choice, the indexes
            await conn.exec_driver_sql("SET enable_seqscan = off")
            await conn.exec_driver_sql("SET enable_bitmapscan = off")
            rows = await conn.exec_driver_sql(f"EXPLAIN {sql}", params)
            return "\n".join(r[0] for r in rows.all())

    step_plan = await plan(*steps[0])
    case_plans = [await plan(*c) for c in cases]
    if postgresql:
        assert "Index Only Scan using ix_due_work_kind_due" in step_plan, step_plan
        assert "Index Only Scan using ix_contacts_scope" in step_plan, step_plan
        team, rep = case_plans[:2], case_plans[2:]
        assert all("ix_nps_cases_team_open" in p for p in team), team
        assert all("ix_nps_cases_rep_open" in p for p in rep), rep
    else:
        for p in case_plans[:2]:
            assert "ix_nps_cases_team_id" in p and "SCAN nps_cases" not in p, p
