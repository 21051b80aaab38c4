"""What clients see of the NPS loop (no CRM data ever), and the keyboards they tap."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from views.callbacks import NpsCb
from views.keyboards import InlineKeyboard
from views.rendering import h


def question(company: str | None) -> str:
    if company:
        return _(
            "How likely are you to recommend {company} to a friend or colleague? "
            "Tap a number: 0 — not at all likely, 10 — extremely likely."
        ).format(company=h(company))
    return _(
        "How likely are you to recommend us to a friend or colleague? "
        "Tap a number: 0 — not at all likely, 10 — extremely likely."
    )


def score_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    for score in range(11):
        kb.button(text=str(score), callback_data=NpsCb(s=survey_id, v=score))
    kb.adjust(6, 5)
    return kb.as_markup()


def review_line(url: str | None) -> str:
    if not url:
        return ""
    return "\n\n" + _("If you have a minute, a public review would help us a lot: {url}").format(
        url=h(url)
    )
