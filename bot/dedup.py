"""Each update is handled once, however often Telegram sends it and whichever replica gets it.

Telegram sends an update again when it got no answer in time (a replica died, stalled, or the
proxy timed out). ``Dispatcher.feed_update`` is wrapped (:func:`install`), for polling and webhooks
alike, so every update first takes a ticket from an :class:`UpdateGate`:

- **new**: this replica handles it. In Redis (``SET key run:<token> NX PX lease``, the key under
  REDIS_PREFIX) the hold has a lease, renewed by a heartbeat while the update runs; when it ends
  the key says ``done`` for a day (Telegram keeps an update no longer).
- **done**: handled already (here or on another replica): dropped, answered 200.
- **busy**: being handled elsewhere right now: :class:`UpdateBusy`; the webhook answers 503, so
  Telegram sends it again later — handled then only if the holder died and its lease ran out.

Without Redis (one process) the gate is an in-process LRU of recent update ids.

A replica stalled past its lease (SIGSTOP, a long GC, a VM pause) may wake up while another
handles the same update: its hold is then *fenced*. The update's :class:`Fence` (a context
variable, so every task of the update sees it) is valid until the lease it last renewed, less a
third; past that, or once the heartbeat finds the key taken over, no Telegram request of the
update goes out (:class:`FenceRequests` on the bot's session) and no write of it commits (a
``before_commit`` check on every SQLAlchemy session). Its work is done by the other replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot import metrics
from bot.logs import current_update_id
from bot.middleware_types import BaseRequestMiddleware, Method, Next, Response, T

log = logging.getLogger(__name__)

DONE_TTL_SECONDS = 24 * 3600  # Telegram keeps an update this long, so it never comes later


class UpdateBusy(Exception):
    """The update is being handled by another replica right now (answer 503: resend later)."""


class UpdateClaimLost(Exception):
    """This replica's hold on the update lapsed (stalled past its lease): it must not act."""


@dataclass
class Fence:
    lease: float
    monotonic: Callable[[], float] = time.monotonic
    valid_until: float = 0.0
    lost: bool = False
    update_id: int = 0

    def renewed(self, at: float | None = None) -> None:
        at = self.monotonic() if at is None else at
        self.valid_until = at + self.lease * 2 / 3

    def valid(self) -> bool:
        return not self.lost and self.monotonic() < self.valid_until

    def check(self, what: str) -> None:
        if not self.valid():
            if not self.lost:
                self.lost = True
                metrics.LEASE_EXPIRIES.labels("update").inc()
            raise UpdateClaimLost(
                f"update {self.update_id}: this replica's hold lapsed; not doing {what}"
            )


current_fence: ContextVar[Fence | None] = ContextVar("update_fence", default=None)


@dataclass
class Ticket:
    status: str  # "new", "done", "busy"
    token: str = ""
    fence: Fence | None = None
    _beat: asyncio.Task[None] | None = field(default=None, repr=False)


class UpdateGate:
    async def admit(self, update_id: int) -> Ticket:  # pragma: no cover - interface
        raise NotImplementedError

    async def finish(self, update_id: int, ticket: Ticket, *, handled: bool) -> None:
        raise NotImplementedError  # pragma: no cover

    async def close(self) -> None:
        return None


class MemoryUpdateGate(UpdateGate):
    """One process: the last ``size`` update ids, in progress or done."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.seen: OrderedDict[int, str] = OrderedDict()

    async def admit(self, update_id: int) -> Ticket:
        state = self.seen.get(update_id)
        if state is not None:
            return Ticket("done" if state == "done" else "busy")
        self.seen[update_id] = "run"
        while len(self.seen) > self.size:
            self.seen.popitem(last=False)
        return Ticket("new")

    async def finish(self, update_id: int, ticket: Ticket, *, handled: bool) -> None:
        if handled:
            self.seen[update_id] = "done"
        else:
            self.seen.pop(update_id, None)


_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_FINISH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


@dataclass(eq=False)
class RedisUpdateGate(UpdateGate):
    client: Any
    prefix: str
    _: KW_ONLY
    lease: float = 30.0
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Any] = asyncio.sleep
    owns_client: bool = False

    def __post_init__(self) -> None:
        self._renew = self.client.register_script(_RENEW)
        self._finish = self.client.register_script(_FINISH)

    def key(self, update_id: int) -> str:
        return f"{self.prefix}:update:{update_id}"

    async def admit(self, update_id: int) -> Ticket:
        token = "run:" + secrets.token_hex(8)
        key = self.key(update_id)
        started = self.monotonic()
        if await self.client.set(key, token, nx=True, px=int(self.lease * 1000)):
            fence = Fence(self.lease, self.monotonic, update_id=update_id)
            fence.renewed(started)
            ticket = Ticket("new", token, fence)
            ticket._beat = asyncio.create_task(self._heartbeat(key, ticket))
            return ticket
        held = await self.client.get(key)
        if held is None:  # finished and released (a failure) in between: take it now
            return await self.admit(update_id)
        return Ticket("done" if held == b"done" else "busy")

    async def _heartbeat(self, key: str, ticket: Ticket) -> None:
        fence = ticket.fence
        assert fence is not None
        while True:
            await self.sleep(self.lease / 3)
            at = self.monotonic()
            try:
                held = await self._renew(keys=[key], args=[ticket.token, int(self.lease * 1000)])
            except Exception:  # noqa: BLE001 - Redis away: the deadline still fences
                log.warning("could not renew the hold on update %s", fence.update_id)
                continue
            if not held:
                if not fence.lost:
                    fence.lost = True
                    metrics.LEASE_EXPIRIES.labels("update").inc()
                log.warning("the hold on update %s was lost: not acting on it", fence.update_id)
                return
            fence.renewed(at)

    async def finish(self, update_id: int, ticket: Ticket, *, handled: bool) -> None:
        beat, ticket._beat = ticket._beat, None
        if beat is not None:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        await self._finish(
            keys=[self.key(update_id)],
            args=[ticket.token, "done" if handled else "", DONE_TTL_SECONDS * 1000],
        )

    async def close(self) -> None:
        if self.owns_client:
            await self.client.aclose()


def create_gate(settings: Any) -> UpdateGate:
    if settings.redis_url:
        import redis.asyncio as redis

        client = redis.Redis.from_url(settings.redis_url)
        return RedisUpdateGate(
            client,
            settings.redis_prefix,
            lease=settings.update_lease_seconds,
            owns_client=True,
        )
    return MemoryUpdateGate()


def install(dp: Dispatcher, gate: UpdateGate) -> None:
    """Wrap ``dp.feed_update`` (polling and the webhook both call it) with the gate."""
    inner = dp.feed_update

    async def feed_update(bot: Bot, update: Update, **kwargs: Any) -> Any:
        ticket = await gate.admit(update.update_id)
        if ticket.status == "done":
            metrics.DUPLICATES.labels("dropped").inc()
            log.info("update %s was handled already: dropped", update.update_id)
            return None
        if ticket.status == "busy":
            metrics.DUPLICATES.labels("busy").inc()
            raise UpdateBusy(f"update {update.update_id} is being handled elsewhere")
        id_token = current_update_id.set(update.update_id)
        fence_token = current_fence.set(ticket.fence)
        handled = False
        try:
            result = await inner(bot, update, **kwargs)
            handled = True
            return result
        except UpdateClaimLost:
            handled = True  # someone else holds it now: leave their key alone (no-op anyway)
            log.warning(
                "update %s: hold lapsed, left to the replica that took it over", update.update_id
            )
            return None
        finally:
            current_fence.reset(fence_token)
            current_update_id.reset(id_token)
            with contextlib.suppress(Exception):
                await asyncio.shield(gate.finish(update.update_id, ticket, handled=handled))

    dp.feed_update = feed_update  # type: ignore[method-assign]


class FenceRequests(BaseRequestMiddleware):
    """No Telegram request of an update whose hold lapsed."""

    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
        fence = current_fence.get()
        if fence is not None:
            fence.check(getattr(method, "__api_method__", "a request"))
        return await make_request(bot, method)


_commit_fenced = False


def fence_commits() -> None:
    """No write of an update whose hold lapsed commits (every SQLAlchemy session, once)."""
    global _commit_fenced
    if _commit_fenced:
        return
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    def before_commit(_session: Session) -> None:
        fence = current_fence.get()
        if fence is not None:
            fence.check("a commit")

    event.listen(Session, "before_commit", before_commit)
    _commit_fenced = True
