"""Rendering of cards, lists and timelines (HTML, user text escaped)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.callbacks import CardCb, ForgetCb
from bot.i18n import _
from bot.keyboards import InlineKeyboard
from bot.labels import label
from bot.rendering import h
from core.nextstep import format_local
from core.textsplit import excerpt
from services.contacts import TimelineItem, tag_list
from storage.models import Contact, Touch


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
        lines.append(_("Notes:") + "\n" + notes_on_card(c.notes))
    return "\n".join(lines)


# notes longer than this show an excerpt on the card, and a button for the whole text
NOTES_ON_CARD = 1000


def notes_are_long(notes: str | None) -> bool:
    return len(notes or "") > NOTES_ON_CARD


def notes_on_card(notes: str) -> str:
    """The notes, or their start and a pointer to 📄 Full notes (the card stays one message)."""
    head, cut = excerpt(notes, NOTES_ON_CARD)
    if not cut:
        return h(notes)
    return (
        h(head)
        + "…\n"
        + _("<i>({count} characters in all: 📄 Full notes)</i>").format(count=len(notes))
    )


def edit_prompt_value(current: str | None) -> str:
    """A field's value quoted in Edit's question: long notes by their start (the question must
    fit one message; the whole text is one tap away, 📄 Full notes)."""
    if not current:
        return "—"
    return notes_on_card(current) if notes_are_long(current) else h(current)


def full_notes_text(c: Contact) -> str:
    """The whole notes, to be sent in as many messages as they need (bot.rendering.answer_long)."""
    return _("<b>Notes</b> — {name}").format(name=h(c.name)) + "\n\n" + h(c.notes or "")


def card_keyboard(c: Contact, *, can_forget: bool = False) -> InlineKeyboardMarkup:
    """The card's buttons; ``can_forget`` (a manager or an admin): 🗑 Forget, to /forget's
    preview. A card with long notes gets 📄 Full notes (its text shows an excerpt)."""
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
    extra = card_extra_buttons(c, can_forget=can_forget)
    for text, data in extra:
        kb.button(text=text, callback_data=data)
    kb.adjust(2, 2, 2, 2, *([len(extra)] if extra else []))
    return kb.as_markup()


def card_extra_buttons(c: Contact, *, can_forget: bool) -> list[tuple[str, CallbackData]]:
    buttons: list[tuple[str, CallbackData]] = []
    if notes_are_long(c.notes):
        buttons.append((_("📄 Full notes"), CardCb(a="notes", id=c.id)))
    if can_forget and c.forgotten_at is None:
        buttons.append((_("🗑 Forget"), ForgetCb(a="card", id=c.id)))
    return buttons


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
