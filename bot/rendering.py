"""Small helpers to render and send text safely."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardMarkup, Message

from core.textsplit import split_html


def h(value: object | None) -> str:
    """HTML-escape user-entered text for parse_mode=HTML."""
    return escape("" if value is None else str(value), quote=False)


async def answer_long(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer with as many messages as needed; the keyboard goes on the last one."""
    parts = split_html(text)
    for i, part in enumerate(parts):
        await message.answer(part, reply_markup=reply_markup if i == len(parts) - 1 else None)
