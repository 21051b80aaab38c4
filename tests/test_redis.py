"""FSM state in Redis (several replicas share dialogues), and one chat on PostgreSQL."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

from bot.app import build_app, create_bot
from bot.config import Settings
from bot.emulator import FakeTelegram
from bot.emulator.runner import EmulatedBot
from core.clock import FrozenClock
from storage.repo import users as users_repo
from tests.conftest import ADMIN_ID
from tests.helpers import team_with_rep, token_of
from tests.services import REDIS_PREFIX, REDIS_URL, delete_test_keys

TOKEN = "123456:not-used-no-request-is-made"


@pytest.fixture
def redis_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": REDIS_PREFIX})


async def state_keys(client) -> dict[str, str]:  # noqa: ANN001
    keys = [k.decode() for k in await client.keys(f"{REDIS_PREFIX}:*")]
    return {k: (await client.get(k) or b"").decode() for k in keys if k.endswith(":state")}


async def test_app_uses_redis_storage_and_isolation(redis_db, redis_settings: Settings) -> None:
    app = build_app(
        redis_settings, bot=create_bot(redis_settings, token=TOKEN), start_clockwork=False
    )
    try:
        storage = app.dispatcher.storage
        assert isinstance(storage, RedisStorage)
        assert isinstance(storage.key_builder, DefaultKeyBuilder)
        assert storage.key_builder.with_destiny is True
        assert storage.key_builder.prefix == REDIS_PREFIX
        assert isinstance(app.dispatcher.fsm.events_isolation, RedisEventIsolation)
    finally:
        await app.close()


async def test_the_tests_delete_their_own_keys_only(redis_db) -> None:
    """The test database may be shared: nothing outside the run's prefix is touched."""
    foreign = f"not-{REDIS_PREFIX}:someone-else's"
    await redis_db.set(foreign, "keep")
    try:
        await redis_db.set(f"{REDIS_PREFIX}:mine", "x")
        assert await delete_test_keys(redis_db) == 1
        assert await redis_db.get(foreign) == b"keep"
        assert await redis_db.exists(f"{REDIS_PREFIX}:mine") == 0
    finally:
        await redis_db.delete(foreign)


async def test_memory_storage_without_redis(settings: Settings) -> None:
    app = build_app(settings, bot=create_bot(settings, token=TOKEN), start_clockwork=False)
    try:
        assert not isinstance(app.dispatcher.storage, RedisStorage)
    finally:
        await app.close()


async def test_dialogue_state_lives_in_redis(
    redis_db, redis_settings: Settings, emu: FakeTelegram, clock: FrozenClock
) -> None:
    runner = EmulatedBot(redis_settings, emu, clock=clock)
    await runner.start()
    try:
        user = runner.user(5005, "Stan")
        await user.send("/settings")
        assert await state_keys(redis_db) == {}

        reply = await user.click("Time zone")
        assert "type a city" in reply.text
        states = await state_keys(redis_db)
        assert list(states.values()) == ["SettingsForm:timezone"]
        (key,) = states
        assert "5005" in key and ":default:" in key  # the key carries its destiny

        reply = await user.send("Novosibirsk")
        assert "Novosibirsk, UTC+7" in reply.text
        assert await state_keys(redis_db) == {}
    finally:
        await runner.stop()


async def test_a_second_replica_continues_the_dialogue(
    redis_db, redis_settings: Settings, emu: FakeTelegram, clock: FrozenClock
) -> None:
    """The step is started on one bot process and finished on another (same DB, same Redis)."""
    first = EmulatedBot(redis_settings, emu, clock=clock)
    await first.start()
    try:
        user = first.user(5005, "Stan")
        await user.send("/settings")
        await user.click("Time zone")
    finally:
        await first.stop()

    second = EmulatedBot(redis_settings, emu, clock=clock)
    await second.start()
    try:
        reply = await user.send("Novosibirsk")
        assert "Time zone saved" in reply.text
        assert second.app is not None
        async with second.app.session_factory() as s:
            saved = await users_repo.get_by_tg_id(s, 5005)
        assert saved is not None and saved.timezone == "Asia/Novosibirsk"
    finally:
        await second.stop()


async def test_an_add_dialogue_left_on_one_replica_continues_on_another(
    redis_db, redis_settings: Settings, emu: FakeTelegram, clock: FrozenClock
) -> None:
    """The answers a command left are kept in Redis, under a destiny of their own."""
    first = EmulatedBot(redis_settings, emu, clock=clock)
    await first.start()
    try:
        *_, rep = await team_with_rep(first)
        await rep.send("/add")
        await rep.send("Vera")
        await rep.send("Initech")
        note = (await rep.send("/help")).messages[0]
        assert "Typed so far: Initech" in note["text"]
        keys = [k.decode() for k in await redis_db.keys(f"{REDIS_PREFIX}:*:left:data")]
        assert len(keys) == 1 and str(rep.id) in keys[0]
    finally:
        await first.stop()
    second = EmulatedBot(redis_settings, emu, clock=clock)
    await second.start()
    try:
        reply = await rep.click("Continue adding", note)
        assert reply.messages[0]["text"] == "Position? (or Skip)"
        for _step in range(6):  # position, phone, e-mail, kind, source, influence
            reply = await rep.click("Skip")
        assert "Saved: Vera — Initech" in reply.text
    finally:
        await second.stop()


# ---------------------------------------------------------------------- PostgreSQL


async def test_invite_chain_on_postgresql(
    pg_url: str, settings: Settings, emu: FakeTelegram, clock: FrozenClock
) -> None:
    pg_settings = settings.model_copy(update={"database_url": pg_url})
    runner = EmulatedBot(pg_settings, emu, clock=clock)
    await runner.start()
    try:
        admin = runner.user(ADMIN_ID, "Ada")
        assert "admin" in (await admin.send("/start")).text
        reply = await admin.send("/invite")
        reply = await admin.click("Manager")
        manager = runner.user(2002, "Maria")
        reply = await manager.send(f"/start {token_of(reply.text)}")
        assert "Welcome, Maria" in reply.text
        assert "Maria accepted your invite" in (admin.last or {}).get("text", "")

        rep_token = token_of((await manager.send("/invite")).text)
        rep = runner.user(3003, "Rita")
        reply = await rep.send(f"/start {rep_token}")
        assert "Welcome, Rita" in reply.text
        reply = await runner.user(3004, "Oleg").send(f"/start {rep_token}")
        assert "already been used" in reply.text

        reply = await manager.send("/team")
        assert "Maria" in reply.text and "Rita" in reply.text

        assert runner.app is not None
        assert runner.app.engine.dialect.name == "postgresql"
        async with runner.app.session_factory() as s:
            m = await users_repo.get_by_tg_id(s, 2002)
            r = await users_repo.get_by_tg_id(s, 3003)
        assert m is not None and r is not None
        assert (m.role, r.role) == ("manager", "rep")
        assert m.team_id is not None and r.team_id == m.team_id
    finally:
        await runner.stop()
