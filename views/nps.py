"""The NPS loop in the chat: what clients see (never any CRM data) and the keyboards they tap,
the text a rep forwards, detractor cases and the loop's notices to the team.

Everything here takes plain data (services.nps_cards); handlers/nps.py and the scheduled due
work (scheduler/nps_jobs.py) render through the same functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n

from bot.i18n import LANGUAGES, _, current_language, ngettext, normalize_language
from core import limits
from core import metrics as m
from core.nextstep import format_local_day
from core.nps import Category, category, format_nps
from services.nps.notices import clip
from views.callbacks import CardAction, CardCb, CaseCb, NpsCb
from views.keyboards import InlineKeyboard
from views.rendered import Rendered
from views.rendering import h, quoted

if TYPE_CHECKING:
    from services.cards import NpsOnCard
    from services.nps import Row
    from services.nps_cards import CaseCard


# --------------------------------------------------------------------------- the client's side
def question(company: str | None) -> str:
    if company:
        return _(
            "How likely are you to recommend {company} to a friend or colleague? "
            "Tap a number: 0 — not at all likely, 10 — extremely likely."
        ).format(company=h(company))
    return _(
        "How likely are you to recommend us to a friend or colleague? "
        "Tap a number: 0 — not at all likely, 10 — extremely likely."
    )


def score_keyboard(survey_id: int, chosen: int | None = None) -> InlineKeyboardMarkup:
    """0 to 10; the ``chosen`` score marked (it can still be changed for a few minutes)."""
    kb = InlineKeyboard()
    for score in range(11):
        text = f"✅ {score}" if score == chosen else str(score)
        kb.button(text=text, callback_data=NpsCb(s=survey_id, v=score))
    kb.adjust(6, 5)
    return kb.as_markup()


def survey(company: str | None, survey_id: int) -> Rendered:
    return question(company), score_keyboard(survey_id)


def answered_survey(company: str | None, survey_id: int, score: int) -> Rendered:
    """The question after the tap: it shows the chosen score."""
    return (
        question(company) + "\n\n" + _("✅ Your answer: {score}/10").format(score=score),
        score_keyboard(survey_id, chosen=score),
    )


def survey_reminder(company: str | None, survey_id: int) -> Rendered:
    return (
        _("A gentle reminder — your opinion matters to us.") + "\n\n" + question(company),
        score_keyboard(survey_id),
    )


def cut_note(cut: bool) -> str:
    """Said to a client whose words were longer than a survey's comment keeps (else nothing)."""
    limit = limits.limit_of("comment")
    if not cut or limit is None:
        return ""
    return "\n\n" + ngettext(
        "Your message was very long, so only its first {n} character was kept.",
        "Your message was very long, so only its first {n} characters were kept.",
        limit,
    ).format(n=m.fmt_number(limit, current_language()))


def review_line(url: str | None) -> str:
    if not url:
        return ""
    return "\n\n" + _("If you have a minute, a public review would help us a lot: {url}").format(
        url=h(url)
    )


def _forward_text(link: str, company: str | None) -> str:
    who = h(company) if company else _("us")
    return _(
        "Thank you for working with {who}! Could you answer one short question? "
        "It takes ten seconds: {link}"
    ).format(who=who, link=h(link))


def forward_text(link: str, company: str | None, language: str | None = None) -> str:
    """The ready text a rep forwards to the client: in the client's ``language`` when the card
    knows it, otherwise in each of the bot's languages, one after the other."""
    known = normalize_language(language, "") if language else ""
    i18n = get_i18n()
    texts = []
    for code in [known] if known else LANGUAGES:
        with i18n.use_locale(code):
            texts.append(_forward_text(link, company))
    return "\n\n".join(texts)


# ------------------------------------------------------------------------------------- cases
def case_keyboard(card: CaseCard) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    if card.status == "open":
        kb.button(text=_("🙋 Take it"), callback_data=CaseCb(a="take", id=card.id))
    if card.status in ("open", "taken"):
        kb.button(text=_("📞 Client contacted"), callback_data=CaseCb(a="cont", id=card.id))
    if card.status != "resolved":
        kb.button(text=_("✅ Resolve"), callback_data=CaseCb(a="res", id=card.id))
    kb.button(text=_("Open card"), callback_data=CardCb(action="open", id=card.contact_id))
    kb.adjust(2, 2)
    return kb.as_markup()


SHOWN = 1500  # characters of a complaint or a resolution in a case's messages (cut: "…")
LATER_SHOWN = 300  # of each message the client wrote since


def case_status(card: CaseCard) -> str:
    """Where the case is, with who took it; an escalation and a resolution on their own lines."""
    who = h(card.taken_by_name or "?")
    if card.status == "taken":
        status = _("🙋 taken by {name}").format(name=who)
    elif card.status == "contacted":
        status = _("📞 client contacted ({name})").format(name=who)
    elif card.status == "resolved":
        status = _("✅ resolved")
    else:
        status = _("🆕 open, nobody has taken it yet")
    lines = [_("Status: {status}").format(status=status)]
    if card.escalated and not card.resolved:
        lines.append(_("⛔ Escalated to the administrators: the deadline was missed."))
    if card.resolved and card.changed:  # the client's changed answer closed it
        old, new = card.changed
        closed = _("closed on its own: the client changed their answer, {old}/10 → {new}/10")
        lines.append(_("Resolution: {text}").format(text=closed.format(old=old, new=new)))
    elif card.resolved and card.resolution:
        lines.append(_("Resolution: {text}").format(text=h(clip(card.resolution, SHOWN))))
    return "\n".join(lines)


def case_text(card: CaseCard) -> str:
    """A case as every message about it shows it: always with its status."""
    lines = [
        _("🚨 <b>Detractor</b>: {name} gave {score}/10.").format(
            name=h(card.contact_name or "?"), score=card.score if card.score is not None else "?"
        ),
        _("Rep: {rep}").format(rep=h(card.rep_name or "?")),
    ]
    if card.comment:
        lines.append(_("What went wrong: “{text}”").format(text=h(clip(card.comment, SHOWN))))
    if card.later:
        lines.append(_("Then the client wrote:"))
        lines += ["• " + quoted(clip(text, LATER_SHOWN)) for text in card.later]
    lines.append(case_status(card))
    return "\n".join(lines)


def case_alert(card: CaseCard, sla_hours: float) -> Rendered:
    sla = _("Resolve within {hours} h.").format(hours=m.fmt_number(sla_hours, current_language()))
    return case_text(card) + "\n" + sla, case_keyboard(card)


def case_comment_alert(card: CaseCard) -> Rendered:
    """What went wrong, written after the alert: the case again under a line that says so (the
    alert's buttons are on it too), not a second alert that reads like a new case."""
    return _("💬 The client wrote what went wrong.") + "\n" + case_text(card), case_keyboard(card)


def case_notice(what: str, card: CaseCard) -> Rendered | None:
    """A case's notice to a rep, a manager or an admin; None when it no longer applies."""
    text = case_text(card)
    if what == "case_comment":
        return _("💬 Your client wrote what went wrong.") + "\n" + text, None
    if what == "case_opened":
        return _(
            "A case was opened for your client; your manager has been told."
        ) + "\n" + text, None
    if what == "case_opened_admins":  # the team has no manager: the administrators handle it
        told = _("A case was opened for your client; the administrators have been told.")
        return told + "\n" + text, None
    if what == "case_opened_nobody":  # no manager, and no administrator has started the bot
        alone = _(
            "A case was opened for your client, and there is no manager to tell: please contact "
            "the client yourself."
        )
        return alone + "\n" + text, None
    if what == "case_due":
        if card.resolved:
            return None
        return _("⏳ The case's deadline is close.") + "\n" + text, case_keyboard(card)
    if what == "case_escalated":
        if card.resolved:
            return None
        return _(
            "⛔ The case missed its deadline and is escalated to you."
        ) + "\n" + text, case_keyboard(card)
    if what == "case_closed":  # the client's changed answer closed it (not reopened since)
        if not card.resolved or card.changed is None:
            return None
        return change_notice(card.contact_id, card.contact_name or "?", *card.changed, closed=True)
    if what == "case_moved":  # queued before case news (views.cases.news) took its place
        return _("Case update.") + "\n" + text, None
    return None


# ---------------------------------------------------------------------------- notices to reps
def open_card_keyboard(contact_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    kb.button(text=_("Open card"), callback_data=CardCb(action="open", id=contact_id))
    return kb.as_markup()


def referral(contact_id: int, name: str, promoter: str) -> Rendered:
    return (
        _("🎁 <b>New referral</b>: {name}, introduced by {promoter}. Get in touch soon!").format(
            name=h(name), promoter=h(promoter)
        ),
        open_card_keyboard(contact_id),
    )


def link_notice(name: str, link: str, company: str | None, language: str | None = None) -> Rendered:
    """The survey could not be sent directly: the rep forwards the link (the text in the
    client's ``language`` when known)."""
    return (
        _(
            "📋 {name} can't get the survey from me directly (they haven't started the bot). Forward them this text:"
        ).format(name=h(name))
        + "\n\n"
        + forward_text(link, company, language),
        None,
    )


def comment_notice(contact_id: int, name: str, score: int, comment: str) -> Rendered:
    """A client's words after their score; a promoter's often name someone to recommend: a
    card for them, introduced by the client, is one tap away."""
    kb = InlineKeyboard()
    if category(score) is Category.PROMOTER:
        kb.button(
            text=_("➕ Add the person they recommend"),
            callback_data=CardCb(action=CardAction.REFERRAL, id=contact_id),
        )
    kb.button(text=_("Open card"), callback_data=CardCb(action="open", id=contact_id))
    kb.adjust(1)
    return (
        _("💬 {name} answered {score}/10 and wrote: “{text}”").format(
            name=h(name), score=score, text=h(clip(comment, 2000))
        ),
        kb.as_markup(),
    )


def _category_name(score: int) -> str:
    labels = {"promoter": _("promoter"), "passive": _("passive"), "detractor": _("detractor")}
    return labels[category(score).value]


def answer_on_card(answer: NpsOnCard, tz: str, lang: str) -> str:
    """ "NPS: 3/10 (detractor), Tue, 1 Dec 2026 — 🙋 case taken": a client's card line."""
    line = _("NPS: {score}/10 ({category}), {date}").format(
        score=answer.score,
        category=_category_name(answer.score),
        date=format_local_day(answer.answered_at, tz, lang),
    )
    states = {
        "open": _("🚨 case open, nobody has taken it yet"),
        "taken": _("🙋 case taken"),
        "contacted": _("📞 client contacted"),
        "resolved": _("✅ case resolved"),
    }
    if answer.case_status in states:
        line += " — " + states[answer.case_status]
    return line


def score_notice(name: str, score: int) -> Rendered:
    return (
        _("📊 {name} answered the survey: {score}/10 ({category}).").format(
            name=h(name), score=score, category=_category_name(score)
        ),
        None,
    )


def change_notice(
    contact_id: int, name: str, old: int, new: int, *, closed: bool = False
) -> Rendered:
    """The client changed their answer (within the minutes allowed); ``closed``: and so their
    detractor case is closed."""
    text = _("🔁 {name} changed their survey answer: {old}/10 → {new}/10 ({category}).").format(
        name=h(name), old=old, new=new, category=_category_name(new)
    )
    if category(new) is Category.PROMOTER and category(old) is not Category.PROMOTER:
        text += "\n" + _("They got the referral link.")
    if closed:
        text += "\n" + _("The detractor case is closed: there is nothing to resolve.")
    return text, open_card_keyboard(contact_id)


# -------------------------------------------------------------------------------------- /nps
def report_head(days: int) -> str:
    return ngettext("<b>NPS</b>, last {n} day", "<b>NPS</b>, last {n} days", days).format(
        n=m.fmt_number(days, current_language())
    )


def summary_line(row: Row, label: str | None = None) -> str:
    """One group's figures: NPS, answers (promoters, passives, detractors), response rate;
    ``label`` is the group's name, already escaped."""
    lang = current_language()

    def num(n: int) -> str:
        return m.fmt_number(n, lang)

    answers = ngettext("{n} answer", "{n} answers", row.answers).format(n=num(row.answers))
    if row.answers:  # as the digest says it: "0 answers", not three zeros after it
        answers = _("{answers}: {promoters}, {passives}, {detractors}").format(
            answers=answers,
            promoters=ngettext("{n} promoter", "{n} promoters", row.promoters).format(
                n=num(row.promoters)
            ),
            passives=ngettext("{n} passive", "{n} passives", row.passives).format(
                n=num(row.passives)
            ),
            detractors=ngettext("{n} detractor", "{n} detractors", row.detractors).format(
                n=num(row.detractors)
            ),
        )
    line = _("NPS {score} · {answers} · response rate {rate}").format(
        score=format_nps(row.score),
        answers=answers,
        rate=m.fmt_percent(row.answers, row.delivered, lang),
    )
    return f"{label}: {line}" if label else line
