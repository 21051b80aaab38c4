"""A digest section's list as the chat shows it (the text behind the section's button) and the
buttons under it: each contact opens its card, each case the case. The ids are checked against
the viewer's scope on tap (CardInScope; services.nps.get_case_for)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from core import metrics as m
from core.nextstep import format_local
from views.callbacks import CardAction, CardCb, CaseCb
from views.digest import CASE_STATUS, CURRENT, WAITING_TITLE, referral, title, waiting_line, who
from views.keyboards import InlineKeyboard
from views.labels import label
from views.rendering import h, quoted

if TYPE_CHECKING:
    from services import digest as dg


def list_keyboard(items: list[dg.Item]) -> InlineKeyboardMarkup | None:
    """One button per contact (the first time it appears) or per case; None for an empty list."""
    kb = InlineKeyboard()
    seen: set[int] = set()
    for it in items:
        if it.case_id is not None:
            kb.button(text=it.name[:40], callback_data=CaseCb(a="open", id=it.case_id))
        elif it.contact_id is not None and it.contact_id not in seen:
            seen.add(it.contact_id)
            kb.button(
                text=it.name[:40], callback_data=CardCb(action=CardAction.OPEN, id=it.contact_id)
            )
    if not kb.buttons:
        return None
    kb.adjust(2)
    return kb.as_markup()


def list_text(
    section: str,
    items: list[dg.Item],
    *,
    everyone: bool,
    since: datetime,
    now: datetime,
    tz: str,
    lang: str,
    waiting: Sequence[dg.Item] = (),
) -> str:
    """The list behind a section's button (at most services.digest.LIST_LIMIT lines). A state
    now (overdue, going cold…) is headed by its title alone, the period's by its start too; the
    inbound list shows what waits for a reply now (``waiting``) above the period's missed
    windows."""

    def when(dt: datetime | None) -> str:
        return format_local(dt, tz, lang) if dt else m.DASH

    if section == "inbound" and waiting:
        lines = [f"<b>{h(_(WAITING_TITLE))}</b>"]
        for it in waiting:
            lines.append(waiting_line(it, now, when))
            if it.new:
                lines.append("  " + quoted(it.new[:200]))
        rest = list_text(section, items, everyone=everyone, since=since, now=now, tz=tz, lang=lang)
        return "\n".join(lines) + "\n\n" + rest
    head = (
        f"<b>{title(section, everyone)}</b>"
        if section in CURRENT
        else _("<b>{title}</b> — since {since}").format(
            title=title(section, everyone), since=format_local(since, tz, lang)
        )
    )
    if not items:
        return head + "\n" + _("Nothing here.")
    lines = [head]
    for it in items:
        if section == "touches":
            text = _("• {who} — {type}, {when} ({rep})").format(
                who=who(it), type=label("touch", it.code), when=when(it.when), rep=h(it.extra)
            )
        elif section == "new":
            text = _("• {who} — {source}, {when} ({rep})").format(
                who=who(it),
                source=label("source", it.code) if it.code else _("no source"),
                when=when(it.when),
                rep=h(it.extra),
            )
        elif section == "steps":
            mark = "✅" if it.number else "❌"
            text = f"{mark} " + _("{who} — due {when}").format(who=who(it), when=when(it.when))
        elif section == "overdue":
            text = _("• {who} — due {when} ({rep})").format(
                who=who(it), when=when(it.when), rep=h(it.extra)
            ) + (f"\n  {h(it.new)}" if it.new else "")
        elif section == "funnel":
            group = "stage" if it.code == "stage" else "status"
            text = _("• {who}: {old} → {new}, {when}").format(
                who=who(it), old=label(group, it.old), new=label(group, it.new), when=when(it.when)
            )
        elif section == "cold":
            cold = (
                _("• {who} — {stage}, no touch since added {when} ({rep})")
                if it.new == "added"
                else _("• {who} — {stage}, last touch {when} ({rep})")
            )
            text = cold.format(
                who=who(it), stage=label("stage", it.code), when=when(it.when), rep=h(it.extra)
            )
        elif section == "stale":
            text = _("• {who} — verified {when} ({rep})").format(
                who=who(it), when=when(it.when), rep=h(it.extra)
            )
        elif section == "inbound":
            text = _("• {who} wrote {when}").format(who=who(it), when=when(it.when)) + (
                "\n  " + quoted(it.extra[:200]) if it.extra else ""
            )
        elif section == "nps":
            text = _("• {who}: {score}, {when}").format(
                who=who(it), score=it.number, when=when(it.when)
            ) + ("\n  " + quoted(it.extra[:300]) if it.extra else "")
        elif section == "cases":
            text = _("• {who} — opened {when} ({status})").format(
                who=who(it),
                when=when(it.when),
                status=h(_(CASE_STATUS.get(it.code or "", it.code or ""))),
            )
        elif section == "referrals":
            text = referral(it)
        else:
            text = f"• {who(it)}"
        lines.append(text)
    return "\n".join(lines)
