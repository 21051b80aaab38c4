"""The card's timeline: touches, changes, next steps with their local dates, NPS answers,
cases and kept files, a page at a time."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram.types import (
    InlineKeyboardMarkup,
)

from bot.i18n import _
from core.nextstep import format_local
from services.timeline import TimelineItem
from views import deals as deal_views
from views import media as media_views
from views.callbacks import CardAction, CardCb
from views.keyboards import InlineKeyboard
from views.labels import label
from views.rendering import h

if TYPE_CHECKING:  # rows the caller has loaded: a view never queries
    from storage.models import Contact

log = logging.getLogger(__name__)


def timeline_text(
    c: Contact, items: list[TimelineItem], names: dict[int, str], tz: str, lang: str
) -> str:
    lines = [_("<b>Timeline</b> — {name}").format(name=h(c.name)), ""]
    if not items:
        lines.append(_("Nothing yet."))
    for it in items:
        when = format_local(it.at, tz, lang)
        who = h(names.get(it.actor_id or 0, ""))
        if it.kind == "touch":
            head = f"{when} · {label('touch', it.a)} ({label('direction', it.b)})"
            body = (f"\n{h(it.text)}" if it.text else "") + media_views.note(it, items)
        elif it.kind == "media":
            head, body = f"{when} · {media_views.on_card(it, items)}", ""
        elif it.kind in ("status", "stage"):
            head = f"{when} · {label('field', it.kind)}: {label(it.kind, it.a)} → {label(it.kind, it.b)}"
            body = ""
        elif it.kind == "next_step":
            head = f"{when} · {next_step_event(it.extra, it.b, tz, lang)}"
            body = ""
        elif it.kind in deal_views.TIMELINE_EVENTS:
            head = f"{when} · {deal_views.timeline_event(it.kind, it.a, it.b, it.text, lang)}"
            body = ""
        elif it.kind in NPS_EVENTS:
            head, body = f"{when} · {nps_event(it)}", ""
            if it.kind == "nps_comment" and it.b:
                body = f"\n{h(it.b)}"
        else:
            head = f"{when} · {label('field', it.kind)}"
            if it.kind == "merged" and it.a:
                head += f" {h(it.a)}"
            body = ""
        lines.append(head + (f" — {who}" if who else "") + body)
    return "\n".join(lines)


NPS_EVENTS = ("nps", "nps_comment", "nps_case", "nps_stop")


def next_step_event(extra: dict, stored: str | None, tz: str, lang: str) -> str:
    """A next step in the timeline: planned for a local date, done, or none with a reason."""
    if extra.get("due") is not None:
        return _("⏭ Next step: {step}, due {when}").format(
            step=h(extra.get("step") or "—"), when=format_local(extra["due"], tz, lang)
        )
    if extra.get("done"):
        return _("✅ Next step done: {step}").format(step=h(extra.get("step") or "—"))
    if "reason" in extra:
        return _("No next step: {reason}").format(reason=h(extra["reason"] or "—"))
    return _("⏭ Next step: {step}").format(step=h(extra.get("step", stored) or "—"))


def nps_event(it: TimelineItem) -> str:
    """A survey answer (its score, or the change of it), a comment, a case move or a stop."""
    if it.kind == "nps":
        if it.a is not None and it.a != it.b:
            return _("⭐ NPS answer changed: {old} → {new}").format(old=h(it.a), new=h(it.b))
        return _("⭐ NPS answer: {score}").format(score=h(it.b))
    if it.kind == "nps_comment":
        return _("💬 NPS comment:")
    if it.kind == "nps_case":
        status = it.extra.get("status") or ""
        names = {
            "open": _("open"),
            "taken": _("taken by the manager"),
            "contacted": _("client contacted"),
            "resolved": _("resolved"),
        }
        text = _("🩹 Detractor case: {status}").format(status=h(names.get(status, status)))
        note = it.extra.get("note")
        return text + (f" — {h(note)}" if note else "")
    return _("🔕 The client stopped the surveys")


def timeline(
    c: Contact,
    items: list[TimelineItem],
    names: dict[int, str],
    *,
    page: int,
    more: bool,
    tz: str,
    lang: str,
) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboard()
    if page > 0:
        kb.button(
            text=_("« Newer"),
            callback_data=CardCb(action=CardAction.TIMELINE, id=c.id, value=str(page - 1)),
        )
    if more:
        kb.button(
            text=_("Older »"),
            callback_data=CardCb(action=CardAction.TIMELINE, id=c.id, value=str(page + 1)),
        )
    media_views.add_rows(kb, items, open_card=CardCb(action=CardAction.OPEN, id=c.id))
    return timeline_text(c, items, names, tz, lang), kb.as_markup()
