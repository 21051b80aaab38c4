"""Buttons that create something do it once: twenty taps of "Service delivered" or "Archive"
at once (each update in its own task, as in production) leave one touch, one event."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.emulator.client import buttons_of
from storage.models import ContactEvent, Touch
from tests.helpers import team_with_rep
from tests.test_followups_idempotent import fsm_settings, started, tap_at_once  # noqa: F401


def data_of(message: dict, text: str) -> str:
    return next(b["callback_data"] for b in buttons_of(message) if text in b["text"])


@pytest.fixture(params=["sqlite", "postgresql"])
def db_settings(request: pytest.FixtureRequest, fsm_settings: Settings) -> Settings:  # noqa: F811
    if request.param == "sqlite":
        return fsm_settings
    return fsm_settings.model_copy(update={"database_url": request.getfixturevalue("pg_url")})


async def a_card_then_concurrent_bot(settings, emu, clock):  # noqa: ANN001, ANN201
    setup = await started(settings, emu, clock, tasks=False)
    try:
        *_, rep = await team_with_rep(setup)
        await rep.send("/add Tess Twenty, Acme")
        reply = await rep.click("Open card")
        card = reply.messages[-1]
    finally:
        await setup.stop()
    return rep, card, await started(settings, emu, clock, tasks=True)


async def test_twenty_taps_on_service_delivered_log_one_service(db_settings, emu, clock) -> None:
    rep, card, tg = await a_card_then_concurrent_bot(db_settings, emu, clock)
    try:
        await tap_at_once(tg, rep, card, data_of(card, "Service delivered"))
        async with tg.app.session_factory() as s:
            assert await s.scalar(select(func.count(Touch.id)).where(Touch.type == "service")) == 1
        logged = [m for m in rep.bot_messages if "Service delivered to" in (m.get("text") or "")]
        assert len(logged) == 1
    finally:
        await tg.stop()


async def test_twenty_taps_on_archive_archive_once(db_settings, emu, clock) -> None:
    rep, card, tg = await a_card_then_concurrent_bot(db_settings, emu, clock)
    try:
        await tap_at_once(tg, rep, card, data_of(card, "Archive"))
        async with tg.app.session_factory() as s:
            events = await s.scalar(
                select(func.count(ContactEvent.id)).where(ContactEvent.field == "archived")
            )
        assert events == 1
    finally:
        await tg.stop()


async def test_the_same_button_on_a_new_card_message_works_again(tg) -> None:
    """Once per message, not once ever: a service delivered again next week is logged again."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Otto Again, Acme")
    await rep.click("Open card")
    await rep.click("Service delivered")
    reply = await rep.click("Service delivered", rep.last_with_buttons())
    assert "logged already" in reply.text or "Service delivered" not in reply.text
    reply = await rep.send("/find Otto Again")
    reply = await rep.click("Service delivered")
    assert "Service delivered to Otto Again is logged" in reply.text
    async with tg.app.session_factory() as s:
        assert await s.scalar(select(func.count(Touch.id)).where(Touch.type == "service")) == 2


async def test_the_daily_scan_forgets_taps_older_than_two_days(tg, clock) -> None:
    from datetime import timedelta

    from scheduler.followup_jobs import daily_scan
    from services import taps
    from storage.models import ButtonTap
    from storage.uow import write_session

    now = clock.now()
    async with write_session(tg.app.session_factory) as s:
        for message_id, age in ((1, timedelta(days=3)), (2, timedelta(hours=47))):
            await taps.first(s, chat_id=7, message_id=message_id, data="x", now=now - age)
    await daily_scan(tg.app.clockwork)
    async with tg.app.session_factory() as s:
        assert list(await s.scalars(select(ButtonTap.message_id))) == [2]
    # a second run with nothing to forget takes no write lock and changes nothing
    await daily_scan(tg.app.clockwork)
    async with tg.app.session_factory() as s:
        assert list(await s.scalars(select(ButtonTap.message_id))) == [2]
