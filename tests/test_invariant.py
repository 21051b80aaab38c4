"""One invariant for every next step: each path that touches a step keeps exactly one reminder.

Each test here was written against a way a follow-up used to slip silently, and fails on the code
before services.followups.sync_due_work (checked by running it there).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from services import contacts as svc
from services import followups, merging
from storage.db import create_session_factory
from storage.migrate import downgrade, upgrade
from storage.models import (
    Contact,
    ContactEvent,
    Deal,
    DueWork,
    NpsCase,
    PrivacyLog,
    ReferralLink,
    Survey,
    Team,
    Touch,
    TouchMedia,
    User,
)
from storage.uow import write_session
from tests.conftest import ADMIN_ID
from tests.helpers import another_rep, team_with_rep

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


def reminders_to(emu, chat_id: int, needle: str = "⏰ <b>Next step</b>") -> list[dict]:
    return [
        r.params
        for r in emu.requests
        if r.method == "sendMessage"
        and r.ok
        and r.params["chat_id"] == chat_id
        and needle in r.params["text"]
    ]


async def plan_step(rep, name: str, when: str, step: str = "call back") -> None:
    reply = await rep.send(f"/add {name}")
    if "Possible duplicate" in reply.text:
        await rep.click("Add anyway")
    await rep.click("Open card")
    await rep.click("Next step")
    await rep.send(step)
    await rep.send(when)
    await rep.click("Confirm")


async def audit(tg) -> list[str]:
    async with tg.app.session_factory() as s:
        return await followups.audit(
            s, now=tg.clock.now(), rules=followups.Rules.of(tg.app.settings)
        )


# ------------------------------------------------------------------------------ /delivered
async def test_delivered_keeps_the_open_steps_reminder(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Anna Smirnova, Acme", "tomorrow 10:00", "send the proposal")
    reply = await rep.send("/delivered Anna")
    assert "Service delivered to Anna Smirnova is logged" in reply.text
    reply = await rep.send("/find Anna")
    assert "Next step: send the proposal" in reply.text  # the card still shows the step ...
    assert await audit(tg) == []
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    [sent] = reminders_to(emu, rep.id)  # ... and its reminder comes
    assert "send the proposal" in sent["text"]


# ------------------------------------------------------------------------------ Done
async def test_done_is_one_tap_to_a_prefilled_touch_that_asks_only_for_the_next_step(
    tg, emu, clock
) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Boris, Beta", "today 15:00", "call Boris about the pilot")
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1
    reminder = copy.deepcopy(rep.last)  # the reminder as it was sent, with its buttons
    reply = await rep.click("Done", reminder)  # 1: the tap
    assert "Logged: call — call Boris about the pilot" in reply.text
    assert "What is the next step with Boris" in reply.text
    assert "No next step" in reply.buttons
    reply = await rep.send("send the contract")  # 2: what
    assert "When?" in reply.text
    await rep.send("friday 10:00")  # 3: when
    reply = await rep.click("Confirm")  # 4: confirm
    assert "Next step: send the contract" in reply.text
    assert "Last touch: call" in reply.text and "call Boris about the pilot" in reply.text
    async with tg.app.session_factory() as s:
        [touch] = list(await s.scalars(select(Touch)))
        assert (touch.type, touch.direction, touch.summary) == (
            "call",
            "out",
            "call Boris about the pilot",
        )
    assert await audit(tg) == []
    # the old reminder's buttons no longer act: its step was closed and a new one planned
    reply = await rep.click("Done", reminder)
    assert "out of date" in reply.answer["text"]
    reply = await rep.click("+1 hour", reminder)
    assert "out of date" in reply.answer["text"]
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Touch.id))) == 1
        c = await s.scalar(select(Contact))
        assert c.next_step == "send the contract"
    clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 2


async def test_done_then_no_next_step_with_a_reason(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Cleo, Gamma", "today 15:00", "send the invoice")
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    reply = await rep.click("Done", rep.last)
    assert "Logged: e-mail — send the invoice" in reply.text
    await rep.click("No next step")
    reply = await rep.click("deal closed")
    assert "No next step: deal closed" in reply.text
    assert await audit(tg) == []


# ------------------------------------------------------------------------------ merge
async def test_merge_keeps_the_surveys_the_referral_link_and_plans_the_reminder(
    tg, emu, clock
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await plan_step(rep, "Paula Passive, Beta", "tomorrow 10:00", "send the case study")
    reply = await rep.send("/delivered Paula")
    link = next(w for w in reply.text.split() if "?start=" in w)
    paula = tg.user(9002, "Paula")
    await paula.send("/start " + link.split("start=")[1])
    reply = await paula.click("10")
    ref_link = next(w for w in reply.text.split() if "start=ref_" in w)
    assert "1 answer: " in (await manager.send("/nps")).text

    # the same person on a second card, which is kept
    await rep.send("/add P. Passive, +79990002233")
    if "Possible duplicate" in rep.last["text"]:
        await rep.click("Add anyway")
    await rep.send("/find +79990002233")
    await rep.click("Edit")
    await rep.click("Merge with")
    await rep.send("Paula Passive")
    await rep.click("Paula Passive")  # the preview
    reply = await rep.click("✅ Merge")
    assert "Merged" in reply.text and "Next step: send the case study" in reply.text
    async with tg.app.session_factory() as s:
        [kept] = list(await s.scalars(select(Contact)))
        assert kept.phone == "+79990002233"
        assert await s.scalar(select(func.count(Survey.id))) == 1
        assert await s.scalar(select(ReferralLink.promoter_contact_id)) == kept.id
    assert await audit(tg) == []

    reply = await manager.send("/nps")
    assert (
        "1 answer: 1 promoter, 0 passives, 0 detractors" in reply.text
    )  # the answer is still counted
    friend = tg.user(9100, "Fiona")
    reply = await friend.send("/start " + ref_link.split("start=")[1])
    assert "friend's recommendation" in reply.text  # the promoter's link still works
    async with tg.app.session_factory() as s:
        fiona = await s.scalar(select(Contact).where(Contact.tg_user_id == friend.id))
        assert fiona.introduced_by_id == kept.id
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    [sent] = reminders_to(emu, rep.id)  # the kept card's inherited step is reminded of, once
    assert "send the case study" in sent["text"] and "P. Passive" in sent["text"]


async def _sample_rows(s, keep: Contact, drop: Contact, rep: User) -> dict[str, int]:
    """One row in every table that points at a card, pointing at ``drop``: {"table.column": pk}."""
    touch = Touch(contact_id=drop.id, author_id=rep.id, type="call", summary="", occurred_at=NOW)
    event = ContactEvent(contact_id=drop.id, actor_id=rep.id, field="created", at=NOW)
    survey = Survey(
        contact_id=drop.id,
        rep_id=rep.id,
        token="tok-survey",
        status="answered",
        score=3,
        scheduled_for=NOW,
        expires_at=NOW + timedelta(days=7),
        answered_at=NOW,
        created_at=NOW,
    )
    s.add_all([touch, event, survey])
    await s.flush()
    case = NpsCase(
        survey_id=survey.id,
        contact_id=drop.id,
        rep_id=rep.id,
        opened_at=NOW,
        deadline_at=NOW + timedelta(days=1),
    )
    link = ReferralLink(token="ref_tok", promoter_contact_id=drop.id, rep_id=rep.id, created_at=NOW)
    work = DueWork(
        kind="nps_remind", key="npsr:1", chat_id=1, contact_id=drop.id, due_at=NOW, created_at=NOW
    )
    introduced = Contact(
        owner_id=rep.id,
        name="Introduced",
        introduced_by_id=drop.id,
        created_at=NOW,
        updated_at=NOW,
        verified_at=NOW,
    )
    erased = PrivacyLog(contact_id=drop.id, actor_id=rep.id, action="forget", counts="{}", at=NOW)
    kept = TouchMedia(contact_id=drop.id, touch_id=touch.id, kind="voice", file_id="V1", at=NOW)
    deal = Deal(contact_id=drop.id, amount=100, currency="RUB", created_at=NOW, updated_at=NOW)
    s.add_all([case, link, work, introduced, erased, kept, deal])
    await s.flush()
    return {
        "touch_media.contact_id": kept.id,
        "privacy_log.contact_id": erased.id,
        "touches.contact_id": touch.id,
        "contact_events.contact_id": event.id,
        "surveys.contact_id": survey.id,
        "nps_cases.contact_id": case.id,
        "referral_links.promoter_contact_id": link.id,
        "due_work.contact_id": work.id,
        "contacts.introduced_by_id": introduced.id,
        "deals.contact_id": deal.id,
    }


async def test_merge_moves_every_row_that_points_at_the_dropped_card(engine) -> None:
    """Every foreign key to contacts, read from the models: a new table can't be forgotten."""
    factory = create_session_factory(engine)
    async with write_session(factory) as s:
        team = Team(name="T", created_at=NOW)
        s.add(team)
        await s.flush()
        rep = User(tg_id=3003, first_name="Rita", role="rep", team_id=team.id)
        rep.created_at = rep.last_seen_at = NOW
        s.add(rep)
        await s.flush()
        keep = await svc.create(s, owner=rep, data={"name": "Keep"}, now=NOW)
        drop = await svc.create(s, owner=rep, data={"name": "Drop"}, now=NOW)
        samples = await _sample_rows(s, keep, drop, rep)
    references = merging.contact_references()
    names = {f"{c.table.name}.{c.name}" for c in references}
    missing = names - set(samples)
    assert not missing, f"add a sample row for {sorted(missing)} to this test"
    async with write_session(factory) as s:
        keep = await s.get(Contact, keep.id)
        drop = await s.get(Contact, drop.id)
        rep = await s.get(User, rep.id)
        await followups.merge(s, keep, drop, actor=rep, now=NOW, rules=followups.Rules())
    async with factory() as s:
        assert await s.get(Contact, drop.id) is None
        for column in references:
            pk = samples[f"{column.table.name}.{column.name}"]
            row = (
                await s.execute(select(column).where(column.table.primary_key.columns[0] == pk))
            ).one_or_none()
            assert row is not None, f"{column.table.name} row {pk} was lost in the merge"
            assert row[0] == keep.id, f"{column.table.name}.{column.name} still points elsewhere"


# ------------------------------------------------------------------------------ archive, restore
async def test_a_step_archived_before_its_time_is_reminded_of_after_restore(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Dora, Delta", "today 12:00")
    await rep.send("/find Dora")
    await rep.click("Archive")
    assert await audit(tg) == []
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id) == []  # archived: nothing comes
    clock.set(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    reply = await rep.send("/contacts")
    await rep.click("Filter")
    await rep.click("Archived")
    await rep.click("Dora")
    reply = await rep.click("Restore")
    assert "Next step: call back" in reply.text
    assert await audit(tg) == []
    await tg.app.clockwork.tick()
    [sent] = reminders_to(emu, rep.id)  # back from the archive, the overdue step comes at once
    assert "Dora" in sent["text"]
    await rep.send("/find Dora")
    await rep.click("Archive")
    await rep.click("Restore")
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1  # delivered once, not again on every restore


# ------------------------------------------------------------------------------ owner, settings
async def test_a_new_owner_gets_the_reminder_in_their_hours(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    oleg = await another_rep(tg, manager, 3004, "Oleg")
    await plan_step(rep, "Eve, Epsilon", "today 18:00")
    await oleg.send("/settings")
    await oleg.click("Working hours")
    await oleg.send("Mon-Fri 10:00-17:00")
    await manager.send("/find Eve")
    await manager.click("Edit")
    reply = await manager.click("Owner")
    assert "Oleg" in reply.buttons and "Rita" in " ".join(reply.buttons)
    reply = await manager.click("Oleg")
    assert "Oleg now owns this card" in reply.text
    assert await audit(tg) == []
    clock.set(datetime(2026, 11, 23, 16, 44, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id) == [] and reminders_to(emu, oleg.id) == []
    clock.set(datetime(2026, 11, 23, 16, 45, tzinfo=UTC))  # Oleg's last quarter-hour that day
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, oleg.id)) == 1 and reminders_to(emu, rep.id) == []
    reply = await rep.send("/find Eve")
    assert "Nothing found" in reply.text  # no longer Rita's card


async def test_checks_and_alerts_follow_the_card(tg, emu, clock) -> None:
    """The other due work a card implies: an inbound request's reply alert goes to the card's
    owner of the moment, in their hours; an archived card's checks are settled."""
    _admin, manager, rep = await team_with_rep(tg)
    oleg = await another_rep(tg, manager, 3004, "Oleg")
    await oleg.send("/settings")
    await oleg.click("Working hours")
    await oleg.send("Mon-Fri 13:00-19:00")
    await rep.send("/add Hugo, Eta")
    await rep.send("/log Hugo")
    await rep.click("message")
    await rep.click("inbound")
    await rep.send("Please send me a quote")  # 09:00: Rita's alert would be due at 11:00
    await manager.send("/find Hugo")
    await manager.click("Edit")
    await manager.click("Owner")
    await manager.click("Oleg")
    assert await audit(tg) == []
    clock.set(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id, "waiting for a reply") == []
    assert reminders_to(emu, oleg.id, "waiting for a reply") == []
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))  # two of Oleg's working hours
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, oleg.id, "waiting for a reply")) == 1

    await rep.send("/add Gina, Omega, CTO")
    clock.advance(timedelta(days=182))
    await tg.app.clockwork.run_daily()  # a stale-data check is planned for Rita ...
    await rep.send("/find Gina")
    await rep.click("Archive")  # ... and the card is archived before it goes out
    assert await audit(tg) == []
    async with tg.app.session_factory() as s:
        gina = await s.scalar(select(Contact).where(Contact.name == "Gina"))
        stale = await s.scalar(
            select(DueWork).where(DueWork.kind == "stale", DueWork.contact_id == gina.id)
        )
        assert stale.status == "done"
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id, "still CTO") == []


async def test_owner_button_is_for_managers_and_checks_the_scope(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Finn, Phi")
    await rep.click("Open card")
    reply = await rep.click("Edit")
    assert not any("Owner" in b for b in reply.buttons)
    async with tg.app.session_factory() as s:
        c = await s.scalar(select(Contact))
        outsider = User(tg_id=7777, first_name="Out", role="rep", created_at=NOW, last_seen_at=NOW)
    async with write_session(tg.app.session_factory) as s:
        s.add(outsider)
    reply = await manager.tap_data(f"cc:ownto:{c.id}:{outsider.id}", manager.last)
    assert "no longer valid" in reply.answer["text"]
    reply = await rep.tap_data(f"cc:ownto:{c.id}:{outsider.id}", rep.last)
    assert "no longer valid" in reply.answer["text"]
    async with tg.app.session_factory() as s:
        assert (await s.get(Contact, c.id)).owner_id != outsider.id


async def test_changing_time_zone_moves_the_pending_reminder(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Lev, Kappa", "today 18:00")  # 18:00 UTC: inside 09–19 in UTC
    await rep.send("/settings")
    await rep.click("Time zone")
    reply = await rep.send("Novosibirsk")  # UTC+7: 18:00 UTC is 01:00 there
    assert "Novosibirsk, UTC+7" in reply.text
    assert await audit(tg) == []
    clock.set(datetime(2026, 11, 23, 18, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id) == []  # never at 1 a.m.
    clock.set(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))  # 09:00 in Novosibirsk
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1


async def test_changing_working_hours_moves_the_pending_reminder(tg, emu, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await plan_step(rep, "Mona, Mu", "today 18:00")
    await rep.send("/settings")
    await rep.click("Working hours")
    await rep.send("Mon-Fri 09:00-17:00")
    assert await audit(tg) == []
    clock.set(datetime(2026, 11, 23, 16, 44, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert reminders_to(emu, rep.id) == []
    clock.set(datetime(2026, 11, 23, 16, 45, tzinfo=UTC))  # before the step, in the new hours
    await tg.app.clockwork.tick()
    assert len(reminders_to(emu, rep.id)) == 1


# ------------------------------------------------------------------------------ the database
def _index_sql(conn) -> str:  # noqa: ANN001
    if conn.dialect.name == "sqlite":
        return conn.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'ux_due_work_one_pending_reminder'")
        ).scalar_one()
    return conn.execute(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ux_due_work_one_pending_reminder'")
    ).scalar_one()


async def test_the_database_holds_one_pending_reminder_per_card(engine) -> None:
    """The partial unique index is there, with its predicate, on both backends (Alembic's model
    comparison does not look at index predicates, so this checks it)."""
    async with engine.connect() as conn:
        sql = (await conn.run_sync(_index_sql)).replace('"', "").replace("::text", "")
    assert "UNIQUE" in sql.upper() and "contact_id" in sql
    assert "reminder" in sql and "pending" in sql and "WHERE" in sql.upper()
    factory = create_session_factory(engine)
    async with write_session(factory) as s:
        rep = User(tg_id=3003, first_name="Rita", role="rep", created_at=NOW, last_seen_at=NOW)
        s.add(rep)
        await s.flush()
        c = await svc.create(s, owner=rep, data={"name": "Anna"}, now=NOW)

    def row(key: str, status: str, kind: str = "reminder") -> DueWork:
        return DueWork(
            kind=kind,
            key=key,
            chat_id=1,
            contact_id=c.id,
            due_at=NOW,
            status=status,
            created_at=NOW,
        )

    async with write_session(factory) as s:
        s.add_all(
            [row("a", "pending"), row("b", "sent"), row("c", "sent"), row("d", "pending", "cold")]
        )
    with pytest.raises(IntegrityError):
        async with write_session(factory) as s:
            s.add(row("e", "pending"))


async def test_migration_settles_rows_that_break_the_rule(engine) -> None:
    """Upgrading an existing database: of several pending reminders of a card the newest stays;
    one of an archived card, or of a card without a step, is cancelled."""
    await downgrade(engine, "0005")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (id, tg_id, first_name, reachable, created_at, last_seen_at) "
                "VALUES (1, 1, 'R', true, :t, :t)"
            ),
            {"t": NOW},
        )
        for cid, archived, due in ((1, None, NOW), (2, NOW, NOW), (3, None, None)):
            await conn.execute(
                text(
                    "INSERT INTO contacts (id, owner_id, name, icp_fit, status, stage, tags, "
                    "search_text, created_at, updated_at, verified_at, archived_at, next_step_due)"
                    " VALUES (:id, 1, 'c', 'unknown', 'contact', 'identification', '', '', :t, :t,"
                    " :t, :a, :d)"
                ),
                {"id": cid, "t": NOW, "a": archived, "d": due},
            )
        for wid, cid in ((1, 1), (2, 1), (3, 2), (4, 3)):
            await conn.execute(
                text(
                    "INSERT INTO due_work (id, kind, key, chat_id, contact_id, due_at, status, "
                    "attempts, late, created_at) VALUES (:id, 'reminder', :k, 1, :c, :t, "
                    "'pending', 0, false, :t)"
                ),
                {"id": wid, "k": f"k{wid}", "c": cid, "t": NOW},
            )
    await upgrade(engine)
    async with engine.connect() as conn:
        rows = dict((await conn.execute(text("SELECT id, status FROM due_work"))).all())
    assert rows == {1: "cancelled", 2: "pending", 3: "cancelled", 4: "cancelled"}


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        admin_ids=frozenset({ADMIN_ID}),
        company_name="Acme Consulting",
    )


async def test_merging_two_cards_with_the_same_step_reminds_once(engine) -> None:
    """Found by the stateful test: two cards with the same step at the same time are merged; the
    dropped card's withdrawn reminder must not make the kept card's delivered one look undone."""
    factory = create_session_factory(engine)
    due = NOW + timedelta(hours=3)
    rules = followups.Rules()
    async with write_session(factory) as s:
        rep = User(tg_id=3003, first_name="Rita", role="rep", created_at=NOW, last_seen_at=NOW)
        s.add(rep)
        await s.flush()
        keep = await svc.create(s, owner=rep, data={"name": "Keep"}, now=NOW)
        drop = await svc.create(s, owner=rep, data={"name": "Drop"}, now=NOW)
        for c in (keep, drop):
            await followups.set_next_step(
                s, c, actor=rep, text="call back", due=due, reason=None, now=NOW, rules=rules
            )
        await followups.merge(s, keep, drop, actor=rep, now=NOW, rules=rules)
    async with write_session(factory) as s:  # the reminder goes out
        [row] = list(await s.scalars(select(DueWork).where(DueWork.status == "pending")))
        assert row.contact_id == keep.id and row.due_at == due
        row.status = "sent"
    async with write_session(factory) as s:  # a touch re-plans the card: nothing new
        keep = await s.get(Contact, keep.id)
        rep = await s.get(User, rep.id)
        await followups.log_touch(
            s, keep, author=rep, type_="call", direction="out", summary="", now=due, rules=rules
        )
    async with factory() as s:
        assert await followups.audit(s, now=due, rules=rules) == []
        pending = await s.scalar(
            select(func.count()).select_from(DueWork).where(DueWork.status == "pending")
        )
        assert pending == 0


@pytest.mark.parametrize(
    ("step", "kind"),
    [
        ("call back", "call"),
        ("Позвонить Анне", "call"),
        ("meet for coffee", "meeting"),
        ("встреча в офисе", "meeting"),
        ("send the proposal", "email"),
        ("отправить КП на почту", "email"),
        ("message her on Telegram", "message"),
        ("invite to the webinar", "webinar"),
        ("think it over", "other"),
        (None, "other"),
    ],
)
def test_done_guesses_the_kind_of_touch_from_the_step(step: str | None, kind: str) -> None:
    assert followups.touch_type_for(step) == kind


async def test_new_hours_move_the_alert_to_the_manager_too(engine) -> None:
    """Found by the stateful test: the manager's reply alert is counted in the rep's working
    hours, so it moves when the rep changes them (even once the rep's own alert went out)."""
    factory = create_session_factory(engine)
    rules = followups.Rules(inbound_reply_hours=2)
    async with write_session(factory) as s:
        team = Team(name="T", created_at=NOW)
        s.add(team)
        await s.flush()
        manager = User(
            tg_id=2002,
            first_name="Maria",
            role="manager",
            team_id=team.id,
            created_at=NOW,
            last_seen_at=NOW,
        )
        rep = User(
            tg_id=3003,
            first_name="Rita",
            role="rep",
            team_id=team.id,
            created_at=NOW,
            last_seen_at=NOW,
        )
        s.add_all([manager, rep])
        await s.flush()
        c = await svc.create(s, owner=rep, data={"name": "Hugo"}, now=NOW)
        await followups.log_touch(
            s, c, author=rep, type_="message", direction="in", summary="?", now=NOW, rules=rules
        )
    async with write_session(factory) as s:
        first = await s.scalar(select(DueWork).where(DueWork.kind == "inbound_rep"))
        assert first.due_at == NOW + timedelta(hours=2)
        first.status = "sent"  # Rita was told at 11:00
        rep = await s.get(User, rep.id)
        rep.work_hours = "12345 09:00-10:00"
        await followups.replan_owner(s, rep, now=NOW + timedelta(hours=2), rules=rules)
    async with factory() as s:
        second = await s.scalar(select(DueWork).where(DueWork.kind == "inbound_mgr"))
        assert second.due_at == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 4 working hours on
        assert await followups.audit(s, now=NOW + timedelta(hours=2), rules=rules) == []
