"""Contacts on screen: the card, its menus, the add dialogue's questions, duplicates, the
timeline and /find (/contacts: views.contact_list). Views take loaded data and return text and
buttons (user text escaped)."""

from __future__ import annotations

import logging
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardMarkup,
    Message,
)

from bot.i18n import _, ngettext
from core.cadence import Cooling
from core.contactfields import ENUM_FIELDS, LABEL_GROUP, enum_choices
from core.nextstep import format_local, format_local_day, is_past
from core.textsplit import excerpt
from services.cards import CardData, NpsOnCard
from services.contacts import tag_list
from views.callbacks import CardAction, CardCb, ForgetCb
from views.deals import DealAction, DealCb
from views.keyboards import InlineKeyboard
from views.labels import label, label_text
from views.nps import answer_on_card
from views.relay import RelayCb
from views.rendering import answer_long, card_titles, edit_text, h, phone_text

if TYPE_CHECKING:  # rows the caller has loaded: a view never queries
    from storage.models import Contact, Touch, User

log = logging.getLogger(__name__)


def contact_line(c: Contact) -> str:
    extra = ", ".join(h(x) for x in (c.company, c.position) if x)
    return f"<b>{h(c.name)}</b>" + (f" — {extra}" if extra else "")


def card_text(
    c: Contact,
    last_touch: Touch | None,
    tz: str,
    lang: str,
    *,
    owner: str | None = None,
    introduced_by: str | None = None,
    now: datetime | None = None,
    cooling: Cooling | None = None,
    nps: NpsOnCard | None = None,
) -> str:
    """The card; ``owner`` is shown to someone who is not the owner (a manager, say). With
    ``now``, a next step before it is marked overdue; ``cooling``: the card is going cold;
    ``nps``: a client's latest answer and its case."""
    lines = [contact_line(c)]
    if c.archived_at:
        lines.append(_("🗄 archived"))
    if owner:
        lines.append(_("Owner: {name}").format(name=h(owner)))
    lines.append(
        _("Status: {status} · Stage: {stage}").format(
            status=label("status", c.status), stage=label("stage", c.stage)
        )
    )
    if nps is not None:
        lines.append(answer_on_card(nps, tz, lang))
    if c.nps_stopped_at is not None:  # /stop: recorded on the card, as the README says
        lines.append(_("🔕 The client stopped the surveys"))
    facts = []
    if c.kind:
        facts.append(label("kind", c.kind))
    if c.influence:
        facts.append(label("influence", c.influence))
    facts.append(label("icp_fit", c.icp_fit))
    if c.segment:
        facts.append(h(c.segment))
    lines.append(" · ".join(facts))
    if c.icp_criterion:
        lines.append(_("ICP criterion: {text}").format(text=h(c.icp_criterion)))
    if c.source:
        src = label("source", c.source)
        if c.source_detail and c.source_detail != introduced_by:  # the next line names them
            src += f" ({h(c.source_detail)})"
        lines.append(_("Source: {source}").format(source=src))
    if introduced_by:
        lines.append(_("Introduced by: {name}").format(name=h(introduced_by)))
    contacts = contact_links(c)
    if contacts:
        lines.append(" · ".join(contacts))
    tags = tag_list(c.tags)
    if tags:
        lines.append(" ".join("#" + h(t) for t in tags))
    lines.append("")
    if last_touch is not None:
        lines.append(
            _("Last touch: {type}, {when}").format(
                type=label("touch", last_touch.type),
                when=format_local(last_touch.occurred_at, tz, lang),
            )
            + (f" — {h(last_touch.summary[:300])}" if last_touch.summary else "")
        )
    else:
        lines.append(_("No touches yet."))
    if c.next_step_due:
        step = _("Next step: {step}, {when}").format(
            step=h(c.next_step or "—"), when=format_local(c.next_step_due, tz, lang)
        )
        if now is not None and is_past(c.next_step_due, now):
            step += " — " + _("🔴 overdue")
        lines.append(step)
    elif c.no_next_step_reason:
        lines.append(_("No next step: {reason}").format(reason=h(c.no_next_step_reason)))
    else:
        lines.append(_("⚠️ No next step planned."))
    if cooling is not None:
        lines.append(going_cold_line(cooling))
    lines.append(_("Data verified: {when}").format(when=format_local_day(c.verified_at, tz, lang)))
    if c.notes:
        lines.append("")
        lines.append(_("Notes:") + "\n" + notes_on_card(c.notes))
    return "\n".join(lines)


def going_cold_line(cooling: Cooling) -> str:
    """ "🥶 Going cold: no touch for 12 days (the stage asks for a touch at least every 7 days)." """
    quiet = ngettext(
        "🥶 Going cold: no touch for {days} day",
        "🥶 Going cold: no touch for {days} days",
        cooling.quiet_days,
    ).format(days=cooling.quiet_days)
    every = ngettext(
        "the stage asks for a touch at least every {days} day",
        "the stage asks for a touch at least every {days} days",
        cooling.every_days,
    ).format(days=cooling.every_days)
    return f"{quiet} ({every})."


def contact_links(c: Contact) -> list[str]:
    """The card's ways to reach the person, each tappable: the phone in international format
    (Telegram links it), the e-mail as a mailto: link, the username as a t.me link."""
    links = []
    if c.phone:
        links.append(h(phone_text(c.phone)))
    if c.email:
        links.append(f'<a href="mailto:{escape(c.email, quote=True)}">{h(c.email)}</a>')
    if c.tg_username:
        name = escape(c.tg_username, quote=True)
        links.append(f'<a href="https://t.me/{name}">@{h(c.tg_username)}</a>')
    return links


# notes longer than this show an excerpt on the card, and a button for the whole text
NOTES_ON_CARD = 1000


def notes_are_long(notes: str | None) -> bool:
    return len(notes or "") > NOTES_ON_CARD


def notes_on_card(notes: str) -> str:
    """The notes, or their start and a pointer to 📄 Full notes (the card stays one message)."""
    head, cut = excerpt(notes, NOTES_ON_CARD)
    if not cut:
        return h(notes)
    return (
        h(head)
        + "…\n"
        + ngettext(
            "<i>({count} character in all: 📄 Full notes)</i>",
            "<i>({count} characters in all: 📄 Full notes)</i>",
            len(notes),
        ).format(count=len(notes))
    )


def edit_prompt_value(current: str | None) -> str:
    """A field's value quoted in Edit's question: long notes by their start (the question must
    fit one message; the whole text is one tap away, 📄 Full notes)."""
    if not current:
        return "—"
    return notes_on_card(current) if notes_are_long(current) else h(current)


def full_notes_text(c: Contact) -> str:
    """The whole notes, to be sent in as many messages as they need (views.rendering.answer_long)."""
    return _("<b>Notes</b> — {name}").format(name=h(c.name)) + "\n\n" + h(c.notes or "")


def card_keyboard(
    c: Contact, *, can_forget: bool = False, offer_client: bool = False
) -> InlineKeyboardMarkup:
    """The card's buttons; ``can_forget`` (a manager or an admin): 🗑 Forget, to /forget's
    preview. A card with long notes gets 📄 Full notes (its text shows an excerpt).
    ``offer_client`` (just after 🤝 Service delivered): ⭐ Mark as client first."""
    kb = InlineKeyboard()
    if offer_client:
        kb.button(
            text=_("⭐ Mark as client"),
            callback_data=CardCb(action=CardAction.CLIENT, id=c.id, value=ON_CARD),
        )
    kb.button(text=_("📝 Log touch"), callback_data=CardCb(action="log", id=c.id))
    kb.button(text=_("⏭ Next step"), callback_data=CardCb(action="next", id=c.id))
    kb.button(text=_("Status"), callback_data=CardCb(action="status", id=c.id))
    kb.button(text=_("Stage"), callback_data=CardCb(action="stage", id=c.id))
    kb.button(text=_("✏️ Edit"), callback_data=CardCb(action="edit", id=c.id))
    kb.button(text=_("🕓 Timeline"), callback_data=CardCb(action="tl", id=c.id))
    kb.button(text=_("🤝 Service delivered"), callback_data=CardCb(action="deliv", id=c.id))
    if c.archived_at:
        kb.button(text=_("Restore"), callback_data=CardCb(action="restore", id=c.id))
    else:
        kb.button(text=_("🗄 Archive"), callback_data=CardCb(action="arch", id=c.id))
    extra = card_extra_buttons(c, can_forget=can_forget)
    for text, data in extra:
        kb.button(text=text, callback_data=data)
    kb.adjust(*([1] if offer_client else []), 2, 2, 2, 2, *([len(extra)] if extra else []))
    return kb.as_markup()


def card_extra_buttons(c: Contact, *, can_forget: bool) -> list[tuple[str, CallbackData]]:
    buttons: list[tuple[str, CallbackData]] = [(_("💼 Deals"), DealCb(a=DealAction.LIST, id=c.id))]
    if c.tg_user_id and c.archived_at is None and c.forgotten_at is None:
        # a person the bot can write to: the reply goes from the card, as from their message's
        # notice ("waiting for your reply" in /today opens the card)
        buttons.append((_("↩️ Reply"), RelayCb(id=c.id)))
    if notes_are_long(c.notes):
        buttons.append((_("📄 Full notes"), CardCb(action=CardAction.NOTES, id=c.id)))
    if can_forget and c.forgotten_at is None:
        buttons.append((_("🗑 Forget"), ForgetCb(a="card", id=c.id)))
    return buttons


# CardCb value of a button on the card itself (the card is re-rendered in place after it)
ON_CARD = "card"


def card(
    data: CardData, *, prefix: str = "", offer_client: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    """The card message: its text (with an optional line before it) and its buttons."""
    text = prefix + card_text(
        data.contact,
        data.last_touch,
        data.tz,
        data.lang,
        owner=data.owner,
        introduced_by=data.introduced_by,
        now=data.now,
        cooling=data.cooling,
        nps=data.nps,
    )
    return text, card_keyboard(data.contact, can_forget=data.can_forget, offer_client=offer_client)


async def show_card(
    target: Message,
    data: CardData,
    *,
    edit: bool = False,
    prefix: str = "",
    offer_client: bool = False,
) -> None:
    """Show a card: edit ``target`` in place when asked and possible, else send it anew."""
    text, markup = card(data, prefix=prefix, offer_client=offer_client)
    if edit and len(text) <= 4000:
        try:
            await edit_text(target, text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:  # e.g. too old to edit: send the card anew
            log.debug("card edit refused: %s", exc.message)
    await answer_long(target, text, reply_markup=markup)


# ----------------------------------------------------------------------------- the card's menus
def field_title(field: str) -> str:
    titles = {
        "name": _("Name"),
        "company": _("Company"),
        "position": _("Position"),
        "phone": _("Phone"),
        "email": _("E-mail"),
        "tg_username": _("Telegram"),
        "segment": _("Segment"),
        "icp_criterion": _("ICP criterion"),
        "source_detail": _("Source detail"),
        "notes": _("Notes"),
        "tags": _("Tags"),
        "status": _("Status"),
        "stage": _("Stage"),
        "source": _("Source"),
        "kind": _("B2B / B2C"),
        "influence": _("Role"),
        "icp_fit": _("ICP fit"),
    }
    return titles.get(field, field)


CURRENT = "• "  # the card's value now, among the values to choose from


def choose_value(c: Contact, field: str) -> tuple[str, InlineKeyboardMarkup]:
    """A field's values for a card, each a button that sets it."""
    kb = InlineKeyboard()
    group = LABEL_GROUP.get(field, field)
    now = getattr(c, field, None)
    for value in enum_choices(field, c.kind):
        kb.button(
            text=(CURRENT if value == now else "") + label_text(group, value),
            callback_data=CardCb(action=CardAction.SET, id=c.id, value=f"{field}={value}"),
        )
    kb.button(text=_("« Back"), callback_data=CardCb(action=CardAction.OPEN, id=c.id))
    kb.adjust(2)
    text = _("{field} for {name}:").format(field=field_title(field), name=h(c.name))
    return text, kb.as_markup()


# the card's fields picked from a list that only the edit menu changes once the card is saved
# (the buttons after /add offer the empty ones once)
PICKED_FIELDS = frozenset(ENUM_FIELDS) - {"status", "stage"}  # those two: on the card itself
# the edit menu's order: who the person is, how to reach them, their place in the method, notes
EDIT_ORDER = (
    *("name", "company", "position", "phone", "email", "tg_username"),
    *("kind", "influence", "source", "segment", "icp_fit", "icp_criterion"),
    *("source_detail", "notes", "tags"),
)


def edit_menu(c: Contact, *, leads: bool) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboard()
    for name in EDIT_ORDER:  # typed, or picked from a list (status and stage are on the card)
        action = CardAction.ASK if name in PICKED_FIELDS else CardAction.EDIT_FIELD
        kb.button(text=field_title(name), callback_data=CardCb(action=action, id=c.id, value=name))
    kb.button(text=_("🔀 Merge with…"), callback_data=CardCb(action=CardAction.MERGE, id=c.id))
    kb.button(text=_("🤝 Introduced by…"), callback_data=CardCb(action=CardAction.INTRO, id=c.id))
    if leads:
        kb.button(text=_("👤 Owner"), callback_data=CardCb(action=CardAction.OWNER, id=c.id))
    kb.button(text=_("« Back"), callback_data=CardCb(action=CardAction.OPEN, id=c.id))
    kb.adjust(3)
    return _("What do you want to change?"), kb.as_markup()


def edit_prompt(field: str, current: str | None) -> str:
    return _(
        "{field}: send the new value. Now: {value}\nSend “-” to clear it. /cancel to leave."
    ).format(
        field=field_title(field),
        value=edit_prompt_value(phone_text(current) if field == "phone" and current else current),
    )


def not_a_name(raw: str) -> str:
    return _("“{value}” is not a name: a name has letters. Send a name, or /cancel.").format(
        value=h(raw[:64])
    )


def bad_typed_value(field: str, raw: str) -> str:
    problems = {
        "phone": _("“{value}” is not a valid phone number. Try again, or /cancel."),
        "email": _("“{value}” is not a valid e-mail. Try again, or /cancel."),
        "tg_username": _("“{value}” is not a valid Telegram username. Try again, or /cancel."),
    }
    return problems[field].format(value=h(raw[:64]))


def bad_tags(bad: list[str]) -> str:
    return _(
        "Not a tag: {tags}. A tag is one word of letters, digits, “_” or “-”, up to 32 "
        "characters (#vip #event). Try again, or /cancel."
    ).format(tags=", ".join(f"“{h(t[:40])}”" for t in bad[:5]))


def merge_prompt(c: Contact) -> str:
    return _(
        "Which card is the same person as {name}? Send a name, phone or e-mail. "
        "Its touches and history move into this card. /cancel to leave."
    ).format(name=h(c.name))


def intro_prompt(c: Contact, introducer: str | None) -> str:
    """Who introduced the card's person: who-knows-whom is kept and analysed (/network)."""
    text = _(
        "Who introduced {name} to you? Send their name, phone or e-mail (one of your cards). "
        "/cancel to leave."
    ).format(name=h(c.name))
    if introducer:
        text += "\n" + _("Now: {name}. Send “-” to clear it.").format(name=h(introducer))
    return text


def _other_cards(contact_id: int, found: list[Contact], action: CardAction) -> InlineKeyboardMarkup:
    """Up to six cards to pick for ``action`` on the card ``contact_id`` (the pick's id in the
    button's value, checked against the scope when tapped)."""
    kb = InlineKeyboard()
    for c, title in zip(found[:6], card_titles(found[:6]), strict=True):
        kb.button(text=title, callback_data=CardCb(action=action, id=contact_id, value=str(c.id)))
    kb.adjust(1)
    return kb.as_markup()


def intro_candidates(contact_id: int, found: list[Contact]) -> tuple[str, InlineKeyboardMarkup]:
    markup = _other_cards(contact_id, found, CardAction.INTRO_BY)
    return _("Which one introduced them?"), markup


def merge_candidates(contact_id: int, found: list[Contact]) -> tuple[str, InlineKeyboardMarkup]:
    markup = _other_cards(contact_id, found, CardAction.MERGE_WITH)
    return _("Merge which one into this card?"), markup


def owner_picker(c: Contact, people: list[User]) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboard()
    for person in people:
        mark = "✓ " if person.id == c.owner_id else ""
        kb.button(
            text=(mark + person.display_name)[:60],
            callback_data=CardCb(action=CardAction.OWNER_TO, id=c.id, value=str(person.id)),
        )
    kb.button(text=_("« Back"), callback_data=CardCb(action=CardAction.OPEN, id=c.id))
    kb.adjust(1)
    return _("Who owns {name} from now on?").format(name=h(c.name)), kb.as_markup()


def nothing_found(query: str, *, retry: bool) -> str:
    if retry:
        return _("Nothing found for “{query}”. Try again, or /cancel.").format(query=h(query[:100]))
    return _("Nothing found for “{query}”. /add creates a contact.").format(query=h(query[:100]))


def only_archived_found(query: str, count: int) -> str:
    """/find hides archived cards; say so when only they match, and how to see them."""
    return ngettext(
        "Nothing active found for “{query}”, but {count} archived card matches: /find -a {query}",
        "Nothing active found for “{query}”, but {count} archived cards match: /find -a {query}",
        count,
    ).format(query=h(query[:100]), count=count)


def found_list(found: list[Contact], *, more: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboard()
    for c, title in zip(found, card_titles(found), strict=True):
        kb.button(text=title, callback_data=CardCb(action=CardAction.OPEN, id=c.id))
    kb.adjust(1)
    if more:
        text = _("Found more than {count}; the best {count} (add a word to narrow it down):")
    else:
        text = _("Found {count}:")
    return text.format(count=len(found)), kb.as_markup()


def find_prompt(*, archived: bool = False) -> str:
    if archived:
        return _(
            "Whom are you looking for, archived cards included? Send a name, company, phone, "
            "e-mail, @username or #tag."
        )
    return _(
        "Whom are you looking for? Send a name, company, phone, e-mail, @username or #tag. "
        "Archived cards too: start with -a."
    )
