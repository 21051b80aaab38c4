"""Prometheus metrics of one process, served as text on the web port (``/metrics``).

The registry is the process's own (not prometheus-client's global one), so an app built twice in
one process (tests) counts into one place and nothing of the library's defaults leaks in.
Telegram requests are counted by a request middleware on the bot's session, below every retry, so
each attempt counts: a 429 retried and then delivered is one 429 and one message sent.
Due work (pending, overdue, claims past their lease) is read from the database when scraped.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import TelegramObject, Update
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middleware_types import BaseRequestMiddleware, Data, Handler, Method, Next, Response, T

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter("bot_updates_total", "Updates handled, by type", ["type"], registry=REGISTRY)
DUPLICATES = Counter(
    "bot_updates_duplicate_total",
    "Updates Telegram sent again that were already handled (or being handled) somewhere",
    ["outcome"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "bot_handler_seconds",
    "Time to handle one update, by type",
    ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
SENT = Counter(
    "bot_messages_sent_total",
    "Messages Telegram accepted, by method",
    ["method"],
    registry=REGISTRY,
)
RETRY_AFTER = Counter(
    "bot_telegram_429_total", "429 Too Many Requests answers from Telegram", registry=REGISTRY
)
FORBIDDEN = Counter(
    "bot_telegram_403_total",
    "403 answers (blocked, never started) from Telegram",
    registry=REGISTRY,
)
LEASE_EXPIRIES = Counter(
    "bot_claim_lease_expiries_total",
    "Claims this process lost: due work or an update whose lease ran out before it was done",
    ["what"],
    registry=REGISTRY,
)
DUE_PENDING = Gauge("bot_due_work_pending", "Due work not sent yet", registry=REGISTRY)
DUE_OVERDUE = Gauge(
    "bot_due_work_overdue", "Due work whose time has come and is not sent yet", registry=REGISTRY
)
DUE_EXPIRED = Gauge(
    "bot_due_work_claims_expired",
    "Claimed due work whose lease ran out (its worker died or stalled; taken again soon)",
    registry=REGISTRY,
)

SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendVideo", "sendAudio"}
)


class CountRequests(BaseRequestMiddleware):
    """Messages sent, 429s and 403s: every attempt, on the bot's HTTP session."""

    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
        name = getattr(method, "__api_method__", "")
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            RETRY_AFTER.inc()
            raise
        except TelegramForbiddenError:
            FORBIDDEN.inc()
            raise
        if name in SEND_METHODS:
            SENT.labels(name).inc()
        return response


class UpdateMetrics(BaseMiddleware):
    """Outer update middleware: updates by type and the time each took."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: Data) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            UPDATES.labels(kind).inc()
            LATENCY.labels(kind).observe(time.perf_counter() - started)


async def refresh_due_work(
    session_factory: async_sessionmaker[AsyncSession], now: datetime, lease: timedelta
) -> None:
    from services.duework import CLAIMED, PENDING
    from storage.models import DueWork

    async with session_factory() as session:
        pending, overdue, expired = (
            await session.execute(
                select(
                    func.count().filter(DueWork.status == PENDING),
                    func.count().filter(DueWork.status == PENDING, DueWork.due_at <= now),
                    func.count().filter(
                        DueWork.status == CLAIMED, DueWork.claimed_at < now - lease
                    ),
                ).where(DueWork.status.in_((PENDING, CLAIMED)))
            )
        ).one()
    DUE_PENDING.set(pending)
    DUE_OVERDUE.set(overdue)
    DUE_EXPIRED.set(expired)


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
