"""The manager's digest and /stats, through the emulator: on time, split by section, with a chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.emulator.client import buttons_of, plain
from services import contacts as svc
from storage.models import DueWork, User
from storage.repo import users as users_repo
from storage.uow import write_session
from tests.helpers import team_with_rep, token_of

LIMIT = 4096
TITLES = (
    "📞 Touches",
    "🆕 New contacts",
    "✅ Next steps",
    "🔴 Overdue now",
    "🔀 Stage moves and status changes",
    "🥶 Going cold",
    "🔎 Stale data",
    "📥 Inbound requests that missed the reply window",
    "⭐ NPS",
    "🚨 Open detractor cases",
    "🤝 Referrals received",
    "👥 By rep",
)


def sent(emu, start: int, chat_id: int, method: str = "sendMessage") -> list[dict]:
    """What the bot sent to ``chat_id`` since request number ``start``."""
    return [
        r.result
        for r in emu.requests[start:]
        if r.method == method and r.ok and r.params.get("chat_id") == chat_id
    ]


def digests(messages: list[dict]) -> list[dict]:
    return [msg for msg in messages if "Digest" in (msg.get("text") or "")]


async def set_timezone(tg, tg_id: int, tz: str) -> None:
    async with write_session(tg.app.session_factory) as s:
        user = await s.scalar(select(User).where(User.tg_id == tg_id))
        user.timezone = tz


async def add_and_log(rep, name: str, kind: str = "call") -> None:
    await rep.send(f"/add {name}")
    await rep.click("Open card")
    await rep.click("Log touch")
    await rep.click(kind)
    await rep.click("outbound")
    await rep.send("talked")
    await rep.click("No next step")
    await rep.click("other")
    await rep.send("later")


async def test_digest_comes_at_nine_local_on_working_days_only(tg, emu, clock) -> None:
    admin, manager, rep = await team_with_rep(tg)
    await set_timezone(tg, manager.id, "Europe/Moscow")  # UTC+3: 09:00 local is 06:00 UTC
    await add_and_log(rep, "Anna Smirnova, Acme")
    await tg.app.clockwork.tick()  # Monday 09:00 UTC, 12:00 in Moscow: the next one is Tuesday's
    start = len(emu.requests)
    clock.set(datetime(2026, 11, 24, 5, 59, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert digests(sent(emu, start, manager.id)) == []
    clock.set(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))  # Tuesday 09:00 in Moscow
    await tg.app.clockwork.tick()
    await tg.app.clockwork.tick()
    messages = sent(emu, start, manager.id)
    assert len(digests(messages)) == 1  # once
    text = "\n".join(plain(msg["text"]) for msg in messages)
    for title in TITLES:
        assert title in text
    assert "team Maria" in text
    assert "📞 Touches: 1" in text and "call 1" in text
    assert "🆕 New contacts: 1" in text
    assert "Rita: touches 1, new 1" in text
    assert sent(emu, start, manager.id, "sendPhoto") == []  # charts are for Mondays
    assert sent(emu, start, rep.id) == []  # reps get no digest
    # the admin gets one too, across all teams (UTC: at 09:00 UTC)
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    admin_text = "\n".join(plain(msg["text"]) for msg in sent(emu, start, admin.id))
    assert "all teams" in admin_text and "👥 By team" in admin_text
    # Saturday: nothing; Monday 09:00 local: the digest with the chart as a photo
    start = len(emu.requests)
    clock.set(datetime(2026, 11, 28, 6, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert sent(emu, start, manager.id) == []
    clock.set(datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    await tg.app.clockwork.tick()
    assert len(digests(sent(emu, start, manager.id))) == 1
    [photo] = sent(emu, start, manager.id, "sendPhoto")
    assert "NPS by week" in photo["caption"]
    assert emu.files[photo["photo"][0]["file_id"]][1].startswith(b"\x89PNG")
    # "since the last digest": Tuesday's; the touch on Monday is not in it any more
    monday = "\n".join(plain(m["text"]) for m in sent(emu, start, manager.id))
    assert "📞 Touches: 0" in monday and "Since Tue, 24 Nov 2026, 09:00" in monday


async def test_digest_on_demand_and_a_section_button(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # a Tuesday: no chart
    await rep.send("/add Boris Petrov, Beta")
    await rep.click("Open card")
    await rep.click("Next step")
    await rep.send("call back")
    await rep.send("today 12:00")
    await rep.click("Confirm")
    clock.set(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    reply = await manager.send("/digest")
    assert "📰 Digest" in reply.text and "🔴 Overdue now: 1" in reply.text
    assert "Boris Petrov, Beta — due Tue, 24 Nov 2026, 12:00 (Rita)" in reply.text
    assert reply.photos == []
    assert "🔴 Overdue" in reply.buttons
    listing = await manager.click("🔴 Overdue")
    assert "Boris Petrov, Beta" in listing.text and "call back" in listing.text
    listing = await manager.click("🆕 New", reply.last)
    assert "Boris Petrov, Beta — no source" in listing.text
    picker = await manager.click("👥 One rep's stats", reply.last)
    assert "Whose metrics?" in picker.text and "Rita" in picker.buttons


async def test_reps_cannot_use_digest_or_stats_or_its_buttons(tg, emu) -> None:
    admin, manager, rep = await team_with_rep(tg)
    reply = await rep.send("/digest")
    assert "not available to you" in reply.text
    reply = await rep.send("/stats 30d")
    assert "not available to you" in reply.text
    reply = await manager.send("/digest")
    data = next(b["callback_data"] for m in reply.messages for b in buttons_of(m))
    # another lead's button (forged into the admin's chat): refused
    tapped = await admin.tap_data(data, admin.last)
    assert "not available" in tapped.text and tapped.answer["show_alert"]
    tapped = await rep.tap_data(data, rep.last)
    assert tapped.messages == []


async def test_a_long_digest_is_split_by_section(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    async with write_session(tg.app.session_factory) as s:
        owner = await users_repo.get_by_tg_id(s, rep.id)
        now = clock.now()
        introducer = await svc.create(s, owner=owner, data={"name": "I" * 250}, now=now)
        for i in range(8):
            c = await svc.create(
                s,
                owner=owner,
                data={"name": f"Overdue {i} " + "o" * 240, "company": "<Big> & " + "c" * 240},
                now=now - timedelta(days=3),
            )
            c.next_step_due = now - timedelta(days=2, hours=i)
            await svc.create(
                s,
                owner=owner,
                data={
                    "name": f"Referred {i} " + "r" * 240,
                    "source": "referral",
                    "introduced_by_id": introducer.id,
                },
                now=now - timedelta(hours=1),
            )
    reply = await manager.send("/digest")
    texts = [m["text"] for m in reply.messages if "text" in m]
    assert len(texts) >= 2
    assert all(len(t) <= LIMIT for t in texts)
    for title in TITLES:  # every section whole, in exactly one message
        assert sum(title in plain(t) for t in texts) == 1
    overdue = next(t for t in texts if "🔴 Overdue now" in plain(t))
    assert plain(overdue).count("Overdue ") == 5 + 1  # the five oldest, all in one message
    assert "&lt;Big&gt; &amp; ccc" in overdue  # user text escaped
    for message in (m for m in reply.messages if "text" in m):  # each with its own buttons
        shown = [b["text"].split()[0] for b in buttons_of(message)]
        starts = [title.split()[0] for title in TITLES if title in plain(message["text"])]
        assert shown == starts
    referrals = next(t for t in texts if "🤝 Referrals received: 8" in plain(t))
    assert plain(referrals).count("introduced by IIII") == 5


async def test_stats_figures_chart_and_usage(tg, emu, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    reply = await manager.send("/invite")
    vera = tg.user(3005, "Vera", username="vera_k")
    await vera.send(f"/start {token_of(reply.text)}")
    await add_and_log(rep, "Anna, Acme", "meeting")
    await rep.send("/add Boris, Beta")
    await add_and_log(vera, "Clara, Gamma")
    clock.advance(timedelta(hours=1))
    reply = await manager.send("/stats 30d")
    text = reply.text
    assert "📊 Metrics — team Maria, the last 30 days" in text
    assert "Reach: 2 (distinct contacts touched)" in text
    assert "identification: 1.0 per contact, 2 reached, expected —" in text
    assert "connection: — per contact, 0 reached, expected 4.3" in text
    assert "retention & referral: — per contact, 0 reached, expected 1.0" in text
    assert "Conversion of 3 new contacts: to lead 0%, to client 0%, to a meeting 33%" in text
    assert "Referral share: 0% of new contacts (0/3), — of new clients (0/0)" in text
    assert "Retention: — of clients touched (0/0)" in text
    assert "NPS: — (0 answers; response rate —)" in text
    assert "Reply to inbound: within 2 h: — (0/0)\n" in text
    assert "Fresh data: 100% of active cards verified in time (3/3)" in text
    reply = await manager.send("/stats 7d @vera_k")
    assert (
        "Vera, the last 7 days" in reply.text
        and "Reach: 1 (distinct contacts touched)" in reply.text
    )
    reply = await manager.send("/stats rep")
    reply = await manager.click("Rita")
    assert "Rita, the last 30 days" in reply.text and "to a meeting 50%" in reply.text
    reply = await manager.send("/stats 15d")  # any number of days, its plural form right
    assert "team Maria, the last 15 days" in reply.text, reply.text
    reply = await manager.click("One rep")  # the period goes with the buttons
    reply = await manager.click("Rita")
    assert "Rita, the last 15 days" in reply.text
    reply = await manager.send("/stats 1d")
    assert "team Maria, the last 1 day" in reply.text
    reply = await manager.send("/stats 400d")  # said as such, not the whole usage again
    assert reply.text == "/stats covers 1 to 365 days: “400d” is outside that. E.g. /stats 90d."
    reply = await manager.send("/stats 0д @nobody_here")
    assert reply.text.startswith("/stats covers 1 to 365 days: “0д”")
    reply = await manager.send("/stats lately")
    assert "Usage: /stats [7d|30d|90d|month] [@username]" in reply.text
    assert "/stats 14d — any period up to a year: /stats 2 weeks, /stats 3 months" in reply.text
    reply = await manager.send("/stats 2 weeks")  # a period as people write it
    assert "team Maria, the last 14 days" in reply.text
    reply = await manager.send("/stats 13 months")
    assert reply.text.startswith("/stats covers 1 to 365 days: “13 months”")
    reply = await manager.send("/stats @nobody_here")
    assert "not a rep in your team" in reply.text
    reply = await manager.send("/stats chart")
    [photo] = reply.photos
    assert "NPS by week and the funnel by stage — team Maria" in photo["caption"]
    assert emu.files[photo["photo"][-1]["file_id"]][1].startswith(b"\x89PNG")


async def test_digest_scheduling_is_idempotent_and_skips_unreachable(tg, emu, clock) -> None:
    _admin, manager, _rep = await team_with_rep(tg)  # Monday 09:00 UTC: the digest time
    start = len(emu.requests)
    for _ in range(3):
        await tg.app.clockwork.tick()
        clock.advance(timedelta(seconds=30))
    assert len(digests(sent(emu, start, manager.id))) == 1  # Monday's, once
    async with write_session(tg.app.session_factory) as s:
        user = await users_repo.get_by_tg_id(s, manager.id)
        keys = sorted(
            await s.scalars(
                select(DueWork.key).where(DueWork.kind == "digest", DueWork.user_id == user.id)
            )
        )
        assert keys == [f"digest:{user.id}:2026-11-23", f"digest:{user.id}:2026-11-24"]
        user.reachable = False
    clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    await tg.app.clockwork.tick()
    async with tg.app.session_factory() as s:
        planned = await s.scalar(
            select(func.count()).where(DueWork.kind == "digest", DueWork.user_id == user.id)
        )
    assert planned == 2  # no Wednesday digest planned for a manager who blocked the bot


async def test_chart_labels_follow_the_managers_language(tg, emu, monkeypatch) -> None:
    import views.charts as view

    drawn: list[dict] = []
    real = view.chart_png

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        drawn.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(view, "chart_png", spy)
    _admin, manager, _rep = await team_with_rep(tg)
    await manager.send("/stats chart")
    async with write_session(tg.app.session_factory) as s:
        user = await s.scalar(select(User).where(User.tg_id == manager.id))
        user.language = "ru"
    reply = await manager.send("/stats chart")
    english, russian = drawn
    assert (
        english["nps_title"] == "NPS by week" and "retention & referral" in english["stage_labels"]
    )
    assert russian["nps_title"] != english["nps_title"]
    assert all(any("а" <= ch <= "я" for ch in label) for label in russian["stage_labels"])
    assert reply.photos


def test_pack_keeps_sections_whole_and_cuts_only_one_too_long_for_a_message() -> None:
    from views.digest import pack

    sections = [("a", "A" * 3000), ("b", "B" * 900), ("c", "C" * 9000), ("d", "D" * 10)]
    parts = pack("Head", sections, lambda key: (key.upper(), f"dg:{key}:1:0"), limit=4096)
    texts = [text for text, _markup in parts]
    keys = [[b.text for row in m.inline_keyboard for b in row] if m else [] for _t, m in parts]
    assert all(len(t) <= 4096 for t in texts)
    assert texts[0] == "Head\n\n" + "A" * 3000 + "\n\n" + "B" * 900 and keys[0] == ["A", "B"]
    # C alone is longer than a message: cut; its button rides on its last piece, which D joins
    assert len(texts) == 4 and keys[1:] == [[], [], ["C", "D"]]
    assert "".join(texts[1:]).count("C") == 9000
    assert texts[3].endswith("C\n\n" + "D" * 10)
