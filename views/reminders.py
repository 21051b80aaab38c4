"""What the follow-ups' due work says: the next-step reminder, going cold, the stale-data check,
the inbound alerts and notices — texts and their buttons, from rows already loaded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import _
from core.nextstep import format_local
from core.textsplit import excerpt
from views.callbacks import RemindCb
from views.keyboards import InlineKeyboard
from views.labels import label
from views.media import ICONS, MediaCb, kind_name
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


def reminder_done(c: Contact, touch: Touch, step: str | None, *, tz: str, lang: str) -> str:
    """The reminder once ✅ Done was tapped (its buttons gone): the step done, and the card as
    it is now — the touch just logged is its last."""
    lines = [_("✅ <b>Done</b>: {step}").format(step=h(step or "—")), ""]
    return "\n".join(lines + context(c, touch, tz, lang))


def archived_refusal(c: Contact) -> str:
    """A reminder's button on a card archived since (an alert: 200 characters at most)."""
    name, cut = excerpt(c.name, 40)
    return _(
        "🗄 The card “{name}” is archived: no reminders come for it. Open the card and tap "
        "Restore first."
    ).format(name=name + ("…" if cut else ""))


def data_changed(c: Contact, fields: InlineKeyboardMarkup) -> Rendered:
    """The data check's "No, edit": the fields to edit, at once (``fields``: the card's edit
    menu)."""
    return _("What changed for {name}? Choose a field to edit:").format(name=h(c.name)), fields


def reply_logged(touch: Touch, *, tz: str, lang: str) -> str:
    """📝 Log reply tapped once the reply to that message is on the card (sent with ↩️ Reply,
    or logged): a callback's answer, plain text."""
    return _("Already logged: the reply of {when}.").format(
        when=format_local(touch.occurred_at, tz, lang)
    )


def log_open() -> str:
    """📝 Log reply tapped again while the touch log it opened waits for its answers."""
    return _("Already open: answer the question below.")


def data_answered(yes: bool) -> str:
    """The data check's button tapped again."""
    return _("Already confirmed.") if yes else _("Already answered: choose a field above.")


Files = Sequence[tuple[int, str]]  # the files kept on a touch: (id, kind), in order


def _reply_buttons(c: Contact, touch: Touch, files: Files = ()) -> InlineKeyboardMarkup:
    """Log the reply (to ``touch``, the person's message: its id rides on the button), open the
    card; ↩️ Reply for a person the bot can write to; and a button per file the person sent,
    which sends it again."""
    kb = InlineKeyboard()
    kb.button(text=_("📝 Log reply"), callback_data=RemindCb(a="lrep", id=c.id, t=touch.id))
    kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
    if c.tg_user_id:
        kb.row(reply_button(c.id))
    kb.row(
        *(
            InlineKeyboardButton(
                text=f"{ICONS.get(kind, '📎')} {kind_name(kind)}",
                callback_data=MediaCb(id=media_id).pack(),
            )
            for media_id, kind in files
        )
    )
    return kb.as_markup()


def _their_words(text: str, limit: int) -> tuple[str, bool]:
    """A client's words, quoted: at most ``limit`` characters, a cut marked "…"."""
    shown, cut = excerpt(text, limit)
    return quoted(shown + ("…" if cut else "")), cut


def waiting_for_reply(c: Contact, touch: Touch, *, tz: str, lang: str) -> Rendered:
    text = _("📥 <b>{name}</b> is waiting for a reply since {when}.").format(
        name=h(c.name), when=format_local(touch.occurred_at, tz, lang)
    )
    if touch.summary:
        text += "\n" + _their_words(touch.summary, 300)[0]
    return text, _reply_buttons(c, touch)


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
    kb = InlineKeyboard()
    kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
    return text, kb.as_markup()


def rep_unreachable(rep: User) -> Rendered:
    text = _(
        "⚠️ {name} does not receive my messages (the bot is blocked or was never started), so their reminders are not delivered."
    ).format(name=h(rep.display_name))
    return text, None


QUOTED = 1000  # characters of a client's message in its notice (the rest: on the timeline)


def contact_wrote(c: Contact, touch: Touch, *, case: bool = False, files: Files = ()) -> Rendered:
    """A person on a card wrote to the bot (``case``: told to who handles their open case;
    ``files``: what they sent — sent to the reader too — each with a button that sends it
    again)."""
    heading = (
        _("💬 <b>{name}</b>, whose detractor case is open, wrote to me:")
        if case
        else _("💬 <b>{name}</b> wrote to me:")
    )
    lines = [heading.format(name=h(c.name))]
    lines += [f"{ICONS.get(kind, '📎')} {kind_name(kind)}" for _id, kind in files]
    if touch.summary:
        words, cut = _their_words(touch.summary, QUOTED)
        lines.append(words)
        if cut:
            lines.append(
                _("✂️ The message is longer: the whole of it is on the card's 🕓 Timeline.")
            )
    if c.archived_at is not None:
        lines.append(_("🗄 This card is archived: open it to restore it."))
    return "\n".join(lines), _reply_buttons(c, touch, files)
