"""The names a middleware's ``__call__`` is written with, defined once.

A session (request) middleware and an update middleware in ``bot/`` have these signatures::

    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
    async def __call__(self, handler: Handler, event: TelegramObject, data: Data) -> Any:
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject

T = TelegramType
Next = NextRequestMiddlewareType
Method = TelegramMethod
Data = dict[str, Any]
Handler = Callable[[TelegramObject, Data], Awaitable[Any]]

__all__ = ["BaseRequestMiddleware", "Data", "Handler", "Method", "Next", "Response", "T"]
