"""The rep's day: /today, and what the buttons on reminders and checks answer."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, ngettext
from core.cadence import quiet_since
from core.listfilter import ContactFilter, new_data
from core.nextstep import format_local, format_local_day, format_local_time
from core.nextstep.showing import aware
from services.today import Day, Item
from views.callbacks import CardAction, CardCb, ListCb
from views.keyboards import InlineKeyboard
from views.labels import label
from views.rendering import h

if TYPE_CHECKING:  # rows the caller has loaded: a view never queries
    from storage.models import Contact

SHOWN = 10  # items a section lists before "…and N more"


def outdated() -> str:
    return _(
        "This reminder is out of date: its step was changed or closed. Open the card to see it."
    )


def snoozed(contact: Contact, when: str) -> str:
    return _("⏰ {name}: I'll remind you on {when}.").format(name=h(contact.name), when=when)


def done_logged(touch_type: str, step: str | None) -> str:
    return _("✅ Logged: {type} — {step}.").format(
        type=label("touch", touch_type), step=h(step or "—")
    )


def reschedule_question(contact: Contact) -> str:
    return _("When should I remind you about {name}? E.g. “friday 15:00”, “in 2 days”.").format(
        name=h(contact.name)
    )


def data_confirmed(contact: Contact) -> str:
    return _("✅ {name}: data confirmed. Thank you!").format(name=h(contact.name))


STEP_SHOWN = 60  # characters of a next step in a line of the day


def item_line(item: Item, kind: str, *, now: datetime, tz: str, lang: str) -> str:
    """ "• Boris Petrov, Acme — send the proposal · 10:00": who, and what the section is about
    (the step and its time; how long a card has been quiet; since when a request waits)."""
    c = item.contact
    who = f"• {h(c.name)}" + (f", {h(c.company)}" if c.company else "")
    if kind == "cold":
        days = max(0, (aware(now) - aware(quiet_since(c.last_touch_at, c.created_at))).days)
        return (
            who
            + " — "
            + ngettext("no touch for {days} day", "no touch for {days} days", days).format(
                days=days
            )
        )
    if item.when is None:
        return who
    if kind == "inbound":
        return who + " — " + _("since {when}").format(when=format_local(item.when, tz, lang))
    # the day is today: its time says enough
    when = (
        format_local_time(item.when, tz) if kind == "today" else format_local(item.when, tz, lang)
    )
    step = c.next_step or ""
    if len(step) > STEP_SHOWN:  # cut at a word's end when there is one
        cut = step[: STEP_SHOWN - 1]
        step = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip() + "…"
    return who + " — " + (f"{h(step)} · " if step else "") + when


# the /contacts list of each section: all of its cards, when the day lists the first few
SECTION_FLAGS = {"overdue": "overdue", "today": "today", "cold": "cold", "inbound": "waiting"}


def day(
    day: Day, *, now: datetime, tz: str, lang: str, lead: bool = False
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The person's own day; a manager (``lead``) is pointed to the team's (/digest)."""
    sections = [
        (_("🔴 Overdue"), "overdue", day.overdue),
        (_("📅 Due today"), "today", day.due_today),
        (_("🥶 Going cold"), "cold", day.cold),
        (_("📥 Waiting for your reply"), "inbound", day.inbound),
    ]
    lines = [_("<b>Your day</b>, {date}").format(date=format_local_day(now, tz, lang))]
    kb = InlineKeyboard()
    empty = True
    for title, kind, items in sections:
        if not items:
            continue
        empty = False
        count = max(day.counts.get(kind, 0), len(items))
        lines.append("")
        lines.append(f"<b>{title}</b> ({count})")
        for item in items[:SHOWN]:
            c = item.contact
            lines.append(item_line(item, kind, now=now, tz=tz, lang=lang))
            kb.button(
                text=f"{title.split()[0]} {c.name[:40]}",
                callback_data=CardCb(action=CardAction.OPEN, id=c.id),
            )
        shown = min(len(items), SHOWN)
        if count > shown:
            lines.append(_("…and {count} more").format(count=count - shown))
            # a lead's /contacts is the team's: their own day is their own cards
            flt = ContactFilter(flag=SECTION_FLAGS[kind], owner_id=day.user_id if lead else None)
            kb.button(
                text=f"{title.split()[0]} " + _("Show all {count}").format(count=count),
                callback_data=ListCb(page=0, f=new_data(flt)),  # under the day
            )
    if empty:
        lines.append("")
        lines.append(_("Nothing is due. A good day to add new contacts!"))
    if lead:
        lines.append("")
        lines.append(_("Your team's overdue steps and waiting requests: /digest"))
    kb.adjust(1)
    return "\n".join(lines), (kb.as_markup() if not empty else None)
