"""A next step set or kept on an archived card: no reminder comes while the card stays in the
archive, so the rep is told so before confirming, with a one-tap choice — restore the card and
plan (its reminder is planned) or save the step without a reminder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from views import touches as touch_views
from views.callbacks import PickCb, for_card
from views.keyboards import InlineKeyboard
from views.touches import step_kept

if TYPE_CHECKING:  # rows the caller has loaded: a view never queries
    from storage.models import Contact

RESTORE = "restore"  # PickCb(f="nc"): restore the card, then save the step
KEEP_RESTORE, KEEP_BARE = "keepr", "keepn"  # PickCb(f="nx"): 📌 Keep it, on an archived card


def is_archived(contact: Contact | None) -> TypeGuard[Contact]:
    return contact is not None and contact.archived_at is not None


def no_reminder_note() -> str:
    """Under a next step's question on an archived card (no reminder comes for it)."""
    return _("🗄 The card is archived: no reminder will come while it stays in the archive.")


def restore_button() -> str:
    return _("♻️ Restore the card and plan")


def confirm_keyboard(card_id: int) -> InlineKeyboardMarkup:
    """Under the due time's confirmation on an archived card: restore it and plan, or save the
    step without a reminder (or change the time)."""
    kb = InlineKeyboard()
    kb.button(text=restore_button(), callback_data=PickCb(f="nc", v=for_card(RESTORE, card_id)))
    kb.button(
        text=_("Save without a reminder"), callback_data=PickCb(f="nc", v=for_card("ok", card_id))
    )
    kb.button(text=_("Change"), callback_data=PickCb(f="nc", v=for_card("change", card_id)))
    kb.adjust(1)
    return kb.as_markup()


def keep_question(planned: str, card_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """📌 Keep it tapped on an archived card: its step stays, but with no reminder unless the
    card is restored."""
    kb = InlineKeyboard()
    kb.button(
        text=restore_button(), callback_data=PickCb(f="nx", v=for_card(KEEP_RESTORE, card_id))
    )
    kb.button(
        text=_("📌 Keep without a reminder"),
        callback_data=PickCb(f="nx", v=for_card(KEEP_BARE, card_id)),
    )
    kb.adjust(1)
    text = _("Planned now: {planned}").format(planned=planned) + "\n\n" + no_reminder_note()
    return text, kb.as_markup()


def kept_bare(planned: str) -> str:
    """The planned step stays on the archived card, without a reminder."""
    return _(
        "📌 The next step stays, without a reminder: {planned}. The card is in the archive."
    ).format(planned=planned)


def restored() -> str:
    return _("♻️ The card is restored.")


def kept(contact: Contact | None, planned: str | None, *, restored_now: bool) -> str:
    """After 📌 Keep it (on an archived card: kept without a reminder, or restored first): the
    step the card has now stays; nothing is written for it."""
    if contact is None:
        return _("Contact not found.")
    if planned is None:
        text = _("Nothing to keep: the card has no next step now.")
    else:
        text = kept_bare(planned) if is_archived(contact) else step_kept(planned)
    return restored() + "\n" + text if restored_now else text


def confirm_prompt(question: str, card_id: int, *, archived: bool) -> dict[str, Any]:
    """The due time's confirmation as message kwargs; on an archived card, with the word that
    no reminder comes and the choice to restore it (:func:`confirm_keyboard`)."""
    if not archived:
        return {"text": question, "reply_markup": touch_views.confirm_keyboard(card_id)}
    return {
        "text": question + "\n\n" + no_reminder_note(),
        "reply_markup": confirm_keyboard(card_id),
    }


def step_saved(*, archived: bool, restored_now: bool) -> str:
    """Above the card once its next step is saved (``archived``: it still is, so no reminder;
    ``restored_now``: restored by the same tap, its reminder planned)."""
    if archived:
        return _("✅ Next step saved, without a reminder: the card is in the archive.")
    saved = _("✅ Next step saved.")
    return restored() + "\n" + saved if restored_now else saved
