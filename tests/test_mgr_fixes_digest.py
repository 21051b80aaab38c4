"""QA's manager defects in the digest and /stats, through the emulator:

- a request still unanswered is listed (with how long it has waited) until it is answered, beside
  the period's count of missed reply windows (which stays the period's measure);
- a reply alert sent while the last digest was being written and sent is in the next digest's
  count (it fell between the two periods);
- the lists of states now (overdue, going cold…) carry no "since <period start>";
- /stats takes a rep's name (any case or script, a typo) and asks which one when several match.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.emulator.client import buttons_of, plain
from storage.models import DueWork, User
from storage.uow import write_session
from tests.helpers import another_rep, team_with_rep


def digest_text(reply) -> str:  # noqa: ANN001
    return "\n".join(plain(msg["text"]) for msg in reply.messages if "text" in msg)


async def open_list(manager, digest, button: str):  # noqa: ANN001, ANN201
    """Tap a section's button under the digest's message that carries it."""
    [message] = [m for m in digest.messages if any(b["text"] == button for b in buttons_of(m))]
    return await manager.click(button, message)


async def a_client_writes(tg, rep):  # noqa: ANN001, ANN201
    """Ivan (a card of the rep's, with his Telegram) writes in on Monday 23 Nov, 09:00 UTC."""
    client = tg.user(5005, "Ivan")
    await client.send("/start")
    await rep.share_contact("+79161112233", "Ivan", "Klientov", user_id=client.id)
    await client.send("Hello, I need a quote")
    await tg.app.clockwork.tick()
    return rep.last_with_buttons()  # the rep's notice, with ↩️ Reply


# ------------------------------------------------------------------------ waiting requests
async def test_a_request_still_waiting_is_listed_until_it_is_answered(tg, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    notice = await a_client_writes(tg, rep)
    clock.advance(timedelta(days=1))  # Tue 09:00: the reply alerts and Tuesday's digest
    await tg.app.clockwork.tick()
    clock.advance(timedelta(minutes=1))
    await tg.app.clockwork.tick()  # Wednesday's digest is planned
    clock.advance(timedelta(days=1, minutes=-1))  # Wed 09:00: Wednesday's digest went out too
    await tg.app.clockwork.tick()
    clock.advance(timedelta(hours=1))

    digest = await manager.send("/digest")
    text = digest_text(digest)
    # the period's measure stays as it was: no window was missed since Wednesday's digest
    assert "📥 Inbound requests that missed the reply window: 0\n" in text, text
    assert (
        "⏳ Waiting for a reply now: 1\n"
        "• Ivan Klientov — waiting 2 d 1 h, since Mon, 23 Nov 2026, 09:00 (Rita)"
    ) in text, text
    listing = await open_list(manager, digest, "📥 Missed replies")
    assert listing.text.startswith(
        "⏳ Waiting for a reply now\n"
        "• Ivan Klientov — waiting 2 d 1 h, since Mon, 23 Nov 2026, 09:00 (Rita)\n"
        "  “Hello, I need a quote”\n\n"
        "📥 Inbound requests that missed the reply window — since Wed, 25 Nov 2026, 09:00\n"
        "Nothing here."
    ), listing.text
    assert listing.buttons == ["Ivan Klientov"]

    # answered: no longer waiting, anywhere
    await rep.click("↩️", notice)
    await rep.send("Sure, the quote comes today")
    digest = await manager.send("/digest")
    assert "Waiting for a reply now" not in digest_text(digest)
    listing = await open_list(manager, digest, "📥 Missed replies")
    assert "Waiting" not in listing.text and "Ivan" not in listing.text


async def test_an_archived_card_and_the_admins_view(tg, clock) -> None:
    """Everyone's digest (an admin's) lists the waiting request too; an archived card's is no
    longer waiting for anyone."""
    admin, manager, rep = await team_with_rep(tg)
    await a_client_writes(tg, rep)
    clock.advance(timedelta(hours=5))
    await tg.app.clockwork.tick()
    text = digest_text(await admin.send("/digest"))
    assert "⏳ Waiting for a reply now: 1\n• Ivan Klientov — waiting 5 h 0 min" in text, text
    await rep.send("/find Ivan")
    await rep.click("Archive")
    assert "Waiting for a reply now" not in digest_text(await manager.send("/digest"))


async def test_an_alert_sent_while_the_last_digest_went_out_counts_in_the_next(tg, clock) -> None:
    """The last digest was taken to be written at 11:00:00 and its send ended at 11:00:05; the
    rep's alert went out at 11:00:02, after the digest was written: the next digest counts it
    (its period began where the last one's ended, not when the send ended)."""
    _admin, manager, rep = await team_with_rep(tg)
    await a_client_writes(tg, rep)  # Monday 09:00: the rep's alert is due at 11:00
    eleven = clock.now() + timedelta(hours=2)
    async with write_session(tg.app.session_factory) as s:
        lead = await s.scalar(select(User).where(User.tg_id == manager.id))
        s.add(
            DueWork(
                kind="digest",
                key="digest:test:earlier",
                chat_id=manager.id,
                user_id=lead.id,
                due_at=eleven,
                status="sent",
                attempts=1,
                claimed_at=eleven,
                sent_at=eleven + timedelta(seconds=5),
                created_at=eleven,
            )
        )
    clock.set(eleven + timedelta(seconds=2))
    await tg.app.clockwork.tick()  # the rep's alert
    clock.advance(timedelta(hours=1))
    text = digest_text(await manager.send("/digest"))
    assert "Since Mon, 23 Nov 2026, 11:00" in text
    assert "📥 Inbound requests that missed the reply window: 1\n" in text, text


# ------------------------------------------------------------------ lists of states now
async def test_lists_of_states_now_carry_no_period(tg, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    await rep.click("Open card")
    await rep.click("Next step")
    await rep.send("call back tomorrow 10:00")
    await rep.click("Confirm")
    clock.advance(timedelta(days=3))  # Thursday: the step of Tuesday is overdue
    digest = await manager.send("/digest")
    listing = await open_list(manager, digest, "🔴 Overdue")
    assert listing.text.startswith("🔴 Overdue now\n• Anna Smirnova, Acme — due Tue"), listing.text
    assert "since" not in listing.text
    for button, title in (("🥶 Cold", "🥶 Going cold"), ("🔎 Stale", "🔎 Stale data")):
        listing = await open_list(manager, digest, button)
        assert listing.text == f"{title}\nNothing here.", listing.text
    listing = await open_list(manager, digest, "🚨 Cases")
    assert listing.text == "🚨 Open detractor cases\nNothing here."
    # the period's lists keep their start
    listing = await open_list(manager, digest, "📞 Touches")
    assert listing.text.startswith("📞 Touches — since Wed, 25 Nov 2026, 09:00"), listing.text


# ---------------------------------------------------------------------- /stats by name
async def test_stats_picks_a_rep_by_name(tg) -> None:
    _admin, manager, _rep = await team_with_rep(tg)
    for args in ("Rita", "rita", "Рита", "Ritta", "month Rita", "Rita 7d"):
        reply = await manager.send(f"/stats {args}")
        assert "📊 Metrics — Rita, " in reply.text, (args, reply.text)
    assert "Rita, the last 7 days" in (await manager.send("/stats Rita 7d")).text
    assert "Rita, this month" in (await manager.send("/stats month Rita")).text
    assert "Maria, the last 30 days" in (await manager.send("/stats maria")).text

    reply = await manager.send("/stats lately")
    assert reply.text.startswith("Nobody in your team is called “lately”.\n\nUsage: /stats")
    assert "• /stats Anna — one rep by name (first or last)" in reply.text

    await another_rep(tg, manager, 4004, "Rita")  # two Ritas: which one
    reply = await manager.send("/stats rita 7d")
    assert reply.text == "Several people in your team are called “rita”. Whose metrics?"
    assert reply.buttons == ["Rita", "Rita"]
    reply = await manager.click(2)
    assert "📊 Metrics — Rita, the last 7 days" in reply.text


async def test_stats_by_name_stays_in_the_leads_reach(tg) -> None:
    admin, manager, _rep = await team_with_rep(tg)
    reply = await admin.send("/invite manager")  # another team, with its own Vera
    other = tg.user(6006, "Oleg")
    await other.send(f"/start {reply.text.split('start=')[1].split()[0]}")
    await another_rep(tg, other, 7007, "Vera")
    reply = await manager.send("/stats Vera")
    assert reply.text.startswith("Nobody in your team is called “Vera”."), reply.text
    assert "📊 Metrics — Vera" in (await admin.send("/stats Vera")).text
