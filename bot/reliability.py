"""Request middlewares on the bot's HTTP session: what every call to Telegram goes through.

- :class:`CommitThenTalk` refuses a request made while a write transaction is open (a message
  must never report a write that could still be rolled back, and no lock is held across a round
  trip), and ends the update's read transaction before the round trip.
- :class:`TolerantCallbackAnswers`: a callback answer and taking a message's buttons off go out
  alongside the update's reply; a failed one ("query is too old") never aborts the action.
- :class:`ReplyRetry`: a direct reply that meets a 429 waits ``retry_after`` and is sent; a 5xx,
  an HTML error page (aiogram's ``ClientDecodeError``) or a network error is retried with
  back-off. The Sender (bulk messages) has its own policy and is left alone.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    DeleteMyCommands,
    DeleteWebhook,
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    GetMe,
    GetUpdates,
    Response,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
    TelegramMethod,
)
from aiogram.types import TelegramObject

from bot.middleware_types import BaseRequestMiddleware, Data, Handler, Method, Next, T
from bot.middlewares import update_session
from bot.sender import sender_managed  # the Sender waits on 429s and retries by its own rules
from storage import uow

log = logging.getLogger(__name__)


TRANSIENT = (TelegramServerError, ClientDecodeError, TelegramNetworkError)
# polling and callback answers have their own timing; start-up calls are retried by bot.startup
NOT_RETRIED = (
    GetUpdates,
    AnswerCallbackQuery,
    GetMe,
    DeleteWebhook,
    SetWebhook,
    SetMyCommands,
    DeleteMyCommands,
)


def method_name(method: TelegramMethod[Any]) -> str:
    return getattr(method, "__api_method__", type(method).__name__)


class CommitThenTalk(BaseRequestMiddleware):
    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
        uow.assert_no_open_write(method_name(method))
        session = update_session.get()
        # a side request goes out alongside (TolerantCallbackAnswers): nobody waits for it, so
        # the read transaction need not end for it
        alongside = _current.get() is not None and _is_side_request(method)
        if session is not None and not alongside:
            await uow.end_read(session)
        return await make_request(bot, method)


class CallbackAnswers:
    """One update's callback answers: started alongside its other requests, awaited at its end;
    ``answered`` tells the error handler not to answer a query a second time."""

    def __init__(self) -> None:
        self.pending: list[asyncio.Future[Any]] = []
        self.answered: set[str] = set()


# set per update by CallbackAnswersAlongside; None outside an update (answers then wait in place)
_current: ContextVar[CallbackAnswers | None] = ContextVar("callback_answers", default=None)


class TolerantCallbackAnswers(BaseRequestMiddleware):
    """Side requests of an update — a callback answer (it only stops the button's spinner or
    shows a short notice) and taking the buttons off a message whose buttons have done their
    job (``editMessageReplyMarkup`` with no markup) — go out alongside the update's other
    requests instead of before them, so the user waits one round trip for the answer, not two;
    their failure is logged, never raised. The update is finished only once they are out."""

    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
        if not _is_side_request(method):
            return await make_request(bot, method)
        answers = _current.get()
        if answers is None:
            return await self._answer(make_request, bot, method)  # type: ignore[return-value]
        if isinstance(method, AnswerCallbackQuery):
            answers.answered.add(method.callback_query_id)
        answers.pending.append(asyncio.ensure_future(self._answer(make_request, bot, method)))
        return Response[bool](ok=True, result=True)  # type: ignore[return-value]

    async def _answer(self, make_request: Next[Any], bot: Bot, method: Any) -> Response[Any]:
        try:
            return await make_request(bot, method)
        except (TelegramBadRequest, *TRANSIENT) as exc:
            log.info(
                "%s not delivered (%s); the action goes on", method_name(method), type(exc).__name__
            )
            return Response[bool](ok=True, result=True)


def _is_side_request(method: TelegramMethod[Any]) -> bool:
    if isinstance(method, AnswerCallbackQuery):
        return True
    return isinstance(method, EditMessageReplyMarkup) and method.reply_markup is None


class CallbackAnswersAlongside(BaseMiddleware):
    """Outer update middleware: callback answers started by the handler run alongside its other
    requests, and are awaited before the update counts as handled."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: Data) -> Any:
        answers = data["callback_answers"] = CallbackAnswers()
        token = _current.set(answers)
        try:
            return await handler(event, data)
        finally:
            _current.reset(token)
            if answers.pending:
                await asyncio.gather(*answers.pending, return_exceptions=True)


class ReplyRetry(BaseRequestMiddleware):
    def __init__(
        self,
        *,
        attempts: int = 4,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep

    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
        if sender_managed.get() or isinstance(method, NOT_RETRIED):
            return await make_request(bot, method)
        for attempt in itertools.count(1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt >= self.attempts or exc.retry_after > self.max_retry_after:
                    raise
                log.warning("429 on %s: waiting %s s", method_name(method), exc.retry_after)
                await self.sleep(exc.retry_after)
            except TRANSIENT as exc:
                if attempt >= self.attempts:
                    raise
                log.warning(
                    "%s on %s, retrying (attempt %s)",
                    type(exc).__name__,
                    method_name(method),
                    attempt,
                )
                await self.sleep(self.backoff * 2 ** (attempt - 1))


# aiogram parses every answer as ``Response[<the method's result type>]``; pydantic keeps such
# parametrized models only in a weak cache, and the garbage collector kept dropping them, so a
# model was rebuilt (about 20 ms of CPU) every few requests. Strong references keep them built.
_USED_METHODS = (
    GetUpdates,
    GetMe,
    DeleteWebhook,
    SetMyCommands,
    DeleteMyCommands,
    AnswerCallbackQuery,
    SendMessage,
    SendDocument,
    SendPhoto,
    EditMessageText,
    EditMessageReplyMarkup,
    DeleteMessage,
    GetFile,
)
_RESPONSE_MODELS: list[Any] = []


def keep_response_models() -> None:
    if not _RESPONSE_MODELS:
        _RESPONSE_MODELS.extend(Response[m.__returning__] for m in _USED_METHODS)


def install(bot: Bot, *, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
    """Outermost first: the guard, then tolerant callback answers, then retries."""
    keep_response_models()
    bot.session.middleware(CommitThenTalk())
    bot.session.middleware(TolerantCallbackAnswers())
    bot.session.middleware(ReplyRetry(sleep=sleep))
