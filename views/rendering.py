"""Small helpers to render and send text safely."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import _
from core.contactdata import display_phone
from core.textsplit import split_html


def phone_text(stored: str) -> str:
    """A stored phone as shown, its extension named in the reader's language ("ext. 12",
    "доб. 12")."""
    return display_phone(stored, ext=_("ext."))


def h(value: object | None) -> str:
    """HTML-escape user-entered text for parse_mode=HTML."""
    return escape("" if value is None else str(value), quote=False)


def quoted(value: object | None) -> str:
    """Someone's words, escaped, in the quotes of the reader's language (“…” / «…»)."""
    return _("“{value}”").format(value=h(value))


async def answer_long(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer with as many messages as needed; the keyboard goes on the last one."""
    parts = split_html(text)
    for i, part in enumerate(parts):
        await message.answer(part, reply_markup=reply_markup if i == len(parts) - 1 else None)


def is_not_modified(exc: TelegramBadRequest) -> bool:
    """Telegram refuses an edit that changes nothing (a second tap of the same button)."""
    return "message is not modified" in exc.message


async def edit_text(message: Message, text: str, **kwargs: Any) -> None:
    """Edit a message in place; an edit that changes nothing is no error."""
    try:
        await message.edit_text(text, **kwargs)
    except TelegramBadRequest as exc:
        if not is_not_modified(exc):
            raise


async def drop_keyboard(message: Message) -> None:
    """Take the buttons off a message once they have done their job (twice is no error)."""
    try:
        await message.edit_reply_markup(reply_markup=None)
    except TelegramBadRequest as exc:
        if not is_not_modified(exc):
            raise


def tap_of(query: CallbackQuery) -> dict[str, Any]:
    """Which button on which message a tap was (services.taps: creating buttons act once)."""
    message = query.message
    return {
        "chat_id": message.chat.id if message else query.from_user.id,
        "message_id": message.message_id if message else 0,
        "data": query.data or "",
    }


def card_titles(cards: Sequence[Any], width: int = 60) -> list[str]:
    """Cards' names (and companies) as their buttons show them; cards that would read alike
    (two "Dina Yun · Gamma") are told apart by their phone, e-mail or number."""
    base = [c.name + (f" · {c.company}" if c.company else "") for c in cards]
    out = []
    for c, title in zip(cards, base, strict=True):
        if base.count(title) > 1:
            apart = phone_text(c.phone) if c.phone else c.email or f"#{c.id}"
            out.append(title[: width - len(apart) - 3] + " · " + apart)
        else:
            out.append(title[:width])
    return out
