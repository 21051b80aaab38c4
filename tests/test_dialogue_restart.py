"""A restart (a deploy) in the middle of a dialogue: the rep goes on where they were.

Without Redis the dialogues are in memory; the app keeps them in the database when it stops and
reads them back when it starts (bot.dialogues)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.dialogues import KeptMemoryStorage
from bot.emulator.runner import EmulatedBot
from storage.dialogue_models import KeptDialogue
from storage.models import Contact, Touch
from tests.conftest import fast_limiter
from tests.helpers import team_with_rep


async def restarted(bot: EmulatedBot, settings, emu, clock) -> EmulatedBot:
    await bot.stop()
    again = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter())
    await again.start()
    return again


async def test_the_add_dialogue_goes_on_after_a_restart(settings, emu, clock) -> None:
    first = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter())
    await first.start()
    *_, rep = await team_with_rep(first)
    await rep.send("/add")
    await rep.send("Anna Smirnova")
    reply = await rep.send("Acme")
    assert "Position?" in reply.text
    second = await restarted(first, settings, emu, clock)
    try:
        rep = second.user(rep.id, "Rita")
        reply = await rep.send("CTO")
        assert "Phone?" in reply.text  # not "I didn't get that"
        await rep.click("Skip")
        await rep.click("Skip")
        async with second.app.session_factory() as s:
            assert await s.scalar(select(func.count(KeptDialogue.id))) == 0  # read back once
        await rep.click("B2B")
        await rep.click("Skip")
        reply = await rep.click("Skip")
        assert "Saved" in reply.text
        async with second.app.session_factory() as s:
            c = await s.scalar(select(Contact))
            assert (c.name, c.company, c.position) == ("Anna Smirnova", "Acme", "CTO")
    finally:
        await second.stop()


async def test_the_next_step_question_survives_a_restart_in_russian(settings, emu, clock) -> None:
    first = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter())
    await first.start()
    *_, rep = await team_with_rep(first, language="ru")
    await rep.send("/add Анна Смирнова, Ромашка")
    await rep.click("Открыть карточку")
    await rep.click("Записать касание")
    await rep.click("звонок")
    await rep.click("исходящее")
    reply = await rep.send("Обсудили пилот")
    assert "Касание сохранено" in reply.text
    second = await restarted(first, settings, emu, clock)
    try:
        rep = second.user(rep.id, "Rita", language_code="ru")
        reply = await rep.send("отправить КП")
        assert "Когда?" in reply.text
        await rep.send("завтра в 10")
        reply = await rep.click("Подтвердить")
        assert "Следующий шаг сохранён" in reply.text and "отправить КП" in reply.text
        async with second.app.session_factory() as s:
            c = await s.scalar(select(Contact))
            assert c.next_step == "отправить КП"
            assert await s.scalar(select(func.count(Touch.id))) == 1
    finally:
        await second.stop()


async def test_nothing_open_keeps_nothing_and_a_value_json_cannot_hold_is_left_out(
    settings, emu, clock
) -> None:
    bot = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter())
    app = await bot.start()
    try:
        *_, rep = await team_with_rep(bot)
        await rep.send("/find nobody")  # a read: an empty record only
        storage = app.dispatcher.storage
        assert isinstance(storage, KeptMemoryStorage)
        assert await storage.keep(app.session_factory, clock.now()) == 0
        key = next(iter(storage.storage))
        storage.storage[key].data = {"when": object()}
        storage.storage[key].state = "AddForm:name"
        assert await storage.keep(app.session_factory, clock.now()) == 0
    finally:
        await bot.stop()


def test_every_field_of_aiogram_s_storage_key_is_kept() -> None:
    """A field aiogram adds to StorageKey would be lost over a restart: caught here first."""
    import dataclasses

    from aiogram.fsm.storage.base import StorageKey

    from bot.dialogues import KEY_FIELDS

    assert set(KEY_FIELDS) == {f.name for f in dataclasses.fields(StorageKey)}
    assert set(KEY_FIELDS) <= set(KeptDialogue.__table__.columns.keys())
