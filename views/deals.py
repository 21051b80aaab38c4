"""A contact's deals as the chat shows them (the list, one deal, the prompts), and the deal lines
of /stats and the digest. Amounts are formatted for the reader's locale (core.deals, Babel);
sums are per currency, never added across currencies."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import N_, _, ngettext
from core import metrics as m
from core.deals import DealStatus, format_minor
from core.nextstep import format_day
from views.callbacks import CardAction, CardCb
from views.keyboards import InlineKeyboard
from views.rendering import h

if TYPE_CHECKING:
    from services.deals import CurrencySum, DealFigures
    from storage.models import Contact, Deal


class DealAction(StrEnum):
    LIST = "ls"
    NEW = "new"
    OPEN = "op"
    AMOUNT = "amt"
    CLOSE_ON = "date"
    WON = "won"
    LOST = "lost"


class DealCb(CallbackData, prefix="dl"):
    """A deal button: ``id`` the contact (checked against the viewer's scope by CardInScope),
    ``d`` the deal (looked up only among that contact's deals)."""

    a: DealAction
    id: int
    d: int = 0


class DealForm(StatesGroup):
    amount = State()  # a new deal: its amount (and title)
    close_on = State()  # a new deal: its expected close date
    edit_amount = State()
    edit_close_on = State()


STATUS = {
    DealStatus.OPEN.value: N_("in progress"),
    DealStatus.WON.value: N_("closed won"),
    DealStatus.LOST.value: N_("closed lost"),
}
MARK = {DealStatus.OPEN.value: "💼", DealStatus.WON.value: "🏆", DealStatus.LOST.value: "✖️"}


def money(deal: Deal, lang: str) -> str:
    return h(format_minor(deal.amount, deal.currency, lang))


def overdue(deal: Deal, today: date | None) -> bool:
    """An open deal whose expected close has passed."""
    return bool(
        today and deal.close_on and deal.status == DealStatus.OPEN.value and deal.close_on < today
    )


def deal_line(deal: Deal, lang: str, today: date | None = None) -> str:
    text = f"{MARK.get(deal.status, '•')} {money(deal, lang)}"
    if deal.title:
        text += f" — {h(deal.title)}"
    if deal.status == DealStatus.OPEN.value:
        if deal.close_on:
            text += ", " + _("close by {day}").format(day=format_day(deal.close_on, lang))
        if overdue(deal, today):
            text += " — " + _("⚠️ overdue")
    else:
        text += f" ({_(STATUS[deal.status])})"
    return text


def deals_list(
    contact: Contact, deals: list[Deal], lang: str, *, prefix: str = "", today: date | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>💼 Deals</b> — {name}").format(name=h(contact.name)), ""]
    if not deals:
        lines.append(_("No deals yet."))
    lines += [deal_line(d, lang, today) for d in deals]
    kb = InlineKeyboard()
    for d in deals:
        if d.status == DealStatus.OPEN.value:
            label = f"✏️ {format_minor(d.amount, d.currency, lang)} {d.title}".strip()
            kb.button(
                text=label[:60], callback_data=DealCb(a=DealAction.OPEN, id=contact.id, d=d.id)
            )
    kb.button(text=_("➕ New deal"), callback_data=DealCb(a=DealAction.NEW, id=contact.id))
    kb.button(text=_("« Card"), callback_data=CardCb(action=CardAction.OPEN, id=contact.id))
    kb.adjust(1)
    return prefix + "\n".join(lines), kb.as_markup()


def deal_card(
    contact: Contact, deal: Deal, lang: str, *, prefix: str = "", today: date | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("<b>💼 Deal</b> — {name}").format(name=h(contact.name)),
        "",
        _("Amount: {amount}").format(amount=money(deal, lang)),
    ]
    if deal.title:
        lines.append(_("What: {title}").format(title=h(deal.title)))
    lines.append(
        _("Expected close: {day}").format(
            day=format_day(deal.close_on, lang) if deal.close_on else m.DASH
        )
        + (
            " — " + _("⚠️ overdue: set a new date, or mark it won or lost")
            if overdue(deal, today)
            else ""
        )
    )
    lines.append(_("Status: {status}").format(status=_(STATUS[deal.status])))
    kb = InlineKeyboard()
    if deal.status == DealStatus.OPEN.value:
        for text, action in (
            (_("💰 Amount"), DealAction.AMOUNT),
            (_("📅 Close date"), DealAction.CLOSE_ON),
            (_("🏆 Won"), DealAction.WON),
            (_("✖️ Lost"), DealAction.LOST),
        ):
            kb.button(text=text, callback_data=DealCb(a=action, id=contact.id, d=deal.id))
    kb.button(text=_("« Deals"), callback_data=DealCb(a=DealAction.LIST, id=contact.id))
    kb.adjust(2)
    return prefix + "\n".join(lines), kb.as_markup()


def ask_amount(contact: Contact, currency: str) -> str:
    return _(
        "A new deal with {name}. Send the amount, its currency and, if you like, what it is "
        "for — e.g. <code>12 000 ₽ website redesign</code> or <code>1.5k EUR audit</code>. "
        "Without a currency it is {currency}. /cancel to stop."
    ).format(name=h(contact.name), currency=currency)


def ask_new_amount(deal: Deal, lang: str) -> str:
    return _(
        "The amount is {amount}. Send the new one, e.g. <code>15 000 ₽</code>. /cancel to stop."
    ).format(amount=money(deal, lang))


def title_kept(raw: str) -> str:
    return _(
        "“{title}”: kept as what the deal is for. And the amount? E.g. <code>12 000 ₽</code>."
    ).format(title=h(" ".join(raw.split())[:200]))


def bad_amount(raw: str) -> str:
    return _(
        "I could not read an amount in “{text}”. Try e.g. <code>12 000 ₽</code>, "
        "<code>1.5k EUR</code> or <code>$3,000</code>."
    ).format(text=h(raw[:100]))


def ask_close_on() -> str:
    return _(
        "When do you expect it to close? E.g. “31.12”, “in 2 weeks”, “next friday”. "
        "Send - if you don't know yet."
    )


def bad_close_on(
    raw: str, day: date | None = None, lang: str = "en", *, no_such_day: bool = False
) -> str:
    """Why a typed close date was not taken: unreadable, a day no calendar has, or (``day``)
    in the past."""
    if no_such_day:
        return _(
            "No calendar has the day in “{text}”. Try e.g. “31.12” or “in 2 weeks”, or -."
        ).format(text=h(raw[:100]))
    if day is not None:
        return _(
            "{day} is in the past, and an expected close lies ahead. Send a later date, or - if "
            "it is not known yet."
        ).format(day=format_day(day, lang))
    return _("I could not read a date in “{text}”. Try e.g. “31.12” or “in 2 weeks”, or -.").format(
        text=h(raw[:100])
    )


def deal_saved() -> str:
    return _("✅ Deal saved.") + "\n\n"


def closed_text(won: bool) -> str:
    return _("🏆 Won!") if won else _("Marked as lost.")


# ---------------------------------------------------------------------- /stats and the digest
def sums(items: list[CurrencySum], lang: str) -> str:
    """ "12 000 ₽ · 3 000 €" — one figure per currency, never added across."""
    if not items:
        return m.DASH
    return " · ".join(h(format_minor(s.minor, s.currency, lang)) for s in items)


def _count(items: list[CurrencySum]) -> int:
    return sum(s.deals for s in items)


def pipeline_line(f: DealFigures, lang: str) -> str:
    n = _count(f.pipeline)
    line = _("<b>Pipeline</b>: {value} ({deals})").format(
        value=sums(f.pipeline, lang),
        deals=ngettext("{n} open deal", "{n} open deals", n).format(n=n),
    )
    if f.overdue:
        line += "\n" + ngettext(
            "⚠️ {n} open deal is past its expected close",
            "⚠️ {n} open deals are past their expected close",
            f.overdue,
        ).format(n=f.overdue)
    return line


def won_line(f: DealFigures, lang: str) -> str:
    n = _count(f.won)
    return _("<b>Won</b>: {value} ({deals})").format(
        value=sums(f.won, lang), deals=ngettext("{n} deal", "{n} deals", n).format(n=n)
    )


def stats_lines(f: DealFigures, lang: str) -> str:
    """/stats: pipeline, won in the period, and conversion to a deal of the period's cohort."""
    return "\n".join(
        [
            pipeline_line(f, lang),
            won_line(f, lang) + " " + _("in the period"),
            ngettext(
                "<b>Conversion to a deal</b> of {n} new contact: {share} ({a}/{n})",
                "<b>Conversion to a deal</b> of {n} new contacts: {share} ({a}/{n})",
                f.cohort,
            ).format(n=f.cohort, share=m.fmt_percent(f.with_deal, f.cohort, lang), a=f.with_deal),
        ]
    )


def digest_section(f: DealFigures, lang: str) -> str:
    """The digest's deals: pipeline now, won and opened since the last digest."""
    return "\n".join(
        [
            _("<b>💼 Deals</b>"),
            pipeline_line(f, lang),
            won_line(f, lang) + " " + _("since the last digest"),
            ngettext("{n} new deal", "{n} new deals", f.new).format(n=f.new),
        ]
    )


# ------------------------------------------------------------------------------ the timeline
TIMELINE_EVENTS = ("deal", "deal_won", "deal_lost")  # services.timeline's deal items


def timeline_event(
    kind: str, currency: str | None, minor: str | None, title: str | None, lang: str
) -> str:
    """A deal on the card's timeline: opened, won or lost, with its amount and what it is for."""
    texts = {
        "deal": _("💼 New deal: {amount}"),
        "deal_won": _("🏆 Deal won: {amount}"),
        "deal_lost": _("✖️ Deal lost: {amount}"),
    }
    amount = h(format_minor(int(minor or 0), currency or "", lang))
    return texts[kind].format(amount=amount) + (f" — {h(title)}" if title else "")
