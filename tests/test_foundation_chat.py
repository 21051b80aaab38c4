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
    assert reply.buttons == ["Manager (new team)", "Sales rep"]
    reply = await admin.click("Manager")
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
