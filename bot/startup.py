"""Start-up that survives Telegram's faults: getMe, deleteWebhook and setMyCommands are retried.

A transient fault (a 5xx, a 429, an HTML error page instead of the Bot API's JSON, a timeout, a
refused or dropped connection) is retried with exponential back-off, capped at
``BACKOFF.max_delay``, one WARNING line per retry naming the method and the error class:

- getMe and deleteWebhook are retried until they succeed: the bot cannot poll without them, and
  Telegram being unreachable at start is no reason to exit (a supervisor restarting the process
  in a loop would only add noise);
- setMyCommands (the menu) is tried ``COMMANDS_ATTEMPTS`` times during start-up; then the bot
  starts without its menu and keeps trying in the background, with the same capped back-off.

A permanent answer (401: the token is wrong; 404: no such bot or not a Bot API server; a redirect
loop or an invalid address in TELEGRAM_API_BASE) raises :class:`StartupRefused` with one line
that says what to fix; ``python -m bot`` prints it and exits with code 2.

Sleeping is injected (``sleep``), so the tests run the back-off without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    ClientDecodeError,
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.logs import one_line
from bot.middleware_types import BaseRequestMiddleware, Method, Next, Response, T

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=60.0, factor=2.0, jitter=0.1)
COMMANDS_ATTEMPTS = 3
ESSENTIAL = frozenset({"getMe", "deleteWebhook", "setWebhook"})
"""Without these the bot cannot poll: retried until they succeed."""
COMMANDS = "setMyCommands"


class StartupRefused(Exception):
    """Telegram (or the address in TELEGRAM_API_BASE) refused for good; the message is one line."""


def _cause(exc: BaseException) -> BaseException | None:
    return exc.__cause__ if isinstance(exc, TelegramNetworkError) else None


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the same request may well succeed in a while."""
    if isinstance(exc, TelegramEntityTooLarge):
        return False
    if isinstance(exc, TelegramNetworkError):
        # a redirect loop or a malformed address does not heal by waiting
        return not isinstance(_cause(exc), aiohttp.TooManyRedirects | aiohttp.InvalidURL)
    return isinstance(
        exc,
        TelegramServerError | TelegramRetryAfter | ClientDecodeError | OSError | TimeoutError,
    )


def error_class(exc: BaseException) -> str:
    """``TelegramServerError``, or ``TelegramNetworkError (ClientConnectorError)``."""
    cause = _cause(exc)
    if cause is not None:
        return f"{type(exc).__name__} ({type(cause).__name__})"
    return type(exc).__name__


def _hint(exc: BaseException, api_base: str) -> str:
    if isinstance(exc, TelegramRetryAfter):
        return "Telegram asks to wait"
    if isinstance(exc, TelegramServerError):
        return "Telegram's side failed"
    if isinstance(exc, ClientDecodeError):
        return f"the answer from {api_base} is not the Bot API's (an error page?)"
    return f"Telegram is unreachable at {api_base}"


def explain(exc: BaseException, method: str, api_base: str) -> str:
    """One line for a permanent refusal: what happened and what to change."""
    cause = _cause(exc)
    if isinstance(exc, TelegramUnauthorizedError):
        return (
            "Telegram refused BOT_TOKEN (401 Unauthorized): copy the token from @BotFather "
            "(/mybots → API Token) into .env again."
        )
    if isinstance(exc, TelegramNotFound):
        return (
            f"{api_base} answered 404 Not Found to {method}: BOT_TOKEN is malformed, or "
            "TELEGRAM_API_BASE is not a Bot API server."
        )
    if isinstance(cause, aiohttp.TooManyRedirects):
        return (
            f"TELEGRAM_API_BASE={api_base} redirects in a loop: "
            "set it to the Bot API server's own address."
        )
    if isinstance(cause, aiohttp.InvalidURL):
        return f"TELEGRAM_API_BASE={api_base} is not a valid address."
    return f"Telegram refused {method}: {one_line(exc)}"


class StartupRetry(BaseRequestMiddleware):
    """Session middleware: retries the start-up calls (see the module docstring).

    Installed on the bot's session by ``python -m bot``; ``started`` and ``stopped`` are the
    dispatcher's start-up and shutdown hooks (registered after the app's own, so the menu set in
    the app's start-up is still covered).
    """

    def __init__(
        self,
        api_base: str,
        *,
        sleep: Sleep = asyncio.sleep,
        backoff: BackoffConfig = BACKOFF,
        commands_attempts: int = COMMANDS_ATTEMPTS,
    ) -> None:
        self.api_base = api_base
        self.sleep = sleep
        self.backoff = backoff
        self.commands_attempts = commands_attempts
        self.starting = True
        self.deferred: list[TelegramMethod[Any]] = []
        """setMyCommands calls that failed during start-up; retried in the background."""
        self._task: asyncio.Task[None] | None = None

    def _delay(self, backoff: Backoff, exc: BaseException | None) -> float:
        delay = min(max(next(backoff), self.backoff.min_delay), self.backoff.max_delay)
        if isinstance(exc, TelegramRetryAfter):
            delay = float(exc.retry_after)  # Telegram's own number, not ours
        return delay

    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
        name = method.__api_method__
        if not self.starting or (name not in ESSENTIAL and name != COMMANDS):
            return await make_request(bot, method)
        essential = name in ESSENTIAL
        # once the menu has failed for good at start-up, the rest of it is deferred at once
        attempts = None if essential else (1 if self.deferred else self.commands_attempts)
        backoff = Backoff(self.backoff)
        for attempt in itertools.count(1):
            try:
                return await make_request(bot, method)
            except Exception as exc:
                if not is_transient(exc):
                    if essential:
                        raise StartupRefused(explain(exc, name, self.api_base)) from exc
                    raise
                if attempts is not None and attempt >= attempts:
                    self.deferred.append(method)
                    log.warning(
                        "%s failed: %s; the bot starts without it and retries in the background",
                        name,
                        error_class(exc),
                    )
                    raise
                delay = self._delay(backoff, exc)
                log.warning(
                    "%s failed: %s; %s, retry %d in %.1f s",
                    name,
                    error_class(exc),
                    _hint(exc, self.api_base),
                    attempt,
                    delay,
                )
                await self.sleep(delay)

    # ------------------------------------------------------------------ dispatcher hooks
    async def started(self, bot: Bot) -> None:
        self.starting = False
        if self.deferred:
            self._task = asyncio.create_task(self._retry_deferred(bot))

    async def stopped(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _retry_deferred(self, bot: Bot) -> None:
        backoff = Backoff(self.backoff)
        failure: BaseException | None = None
        while self.deferred:
            method = self.deferred[0]
            name = method.__api_method__
            delay = self._delay(backoff, failure) if failure else self.backoff.min_delay
            await self.sleep(delay)
            try:
                await bot(method)
            except AiogramError as exc:
                if is_transient(exc):
                    failure = exc
                    log.warning("%s failed again: %s; retrying later", name, error_class(exc))
                    continue
                log.warning("%s refused: %s; giving up", name, one_line(exc))
            else:
                log.info("%s succeeded on a later try", name)
            failure = None
            self.deferred.pop(0)
