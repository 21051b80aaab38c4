"""The one way out for messages that are not direct replies (notifications, reminders, digests).

It keeps under Telegram's limits (about 30 messages a second overall, about one a second per chat,
short bursts allowed), waits ``retry_after`` on 429, retries network errors and 5xx with back-off,
and on 403 (blocked, or never started the bot) reports the chat as unreachable and stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage, SendPhoto, TelegramMethod
from aiogram.types import BufferedInputFile

from bot.reliability import sender_managed
from core.textsplit import split_html

log = logging.getLogger(__name__)


class SendStatus(StrEnum):
    SENT = "sent"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    message_ids: tuple[int, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is SendStatus.SENT


class TokenBucket:
    def __init__(
        self, rate: float, burst: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.monotonic = monotonic
        self.updated = monotonic()

    def wait_time(self) -> float:
        now = self.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1 - 1e-9:  # float drift must not ask for a 1e-14 s sleep
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class RateLimiter:
    """A global bucket plus one bucket per chat; waits until both allow a send.

    The defaults sit just under Telegram's limits (29.5/s overall with bursts of 25; 1/s per
    chat with bursts of 2): Telegram's own buckets start counting when our first request
    arrives, a little after ours, so matching its figures exactly would earn the odd 429.
    bench/bench_reminders.py measures the rate reached (≈99% of 30/s) and the 429s (none).
    """

    def __init__(
        self,
        *,
        global_rate: float = 29.5,
        global_burst: float = 25.0,
        chat_rate: float = 1.0,
        chat_burst: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_chats: int = 10_000,
    ) -> None:
        self.monotonic = monotonic
        self.sleep = sleep
        self.global_bucket = TokenBucket(global_rate, global_burst, monotonic)
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.chats: OrderedDict[int, TokenBucket] = OrderedDict()
        self.max_chats = max_chats
        self._lock = asyncio.Lock()
        self._chat_locks: dict[int, asyncio.Lock] = {}

    def _chat_bucket(self, chat_id: int) -> TokenBucket:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            bucket = TokenBucket(self.chat_rate, self.chat_burst, self.monotonic)
            self.chats[chat_id] = bucket
            if len(self.chats) > self.max_chats:
                self.chats.popitem(last=False)
        else:
            self.chats.move_to_end(chat_id)
        return bucket

    async def acquire(self, chat_id: int) -> None:
        chat_lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        async with chat_lock:
            bucket = self._chat_bucket(chat_id)
            while (delay := bucket.wait_time()) > 0:
                await self.sleep(delay)
            async with self._lock:
                while (delay := self.global_bucket.wait_time()) > 0:
                    await self.sleep(delay)
                self.global_bucket.take()
            bucket.take()
        if not chat_lock.locked() and len(self._chat_locks) > self.max_chats:
            self._chat_locks.pop(chat_id, None)

    def penalize(self, seconds: float) -> None:
        """After a 429 the whole bot slows down for ``retry_after`` seconds."""
        self.global_bucket.tokens = min(
            self.global_bucket.tokens, 1 - seconds * self.global_bucket.rate
        )


UnreachableHook = Callable[[int], Awaitable[None]]


class Sender:
    def __init__(
        self,
        bot: Bot,
        limiter: RateLimiter | None = None,
        *,
        on_unreachable: UnreachableHook | None = None,
        max_attempts: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.limiter = limiter or RateLimiter(sleep=sleep)
        self.on_unreachable = on_unreachable
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.sleep = sleep
        self.stats = {"sent": 0, "retry_after": 0, "network_errors": 0, "unreachable": 0}

    async def call(self, chat_id: int, method: TelegramMethod[Any]) -> SendResult:
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(chat_id)
            token = sender_managed.set(True)
            try:
                result = await self.bot(method)
            except TelegramRetryAfter as exc:
                self.stats["retry_after"] += 1
                log.warning("429 for chat %s: waiting %s s", chat_id, exc.retry_after)
                self.limiter.penalize(exc.retry_after)
                await self.sleep(exc.retry_after)
                if attempt >= self.max_attempts * 2:
                    return SendResult(SendStatus.FAILED, error="retry_after")
                continue
            except TelegramForbiddenError as exc:
                self.stats["unreachable"] += 1
                log.info("chat %s unreachable: %s", chat_id, exc.message)
                if self.on_unreachable is not None:
                    await self.on_unreachable(chat_id)
                return SendResult(SendStatus.UNREACHABLE, error=exc.message)
            except (TelegramNetworkError, TelegramServerError) as exc:
                self.stats["network_errors"] += 1
                if attempt >= self.max_attempts:
                    log.error("giving up on chat %s after %s attempts: %s", chat_id, attempt, exc)
                    return SendResult(SendStatus.FAILED, error=str(exc))
                await self.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            except TelegramBadRequest as exc:
                log.error("bad request to chat %s: %s", chat_id, exc.message)
                return SendResult(SendStatus.FAILED, error=exc.message)
            finally:
                sender_managed.reset(token)
            self.stats["sent"] += 1
            message_id = getattr(result, "message_id", None)
            return SendResult(SendStatus.SENT, (message_id,) if message_id else ())

    async def send(self, chat_id: int, text: str, reply_markup: Any = None) -> SendResult:
        """Send HTML text, split under 4096 characters; the keyboard goes on the last part."""
        parts = split_html(text)
        ids: list[int] = []
        for i, part in enumerate(parts):
            method = SendMessage(
                chat_id=chat_id,
                text=part,
                reply_markup=reply_markup if i == len(parts) - 1 else None,
            )
            res = await self.call(chat_id, method)
            if not res.ok:
                return SendResult(res.status, tuple(ids), res.error)
            ids.extend(res.message_ids)
        return SendResult(SendStatus.SENT, tuple(ids))

    async def send_photo(
        self, chat_id: int, png: bytes, caption: str | None = None, filename: str = "chart.png"
    ) -> SendResult:
        """Send a PNG (a chart) with an optional HTML caption, under the same limits and retries."""
        method = SendPhoto(
            chat_id=chat_id, photo=BufferedInputFile(png, filename=filename), caption=caption
        )
        return await self.call(chat_id, method)
