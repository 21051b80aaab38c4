"""Replying to a client from the bot: the Reply button under their message, the reply window,
what the client receives, and how it went."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton

from bot.i18n import _
from views.rendering import h


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
    return f"💬 <b>{h(rep)}</b>\n{h(text)}"


def outcome(name: str, *, sent: bool, unreachable: bool = False) -> str:
    """How the relay went: sent; refused for good (``unreachable``: blocked, or never started);
    or not taken just now. The window is closed whichever it was."""
    if sent:
        text = _(
            "✅ Sent to <b>{name}</b> and logged as a touch. The reply window is closed; tap ↩️ "
            "Reply again to write more."
        )
    elif unreachable:
        text = _(
            "⚠️ Not delivered: <b>{name}</b> has blocked the bot or never started it, so Telegram "
            "refused the message. The touch is logged and marked as not delivered; reach them "
            "another way. The reply window is closed."
        )
    else:
        text = _(
            "⚠️ Telegram did not take the message to <b>{name}</b> just now. The touch is logged "
            "and marked as not delivered; try ↩️ Reply again later. The reply window is closed."
        )
    return text.format(name=h(name))


class RelayForm(StatesGroup):
    text = State()
