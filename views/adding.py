"""Adding a contact on screen: the /add dialogue's questions, quick add's notices, the saved
card's next fields, a forwarded message's choices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiogram.types import (
    InlineKeyboardMarkup,
    KeyboardButton,
    KeyboardButtonRequestUsers,
    ReplyKeyboardMarkup,
)

from bot.i18n import _, ngettext
from core import limits
from core.contactfields import LABEL_GROUP, enum_choices
from core.textsplit import excerpt
from views.callbacks import CardAction, CardCb, DupAction, DupCb, PickCb, ResumeCb, for_card
from views.contacts import contact_line, field_title
from views.keyboards import InlineKeyboard, way_back
from views.labels import label_text, typed_code
from views.rendering import h, phone_text

if TYPE_CHECKING:  # rows the caller has loaded: a view never queries
    from storage.models import Contact

PICK_USERS_REQUEST_ID = 1


def add_prompt(
    *, for_note: bool = False, introduced_by: str | None = None
) -> tuple[str, ReplyKeyboardMarkup]:
    """The /add dialogue's first question (``for_note``: the card of a typed note, which is
    logged on it once it is saved; ``introduced_by``: a promoter's recommendation)."""
    keyboard = ReplyKeyboardMarkup(
        keyboard=[
            [
                KeyboardButton(
                    text=_("👤 Pick from Telegram"),
                    request_users=KeyboardButtonRequestUsers(
                        request_id=PICK_USERS_REQUEST_ID,
                        user_is_bot=False,
                        max_quantity=1,
                        request_name=True,
                        request_username=True,
                    ),
                )
            ]
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    if introduced_by:
        return _(
            "A new contact recommended by <b>{name}</b> (source: referral). Send the name (or "
            "“Name, Company, +phone” in one line, e.g. copied from their message), share a "
            "Telegram contact, or pick a person below. /cancel to leave."
        ).format(name=h(introduced_by)), keyboard
    if for_note:
        return _(
            "A new card for this touch. Send the name (or “Name, Company, +phone” in one line), "
            "share a Telegram contact, or pick a person below. /cancel to leave."
        ), keyboard
    text = _(
        "New contact. Send the name, share a Telegram contact, or pick a person below. "
        "/cancel to leave.\n\nTip: next time try /add Anna Smirnova, Acme, CTO, "
        "+7 999 123-45-67, anna@acme.io #event"
    )
    return text, keyboard


def quick_add_needs_name() -> str:
    return _("A contact needs a name first: /add Anna Smirnova, Acme, CTO, +7 999 123-45-67")


# The dialogue's buttons name their step and the dialogue (``n``: its own number), so one left
# under an older question does nothing to the question asked now.
def skip_keyboard(field: str, n: int) -> InlineKeyboardMarkup:
    return (
        InlineKeyboard()
        .button(text=_("Skip"), callback_data=PickCb(f="skip", v=for_card(field, n)))
        .as_markup()
    )


def enum_pick_keyboard(field: str, kind: str | None, n: int) -> InlineKeyboardMarkup:
    """A wizard step's choices (and Skip)."""
    kb = InlineKeyboard()
    group = LABEL_GROUP.get(field, field)
    for value in enum_choices(field, kind):
        kb.button(
            text=label_text(group, value), callback_data=PickCb(f=field, v=for_card(value, n))
        )
    kb.button(text=_("Skip"), callback_data=PickCb(f="skip", v=for_card(field, n)))
    kb.adjust(3)
    return kb.as_markup()


def is_skip(text: str) -> bool:
    """A dash or the word Skip typed instead of tapping Skip."""
    typed = text.strip().strip(".!").strip().casefold()
    return typed in {"-", "–", "—", "skip", _("Skip").casefold()}


def typed_choice(field: str, text: str, kind: str | None = None) -> str | None:
    """A choice of a picked step typed as its label ("B2B", "мероприятие"), if it is one."""
    code = typed_code(LABEL_GROUP.get(field, field), text)
    return code if code in enum_choices(field, kind) else None


def not_a_choice(
    field: str, text: str, kind: str | None, n: int
) -> tuple[str, InlineKeyboardMarkup]:
    """Text typed at a step answered by buttons that names none of them: the question again."""
    question, markup = wizard_question(field, kind, n)
    return _("“{text}” is not one of the choices: tap a button, or Skip.").format(
        text=h(" ".join(text.split())[:100])
    ) + "\n\n" + question, markup


def wizard_question(field: str, kind: str | None, n: int) -> tuple[str, InlineKeyboardMarkup]:
    """The /add dialogue's question for a field."""
    typed = {
        "company": lambda: _("Company? (or Skip)"),
        "position": lambda: _("Position? (or Skip)"),
        "phone": lambda: _("Phone? (or Skip)"),
        "email": lambda: _("E-mail? (or Skip)"),
    }
    if field in typed:
        return typed[field](), skip_keyboard(field, n)
    if field == "kind":
        return _("B2B or B2C?"), enum_pick_keyboard("kind", None, n)
    if field == "source":
        return _("Where does the contact come from?"), enum_pick_keyboard("source", None, n)
    question = _("What influences their choice?") if kind == "b2c" else _("Role in the decision?")
    return question, enum_pick_keyboard("influence", kind, n)


def taken_as(field: str, value: str) -> str:
    """A phone or an e-mail sent at another question: where it went."""
    if field == "phone":
        return _("📞 That is a phone number: saved as the phone, {value}.").format(
            value=h(phone_text(value))
        )
    return _("✉️ That is an e-mail address: saved as the e-mail, {value}.").format(value=h(value))


def name_step_read(fields: dict[str, Any], tags: list[str]) -> str:
    """A whole contact typed at the name question: what was taken, field by field."""
    shown = {"phone": phone_text}
    order = ("name", "company", "position", "phone", "email", "tg_username", "notes")
    parts = [
        _("{field}: {value}").format(
            field=field_title(f), value=h(shown.get(f, str)(_as_saved(f, fields[f])))
        )
        for f in order
        if fields.get(f)
    ]
    parts += ["#" + h(tag) for tag in tags]
    return " · ".join(parts)


def _as_saved(field: str, value: Any) -> Any:
    """A typed value as the card will hold it (cut to its field's limit)."""
    return limits.fit(field, value).value if isinstance(value, str) else value


def name_typed(name: str) -> str:
    return _("Name: {name}").format(name=h(_as_saved("name", name)))


def name_question() -> str:
    return _("Name?")


def wizard_bad_value(field: str, raw: str) -> str:
    if field == "phone":
        return _(
            "“{value}” is not a valid phone number. Send it with the country code, "
            "e.g. +7 999 123-45-67, or Skip."
        ).format(value=h(raw[:64]))
    return _("“{value}” is not a valid e-mail. Try again, or Skip.").format(value=h(raw[:64]))


def problems_text(problems: tuple[tuple[str, str], ...]) -> str:
    """What quick add could not read, line by line."""
    texts = {
        "bad_phone": _("⚠️ “{value}” is not a valid phone number; it was not saved."),
        "bad_email": _("⚠️ “{value}” is not a valid e-mail; it was not saved."),
        "bad_username": _("⚠️ “{value}” is not a valid Telegram username; it was not saved."),
        "bad_tag": _("⚠️ “{value}” is not a valid tag; it was not saved."),
        "not_a_name": _(
            "⚠️ “{value}” is not a name: a name has letters (and a phone at least 7 digits)."
        ),
        "extra_phone": _("⚠️ A second phone “{value}” was ignored."),
        "extra_email": _("⚠️ A second e-mail “{value}” was ignored."),
        "extra_username": _("⚠️ A second username “{value}” was ignored."),
    }
    lines = [texts[code].format(value=h(raw)) for code, raw in problems if code in texts]
    return "\n".join(lines)


def cut_notice(fields: Mapping[str, Any]) -> str:
    """The values longer than their field allows, which are saved cut to fit: said, not cut in
    silence ("" when none is)."""
    lines = []
    for field, value in fields.items():
        limit = limits.limit_of(field)
        if isinstance(value, str) and limit is not None and limits.fit(field, value).cut:
            lines.append(
                ngettext(
                    "✂️ {field} was longer than {limit} character: saved cut to fit.",
                    "✂️ {field} was longer than {limit} characters: saved cut to fit.",
                    limit,
                ).format(field=field_title(field), limit=limit)
            )
    return "\n".join(lines)


def with_notice(notice: str, text: str) -> str:
    return (notice + "\n\n" if notice else "") + text


def saved(
    contact: Contact, *, left_out: str = "", introduced_by: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """A new card is saved: what it is (``left_out``: values a teammate's card holds;
    ``introduced_by``: who recommended the person), and the key fields still to fill."""
    text = (
        _("✅ Saved: {contact}").format(contact=contact_line(contact))
        + (
            "\n" + _("🤝 Introduced by {name}").format(name=h(introduced_by))
            if introduced_by
            else ""
        )
        + ("\n" + left_out if left_out else "")
        + "\n"
        + _("Fill in the key fields, or open the card:")
    )
    return text, missing_fields_keyboard(contact)


def missing_fields_keyboard(c: Contact) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    for name in ("source", "influence", "kind"):
        if getattr(c, name) is None:
            kb.button(
                text=field_title(name),
                callback_data=CardCb(action=CardAction.ASK, id=c.id, value=name),
            )
    if c.icp_fit == "unknown":
        kb.button(
            text=field_title("icp_fit"),
            callback_data=CardCb(action=CardAction.ASK, id=c.id, value="icp_fit"),
        )
    kb.button(text=_("Status"), callback_data=CardCb(action=CardAction.STATUS, id=c.id))
    kb.button(text=_("Stage"), callback_data=CardCb(action=CardAction.STAGE, id=c.id))
    kb.button(text=_("Open card"), callback_data=CardCb(action=CardAction.OPEN, id=c.id))
    kb.adjust(3)
    return kb.as_markup()


def forwarded_prompt(name: str, existing: list[Contact]) -> tuple[str, InlineKeyboardMarkup]:
    """A forwarded message: log it on a card that may be this person, or add them."""
    kb = InlineKeyboard()
    for c in existing[:3]:
        kb.button(
            text=_("Log touch: {name}").format(name=c.name[:40]),
            callback_data=CardCb(action=CardAction.FORWARD_LOG, id=c.id),
        )
    kb.button(
        text=_("➕ Add {name}").format(name=name[:40]), callback_data=DupCb(action=DupAction.ADD)
    )
    kb.adjust(1)
    text = _("Message from <b>{name}</b>. What shall I do?").format(name=h(name))
    return text, kb.as_markup()


def forward_not_from_a_person() -> str:
    return _("Forward a message from a person to add them or log a touch.")


NOTE_SHOWN = 100  # characters of each answer a "not saved" note quotes


def _quoted_answer(value: str) -> str:
    shown, cut = excerpt(value, NOTE_SHOWN)
    return shown + ("…" if cut else "")


def left_unsaved(
    current: str, data: dict[str, Any], n: int, *, tap: bool = False
) -> tuple[str, InlineKeyboardMarkup] | None:
    """A command (``tap``: a button of another message) ended the /add dialogue after a name was
    given: say that nothing was saved, show what was typed (each answer cut to fit), offer to go
    back to the question it was at."""
    form = data.get("form") or {}
    if not form.get("name"):
        return None
    head = (
        _(
            "✋ The contact “{name}” was not saved: a button of another message ends the /add "
            "dialogue."
        )
        if tap
        else _("✋ The contact “{name}” was not saved: a command ends the /add dialogue.")
    ).format(name=h(_quoted_answer(form["name"])))
    shown = {"phone": phone_text, "tg_username": "@{}".format}  # as cards show them
    fields = ("company", "position", "phone", "email", "tg_username")
    typed = [_quoted_answer(shown.get(f, str)(form[f])) for f in fields if form.get(f)]
    typed += ["#" + tag for tag in data.get("tags") or []]
    given = _("Typed so far: {fields}").format(fields=h(" · ".join(typed))) if typed else ""
    return way_back(head, given, _("↩️ Continue adding"), ResumeCb(d="add", n=n))


def draft_gone() -> str:
    return _("That unfinished contact is no longer kept. /add to start again.")
