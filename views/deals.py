"""A contact's deals as the chat shows them (the list, one deal, the prompts, why a typed amount
was not taken, the note when a command leaves a new deal), and the deal lines of /stats and the
digest. Amounts are formatted for the reader's locale (core.deals, Babel);
sums are per currency, never added across currencies."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import N_, _, ngettext
from core import metrics as m
from core.deals import AmountIssue, DealStatus, MoneyReading, decimals_of, format_minor
from core.nextstep import format_day, local_day
from views.callbacks import CardAction, CardCb, ResumeCb
from views.keyboards import InlineKeyboard, way_back
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
    TITLE = "ttl"
    WON = "won"  # asks first: WON_SURE closes
    LOST = "lost"  # asks first: LOST_SURE closes
    WON_SURE = "won!"
    LOST_SURE = "lost!"
    CARD = "card"  # the deal again, in place (« Back from the question)


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
    edit_title = State()


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
    contact: Contact,
    deal: Deal,
    lang: str,
    *,
    prefix: str = "",
    today: date | None = None,
    tz: str = "UTC",
) -> tuple[str, InlineKeyboardMarkup]:
    """One deal: an open one with its expected close and its buttons, a closed one with the day
    it was closed (``tz``: the reader's)."""
    lines = [
        _("<b>💼 Deal</b> — {name}").format(name=h(contact.name)),
        "",
        _("Amount: {amount}").format(amount=money(deal, lang)),
    ]
    if deal.title:
        lines.append(_("What: {title}").format(title=h(deal.title)))
    if deal.status == DealStatus.OPEN.value:
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
    else:
        closed = local_day(deal.closed_at, tz) if deal.closed_at else None
        lines.append(
            _("Closed on: {day}").format(day=format_day(closed, lang) if closed else m.DASH)
        )
    lines.append(_("Status: {status}").format(status=_(STATUS[deal.status])))
    kb = InlineKeyboard()
    if deal.status == DealStatus.OPEN.value:
        for text, action in (
            (_("💰 Amount"), DealAction.AMOUNT),
            (_("📅 Close date"), DealAction.CLOSE_ON),
            (_("✏️ Title"), DealAction.TITLE),
            (_("🏆 Won"), DealAction.WON),
            (_("✖️ Lost"), DealAction.LOST),
        ):
            kb.button(text=text, callback_data=DealCb(a=action, id=contact.id, d=deal.id))
    kb.button(text=_("« Deals"), callback_data=DealCb(a=DealAction.LIST, id=contact.id))
    kb.adjust(*((2, 1, 2, 1) if deal.status == DealStatus.OPEN.value else (1,)))
    return prefix + "\n".join(lines), kb.as_markup()


def confirm_close(
    contact: Contact, deal: Deal, lang: str, *, won: bool, today: date | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """🏆 Won / ✖️ Lost tapped: the deal, the question, and one tap to say yes (or go back)."""
    text, _markup = deal_card(contact, deal, lang, today=today)
    question = _("Mark this deal as won?") if won else _("Mark this deal as lost?")
    sure = DealAction.WON_SURE if won else DealAction.LOST_SURE
    kb = InlineKeyboard()
    kb.button(
        text=_("🏆 Yes, won") if won else _("✖️ Yes, lost"),
        callback_data=DealCb(a=sure, id=contact.id, d=deal.id),
    )
    kb.button(text=_("« Back"), callback_data=DealCb(a=DealAction.CARD, id=contact.id, d=deal.id))
    kb.adjust(2)
    return f"{text}\n\n<b>{question}</b>", kb.as_markup()


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


def ask_title(deal: Deal) -> str:
    """✏️ Title: what the deal is for, typed anew ("-" for nothing)."""
    now = _("What: {title}").format(title=h(deal.title)) + "\n" if deal.title else ""
    return now + _(
        "What is the deal for? Send e.g. <code>website redesign</code>, or - for nothing. "
        "/cancel to stop."
    )


def title_kept(raw: str) -> str:
    return _(
        "“{title}”: kept as what the deal is for. And the amount? E.g. <code>12 000 ₽</code>."
    ).format(title=h(" ".join(raw.split())[:200]))


def bad_amount(raw: str, found: MoneyReading | None = None) -> str:
    """Why a typed amount was not taken (core.deals.read_money's issue), quoting it."""
    text = h(raw[:100])
    issue = found.issue if found is not None else AmountIssue.UNREAD
    if found is None or issue is AmountIssue.UNREAD:
        return _(
            "I could not read an amount in “{text}”. Try e.g. <code>12 000 ₽</code>, "
            "<code>1.5k EUR</code> or <code>$3,000</code>."
        ).format(text=text)
    if issue is AmountIssue.NOT_POSITIVE:
        return _("“{text}”: the amount must be above zero. E.g. <code>12 000 ₽</code>.").format(
            text=text
        )
    if issue is AmountIssue.TOO_LARGE:
        return _(
            "“{text}” is too large for a deal: up to 10 trillion. E.g. <code>2.5 bn ₽</code>."
        ).format(text=text)
    if issue is AmountIssue.EXPONENT:
        return _(
            "“{text}”: write the amount without an exponent, e.g. "
            "<code>1 000 000 000 USD</code> or <code>1 bn USD</code>."
        ).format(text=text)
    if issue is AmountIssue.CURRENCY:
        return _(
            "“{text}”: I don't know the currency {code}. Write a code or sign I know, e.g. "
            "<code>{number} EUR</code> or <code>{number} ₽</code>; if {code} is what the deal "
            "is for: <code>{number} {currency} {code}</code>."
        ).format(text=text, code=h(found.code), number=h(found.number), currency=found.currency)
    n = decimals_of(found.currency)
    if n == 0:
        return _(
            "“{text}”: an amount in {currency} has no decimals, and I don't round. "
            "Send a whole number, e.g. <code>1 234</code>."
        ).format(text=text, currency=found.currency)
    return ngettext(
        "“{text}”: an amount in {currency} has at most {n} decimal, and I don't round. "
        "Thousands are written <code>1 234</code>, a fraction <code>1.23</code>.",
        "“{text}”: an amount in {currency} has at most {n} decimals, and I don't round. "
        "Thousands are written <code>1 234</code>, a fraction <code>1.23</code>.",
        n,
    ).format(text=text, currency=found.currency, n=n)


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


def deal_left(
    current: str, data: dict[str, Any], n: int, *, tap: bool = False
) -> tuple[str, InlineKeyboardMarkup] | None:
    """A command (``tap``: a button of another message) ended a new deal after its amount or what it is for was typed: say that the
    deal was not saved, show what was given, offer to go back to it (bot.middlewares'
    CommandLeavesDialogue, "DealForm"). Nothing typed yet, or a deal's field being changed:
    nothing is lost, nothing to say."""
    if current not in (DealForm.amount.state, DealForm.close_on.state) or not data.get("cid"):
        return None
    given = [t for t in (data.get("shown"), data.get("title")) if t]
    if not given:
        return None
    text = (
        _("✋ The deal with {name} was not saved: a button of another message ends the dialogue.")
        if tap
        else _("✋ The deal with {name} was not saved: a command ends the dialogue.")
    ).format(name=h(data.get("cname") or "…"))
    given_text = _("Given so far: {fields}").format(fields=h(" · ".join(given)))
    return way_back(text, given_text, _("↩️ Back to the deal"), ResumeCb(d="deal", n=n))


def deal_gone() -> str:
    return _("That unfinished deal is no longer kept. Open the card's 💼 Deals to add it again.")


def given_so_far(data: dict[str, Any]) -> str:
    """Back in a new deal left at its close date: what was given, before the question."""
    given = [t for t in (data.get("shown"), data.get("title")) if t]
    return _("Given so far: {fields}").format(fields=h(" · ".join(given))) + "\n"


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
