"""The names a session (request) middleware's ``__call__`` is written with, defined once.

Every request middleware in ``bot/`` has the same signature::

    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
"""

from __future__ import annotations

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

T = TelegramType
Next = NextRequestMiddlewareType
Method = TelegramMethod

__all__ = ["BaseRequestMiddleware", "Method", "Next", "Response", "T"]
