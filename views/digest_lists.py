"""The buttons under a digest section's list: each contact opens its card, each case the case.
The ids are checked against the viewer's scope on tap (CardInScope; services.nps.get_case_for)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup

from views.callbacks import CardAction, CardCb, CaseCb
from views.keyboards import InlineKeyboard

if TYPE_CHECKING:
    from services import digest as dg


def list_keyboard(items: list[dg.Item]) -> InlineKeyboardMarkup | None:
    """One button per contact (the first time it appears) or per case; None for an empty list."""
    kb = InlineKeyboard()
    seen: set[int] = set()
    for it in items:
        if it.case_id is not None:
            kb.button(text=it.name[:40], callback_data=CaseCb(a="open", id=it.case_id))
        elif it.contact_id is not None and it.contact_id not in seen:
            seen.add(it.contact_id)
            kb.button(
                text=it.name[:40], callback_data=CardCb(action=CardAction.OPEN, id=it.contact_id)
            )
    if not kb.buttons:
        return None
    kb.adjust(2)
    return kb.as_markup()
