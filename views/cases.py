"""/cases and the news of a case: the open detractor cases with their owner, age and deadline,
one button each that opens the case with its actions; what changed on a case, and who changed it.

Plain data in (services.nps_cards.CaseCard, services.cases.CaseNews), text and keyboards out."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.i18n import _, ngettext
from core.nextstep import format_local
from views.callbacks import CaseCb
from views.digest import fmt_duration
from views.keyboards import InlineKeyboard
from views.nps import case_keyboard, case_text, open_card_keyboard
from views.rendered import Rendered
from views.rendering import h

if TYPE_CHECKING:
    from services.cases import CaseNews
    from services.nps_cards import CaseCard


def _age(card: CaseCard, now: datetime) -> str:
    return fmt_duration((now - card.opened_at).total_seconds() if card.opened_at else None)


def deadline_line(card: CaseCard, now: datetime, tz: str, lang: str) -> str:
    """The case's SLA: when it was opened, its deadline and the time left (or past it)."""
    if card.deadline_at is None or card.resolved:
        return ""
    deadline = format_local(card.deadline_at, tz, lang)
    if card.overdue(now):
        return _("⚠️ Overdue by {late}: the deadline was {deadline}.").format(
            late=fmt_duration((now - card.deadline_at).total_seconds()), deadline=deadline
        )
    return _("⏳ Open for {age}; resolve by {deadline} ({left} left).").format(
        age=_age(card, now),
        deadline=deadline,
        left=fmt_duration((card.deadline_at - now).total_seconds()),
    )


def case_message(card: CaseCard, now: datetime, tz: str, lang: str) -> Rendered:
    """A case opened from /cases: the case with its status, its deadline and its actions."""
    line = deadline_line(card, now, tz, lang)
    return case_text(card) + (f"\n{line}" if line else ""), case_keyboard(card)


def _owner(card: CaseCard) -> str:
    if card.status == "open":
        return _("not taken")
    if card.status == "contacted":
        return _("client contacted by {name}").format(name=h(card.taken_by_name or "?"))
    return _("taken by {name}").format(name=h(card.taken_by_name or "?"))


def case_list(cards: list[CaseCard], *, now: datetime, sla_hours: float) -> Rendered:
    """The open cases, the nearest deadline first; each line says whose client it is, who is on
    it, how old it is and how it stands against the deadline. One button per case."""
    if not cards:
        return _("🎉 No open detractor cases."), None
    overdue = sum(card.overdue(now) for card in cards)
    lines = [
        ngettext(
            "🚨 <b>{n} open detractor case</b>", "🚨 <b>{n} open detractor cases</b>", len(cards)
        ).format(n=len(cards)),
        ngettext(
            "A case is due {hours} hour after the client's answer.",
            "A case is due {hours} hours after the client's answer.",
            int(sla_hours),
        ).format(hours=f"{sla_hours:g}"),
    ]
    if overdue:
        lines.append(ngettext("⚠️ {n} is overdue.", "⚠️ {n} are overdue.", overdue).format(n=overdue))
    lines.append("")
    kb = InlineKeyboard()
    for i, card in enumerate(cards, 1):
        if card.overdue(now):
            assert card.deadline_at is not None
            sla = _("⚠️ overdue by {late}").format(
                late=fmt_duration((now - card.deadline_at).total_seconds())
            )
        elif card.deadline_at is not None:
            sla = _("{left} left").format(
                left=fmt_duration((card.deadline_at - now).total_seconds())
            )
        else:
            sla = ""
        name = h(card.contact_name or "?") + (f", {h(card.company)}" if card.company else "")
        lines.append(
            _("{i}. {name} — {score}/10 · rep {rep} · {owner} · open for {age} · {sla}").format(
                i=i,
                name=name,
                score=card.score if card.score is not None else "?",
                rep=h(card.rep_name or "?"),
                owner=_owner(card),
                age=_age(card, now),
                sla=sla,
            )
        )
        kb.button(
            text=f"{i}. {(card.contact_name or '?')[:40]}",
            callback_data=CaseCb(a="open", id=card.id),
        )
    kb.adjust(2)
    return "\n".join(lines), kb.as_markup()


def news(n: CaseNews) -> Rendered:
    """What changed on a case, who changed it, and the case as it stands now."""
    card = n.card
    name = h(card.contact_name or "?")
    by = h(n.by_name or "?")
    if n.by_admin:
        by = _("{name} (administrator)").format(name=by)
    if n.move == "take":
        head = _("🙋 {by} took the case of {name}.").format(by=by, name=name)
    elif n.move == "contacted":
        head = _("📞 {by} contacted {name} about the case.").format(by=by, name=name)
    elif n.move == "resolve":
        head = _("✅ {by} resolved the case of {name}.").format(by=by, name=name)
    else:
        head = _(
            "⛔ The case of {name} missed its deadline and is escalated to the administrators."
        ).format(name=name)
    text = _("Case update: {what}").format(what=head) + "\n\n" + case_text(card)
    if n.to_rep or card.resolved:
        return text, open_card_keyboard(card.contact_id)
    return text, case_keyboard(card)
