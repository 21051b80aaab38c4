"""What the follow-ups' due work says: the next-step reminder, going cold, the stale-data check,
the inbound alerts and notices — texts and their buttons, from rows already loaded."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from core.nextstep import format_local
from views.callbacks import RemindCb
from views.keyboards import InlineKeyboard
from views.labels import label
from views.relay import reply_button
from views.rendered import Rendered
from views.rendering import h, quoted

if TYPE_CHECKING:  # rows the caller has loaded: a view never queries
    from storage.models import Contact, Touch, User


def context(c: Contact, last: Touch | None, tz: str, lang: str) -> list[str]:
    """Who it is, where they stand, and the last touch."""
    who = f"<b>{h(c.name)}</b>" + "".join(f", {h(x)}" for x in (c.company,) if x)
    lines = [
        who,
        _("Stage: {stage} · Status: {status}").format(
            stage=label("stage", c.stage), status=label("status", c.status)
        ),
    ]
    if last is not None:
        lines.append(
            _("Last touch: {type}, {when}").format(
                type=label("touch", last.type), when=format_local(last.occurred_at, tz, lang)
            )
            + (f" — {h(last.summary[:200])}" if last.summary else "")
        )
    else:
        lines.append(_("No touches yet."))
    return lines


def reminder(
    c: Contact, last: Touch | None, *, stamp: int, late_since: datetime | None, tz: str, lang: str
) -> Rendered:
    """The next step is due; ``stamp``: the buttons act on this step only."""
    assert c.next_step_due is not None
    lines = [_("⏰ <b>Next step</b>: {step}").format(step=h(c.next_step or "—"))]
    planned = format_local(c.next_step_due, tz, lang)
    lines.append(_("Planned for {when}").format(when=planned))
    if late_since is not None:
        due = format_local(late_since, tz, lang)
        lines.append(
            _("⚠️ This reminder comes late.")  # its time is the line above: not said twice
            if due == planned
            else _("⚠️ Late: this reminder was due {when}.").format(when=due)
        )
    lines.append("")
    lines += context(c, last, tz, lang)
    kb = InlineKeyboard()
    kb.button(text=_("✅ Done"), callback_data=RemindCb(a="ok", id=c.id, t=stamp))
    kb.button(text=_("+1 hour"), callback_data=RemindCb(a="s1h", id=c.id, t=stamp))
    kb.button(text=_("Tomorrow"), callback_data=RemindCb(a="stom", id=c.id, t=stamp))
    kb.button(text=_("Next week"), callback_data=RemindCb(a="swk", id=c.id, t=stamp))
    kb.button(text=_("📅 Reschedule"), callback_data=RemindCb(a="resch", id=c.id, t=stamp))
    kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
    kb.adjust(1, 3, 2)
    return "\n".join(lines), kb.as_markup()


def going_cold(c: Contact, last: Touch | None, *, tz: str, lang: str) -> Rendered:
    lines = [_("🥶 <b>Going cold</b>: no touch within the stage's rhythm and no next step.")]
    lines += context(c, last, tz, lang)
    kb = InlineKeyboard()
    kb.button(text=_("📝 Log touch"), callback_data=RemindCb(a="done", id=c.id))
    kb.button(text=_("⏭ Next step"), callback_data=RemindCb(a="next", id=c.id))
    kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
    kb.adjust(2, 1)
    return "\n".join(lines), kb.as_markup()


def data_check(c: Contact) -> Rendered:
    if c.position and c.company:
        q = _("Is <b>{name}</b> still {position} at {company}?").format(
            name=h(c.name), position=h(c.position), company=h(c.company)
        )
    elif c.company:
        q = _("Is <b>{name}</b> still at {company}?").format(name=h(c.name), company=h(c.company))
    else:
        q = _("Are the details of <b>{name}</b> still right?").format(name=h(c.name))
    kb = InlineKeyboard()
    kb.button(text=_("Yes"), callback_data=RemindCb(a="vyes", id=c.id))
    kb.button(text=_("No, edit"), callback_data=RemindCb(a="vno", id=c.id))
    return _("🔎 Data check.") + " " + q, kb.as_markup()


def _reply_buttons(c: Contact) -> InlineKeyboardMarkup:
    """Log the reply, open the card; and ↩️ Reply for a person the bot can write to."""
    kb = InlineKeyboard()
    kb.button(text=_("📝 Log reply"), callback_data=RemindCb(a="done", id=c.id))
    kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
    if c.tg_user_id:
        kb.row(reply_button(c.id))
    return kb.as_markup()


def waiting_for_reply(c: Contact, touch: Touch, *, tz: str, lang: str) -> Rendered:
    text = _("📥 <b>{name}</b> is waiting for a reply since {when}.").format(
        name=h(c.name), when=format_local(touch.occurred_at, tz, lang)
    )
    if touch.summary:
        text += "\n" + quoted(touch.summary[:300])
    return text, _reply_buttons(c)


def unanswered_for_manager(
    c: Contact, touch: Touch, rep: User | None, *, tz: str, lang: str
) -> Rendered:
    text = _(
        "🚨 Inbound request without a reply: <b>{name}</b> wrote {when}; {rep} has not answered yet."
    ).format(
        name=h(c.name),
        when=format_local(touch.occurred_at, tz, lang),
        rep=h(rep.display_name if rep else "?"),
    )
    return text, None


def rep_unreachable(rep: User) -> Rendered:
    text = _(
        "⚠️ {name} does not receive my messages (the bot is blocked or was never started), so their reminders are not delivered."
    ).format(name=h(rep.display_name))
    return text, None


def contact_wrote(c: Contact, touch: Touch, *, case: bool = False) -> Rendered:
    """A person on a card wrote to the bot (``case``: told to who handles their open case)."""
    heading = (
        _("💬 <b>{name}</b>, whose detractor case is open, wrote to me:")
        if case
        else _("💬 <b>{name}</b> wrote to me:")
    )
    text = heading.format(name=h(c.name)) + "\n" + quoted(touch.summary[:1000])
    return text, _reply_buttons(c)
