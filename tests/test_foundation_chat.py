"""The foundation, played as a chat through the emulator."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import ADMIN_ID


async def test_stranger_start_explains_and_grants_nothing(tg) -> None:
    stranger = tg.user(5005, "Stan")
    reply = await stranger.send("/start")
    assert "invitation" in reply.text
    reply = await stranger.send("/add Anna")
    assert "not available" in reply.text
    reply = await stranger.send("/help")
    assert "invitation" in reply.text


async def test_admin_invites_manager_who_invites_rep(tg, emu, clock) -> None:
    admin = tg.user(ADMIN_ID, "Ada")
    reply = await admin.send("/start")
    assert "admin" in reply.text
    reply = await admin.send("/invite")
    assert reply.buttons == ["Manager (new team)", "Manager of a team", "Sales rep"]
    reply = await admin.click("Manager (new team)")
    link = reply.text.split()[-1]
    assert link.startswith(f"https://t.me/{emu.bot_user['username']}?start=")
    token = link.split("start=")[1]
    assert 1 <= len(token) <= 64

    manager = tg.user(2002, "Maria", language_code="ru")
    reply = await manager.send(f"/start {token}")
    assert "Maria" in reply.text
    # the inviter is told
    assert "Maria" in (admin.last or {}).get("text", "")

    # the same link works only once
    other = tg.user(2003, "Oleg")
    reply = await other.send(f"/start {token}")
    assert "already been used" in reply.text

    reply = await manager.send("/invite")
    rep_link = reply.text.split()[-1]
    rep = tg.user(3003, "Rita")
    reply = await rep.send(f"/start {rep_link.split('start=')[1]}")
    assert "Rita" in reply.text
    reply = await rep.send("/invite")
    assert "not available" in reply.text


async def test_expired_and_forged_invites(tg, clock) -> None:
    admin = tg.user(ADMIN_ID, "Ada")
    await admin.send("/start")
    reply = await admin.send("/invite manager")
    token = reply.text.split("start=")[1].split()[0]
    clock.advance(timedelta(days=8))
    late = tg.user(4004, "Lena")
    assert "expired" in (await late.send(f"/start {token}")).text
    assert "not valid" in (await late.send("/start forged_token_123")).text
    assert "not valid" in (await late.send("/start bad$token")).text


async def test_a_team_whose_manager_left_gets_a_new_one_by_invite(tg, emu, clock) -> None:
    """A manager's invite always made a new team: a team that lost its manager could never get
    another, and its alerts went to the administrators for good."""
    from sqlalchemy import select

    from storage.models import User
    from tests.helpers import team_with_rep, token_of

    admin, manager, rep = await team_with_rep(tg)
    await admin.send("/team")
    await admin.click("Maria")
    await admin.click("🚪")
    await admin.click("Maria")
    await admin.click("Rita")
    await admin.click("Deactivate")
    reply = await admin.send("/invite")
    reply = await admin.click("Manager of a team")
    assert reply.text == "Which team will they manage?" and reply.buttons == ["Maria (1)"]
    reply = await admin.click("Maria (1)")
    assert "Invite for a manager" in reply.text
    nina = tg.user(2005, "Nina", language_code="ru")
    reply = await nina.send(f"/start {token_of(reply.text)}")
    assert "Вы в команде Maria как руководитель" in reply.text
    async with tg.app.session_factory() as s:
        rita = await s.scalar(select(User).where(User.tg_id == rep.id))
        new = await s.scalar(select(User).where(User.tg_id == nina.id))
        assert (new.role, new.team_id) == ("manager", rita.team_id)
    reply = await nina.send("/team")
    assert "Rita" in reply.text
    # a manager cannot forge the administrator's button
    reply = await nina.tap_data(f"inv:manager:{rita.team_id}")
    assert reply.text == "Вы не можете пригласить в роли «руководитель»."
