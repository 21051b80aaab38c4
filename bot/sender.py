"""The one way out for messages that are not direct replies (notifications, reminders, digests).

It keeps under Telegram's limits (about 30 messages a second overall, about one a second per chat,
short bursts allowed), waits ``retry_after`` on 429, retries network errors, timeouts, 5xx and
non-JSON answers (an HTML error page from a proxy) with back-off, and on 403 (blocked, or never
started the bot) reports the chat as unreachable and stops.

It works per chat: sends to one chat go out in order under that chat's lock, every request is
bounded by a timeout, and nothing that waits for one chat (its lock, its bucket, its 429, its
back-off) is held while another chat's send goes out — a chat whose requests hang delays only
itself.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage, SendPhoto, TelegramMethod
from aiogram.types import BufferedInputFile

from core.textsplit import split_html
from storage.uow import assert_no_open_write

log = logging.getLogger(__name__)

# True while the Sender makes its own request: a request middleware that retries direct replies
# leaves these alone (the Sender has its own limits, retries and timeouts).
sender_managed: ContextVar[bool] = ContextVar("sender_managed", default=False)

REQUEST_TIMEOUT = 20.0  # seconds for one request, answer included
UNREACHABLE_HOOK_WAIT = 5.0  # seconds the send waits for on_unreachable before moving on


class SendStatus(StrEnum):
    SENT = "sent"
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    ABORTED = "aborted"  # the guard said no before a request went out (e.g. a claim was lost)


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

    def refill(self) -> None:
        now = self.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def reserve(self) -> float:
        """Take a token now, going into debt if there is none; returns how long to wait until
        the token is really there. Waiters never hold a lock: each sleeps until its own turn,
        in the order they came."""
        self.refill()
        self.tokens -= 1
        if self.tokens >= -1e-9:  # float drift must not ask for a 1e-14 s sleep
            return 0.0
        return -self.tokens / self.rate


class RateLimiter:
    """A global bucket plus one bucket per chat; waits until both allow a send.

    The defaults sit just under Telegram's limits (29.5/s overall with bursts of 25; 1/s per
    chat with bursts of 2): Telegram's own buckets start counting when our first request
    arrives, a little after ours, so matching its figures exactly would earn the odd 429.
    bench/bench_reminders.py measures the rate reached (≈99% of 30/s) and the 429s (none).

    No lock is held while anyone sleeps: a send first waits for its chat's turn, then reserves
    its slot in the global bucket and sleeps until it — a chat held by its own limit or its own
    429 holds nobody else, and the global wait is only ever the global bucket's.
    """

    def __init__(
        self,
        *,
        global_rate: float = 29.5,
        global_burst: float = 25.0,
        chat_rate: float = 1.0,
        chat_burst: float = 2.0,
        group_rate: float | None = None,
        group_burst: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_chats: int = 10_000,
    ) -> None:
        self.monotonic = monotonic
        self.sleep = sleep
        self.global_bucket = TokenBucket(global_rate, global_burst, monotonic)
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        # a group (negative chat id) may get 20 messages a minute: a third of a private chat's
        self.group_rate = chat_rate / 3 if group_rate is None else group_rate
        self.group_burst = chat_burst if group_burst is None else group_burst
        self.chats: OrderedDict[int, TokenBucket] = OrderedDict()
        self.max_chats = max_chats
        self._penalties: dict[int, float] = {}  # chat id → end of its 429 wait (monotonic)

    def _chat_bucket(self, chat_id: int) -> TokenBucket:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            if chat_id < 0:
                bucket = TokenBucket(self.group_rate, self.group_burst, self.monotonic)
            else:
                bucket = TokenBucket(self.chat_rate, self.chat_burst, self.monotonic)
            self.chats[chat_id] = bucket
            if len(self.chats) > self.max_chats:
                self.chats.popitem(last=False)
        else:
            self.chats.move_to_end(chat_id)
        return bucket

    async def acquire(self, chat_id: int) -> None:
        if (delay := self._chat_bucket(chat_id).reserve()) > 0:
            await self.sleep(delay)
        await self.acquire_global()

    async def acquire_global(self) -> None:
        """A slot of the overall limit only, waiting for it."""
        if (delay := self.global_bucket.reserve()) > 0:
            await self.sleep(delay)

    async def note_global(self) -> None:
        """A direct reply counts against the overall limit but never waits for it (the person
        is waiting for the answer): the Sender's bulk sends behind it wait instead. The debt a
        burst of replies leaves is capped at one burst, so bulk is delayed by a second at most."""
        self.global_bucket.reserve()
        self.global_bucket.tokens = max(self.global_bucket.tokens, -self.global_bucket.burst)

    def penalize(self, seconds: float, chat_id: int | None = None) -> None:
        """After a 429: ``chat_id`` waits ``retry_after`` seconds, the others go on.

        Without a chat, or when another chat is under its own 429 at the same time (the flood
        is the bot's, not one chat's), the whole bot waits."""
        now = self.monotonic()
        for other, until in list(self._penalties.items()):
            if until <= now:
                del self._penalties[other]
        if chat_id is not None:
            self._penalize_bucket(self._chat_bucket(chat_id), seconds)
            flood = any(other != chat_id for other in self._penalties)
            self._penalties[chat_id] = max(self._penalties.get(chat_id, now), now + seconds)
            if not flood:
                return
        self._penalize_bucket(self.global_bucket, seconds)

    @staticmethod
    def _penalize_bucket(bucket: TokenBucket, seconds: float) -> None:
        bucket.refill()
        bucket.tokens = min(bucket.tokens, 1 - seconds * bucket.rate)


UnreachableHook = Callable[[int], Awaitable[None]]
Guard = Callable[[], bool]


class Sender:
    """``request_timeout`` bounds each request (a timed-out request is a network error and is
    retried); ``guard``, when given to a send, is asked right before every request goes out —
    False stops the send (status ABORTED) without a request."""

    def __init__(
        self,
        bot: Bot,
        limiter: RateLimiter | None = None,
        *,
        on_unreachable: UnreachableHook | None = None,
        max_attempts: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        request_timeout: float = REQUEST_TIMEOUT,
        unreachable_hook_wait: float = UNREACHABLE_HOOK_WAIT,
    ) -> None:
        self.bot = bot
        self.limiter = limiter or RateLimiter(sleep=sleep)
        self.on_unreachable = on_unreachable
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.sleep = sleep
        self.request_timeout = request_timeout
        self.unreachable_hook_wait = unreachable_hook_wait
        self.stats = {
            "sent": 0,
            "retry_after": 0,
            "network_errors": 0,
            "timeouts": 0,
            "unreachable": 0,
            "aborted": 0,
        }
        self._chat_locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._hooks: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def _chat(self, chat_id: int) -> AsyncIterator[None]:
        """Sends to one chat go out one at a time, in order; other chats never wait on this."""
        lock, users = self._chat_locks.get(chat_id, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._chat_locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._chat_locks[chat_id]
            if users <= 1:
                del self._chat_locks[chat_id]
            else:
                self._chat_locks[chat_id] = (lock, users - 1)

    async def call(
        self, chat_id: int, method: TelegramMethod[Any], *, guard: Guard | None = None
    ) -> SendResult:
        assert_no_open_write("Sender.call")  # commit, then talk
        async with self._chat(chat_id):
            result = await self._call(chat_id, method, guard)
        return await self._after(chat_id, result)

    async def _call(
        self, chat_id: int, method: TelegramMethod[Any], guard: Guard | None
    ) -> SendResult:
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(chat_id)
            if guard is not None and not guard():
                self.stats["aborted"] += 1
                return SendResult(SendStatus.ABORTED, error="guard")
            try:
                result = await self._request(method)
            except TelegramRetryAfter as exc:
                self.stats["retry_after"] += 1
                log.warning("429 for chat %s: waiting %s s", chat_id, exc.retry_after)
                penalty = self.limiter.penalize(exc.retry_after, chat_id)
                if inspect.isawaitable(penalty):  # the limiter shared in Redis
                    await penalty
                if attempt >= self.max_attempts * 2:
                    return SendResult(SendStatus.FAILED, error="retry_after")
                await self.sleep(exc.retry_after)
                continue
            except TelegramForbiddenError as exc:
                self.stats["unreachable"] += 1
                log.info("chat %s unreachable: %s", chat_id, exc.message)
                return SendResult(SendStatus.UNREACHABLE, error=exc.message)
            except TelegramEntityTooLarge as exc:
                log.error("request to chat %s too large: %s", chat_id, exc.message)
                return SendResult(SendStatus.FAILED, error=exc.message)
            except (TelegramNetworkError, TelegramServerError, ClientDecodeError) as exc:
                # a ClientDecodeError is an answer that is not Telegram's JSON: an HTML error
                # page of a proxy or a load balancer in front of it — a 5xx in all but name
                self.stats["network_errors"] += 1
                error = _describe(exc)
                if attempt >= self.max_attempts:
                    log.error("giving up on chat %s after %s attempts: %s", chat_id, attempt, error)
                    return SendResult(SendStatus.FAILED, error=error)
                log.warning("chat %s, attempt %s: %s; retrying", chat_id, attempt, error)
                await self.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            except TelegramBadRequest as exc:
                log.error("bad request to chat %s: %s", chat_id, exc.message)
                return SendResult(SendStatus.FAILED, error=exc.message)
            except TelegramAPIError as exc:
                log.error("request to chat %s refused: %s", chat_id, exc.message)
                return SendResult(SendStatus.FAILED, error=exc.message)
            self.stats["sent"] += 1
            message_id = getattr(result, "message_id", None)
            return SendResult(SendStatus.SENT, (message_id,) if message_id else ())

    async def _request(self, method: TelegramMethod[Any]) -> Any:
        token = sender_managed.set(True)
        try:
            async with asyncio.timeout(self.request_timeout):
                return await self.bot(method)
        except TimeoutError:
            self.stats["timeouts"] += 1
            raise TelegramNetworkError(method=method, message="request timed out") from None
        finally:
            sender_managed.reset(token)

    async def _after(self, chat_id: int, result: SendResult) -> SendResult:
        """On 403: the unreachable hook, outside every lock of ours and outside the caller's
        context (its own task, its own unit of work). The send waits for it a little; a hook
        that cannot finish yet (say the update that triggered the send still holds a row the
        hook writes) goes on in the background instead of deadlocking with its caller."""
        if result.status is not SendStatus.UNREACHABLE or self.on_unreachable is None:
            return result
        task = asyncio.create_task(
            self._run_hook(self.on_unreachable, chat_id), context=contextvars.Context()
        )
        self._hooks.add(task)
        task.add_done_callback(self._hooks.discard)
        done, _pending = await asyncio.wait({task}, timeout=self.unreachable_hook_wait)
        if not done:
            log.warning("marking chat %s unreachable goes on in the background", chat_id)
        return result

    async def settle(self, within: float | None = None) -> None:
        """Wait for unreachable hooks still running in the background (a shutdown, tests)."""
        if self._hooks:
            await asyncio.wait(set(self._hooks), timeout=within)

    @staticmethod
    async def _run_hook(hook: UnreachableHook, chat_id: int) -> None:
        try:
            await hook(chat_id)
        except Exception:
            log.exception("marking chat %s unreachable failed", chat_id)

    async def send(
        self, chat_id: int, text: str, reply_markup: Any = None, *, guard: Guard | None = None
    ) -> SendResult:
        """Send HTML text, split under 4096 characters; the keyboard goes on the last part."""
        assert_no_open_write("Sender.send")
        parts = split_html(text)
        ids: list[int] = []
        result = SendResult(SendStatus.SENT)
        async with self._chat(chat_id):
            for i, part in enumerate(parts):
                method = SendMessage(
                    chat_id=chat_id,
                    text=part,
                    reply_markup=reply_markup if i == len(parts) - 1 else None,
                )
                res = await self._call(chat_id, method, guard)
                if not res.ok:
                    result = SendResult(res.status, tuple(ids), res.error)
                    break
                ids.extend(res.message_ids)
            else:
                result = SendResult(SendStatus.SENT, tuple(ids))
        return await self._after(chat_id, result)

    async def send_photo(
        self,
        chat_id: int,
        png: bytes,
        caption: str | None = None,
        filename: str = "chart.png",
        *,
        guard: Guard | None = None,
    ) -> SendResult:
        """Send a PNG (a chart) with an optional HTML caption, under the same limits and retries."""
        method = SendPhoto(
            chat_id=chat_id, photo=BufferedInputFile(png, filename=filename), caption=caption
        )
        return await self.call(chat_id, method, guard=guard)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientDecodeError):
        return "an answer that is not JSON (an error page?)"
    return str(exc)
