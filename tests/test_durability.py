"""Commit, then talk: what the user is told was saved is saved, and no lock outlives a write.

The rules live in storage.uow (units of work) and bot.reliability (every Telegram request);
these tests trip each guard and replay the defects that were measured.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiogram import F, Router
from aiogram.types import Message
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.emulator.runner import EmulatedBot
from storage.models import Contact, User
from storage.uow import writing
from tests.conftest import fast_limiter
from tests.helpers import team_with_rep, token_of


def guarded_router() -> Router:
    """Handlers that break the rules on purpose."""
    router = Router(name="rule-breakers")

    @router.message(F.text == "talk-in-write")
    async def talk_in_write(message: Message, session: AsyncSession, user: User) -> None:
        async with writing(session):
            user.first_name = "Changed"
            await message.answer("saved?")  # must never reach Telegram

    @router.message(F.text == "write-outside")
    async def write_outside(message: Message, session: AsyncSession, user: User) -> None:
        user.first_name = "Sneaky"
        await session.flush()
        await message.answer("flushed")

    @router.message(F.text == "forgotten-change")
    async def forgotten_change(message: Message, user: User) -> None:
        user.first_name = "Forgotten"

    return router


@pytest.fixture
async def strict_tg(settings, emu, clock) -> AsyncIterator[EmulatedBot]:
    runner = EmulatedBot(
        settings, emu, clock=clock, limiter=fast_limiter(), extra_routers=[guarded_router()]
    )
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


async def first_name(tg: EmulatedBot, tg_id: int) -> str:
    async with tg.app.session_factory() as s:
        return await s.scalar(select(User.first_name).where(User.tg_id == tg_id))


async def test_talking_inside_a_write_block_is_refused_and_rolled_back(strict_tg, caplog) -> None:
    person = strict_tg.user(7007, "Tess")
    await person.send("/start")
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        reply = await person.send("talk-in-write")
    assert "saved?" not in reply.text
    assert "something went wrong" in reply.text
    assert "TalkInsideTransaction" in caplog.text
    assert await first_name(strict_tg, 7007) == "Tess"  # the write was not committed


async def test_writing_outside_a_unit_of_work_is_refused(strict_tg, caplog) -> None:
    person = strict_tg.user(7008, "Walt")
    await person.send("/start")
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        reply = await person.send("write-outside")
    assert "flushed" not in reply.text
    assert "WriteOutsideUnitOfWork" in caplog.text
    assert await first_name(strict_tg, 7008) == "Walt"


async def test_a_change_made_outside_a_write_block_is_an_error_not_a_silent_loss(
    strict_tg, caplog
) -> None:
    person = strict_tg.user(7009, "Fay")
    await person.send("/start")
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        reply = await person.send("forgotten-change")
    assert "something went wrong" in reply.text
    assert "UnsavedChanges" in caplog.text


async def test_reading_does_not_write(tg, clock) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Anna Smirnova, Acme")
    writes: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    engine = tg.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        clock.advance(timedelta(minutes=20))  # "last seen" is old: one write, then none
        await rep.send("/find Anna")
        assert [w for w in writes if "users" in w]
        writes.clear()
        for _ in range(3):
            clock.advance(timedelta(minutes=1))
            await rep.send("/find Anna")
            await rep.send("/contacts")
            await rep.click("Anna")
        assert writes == []
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_join_stands_when_telegram_fails_on_the_welcome(tg, emu) -> None:
    """The join is committed before the welcome is sent: a 502 on the welcome is retried, and
    the membership can no longer be rolled back by it (it used to leave the role empty)."""
    _admin, manager, _rep = await team_with_rep(tg)
    reply = await manager.send("/invite")
    newcomer = tg.user(3010, "Nora")
    emu.fail_next("sendMessage", 502)
    reply = await newcomer.send(f"/start {token_of(reply.text)}")
    assert "Welcome" in reply.text and "something went wrong" not in reply.text
    async with tg.app.session_factory() as s:
        nora = await s.scalar(select(User).where(User.tg_id == 3010))
    assert nora.role == "rep" and nora.team_id is not None
    reply = await newcomer.send("/add Olga Petrova")
    assert "Saved" in reply.text


async def test_an_inviter_who_blocked_the_bot_does_not_break_the_join(tg, emu) -> None:
    """On the 403 the inviter is marked unreachable in a unit of work of its own; the join,
    already committed, is not in its way (it used to be "database is locked")."""
    _admin, manager, _rep = await team_with_rep(tg)
    reply = await manager.send("/invite")
    await emu.set_blocked(manager.id, notify=False)
    newcomer = tg.user(3011, "Oleg")
    reply = await newcomer.send(f"/start {token_of(reply.text)}")
    assert "Welcome" in reply.text and "something went wrong" not in reply.text
    reply = await newcomer.send("/add Pavel Orlov")
    assert "Saved" in reply.text
    async with tg.app.session_factory() as s:
        maria = await s.scalar(select(User).where(User.tg_id == manager.id))
        oleg = await s.scalar(select(User).where(User.tg_id == 3011))
    assert not maria.reachable
    assert oleg.role == "rep"


async def test_a_status_shown_is_the_status_stored_even_if_the_card_fails_to_show(tg, emu) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Vera Lead, Acme")
    await rep.click("Status")
    emu.fail_next("editMessageText", 400, "Bad Request: message can't be edited")
    emu.fail_next("sendMessage", 400, "Bad Request: chat not found")
    await rep.click("lead")
    async with tg.app.session_factory() as s:
        vera = await s.scalar(select(Contact).where(Contact.name == "Vera Lead"))
    assert vera.status == "lead"


async def test_a_429_on_a_reply_waits_and_sends_the_reply(settings, emu, clock) -> None:
    waited: list[float] = []

    async def no_wait(seconds: float) -> None:
        waited.append(seconds)

    runner = EmulatedBot(settings, emu, clock=clock, limiter=fast_limiter(), request_sleep=no_wait)
    await runner.start()
    try:
        *_, rep = await team_with_rep(runner)
        emu.fail_next("sendMessage", 429, retry_after=7)
        reply = await rep.send("/add Zoe Quick")
        assert "Saved" in reply.text and "something went wrong" not in reply.text
        assert waited == [7]
    finally:
        await runner.stop()


async def test_a_callback_answer_that_fails_does_not_abort_the_action(tg, emu) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Ivan Button, Acme")
    await rep.click("Status")
    emu.fail_next(
        "answerCallbackQuery",
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    reply = await rep.click("client")
    assert "something went wrong" not in reply.text
    async with tg.app.session_factory() as s:
        ivan = await s.scalar(select(Contact).where(Contact.name == "Ivan Button"))
    assert ivan.status == "client"


async def test_buttons_taken_off_go_out_alongside_the_next_message(tg, emu) -> None:
    """Confirming a next step takes the buttons off the question and sends the card: side by
    side, so the user waits one round trip for the card, not two. A failure to take them off
    (the message too old to edit) does not stop the card."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Nina Sidebyside, Acme")
    await rep.click("Open card")
    await rep.click("Log touch")
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("Talked about the pilot")
    await rep.send("send the proposal")
    await rep.click("In 3 days")
    emu.set_round_trip(0.4)
    try:
        start = len(emu.requests)
        reply = await rep.click("Confirm")
    finally:
        emu.set_round_trip(0)
    assert "Next step saved" in reply.text
    done = {r.method: r.at for r in emu.requests[start:] if r.ok}
    assert "editMessageReplyMarkup" in done and "sendMessage" in done
    assert abs(done["sendMessage"] - done["editMessageReplyMarkup"]) < 0.2  # not 0.4 apart
    # the same flow once more, the edit refused: the card still comes, no apology
    await rep.click("Log touch")  # on the card just sent
    await rep.click("call")
    await rep.click("outbound")
    await rep.send("Sent it")
    await rep.send("call back")
    await rep.click("In 3 days")
    emu.fail_next("editMessageReplyMarkup", 400, "Bad Request: message can't be edited")
    reply = await rep.click("Confirm")
    assert "Next step saved" in reply.text
    assert "something went wrong" not in reply.text


async def test_a_callback_answer_goes_out_alongside_the_reply_not_before_it(tg, emu) -> None:
    """With a round trip, a button's answer and the message it brings run side by side: the
    user waits one round trip for the card, not two."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Lena Parallel, Acme")
    emu.set_round_trip(0.4)
    try:
        start = len(emu.requests)
        await rep.click("Open card")
    finally:
        emu.set_round_trip(0)
    done = {r.method: r.at for r in emu.requests[start:] if r.ok}
    assert "answerCallbackQuery" in done and "sendMessage" in done
    assert abs(done["sendMessage"] - done["answerCallbackQuery"]) < 0.2  # not 0.4 apart
