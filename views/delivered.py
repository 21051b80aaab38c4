"""What the rep is told after a service is delivered: the touch is logged, and how the client's
NPS question will go (directly, via a link to forward, or not at all and why)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup, Message

from bot.i18n import _, ngettext
from bot.links import start_link
from core.nextstep import format_local
from services.delivered import Delivered, may_become_client
from services.nps import Skip
from views.callbacks import CardAction, CardCb
from views.keyboards import InlineKeyboard
from views.labels import label_text
from views.nps import forward_text
from views.rendering import card_titles, h

if TYPE_CHECKING:  # rows the caller has loaded: a view never queries
    from storage.models import Contact


def already_logged(contact: Contact) -> str:
    return _("This delivery of {name} is logged already.").format(name=h(contact.name))


def logged(contact: Contact) -> str:
    return _("✅ Service delivered to {name} is logged.").format(name=h(contact.name))


def logged_keyboard(contact: Contact) -> InlineKeyboardMarkup | None:
    """After a delivery: ⭐ Mark as client, when the contact is not one yet."""
    if not may_become_client(contact):
        return None
    return (
        InlineKeyboard()
        .button(
            text=_("⭐ Mark as client"),
            callback_data=CardCb(action=CardAction.CLIENT, id=contact.id),
        )
        .as_markup()
    )


def marked_client(contact: Contact) -> str:
    return (
        logged(contact)
        + "\n"
        + _(
            "⭐ {name} is a client now, at the stage “{stage}”: conversion and retention count them."
        ).format(name=h(contact.name), stage=h(label_text("stage", contact.stage)))
    )


def not_marked_client(contact: Contact) -> str:
    """A callback's answer (plain text): the card is no lead to convert any more."""
    return _("{name} is {status} already.").format(
        name=contact.name[:60], status=label_text("status", contact.status)
    )


def survey_plan(
    done: Delivered,
    contact: Contact,
    *,
    tz: str,
    lang: str,
    min_interval_days: int,
    link: str | None,
    company: str | None,
) -> list[str]:
    """The messages that say what happens to the survey (``link``: when it must be forwarded)."""
    planned = done.planned
    if planned is None:
        return []
    if planned.skipped is Skip.STOPPED:
        return [
            _("{name} asked for no surveys (/stop), so none is sent.").format(name=h(contact.name))
        ]
    if planned.skipped is Skip.COLLEAGUE:
        return [
            _(
                "{name}: the card carries the Telegram account of a colleague. Colleagues are "
                "not surveyed as clients, so no survey is sent."
            ).format(name=h(contact.name))
        ]
    if planned.skipped is Skip.TOO_SOON:
        return [
            ngettext(
                "{name} had a survey less than {days} day ago; no new one is sent.",
                "{name} had a survey less than {days} days ago; no new one is sent.",
                min_interval_days,
            ).format(name=h(contact.name), days=min_interval_days)
        ]
    survey = planned.survey
    assert survey is not None

    def when(at: datetime) -> str:
        return format_local(at, tz, lang)

    if planned.direct or link is None:
        return [
            _("📋 The NPS question goes to {name} on {when}.").format(
                name=h(contact.name), when=when(survey.scheduled_for)
            )
        ]
    return [
        _(
            "📋 {name} hasn't started the bot, so I can't write to them. Forward them this text (the link is personal and works until {until}):"
        ).format(name=h(contact.name), until=when(survey.expires_at)),
        forward_text(link, company, survey.language),
    ]


async def tell(
    target: Message, done: Delivered, contact: Contact, *, bot: Bot, settings: Any, lang: str
) -> None:
    """Say what a delivery saved and how the survey goes (the link, when it must be forwarded)."""
    planned = done.planned
    link = None
    if planned is not None and planned.survey is not None and not planned.direct:
        link = await start_link(bot, planned.survey.token)
    texts = survey_plan(
        done,
        contact,
        tz=done.owner.timezone or settings.default_timezone,
        lang=lang,
        min_interval_days=settings.nps_min_interval_days,
        link=link,
        company=settings.company_name,
    )
    for text in texts:
        await target.answer(text)


# CardCb value of 🤝 on /delivered's "Which one?" list (not on a card to re-render)
PICKED = "pick"


def pick_delivered(found: list[Contact]) -> InlineKeyboardMarkup:
    """/delivered matched several cards (or one by a close spelling): which one; archived cards
    are marked 🗄."""
    kb = InlineKeyboard()
    marked = any(c.archived_at is not None for c in found)
    for c, title in zip(found, card_titles(found, width=57 if marked else 60), strict=True):
        mark = "🗄 " if c.archived_at is not None else ""
        kb.button(
            text=mark + title,
            callback_data=CardCb(action=CardAction.DELIVERED, id=c.id, value=PICKED),
        )
    kb.adjust(1)
    return kb.as_markup()


def which_one(found: list[Contact]) -> str:
    """The question over :func:`pick_delivered`; says what 🗄 means when a card carries it."""
    text = _("Which one?")
    if any(c.archived_at is not None for c in found):
        text += "\n" + _("🗄 — archived: the card stays in the archive.")
    return text


def only_archived(found: list[Contact], query: str) -> tuple[str, InlineKeyboardMarkup]:
    """/delivered matched archived cards only (/find -a would show them): said so, and the
    service can be marked delivered on one all the same — a rep often archives the card once the
    job is done. Always with a tap, never on a guess; the card stays archived (one card: or
    Restore it, which opens it)."""
    if len(found) == 1:
        c = found[0]
        text = _(
            "🗄 {name} is archived. Mark the service delivered all the same? The card stays in "
            "the archive; Restore brings it back."
        ).format(name=h(c.name))
        kb = InlineKeyboard()
        kb.button(
            text=_("🤝 Service delivered"),
            callback_data=CardCb(action=CardAction.DELIVERED, id=c.id, value=PICKED),
        )
        kb.button(text=_("Restore"), callback_data=CardCb(action=CardAction.RESTORE, id=c.id))
        kb.adjust(1)
        return text, kb.as_markup()
    text = _("Only archived cards match “{query}”. Which one was the service delivered to?").format(
        query=h(query)
    )
    kb = InlineKeyboard()
    for c, title in zip(found, card_titles(found, width=57), strict=True):
        kb.button(
            text="🗄 " + title,
            callback_data=CardCb(action=CardAction.DELIVERED, id=c.id, value=PICKED),
        )
    kb.adjust(1)
    return text, kb.as_markup()
