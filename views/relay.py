"""Replying to a client from the bot: the Reply button under their message, the reply window,
what the client receives (words, or a file with them), and how it went; and a client's file
passed on to the rep."""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import SendDocument, SendPhoto, SendVoice, TelegramMethod
from aiogram.types import InlineKeyboardButton

from bot.i18n import _, ngettext
from core.textsplit import utf16_len
from views.rendering import h

CAPTION_MAX = 1024  # what Telegram takes as a file's caption


class RelayCb(CallbackData, prefix="rl"):
    """Open the reply window to a card's person; ``id`` (a contact) is re-checked by scope."""

    id: int


def reply_button(contact_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("↩️ Reply"), callback_data=RelayCb(id=contact_id).pack())


def window(name: str) -> str:
    return _(
        "✍️ Write your reply to <b>{name}</b>: I will send it from the bot and log it as a touch. "
        "/cancel to leave."
    ).format(name=h(name))


def no_telegram(name: str) -> str:
    return _(
        "<b>{name}</b> has no Telegram account on the card, so I cannot relay a reply."
    ).format(name=h(name))


def to_client(rep: str, text: str) -> str:
    """What the client receives: who writes, and the words as typed."""
    return f"💬 <b>{h(rep)}</b>" + (f"\n{h(text)}" if text else "")


def file_captions(rep: str, text: str) -> tuple[str, str | None]:
    """A file's caption (who writes, and the words), and the words sent after it when they do
    not fit a caption."""
    caption = to_client(rep, text)
    if utf16_len(f"💬 {rep}\n{text}") <= CAPTION_MAX:
        return caption, None
    return to_client(rep, ""), h(text)


def send_file(chat_id: int, kind: str, file_id: str, caption: str | None) -> TelegramMethod[Any]:
    """Send a file Telegram holds (by its id) again, to another chat, with an HTML caption."""
    if kind == "photo":
        return SendPhoto(chat_id=chat_id, photo=file_id, caption=caption)
    if kind == "voice":
        return SendVoice(chat_id=chat_id, voice=file_id, caption=caption)
    return SendDocument(chat_id=chat_id, document=file_id, caption=caption)


def outcome(name: str, *, sent: bool, unreachable: bool = False) -> str:
    """How the relay went: sent; refused for good (``unreachable``: blocked, or never started);
    or not taken just now. Another reply is another tap on ↩️ Reply."""
    if sent:
        text = _("✅ Sent to <b>{name}</b> and logged as a touch. To write again, tap ↩️ Reply.")
    elif unreachable:
        text = _(
            "⚠️ Not delivered: <b>{name}</b> has blocked the bot or never started it, so Telegram "
            "refused the message. The touch is logged and marked as not delivered; reach them "
            "another way."
        )
    else:
        text = _(
            "⚠️ Telegram did not take the message to <b>{name}</b> just now. The touch is logged "
            "and marked as not delivered; try ↩️ Reply again later."
        )
    return text.format(name=h(name))


def too_long(count: int, limit: int) -> str:
    """A reply longer than one Telegram message: nothing sent, the window stays open."""
    return ngettext(
        "This reply has {count} character; one Telegram message holds up to {limit}. Nothing "
        "was sent: send a shorter reply, or the first part now and the rest with ↩️ Reply again.",
        "This reply has {count} characters; one Telegram message holds up to {limit}. Nothing "
        "was sent: send a shorter reply, or the first part now and the rest with ↩️ Reply again.",
        count,
    ).format(count=count, limit=limit)


def not_sendable() -> str:
    """Something else than text, a photo, a voice note or a document in the reply window."""
    return _(
        "This cannot be sent as a reply. Send text, a photo, a voice note or a document, or "
        "/cancel to leave without replying."
    )


def cancelled() -> str:
    return _("Cancelled: the reply was not sent.")


def from_client(name: str) -> str:
    """The caption of a client's file passed on to the rep (their notice follows)."""
    return f"💬 <b>{h(name)}</b>"


class RelayForm(StatesGroup):
    text = State()
