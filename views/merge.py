"""Merging two cards: the preview the rep confirms (a merge cannot be undone), and its answers."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, ngettext
from core.contactfields import ENUM_FIELDS, LABEL_GROUP
from core.nextstep import format_local
from services.merging import MergePreview
from views.callbacks import CardAction, CardCb
from views.contacts import field_title
from views.keyboards import InlineKeyboard
from views.labels import label
from views.rendering import h, phone_text


def _value(field: str, value: Any) -> str:
    """A field's value as the card shows it, HTML-escaped."""
    if field in ENUM_FIELDS:
        return label(LABEL_GROUP.get(field, field), value)
    if field == "phone":
        return h(phone_text(value))
    if field == "tg_user_id":
        return f"#{value}"
    if field == "tg_username":
        return h(f"@{value}")
    return h(str(value))


def _title(field: str) -> str:
    return h(_("Telegram id") if field == "tg_user_id" else field_title(field))


def preview(p: MergePreview, *, tz: str, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    keep, drop = p.keep, p.drop
    company = f", {h(keep.company)}" if keep.company else ""
    lines = [
        _("<b>Merge the two cards?</b> This cannot be undone."),
        "",
        _("Stays: <b>{name}</b>{company} · owner {owner}").format(
            name=h(keep.name), company=company, owner=h(p.keep_owner)
        ),
        _("Goes: <b>{name}</b> — its card will be gone after the merge.").format(name=h(drop.name)),
        "",
        _("Comes over from {name}:").format(name=h(drop.name)),
        "• " + ngettext("{n} touch", "{n} touches", p.touches).format(n=p.touches),
    ]
    if drop.next_step_due is not None:
        step = _("next step “{step}”, {when}").format(
            step=h(drop.next_step or "—"), when=format_local(drop.next_step_due, tz, lang)
        )
        if p.step_comes_over:
            lines.append("• " + step)
        else:
            lines.append("• " + _("{step}: dropped, this card's own step stays").format(step=step))
    for field, value in p.filled:
        lines.append(f"• {_title(field)}: {_value(field, value)}")
    if p.new_tags:
        lines.append("• " + _("Tags:") + " " + h(" ".join("#" + t for t in p.new_tags)))
    if p.notes_added:
        lines.append("• " + _("its notes (added to this card's)"))
    if p.differ:
        lines += ["", _("Differ (this card's value is kept):")]
        for field, mine, theirs in p.differ:
            lines.append(
                f"• {_title(field)}: {_value(field, mine)} "
                + _("(not {value})").format(value=_value(field, theirs))
            )
    kb = InlineKeyboard()
    kb.button(
        text=_("✅ Merge"),
        callback_data=CardCb(action=CardAction.MERGE_OK, id=keep.id, value=f"{drop.id}.{p.stamp}"),
    )
    kb.button(
        text=_("Cancel"),
        callback_data=CardCb(action=CardAction.MERGE_NO, id=keep.id, value=str(drop.id)),
    )
    kb.adjust(2)
    return "\n".join(lines), kb.as_markup()


def stale() -> str:
    """A confirm whose preview no longer holds (an alert: at most 200 characters)."""
    return _(
        "Not merged: one of the cards has changed, or is gone, since this preview. "
        "Open the card and merge again."
    )


def already_merged() -> str:
    return _("Already merged.")


def cancelled() -> str:
    return _("Not merged: both cards stay.")
