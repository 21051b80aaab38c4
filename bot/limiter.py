"""Telegram's limits shared by every replica: the rate limiter in Redis.

Telegram counts per bot, not per process: about 30 messages a second overall, about one a
second per private chat, 20 a minute per group. With N replicas each keeping its own buckets the
bot would go N times over, so with Redis configured the buckets live there, under REDIS_PREFIX.

Each bucket is a GCRA cell (one number, the *theoretical arrival time*), moved by one Lua script
so that reserving is atomic across replicas. Like the in-process :class:`bot.sender.RateLimiter`
a send reserves its slot at once (going into debt when there is none) and then sleeps until it:
no lock is held while waiting, and waiters go in the order they came. A chat's slot is reserved
first, then, once that wait is over, the global one. ``penalize`` after a 429 pushes the chat's
cell (or, when the flood is the bot's, the global cell) past ``retry_after`` for every replica.

Time comes from ``now`` (wall-clock seconds; replicas on different machines need NTP, which they
have anyway for TLS) and waiting from ``sleep``, both injected in tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

_RESERVE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local at = tat - tolerance
if at < now then at = now end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new), 'PX', math.ceil((new - now + tolerance) * 1000) + 1000)
return string.format('%.6f', at - now)
"""

_PENALIZE = """
local now = tonumber(ARGV[1])
local until_ = tonumber(ARGV[2]) + tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < until_ then tat = until_ end
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
local other = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], ARGV[4], 'PX', math.ceil(tonumber(ARGV[5]) * 1000))
if other and other ~= ARGV[4] then return 1 end
return 0
"""


class RedisRateLimiter:
    """The same interface as :class:`bot.sender.RateLimiter` (``acquire``, ``penalize``)."""

    def __init__(
        self,
        client: Any,
        prefix: str,
        *,
        global_rate: float = 29.5,
        global_burst: float = 25.0,
        chat_rate: float = 1.0,
        chat_burst: float = 2.0,
        group_rate: float = 20 / 60,
        group_burst: float = 3.0,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        owns_client: bool = False,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.global_cell = (1 / global_rate, (global_burst - 1) / global_rate)
        self.chat_cell = (1 / chat_rate, (chat_burst - 1) / chat_rate)
        self.group_cell = (1 / group_rate, (group_burst - 1) / group_rate)
        self.now = now
        self.sleep = sleep
        self.owns_client = owns_client
        self._reserve = client.register_script(_RESERVE)
        self._penalize = client.register_script(_PENALIZE)

    def _key(self, what: str) -> str:
        return f"{self.prefix}:limit:{what}"

    def _cell(self, chat_id: int) -> tuple[float, float]:
        return self.group_cell if chat_id < 0 else self.chat_cell

    async def reserve(self, key: str, cell: tuple[float, float]) -> float:
        interval, tolerance = cell
        delay = await self._reserve(keys=[key], args=[repr(self.now()), interval, tolerance])
        return float(delay)

    async def acquire(self, chat_id: int) -> None:
        if (delay := await self.reserve(self._key(f"chat:{chat_id}"), self._cell(chat_id))) > 0:
            await self.sleep(delay)
        await self.acquire_global()

    async def acquire_global(self) -> None:
        if (delay := await self.reserve(self._key("global"), self.global_cell)) > 0:
            await self.sleep(delay)

    async def note_global(self) -> None:
        """A direct reply takes its slot of the shared overall limit without waiting for it:
        the replicas' bulk sends wait behind it instead."""
        await self.reserve(self._key("global"), self.global_cell)

    async def penalize(self, seconds: float, chat_id: int | None = None) -> None:
        """After a 429: the chat waits ``seconds``; the whole bot too when there is no chat, or
        when another chat met a 429 within the same window (the flood is the bot's)."""
        now = self.now()
        if chat_id is not None:
            _interval, tolerance = self._cell(chat_id)
            flood = await self._penalize(
                keys=[self._key(f"chat:{chat_id}"), self._key("last429")],
                args=[repr(now), repr(now + seconds), tolerance, str(chat_id), seconds],
            )
            if not flood:
                return
        _interval, tolerance = self.global_cell
        await self._penalize(
            keys=[self._key("global"), self._key("last429")],
            args=[repr(now), repr(now + seconds), tolerance, "bot", seconds],
        )

    async def close(self) -> None:
        if self.owns_client:
            await self.client.aclose()


def create_limiter(settings: Any) -> Any:
    """The limiter the app's Sender uses: shared in Redis when REDIS_URL is set."""
    if settings.redis_url:
        import redis.asyncio as redis

        return RedisRateLimiter(
            redis.Redis.from_url(settings.redis_url), settings.redis_prefix, owns_client=True
        )
    from bot.sender import RateLimiter

    return RateLimiter()


class SharedReplyLimit:
    """Request middleware: a direct reply (not the Sender's) counts against the overall limit,
    so the bulk notifications of every replica make room for it and the total stays under
    Telegram's 30/s; the reply itself never waits (someone is waiting for it)."""

    METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageText"})

    def __init__(self, limiter: Any) -> None:
        self.limiter = limiter

    async def __call__(self, make_request: Any, bot: Any, method: Any) -> Any:
        from bot.sender import sender_managed

        if not sender_managed.get() and getattr(method, "__api_method__", "") in self.METHODS:
            await self.limiter.note_global()
        return await make_request(bot, method)
