"""/contacts on screen: a page of the list, its filter menu and the choices of a filter's values,
the help of the typed filter. The filter travels in the buttons in its short form
(core.listfilter), so filters combine: a choice keeps the rest of the filter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import _
from core.contactfields import ENUM_FIELDS, LIST_FILTERS
from core.listfilter import FLAGS, ContactFilter, menu_data, pack, pick_data
from views.callbacks import CardAction, CardCb, ListCb
from views.contacts import field_title
from views.keyboards import InlineKeyboard
from views.labels import label, label_text
from views.rendering import card_titles, h

if TYPE_CHECKING:  # rows the caller has loaded: a view never queries
    from storage.models import Contact, User


def flag_button(flag: str) -> str:
    return {
        "overdue": _("🔴 Overdue"),
        "today": _("📅 Due today"),
        "cold": _("🥶 Going cold"),
        "waiting": _("📥 Waiting for your reply"),
        "archived": _("Archived"),
    }[flag]


MARK = "• "  # the value the filter has now, in a choice of values
BUTTON_TEXT = 40  # characters of a segment on a button


def _cb(flt: ContactFilter, page: int = 0) -> ListCb:
    return ListCb(page=page, f=pack(flt))


def _button(text: str, cb: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=cb.pack())


def fits(flt: ContactFilter) -> bool:
    """Whether a filter fits the list's buttons (64 bytes of callback data, on any page and in
    either order)."""
    try:
        ListCb(page=99_999, f=pack(flt.with_value("by_touch", True))).pack()
    except ValueError:
        return False
    return True


def too_long(flt: ContactFilter) -> str:
    if flt.tag:
        return _("This tag is too long to filter by; try /find #tag.")
    return _("This segment is too long to filter by.")


def _value_part(field: str, value: str) -> str:
    """A status, stage or source as the title says it: its label, after its field's name when
    another field has a value of that label ("status: partner", "source: partner")."""
    shown = label_text(field, value).casefold()
    shared = any(
        label_text(other, code).casefold() == shown
        for other in LIST_FILTERS
        if other != field
        for code in ENUM_FIELDS[other]
    )
    return (
        f"{h(field_title(field).lower())}: {label(field, value)}" if shared else label(field, value)
    )


def filter_parts(flt: ContactFilter, owner: str | None = None) -> list[str]:
    """The filter as the list's title says it: "lead · #vip · overdue"."""
    parts = [_value_part(field, value) for field in LIST_FILTERS if (value := getattr(flt, field))]
    if flt.tag:
        parts.append(h("#" + flt.tag))
    if flt.segment:
        parts.append(_("segment “{name}”").format(name=h(flt.segment)))
    if flt.flag:
        parts.append(label("list", flt.flag))
    if flt.owner_id is not None:
        parts.append(_("owner {name}").format(name=h(owner or "—")))
    return parts


def contact_list(
    rows: list[Contact],
    *,
    total: int,
    page: int,
    page_size: int,
    flt: ContactFilter,
    owner: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of /contacts under ``flt`` (``owner``: the name of the owner it names)."""
    pages = max(1, (total + page_size - 1) // page_size)
    title = _("<b>Contacts</b>: {total}").format(total=total)
    for part in filter_parts(flt, owner):
        title += " · " + part
    if flt.by_touch:
        title += " · " + _("by last touch")
    if total:
        title += " · " + _("page {page} of {pages}").format(page=page + 1, pages=pages)
    elif flt.narrows():  # the rep has contacts: none of them matches
        title += "\n" + _("None of your contacts matches this filter.")
    else:
        title += "\n" + _("No contacts here yet. /add creates one.")
    kb = InlineKeyboard()
    for c, shown in zip(rows, card_titles(rows), strict=True):
        kb.row(_button(shown, CardCb(action=CardAction.OPEN, id=c.id)))
    nav = []
    if page > 0:
        nav.append(_button("«", _cb(flt, page - 1)))
    if page + 1 < pages:
        nav.append(_button("»", _cb(flt, page + 1)))
    if nav:
        kb.row(*nav)
    sort = (
        _button(_("🔤 By name"), _cb(flt.with_value("by_touch", False)))
        if flt.by_touch
        else _button(_("🕓 By last touch"), _cb(flt.with_value("by_touch", True)))
    )
    kb.row(_button(_("🔎 Filter"), ListCb(page=0, f=menu_data(flt))), sort)
    return title, kb.as_markup()


def filter_menu(
    flt: ContactFilter, *, by_owner: bool = False, owner: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """/contacts' filters, each kept when another is chosen; a field's button says its value
    now, the flag on now is marked (tapped again, it is off). ``by_owner`` (a manager or an
    admin): 👤 Owner too."""
    kb = InlineKeyboard()
    for field in LIST_FILTERS:
        value = getattr(flt, field)
        text = field_title(field) + (f": {label_text(field, value)}" if value else "")
        kb.button(text=text, callback_data=ListCb(page=0, f=pick_data(field, flt)))
    kb.button(
        text=field_title("tags") + (f": #{flt.tag}" if flt.tag else ""),
        callback_data=ListCb(page=0, f=pick_data("tag", flt)),
    )
    segment = f": {flt.segment[:BUTTON_TEXT]}" if flt.segment else ""
    kb.button(
        text=field_title("segment") + segment,
        callback_data=ListCb(page=0, f=pick_data("segment", flt)),
    )
    if by_owner:
        kb.button(
            text=_("👤 Owner") + (f": {owner[:BUTTON_TEXT]}" if owner else ""),
            callback_data=ListCb(page=0, f=pick_data("owner", flt)),
        )
    for flag in FLAGS:
        on = flt.flag == flag
        kb.button(
            text=(MARK if on else "") + flag_button(flag),
            callback_data=_cb(flt.with_value("flag", None if on else flag)),
        )
    kb.button(text=_("All"), callback_data=_cb(ContactFilter(by_touch=flt.by_touch)))
    kb.button(text=_("« Back"), callback_data=_cb(flt))
    kb.adjust(3, 3 if by_owner else 2, 3, 2, 2)
    text = _("Filter by:")
    if flt.narrows():
        text += "\n" + _("Now: {filter}").format(filter=" · ".join(filter_parts(flt, owner)))
    return text, kb.as_markup()


def _choice(
    title: str, flt: ContactFilter, field: str, values: list[tuple[str, str | int]]
) -> tuple[str, InlineKeyboardMarkup]:
    """Buttons of ``values`` (text, value) for ``field`` of the filter, the one it has marked;
    then "Any" (when it has one) and « Back to the menu. Values too long for a button are left
    out."""
    kb = InlineKeyboard()
    now = getattr(flt, field)
    for text, value in values:
        chosen = flt.with_value(field, value)
        if fits(chosen):
            kb.button(text=(MARK if value == now else "") + text, callback_data=_cb(chosen))
    kb.adjust(2)
    back = [_button(_("« Back"), ListCb(page=0, f=menu_data(flt)))]
    if now is not None:
        back.insert(0, _button(_("Any"), _cb(flt.with_value(field, None))))
    kb.row(*back)
    return title, kb.as_markup()


def filter_values(field: str, flt: ContactFilter) -> tuple[str, InlineKeyboardMarkup]:
    """Status, stage or source: its values."""
    values: list[tuple[str, str | int]] = [(label_text(field, v), v) for v in ENUM_FIELDS[field]]
    return _choice(field_title(field) + ":", flt, field, values)


def tag_choice(tags: list[str], flt: ContactFilter) -> tuple[str, InlineKeyboardMarkup]:
    title = field_title("tags") + ":"
    if not tags:
        title += "\n" + _("Your contacts have no tags yet.")
    return _choice(title, flt, "tag", [("#" + t, t) for t in tags])


def segment_choice(segments: list[str], flt: ContactFilter) -> tuple[str, InlineKeyboardMarkup]:
    title = field_title("segment") + ":"
    if not segments:
        title += "\n" + _("Your contacts have no segment yet.")
    return _choice(title, flt, "segment", [(s[:BUTTON_TEXT], s) for s in segments])


def owner_choice(people: list[User], flt: ContactFilter) -> tuple[str, InlineKeyboardMarkup]:
    values: list[tuple[str, str | int]] = [(p.display_name[:60], p.id) for p in people]
    return _choice(_("Whose contacts?"), flt, "owner_id", values)


def filter_help(unknown: tuple[str, ...] = (), *, by_owner: bool = False) -> str:
    """The words /contacts understands, in the viewer's language (and what it did not)."""
    lines = []
    if unknown:
        lines.append(
            _("I don't know “{words}” as a filter.").format(words=h(" ".join(unknown)[:100]))
        )
    example = f"/contacts {label_text('status', 'lead')} #vip"
    lines.append(
        _("Filter the list with these words, several at once, e.g. {example}:").format(
            example=h(example)
        )
    )
    for field in LIST_FILTERS:
        words = ", ".join(label(field, v) for v in ENUM_FIELDS[field])
        lines.append(f"<b>{h(field_title(field))}</b>: {words}")
    words = ", ".join(label("list", flag) for flag in FLAGS)
    lines.append(_("<b>Also</b>: {words}").format(words=words))
    lines.append(
        _("#tag — contacts with the tag; “{segment} name” — a segment.").format(
            segment=h(label_text("filter_word", "segment"))
        )
    )
    if by_owner:
        lines.append(
            _("“{owner} name” — a person's contacts.").format(
                owner=h(label_text("filter_word", "owner"))
            )
        )
    return "\n".join(lines)


def conflict(key: str, first: str, second: str) -> str:
    """Two words typed for one thing ("overdue cold", "lead client"): which one?"""
    text = {
        "flag": _("One list at a time: “{first}” or “{second}”."),
        "status": _("One status at a time: “{first}” or “{second}”."),
        "stage": _("One stage at a time: “{first}” or “{second}”."),
        "source": _("One source at a time: “{first}” or “{second}”."),
        "tag": _("One tag at a time: “{first}” or “{second}”."),
        "segment": _("One segment at a time: “{first}” or “{second}”."),
        "owner_id": _("One owner at a time: “{first}” or “{second}”."),
    }[key]
    return text.format(first=h(first[:100]), second=h(second[:100]))


def no_such_segment(name: str, segments: list[str]) -> str:
    """A segment typed after "segment" that none of the viewer's cards has, and those they have."""
    text = _("No card has the segment “{name}”.").format(name=h(name[:100]))
    if not segments:
        return text + "\n" + _("Your contacts have no segment yet.")
    shown = ", ".join(f"“{h(s[:BUTTON_TEXT])}”" for s in segments)
    return text + "\n" + _("Segments: {names}").format(names=shown)
