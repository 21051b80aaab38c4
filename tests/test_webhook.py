"""Webhook mode: the secret on every request, each update once (across replicas with Redis),
/healthz and /metrics, JSON logs with the update id, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot import logs, metrics
from bot.__main__ import serve
from bot.app import App
from bot.config import Settings
from bot.dedup import Fence, FenceRequests, UpdateClaimLost, current_fence
from bot.emulator import FakeTelegram
from tests.conftest import fast_limiter, no_wait
from tests.services import REDIS_PREFIX, REDIS_URL

SECRET = "s3cret-for-the-webhook_0123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hook_settings(settings: Settings, emu: FakeTelegram, **extra: Any) -> Settings:
    port = free_port()
    return settings.model_copy(
        update={
            "bot_token": SecretStr(emu.token),
            "telegram_api_base": emu.base_url,
            "webhook_url": "https://bot.example.com/tg/hook",
            "webhook_secret": SecretStr(SECRET),
            "web_host": "127.0.0.1",
            "web_port": port,
            **extra,
        }
    )


class Replica:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app: App | None = None
        self.task: asyncio.Task[int] | None = None
        self.base = f"http://127.0.0.1:{settings.web_port}"

    async def start(self) -> Replica:
        ready = asyncio.Event()

        def on_ready(app: App) -> None:
            self.app = app
            ready.set()

        self.task = asyncio.create_task(
            serve(
                self.settings,
                sleep=no_wait,
                handle_signals=False,
                on_ready=on_ready,
                limiter=fast_limiter(),
                request_sleep=no_wait,
                start_clockwork=False,
            )
        )
        await asyncio.wait_for(ready.wait(), 15)
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.base + "/healthz") as resp:
                        if resp.status in (200, 503):
                            return self
                await asyncio.sleep(0.02)
        raise TimeoutError("the web server did not come up")

    async def stop(self) -> int:
        assert self.app is not None and self.task is not None
        self.app.stopping.set()
        return await asyncio.wait_for(self.task, 20)

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.base + "/tg/hook", json=update, headers=headers) as resp,
        ):
            return resp.status

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(self.base + path) as resp:
            return resp.status, await resp.text()


@contextlib.asynccontextmanager
async def replica(settings: Settings) -> AsyncIterator[Replica]:
    r = await Replica(settings).start()
    try:
        yield r
    finally:
        if r.task is not None and not r.task.done():
            await r.stop()


def message_update(emu: FakeTelegram, update_id: int, user_id: int, text: str) -> dict[str, Any]:
    chat = emu.chats[user_id]
    chat.started = True
    message_id = chat.next_message_id
    chat.next_message_id += 1
    message = {
        "message_id": message_id,
        "date": 1_700_000_000,
        "chat": emu.chat_json(user_id),
        "from": chat.user,
        "text": text,
    }
    chat.messages[message_id] = message
    return {"update_id": update_id, "message": message}


def replies(emu: FakeTelegram, user_id: int) -> list[str]:
    return [
        r.params["text"]
        for r in emu.requests
        if r.method == "sendMessage" and r.ok and r.params.get("chat_id") == user_id
    ]


async def test_webhook_mode_checks_the_secret_and_handles_a_resent_update_once(
    settings: Settings, emu: FakeTelegram
) -> None:
    async with replica(hook_settings(settings, emu)) as bot:
        assert emu.webhook is not None
        assert emu.webhook["url"] == "https://bot.example.com/tg/hook"
        assert emu.webhook["secret_token"] == SECRET
        assert "message" in emu.webhook["allowed_updates"]

        before = metrics.REGISTRY.get_sample_value("bot_updates_total", {"type": "message"}) or 0
        emu.add_user(4001, "Ann")
        update = message_update(emu, 500, 4001, "/help")
        assert await bot.post(update, secret=None) == 401
        assert await bot.post(update, secret="wrong") == 401
        assert replies(emu, 4001) == []

        assert await bot.post(update) == 200
        assert len(replies(emu, 4001)) == 1
        assert await bot.post(update) == 200  # Telegram sent it again: dropped
        assert len(replies(emu, 4001)) == 1

        status, text = await bot.get("/metrics")
        assert status == 200
        after = metrics.REGISTRY.get_sample_value("bot_updates_total", {"type": "message"})
        assert after == before + 1  # the resent one is not handled
        assert f'bot_updates_total{{type="message"}} {after}' in text
        assert 'bot_updates_duplicate_total{outcome="dropped"}' in text
        assert "bot_handler_seconds_bucket" in text
        assert 'bot_messages_sent_total{method="sendMessage"}' in text
        assert "bot_due_work_pending 0.0" in text
        status, text = await bot.get("/healthz")
        assert status == 200 and json.loads(text)["database"] == "ok"
        assert await bot.stop() == 0


async def test_two_replicas_sharing_redis_handle_a_duplicate_once(
    redis_db, settings: Settings, emu: FakeTelegram
) -> None:
    """The same update lands on one replica, then (resent) on the other: one reply."""
    shared = {"redis_url": REDIS_URL, "redis_prefix": REDIS_PREFIX}
    async with (
        replica(hook_settings(settings, emu, **shared)) as first,
        replica(hook_settings(settings, emu, **shared)) as second,
    ):
        emu.add_user(4002, "Bob")
        update = message_update(emu, 700, 4002, "/help")
        assert await first.post(update) == 200
        assert await second.post(update) == 200
        assert len(replies(emu, 4002)) == 1
        assert await redis_db.get(f"{REDIS_PREFIX}:update:700") == b"done"

        # while one replica is still handling an update, its resend elsewhere is told to wait
        emu.hang_chat(4002)
        slow = message_update(emu, 701, 4002, "/help")
        pending = asyncio.create_task(first.post(slow))
        await emu.wait_hanging(4002)
        assert await second.post(slow) == 503
        emu.release_chat(4002)
        assert await pending == 200
        assert await second.post(slow) == 200
        assert len(replies(emu, 4002)) == 2


async def test_healthz_is_503_when_redis_is_unreachable(
    settings: Settings, emu: FakeTelegram
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    # the web port in polling mode serves the health and metrics too
    polling = hook_settings(settings, emu).model_copy(
        update={"webhook_url": None, "redis_url": f"redis://127.0.0.1:{dead}/0"}
    )
    async with replica(polling) as bot:
        status, text = await bot.get("/healthz")
        assert status == 503
        body = json.loads(text)
        assert body["database"] == "ok" and body["redis"].startswith("unreachable")


async def test_graceful_shutdown_finishes_the_update_in_flight(
    settings: Settings, emu: FakeTelegram
) -> None:
    bot = await Replica(hook_settings(settings, emu)).start()
    emu.add_user(4003, "Cid")
    emu.hang_chat(4003, seconds=0.5)
    in_flight = asyncio.create_task(bot.post(message_update(emu, 900, 4003, "/help")))
    await emu.wait_hanging(4003)
    stopping = asyncio.create_task(bot.stop())
    await asyncio.sleep(0.05)
    assert await bot.post(message_update(emu, 901, 4003, "/help")) == 503  # draining
    assert await in_flight == 200
    assert await stopping == 0
    assert len(replies(emu, 4003)) == 1


async def test_a_hold_that_lapsed_sends_nothing() -> None:
    """A replica stalled past its lease wakes up: no request of that update goes out."""
    now = [100.0]
    fence = Fence(30.0, lambda: now[0], update_id=5)
    fence.renewed()
    calls: list[str] = []

    async def make_request(bot: Any, method: Any) -> str:
        calls.append(method.__api_method__)
        return "ok"

    from aiogram.methods import SendMessage

    method = SendMessage(chat_id=1, text="hi")
    token = current_fence.set(fence)
    try:
        assert await FenceRequests()(make_request, None, method) == "ok"  # type: ignore[arg-type]
        now[0] += 25  # past two thirds of the lease without a renewal
        with pytest.raises(UpdateClaimLost):
            await FenceRequests()(make_request, None, method)  # type: ignore[arg-type]
    finally:
        current_fence.reset(token)
    assert calls == ["sendMessage"]


def test_json_logs_carry_the_update_and_due_work_ids() -> None:
    stream = io.StringIO()
    with logs.configured("INFO", stream=stream, fmt="json", secrets=["123:topsecret"]):
        a = logs.current_update_id.set(42)
        b = logs.current_due_work_id.set(7)
        try:
            logging.getLogger("bot.test").info("token 123:topsecret here")
        finally:
            logs.current_due_work_id.reset(b)
            logs.current_update_id.reset(a)
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["update_id"] == 42 and record["due_work_id"] == 7
    assert "topsecret" not in line and record["level"] == "INFO"
