"""Texts and keyboards for a card the team already has (one live card per phone, e-mail and
Telegram id in a team: services.contacts.team_conflicts). A card outside the reader's scope (a
teammate's, for a rep) is shown by its name and owner only, with no button to open it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from services.teamcards import TeamCard
from views.callbacks import DupCb
from views.contacts import contact_line
from views.keyboards import InlineKeyboard
from views.rendering import h, phone_text

if TYPE_CHECKING:  # rows the caller has loaded: a view never queries
    from storage.models import Contact


def field_name(field: str) -> str:
    names = {"phone": _("phone"), "email": _("e-mail"), "tg_user_id": _("Telegram account")}
    return names.get(field, field)


def team_card_line(card: TeamCard) -> str:
    """One card: in full (without private fields) when the reader may open it, else its name
    and owner."""
    if card.contact is not None:
        c = card.contact
        return contact_line(c) + (f" · {h(phone_text(c.phone))}" if c.phone else "")
    return _("<b>{name}</b>, owned by {owner}").format(name=h(card.name), owner=h(card.owner))


def already_in_team(cards: list[TeamCard]) -> str:
    """The cards that hold a value being saved, and which value each holds."""
    lines = [_("<b>Already in the team</b>:")]
    for card in cards[:3]:
        lines.append(
            "• "
            + team_card_line(card)
            + " — "
            + _("same {field}").format(field=field_name(card.field))
        )
    if any(card.contact is None for card in cards):
        lines.append(
            _("Ask the owner or your manager to hand the card over if it is yours to work.")
        )
    return "\n".join(lines)


def duplicate_prompt(
    conflicts: list[TeamCard], found: list[Contact]
) -> tuple[str, InlineKeyboardMarkup]:
    """The question before a card is saved: the team's cards with the same phone, e-mail or
    Telegram id, and the reader's cards that look like the same person."""
    parts: list[str] = []
    if conflicts:
        parts.append(already_in_team(conflicts))
    shown = {card.id for card in conflicts}
    similar = [c for c in found if c.id not in shown]
    if similar:
        lines = [_("<b>Possible duplicate</b>:")]
        lines += [
            "• " + contact_line(c) + (f" · {h(phone_text(c.phone))}" if c.phone else "")
            for c in similar[:3]
        ]
        parts.append("\n".join(lines))
    openable = [card.contact for card in conflicts if card.contact is not None] + similar
    kb = InlineKeyboard()
    for c in openable[:3]:
        kb.button(
            text=_("Open {name}").format(name=c.name[:30]),
            callback_data=DupCb(action="open", id=c.id),
        )
        kb.button(
            text=_("Merge into {name}").format(name=c.name[:30]),
            callback_data=DupCb(action="merge", id=c.id),
        )
    kb.button(text=_("Add anyway"), callback_data=DupCb(action="add"))
    kb.adjust(2)
    return "\n\n".join(parts), kb.as_markup()


def left_out_text(cards: list[TeamCard], data: dict) -> str:
    """After "Add anyway": the values that stayed on the team's other cards."""
    lines = []
    for card in cards:
        value = data.get(card.field)
        lines.append(
            _("⚠️ Saved without the {field} {value}: it is on the card of {card}.").format(
                field=field_name(card.field),
                value=h(_shown(card.field, value)),
                card=team_card_line(card),
            )
        )
    return "\n".join(lines)


def not_merged_text(fields: list[str], data: dict, card: Contact) -> str:
    """After a merge: the typed values the card has another one of (its own stays)."""
    return "\n".join(
        _("⚠️ The card keeps its {field} {kept}; the one typed, {typed}, was not saved.").format(
            field=field_name(field),
            kept=h(_shown(field, getattr(card, field))),
            typed=h(_shown(field, data.get(field))),
        )
        for field in fields
    )


def _shown(field: str, value: object) -> str:
    """A value as a card shows it (a phone in international format, a Telegram id as #id)."""
    if field == "phone" and isinstance(value, str):
        return phone_text(value)
    return f"#{value}" if field == "tg_user_id" else str(value)


def refused_as_taken(cards: list[TeamCard]) -> str:
    """A change refused because another live card of the team holds the value."""
    return (
        _("Not saved: another card in the team has it.")
        + "\n\n"
        + already_in_team(cards)
        + "\n\n"
        + _("Merge the two cards (Edit › Merge with…) if they are the same person.")
    )
