"""A pasted text that looks like a contact: the "Add?" offer and its answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from views.keyboards import InlineKeyboard
from views.rendering import h, phone_text


class PasteCb(CallbackData, prefix="pa"):
    """The answer to "Add?" under a pasted contact (the fields wait in the dialogue state)."""

    a: str  # add | no


def offer(data: Mapping[str, Any], tags: list[str]) -> tuple[str, InlineKeyboardMarkup]:
    head = f"<b>{h(data['name'])}</b>"
    extra = ", ".join(h(data[k]) for k in ("company", "position") if data.get(k))
    lines = [_("This looks like a contact:"), head + (f" — {extra}" if extra else "")]
    details = [phone_text(data["phone"]) if data.get("phone") else None, data.get("email")]
    details.append(f"@{data['tg_username']}" if data.get("tg_username") else None)
    details += [f"#{t}" for t in tags]
    shown = " · ".join(h(x) for x in details if x)
    if shown:
        lines.append(shown)
    lines += ["", _("Add it?")]
    kb = InlineKeyboard()
    kb.button(text=_("➕ Add contact"), callback_data=PasteCb(a="add"))
    kb.button(text=_("No"), callback_data=PasteCb(a="no"))
    return "\n".join(lines), kb.as_markup()


def not_added() -> str:
    return _("OK, not added.")


def expired() -> str:
    return _("This choice has expired. Add the contact again.")
