"""/network, /intro, the picture and the Monday digest's Network section, through the chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.emulator.client import plain
from scheduler.network import network_weekly
from services import contacts as svc
from storage.models import JobRun, NetworkRun, Touch, User
from storage.uow import write_session
from tests.helpers import team_with_rep
from tests.test_digest_chat import digests, sent


async def seed_network(tg, rep_tg_id: int, now: datetime) -> dict[str, int]:
    """Two groups (Alpha people in fintech, Beta people in retail) joined only through Boris,
    who introduced three people on each side; Anna at Alpha is a strong tie; Delta Corp is in
    the commercial stage with no decision maker."""
    ids: dict[str, int] = {}
    async with write_session(tg.app.session_factory) as s:
        rep = await s.scalar(select(User).where(User.tg_id == rep_tg_id))
        broker = await svc.create(
            s, owner=rep, data={"name": "Boris Broker", "segment": "Consulting"}, now=now
        )
        ids["broker"] = broker.id
        for side, segment, event in (("Alpha", "Fintech", "FinConf"), ("Beta", "Retail", "RetEx")):
            for i in range(8):
                name = "Anna Alpha" if (side, i) == ("Alpha", 5) else f"{side} Person {i}"
                c = await svc.create(
                    s,
                    owner=rep,
                    data={
                        "name": name,
                        "company": side,
                        "segment": segment,
                        "source": "event",
                        "source_detail": event,
                        "introduced_by_id": broker.id if i < 3 else None,
                    },
                    now=now,
                )
                ids[name] = c.id
        for role in ("initiator", "user"):
            await svc.create(
                s,
                owner=rep,
                data={
                    "name": f"Delta {role}",
                    "company": "Delta Corp",
                    "kind": "b2b",
                    "influence": role,
                    "stage": "commercial",
                },
                now=now,
            )
        for days in (1, 5, 9):
            s.add(
                Touch(
                    contact_id=ids["Anna Alpha"],
                    author_id=rep.id,
                    type="call",
                    direction="out",
                    summary="",
                    occurred_at=now - timedelta(days=days),
                )
            )
    return ids


async def test_network_for_the_manager_with_a_broker_an_account_and_a_picture(
    tg, emu, clock
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await seed_network(tg, rep.id, clock.now())
    start = len(emu.requests)
    reply = await manager.send("/network")
    texts = [plain(m["text"]) for m in sent(emu, start, manager.id)]
    assert texts[0].startswith("⏳ Analysing the network")
    text = plain(reply.text)
    assert "🕸 Network — team Maria" in text
    assert "🌉 Brokers" in text and "Boris Broker — bridges" in text
    assert "segment “Fintech”" in text and "segment “Retail”" in text
    assert "Delta Corp — missing: decision maker, procurement" in text
    assert "💪 Strong ties" in text and "Anna Alpha, Alpha" in text
    # one tap: ask the broker for an introduction — the next-step dialogue
    reply = await manager.click("Ask Boris Broker for an intro")
    assert "What is the next step with Boris Broker" in plain(reply.text)
    # the picture: a PNG photo
    await manager.send("/cancel")
    await manager.send("/network")  # stored now: no progress message this time
    start = len(emu.requests)
    await manager.click("Picture of the network")
    [photo] = sent(emu, start, manager.id, "sendPhoto")
    assert "brokers as stars" in photo["caption"]
    assert emu.files[photo["photo"][0]["file_id"]][1].startswith(b"\x89PNG")
    assert not [m for m in sent(emu, start, manager.id) if "Analysing" in (m.get("text") or "")]


async def test_intro_finds_the_warm_path_through_the_broker(tg, emu, clock) -> None:
    _admin, _manager, rep = await team_with_rep(tg)
    await seed_network(tg, rep.id, clock.now())
    await rep.send("/network")
    reply = await rep.send("/intro Beta")
    text = plain(reply.text)
    assert "🔗 Warm paths to “Beta”" in text
    # from Anna (the strong tie) through a colleague at Alpha and Boris to Beta people
    assert text.splitlines()[1].startswith("1. Anna Alpha, Alpha")
    assert "Boris Broker" in text and "Beta Person" in text
    assert "ask Anna Alpha (Rita's strong tie) for an introduction" in text
    reply = await rep.click("Plan a touch: Anna Alpha")
    assert "What is the next step with Anna Alpha" in plain(reply.text)
    reply = await rep.send("/cancel")
    reply = await rep.send("/intro Nobody Such")
    assert "Nobody matching “Nobody Such”" in plain(reply.text)
    reply = await rep.send("/intro")
    assert "Whom do you want to reach?" in plain(reply.text)


async def test_a_rep_sees_only_their_own_contacts(tg, emu, clock) -> None:
    from tests.helpers import another_rep

    _admin, manager, rep = await team_with_rep(tg)
    await seed_network(tg, rep.id, clock.now())
    other = await another_rep(tg, manager, 4004, "Oleg")
    reply = await other.send("/network")
    text = plain(reply.text)
    assert "your contacts" in text and "Boris" not in text and "Delta" not in text
    # the team's size is not Oleg's to see: it said "Analysed …: 20 contacts, 30 links."
    assert ": 0 contacts." in text and "link" not in text
    reply = await other.send("/intro Beta")
    assert "Nobody matching “Beta”" in plain(reply.text)
    reply = await rep.send("/network")
    assert "Boris Broker" in plain(reply.text)


async def test_the_monday_digest_has_a_network_section(tg, emu, clock) -> None:
    admin, manager, rep = await team_with_rep(tg)
    await seed_network(tg, rep.id, clock.now())
    # the hourly look finds the team — and everyone's network, the administrators' — never
    # analysed: both run (Monday 23 Nov, ISO week 48)
    assert await network_weekly(tg.app.clockwork) == 2
    async with tg.app.session_factory() as s:
        runs = (await s.execute(select(JobRun.job, JobRun.period, JobRun.status))).all()
    assert runs == [("network_weekly", "2026-W48", "done")]
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # a Tuesday: no Network section
    reply = await manager.send("/digest")
    assert "Network (weekly)" not in plain(reply.text)
    clock.set(datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    assert await network_weekly(tg.app.clockwork) == 0  # not a week old yet
    clock.set(datetime(2026, 11, 30, 6, 30, tzinfo=UTC))
    assert await network_weekly(tg.app.clockwork) == 0  # looked half an hour ago
    start = len(emu.requests)
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # a week on: renewed, then the digest
    assert await network_weekly(tg.app.clockwork) == 2
    await tg.app.clockwork.tick()
    # the administrator's digest, over all teams, has it too (it said "not analysed yet")
    to_admin = "\n".join(plain(m["text"]) for m in sent(emu, start, admin.id))
    assert "🕸 Network (weekly)" in to_admin and "not been analysed" not in to_admin
    assert "🌉 Broker: Boris Broker — bridges" in to_admin
    messages = sent(emu, start, manager.id)
    assert len(digests(messages)) == 1
    text = "\n".join(plain(m["text"]) for m in messages)
    assert "🕸 Network (weekly)" in text
    assert "🌉 Broker: Boris Broker — bridges" in text
    assert "🧩 Delta Corp: missing decision maker, procurement" in text
    assert all(len(m["text"]) <= 4096 for m in messages)


async def test_everyones_network_is_left_to_the_teams_past_its_size_limit(
    tg, clock, monkeypatch
) -> None:
    """The whole network is analysed weekly only up to EVERYONE_MAX live cards (the benched
    size); past it, the teams' own analyses run and the whole one waits for /network."""
    import services.network_compute as compute

    _admin, _manager, rep = await team_with_rep(tg)
    await seed_network(tg, rep.id, clock.now())
    monkeypatch.setattr(compute, "EVERYONE_MAX", 3)
    assert await network_weekly(tg.app.clockwork) == 1  # the team only
    async with tg.app.session_factory() as s:
        scopes = set(await s.scalars(select(NetworkRun.scope)))
    assert "all" not in scopes and len(scopes) == 1


async def test_a_champion_who_answered_no_to_the_data_check_is_flagged(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    async with write_session(tg.app.session_factory) as s:
        owner = await s.scalar(select(User).where(User.tg_id == rep.id))
        for name, role in (("Gina", "decision_maker"), ("Hal", "initiator")):
            await svc.create(
                s,
                owner=owner,
                data={"name": name, "company": "Omega", "kind": "b2b", "influence": role,
                      "position": "CTO", "stage": "commercial"},
                now=clock.now(),
            )  # fmt: skip
    clock.advance(timedelta(days=182))
    await tg.app.clockwork.run_daily()
    await tg.app.clockwork.tick()
    checks = [
        m for m in sent(emu, 0, rep.id) if "Is Gina still CTO at Omega" in plain(m.get("text", ""))
    ]
    assert len(checks) == 1
    await rep.click("No, edit", checks[0])
    # a week later, the answer is in the analysis (computed on demand: none is fresh)
    clock.advance(timedelta(days=8))
    reply = await manager.send("/network")
    text = plain(reply.text)
    # Hal was not verified again (stale), Gina may have left: no fresh role at Omega
    assert "Omega — missing: initiator, decision maker, procurement, user" in text
    assert "a champion may have changed jobs" in text


async def test_network_is_analysed_again_once_the_teams_cards_change(tg, emu, clock) -> None:
    """Who introduced whom recorded after an analysis showed no effect for a week (the run was
    "fresh" for 8 days): an hour on, a change in the team's cards renews it at the next ask."""
    _admin, manager, rep = await team_with_rep(tg)
    reply = await manager.send("/network")  # an empty team: nothing stands out
    assert "Boris Broker" not in plain(reply.text)
    clock.advance(timedelta(minutes=5))
    await seed_network(tg, rep.id, clock.now())  # the cards and introductions, recorded since
    start = len(emu.requests)
    reply = await manager.send("/network")  # minutes later: the stored run, as before
    assert "Boris Broker" not in plain(reply.text)
    assert not [m for m in sent(emu, start, manager.id) if "Analysing" in (m.get("text") or "")]
    clock.advance(timedelta(hours=1, minutes=1))
    reply = await manager.send("/network")
    assert "Boris Broker — bridges" in plain(reply.text)
    clock.advance(timedelta(hours=2))  # nothing changed since: the run stands
    start = len(emu.requests)
    await manager.send("/network")
    assert not [m for m in sent(emu, start, manager.id) if "Analysing" in (m.get("text") or "")]
