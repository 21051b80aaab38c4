"""Files kept on a card (services.media) on screen: what the rep's message carried, the
timeline's marks and its buttons that send a file again, and the dialogue's short answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, Message

from bot.i18n import _, ngettext
from services.media import NewMedia
from views.callbacks import CardCb
from views.keyboards import InlineKeyboard
from views.rendering import card_titles, h

if TYPE_CHECKING:
    from aiogram.types import InlineKeyboardMarkup

    from services.timeline import TimelineItem
    from storage.models import Contact


class MediaCb(CallbackData, prefix="md"):
    """Send a kept file again; ``id`` is re-checked against the viewer's scope."""

    id: int


class AttachCb(CallbackData, prefix="ma"):
    """Put the files sent outside a dialogue on this card; ``id`` is re-checked against the
    viewer's scope."""

    id: int


ICONS = {"voice": "🎤", "photo": "🖼", "document": "📄"}


def incoming(message: Message) -> NewMedia | None:
    """The voice note, photo (its largest size) or document a message carries, if any."""
    if message.voice is not None:
        v = message.voice
        return NewMedia("voice", v.file_id, v.file_unique_id)
    if message.photo:
        p = message.photo[-1]
        return NewMedia("photo", p.file_id, p.file_unique_id)
    if message.document is not None:
        d = message.document
        return NewMedia("document", d.file_id, d.file_unique_id, d.file_name)
    return None


def kind_name(kind: str | None) -> str:
    names = {"voice": _("voice note"), "photo": _("photo"), "document": _("document")}
    return names.get(kind or "", kind or "?")


def numbered(items: list[TimelineItem]) -> dict[int, int]:
    """The files on a timeline page, numbered as their buttons are (1, 2, …)."""
    order: dict[int, int] = {}
    for it in items:
        for media_id, _kind in it.extra.get("media", ()):
            order.setdefault(media_id, len(order) + 1)
    return order


def note(it: TimelineItem, items: list[TimelineItem]) -> str:
    """A touch's files, on the line after its text: "📎 voice note [1]"."""
    numbers = numbered(items)
    marks = [
        f"{ICONS.get(kind, '📎')} {kind_name(kind)} [{numbers[media_id]}]"
        for media_id, kind in it.extra.get("media", ())
        if media_id in numbers
    ]
    return ("\n📎 " + ", ".join(marks)) if marks else ""


def on_card(it: TimelineItem, items: list[TimelineItem]) -> str:
    """A file kept on the card itself (a business card's photo) as a timeline line."""
    numbers = numbered(items)
    [(media_id, kind)] = it.extra.get("media", [(0, it.a)])
    if kind == "photo":
        text = _("📇 Photo kept on the card")
    else:
        text = _("📎 {kind} kept on the card").format(kind=kind_name(kind))
    return text + (f" [{numbers[media_id]}]" if media_id in numbers else "")


def buttons(items: list[TimelineItem]) -> list[InlineKeyboardButton]:
    """One button per file on the page: tapping it sends the file again."""
    numbers, out = numbered(items), []
    for it in items:
        for media_id, kind in it.extra.get("media", ()):
            if numbers.pop(media_id, None) is not None:
                out.append(
                    InlineKeyboardButton(
                        text=f"{ICONS.get(kind, '📎')} {len(out) + 1}",
                        callback_data=MediaCb(id=media_id).pack(),
                    )
                )
    return out


def add_rows(kb: InlineKeyboard, items: list[TimelineItem], *, open_card: CardCb) -> None:
    """Below the timeline's paging: its files' buttons in a row, then "Open card"."""
    kb.row(*buttons(items))
    kb.row(InlineKeyboardButton(text=_("Open card"), callback_data=open_card.pack()))


def kept_on_touch(name: str) -> str:
    return _("📎 Kept on the touch with <b>{name}</b>.").format(name=h(name))


def kept_for_touch() -> str:
    return _("📎 Got it: the file will be kept on this touch once it is saved.")


def kept_for_card() -> str:
    return _("📇 Business card photo received: it will be attached to the new card.")


def attached_to_card(name: str) -> str:
    return _("📇 The business card photo is attached to <b>{name}</b>.").format(name=h(name))


def gone() -> str:
    return _("This file is no longer available.")


def not_importable(file_name: str) -> str:
    return _(
        "I can import only .csv and .vcf files; “{file}” is neither. /import explains the format."
    ).format(file=h(file_name[:100]))


def attach_offer(found: NewMedia, cards: list[Contact]) -> tuple[str, InlineKeyboardMarkup | None]:
    """A voice note or a document sent outside any dialogue: which card should it go on? (A
    document may have been meant for /import: what it takes is said too.)"""
    text, markup = _attach_offer(found.kind, cards)
    if found.kind == "document":
        text += "\n\n" + not_importable(found.file_name or "file")
    return text, markup


def _attach_offer(kind: str, cards: list[Contact]) -> tuple[str, InlineKeyboardMarkup | None]:
    got = _("{icon} Got the {kind}.").format(icon=ICONS.get(kind, "📎"), kind=kind_name(kind))
    how = _("Or open the card (/find name), tap 📝 Log touch and send the file there.")
    if not cards:
        return got + " " + _(
            "To keep it on a card: open the card (/find name), tap 📝 Log touch and send the "
            "file there."
        ), None
    kb = InlineKeyboard()
    for c, title in zip(cards, card_titles(cards, 56), strict=True):
        kb.button(text="📎 " + title, callback_data=AttachCb(id=c.id))
    kb.adjust(1)
    return got + " " + _("Which card should it go on?") + "\n" + how, kb.as_markup()


def attached(name: str, count: int, open_card: CardCb) -> tuple[str, InlineKeyboardMarkup]:
    text = ngettext(
        "📎 {n} file kept on the card of <b>{name}</b>: its 🕓 Timeline sends it again.",
        "📎 {n} files kept on the card of <b>{name}</b>: its 🕓 Timeline sends them again.",
        count,
    ).format(n=count, name=h(name))
    kb = InlineKeyboard()
    kb.button(text=_("Open card"), callback_data=open_card)
    return text, kb.as_markup()


def nothing_to_attach() -> str:
    return _("Nothing is waiting to be attached: send the file again.")
