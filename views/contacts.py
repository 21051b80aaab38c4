"""Rendering of cards, lists and timelines (HTML, user text escaped)."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message

from bot.i18n import _
from core.nextstep import format_local
from services.cards import CardData
from services.contacts import TimelineItem, tag_list
from storage.models import Contact, Touch
from views.callbacks import CardCb
from views.keyboards import InlineKeyboard
from views.labels import label
from views.rendering import answer_long, edit_text, h

log = logging.getLogger(__name__)


def contact_line(c: Contact) -> str:
    extra = ", ".join(h(x) for x in (c.company, c.position) if x)
    return f"<b>{h(c.name)}</b>" + (f" — {extra}" if extra else "")


def card_text(
    c: Contact,
    last_touch: Touch | None,
    tz: str,
    lang: str,
    *,
    owner: str | None = None,
    introduced_by: str | None = None,
) -> str:
    """The card; ``owner`` is shown to someone who is not the owner (a manager, say)."""
    lines = [contact_line(c)]
    if c.archived_at:
        lines.append(_("🗄 archived"))
    if owner:
        lines.append(_("Owner: {name}").format(name=h(owner)))
    lines.append(
        _("Status: {status} · Stage: {stage}").format(
            status=label("status", c.status), stage=label("stage", c.stage)
        )
    )
    facts = []
    if c.kind:
        facts.append(label("kind", c.kind))
    if c.influence:
        facts.append(label("influence", c.influence))
    facts.append(label("icp_fit", c.icp_fit))
    if c.segment:
        facts.append(h(c.segment))
    lines.append(" · ".join(facts))
    if c.icp_criterion:
        lines.append(_("ICP criterion: {text}").format(text=h(c.icp_criterion)))
    if c.source:
        src = label("source", c.source)
        if c.source_detail:
            src += f" ({h(c.source_detail)})"
        lines.append(_("Source: {source}").format(source=src))
    if introduced_by:
        lines.append(_("Introduced by: {name}").format(name=h(introduced_by)))
    contacts = [h(x) for x in (c.phone, c.email) if x]
    if c.tg_username:
        contacts.append("@" + h(c.tg_username))
    if contacts:
        lines.append(" · ".join(contacts))
    tags = tag_list(c.tags)
    if tags:
        lines.append(" ".join("#" + h(t) for t in tags))
    lines.append("")
    if last_touch is not None:
        lines.append(
            _("Last touch: {type}, {when}").format(
                type=label("touch", last_touch.type),
                when=format_local(last_touch.occurred_at, tz, lang),
            )
            + (f" — {h(last_touch.summary[:300])}" if last_touch.summary else "")
        )
    else:
        lines.append(_("No touches yet."))
    if c.next_step_due:
        lines.append(
            _("Next step: {step}, {when}").format(
                step=h(c.next_step or "—"), when=format_local(c.next_step_due, tz, lang)
            )
        )
    elif c.no_next_step_reason:
        lines.append(_("No next step: {reason}").format(reason=h(c.no_next_step_reason)))
    else:
        lines.append(_("⚠️ No next step planned."))
    lines.append(
        _("Data verified: {when}").format(
            when=format_local(c.verified_at, tz, lang).rsplit(",", 1)[0]
        )
    )
    if c.notes:
        lines.append("")
        lines.append(_("Notes:") + "\n" + h(c.notes))
    return "\n".join(lines)


def card_keyboard(c: Contact) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    kb.button(text=_("📝 Log touch"), callback_data=CardCb(a="log", id=c.id))
    kb.button(text=_("⏭ Next step"), callback_data=CardCb(a="next", id=c.id))
    kb.button(text=_("Status"), callback_data=CardCb(a="status", id=c.id))
    kb.button(text=_("Stage"), callback_data=CardCb(a="stage", id=c.id))
    kb.button(text=_("✏️ Edit"), callback_data=CardCb(a="edit", id=c.id))
    kb.button(text=_("🕓 Timeline"), callback_data=CardCb(a="tl", id=c.id))
    kb.button(text=_("🤝 Service delivered"), callback_data=CardCb(a="deliv", id=c.id))
    if c.archived_at:
        kb.button(text=_("Restore"), callback_data=CardCb(a="restore", id=c.id))
    else:
        kb.button(text=_("🗄 Archive"), callback_data=CardCb(a="arch", id=c.id))
    kb.adjust(2, 2, 2, 2)
    return kb.as_markup()


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
            body = f"\n{h(it.text)}" if it.text else ""
        elif it.kind in ("status", "stage"):
            head = f"{when} · {label('field', it.kind)}: {label(it.kind, it.a)} → {label(it.kind, it.b)}"
            body = ""
        elif it.kind == "next_step":
            head = f"{when} · {label('field', it.kind)}: {h(it.b)}"
            body = ""
        else:
            head = f"{when} · {label('field', it.kind)}"
            if it.kind == "merged" and it.a:
                head += f" {h(it.a)}"
            body = ""
        lines.append(head + (f" — {who}" if who else "") + body)
    return "\n".join(lines)


def card(data: CardData, *, prefix: str = "") -> tuple[str, InlineKeyboardMarkup]:
    """The card message: its text (with an optional line before it) and its buttons."""
    text = prefix + card_text(
        data.contact,
        data.last_touch,
        data.tz,
        data.lang,
        owner=data.owner,
        introduced_by=data.introduced_by,
    )
    return text, card_keyboard(data.contact)


async def show_card(
    target: Message, data: CardData, *, edit: bool = False, prefix: str = ""
) -> None:
    """Show a card: edit ``target`` in place when asked and possible, else send it anew."""
    text, markup = card(data, prefix=prefix)
    if edit and len(text) <= 4000:
        try:
            await edit_text(target, text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:  # e.g. too old to edit: send the card anew
            log.debug("card edit refused: %s", exc.message)
    await answer_long(target, text, reply_markup=markup)
