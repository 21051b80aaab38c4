"""Translated labels for stored codes (the domain's vocabulary in English and Russian)."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from aiogram.utils.i18n import get_i18n

from bot.i18n import N_, _
from core.contactfields import LABEL_GROUP
from core.listfilter import fold
from core.roles import Role

LABELS: dict[str, dict[str, str]] = {
    "kind": {"b2b": N_("B2B"), "b2c": N_("B2C")},
    "icp_fit": {
        "fits": N_("fits ICP"),
        "not_fit": N_("does not fit ICP"),
        "unknown": N_("ICP unknown"),
    },
    "influence": {
        "initiator": N_("initiator"),
        "decision_maker": N_("decision maker"),
        "procurement": N_("procurement"),
        "user": N_("user"),
        "influencer": N_("influencer"),
        "other": N_("other"),
        "recommendation": N_("recommendation"),
        "community": N_("community"),
        "reviews": N_("reviews"),
    },
    "source": {
        "event": N_("event"),
        "community": N_("community"),
        "partner": N_("partner"),
        "digital": N_("digital/social"),
        "webinar": N_("webinar"),
        "inbound": N_("inbound request"),
        "referral": N_("referral"),
        "cold": N_("cold outreach"),
        "other": N_("other"),
    },
    "status": {
        "contact": N_("contact"),
        "lead": N_("lead"),
        "client": N_("client"),
        "partner": N_("partner"),
        "lost": N_("lost"),
    },
    "stage": {
        "identification": N_("identification"),
        "connection": N_("connection"),
        "development": N_("development"),
        "commercial": N_("commercial"),
        "retention": N_("retention & referral"),
    },
    "touch": {
        "call": N_("call"),
        "meeting": N_("meeting"),
        "message": N_("message"),
        "email": N_("e-mail"),
        "event": N_("event"),
        "webinar": N_("webinar"),
        "social": N_("social"),
        "service": N_("service delivered"),
        "other": N_("other"),
    },
    "direction": {"out": N_("outbound"), "in": N_("inbound")},
    # /contacts' lists (core.listfilter.FLAGS), as its title says them and as they are typed
    "list": {
        "overdue": N_("overdue"),
        "today": N_("due today"),
        "cold": N_("going cold"),
        "waiting": N_("waiting for a reply"),
        "archived": N_("archived"),
    },
    # the words typed before a segment or a person's name: "/contacts segment retail"
    "filter_word": {"segment": N_("segment"), "owner": N_("owner")},
    "field": {
        "status": N_("status"),
        "stage": N_("stage"),
        "created": N_("card created"),
        "merged": N_("merged with"),
        "archived": N_("archived"),
        "restored": N_("restored"),
        "verified": N_("data verified"),
        "next_step": N_("next step"),
        "owner": N_("owner"),
    },
}


def label_text(group: str, code: str | None) -> str:
    """The translated label as plain text (buttons, chart labels)."""
    if code is None:
        return "—"
    text = LABELS.get(group, {}).get(code)
    return _(text) if text else code


def label(group: str, code: str | None) -> str:
    """The translated label, HTML-escaped for messages ("retention &amp; referral")."""
    return escape(label_text(group, code), quote=False)


def role_name(role: Role | None) -> str:
    return {
        Role.ADMIN: _("admin"),
        Role.MANAGER: _("manager"),
        Role.REP: _("sales rep"),
        Role.CLIENT: _("client"),
        None: _("guest"),
    }[role]


def typed_code(group: str, text: str) -> str | None:
    """The code whose label a rep typed instead of tapping its button ("call", "Звонок",
    "inbound"): the label in the rep's language or in English, any case, edge punctuation
    ignored; None when the text is not one of ``group``'s labels."""
    typed = fold(text.strip().strip(".!?,;:").strip())
    if not typed:
        return None
    for code, msgid in LABELS.get(group, {}).items():
        if typed in (fold(_(msgid)), fold(msgid), code):
            return code
    return next((c for word, c in TYPED_ALSO.get(group, {}).items() if fold(word) == typed), None)


def typed_words(group: str) -> dict[str, str]:
    """Every word typed for ``group``'s codes — its labels in every language and
    :data:`TYPED_ALSO`'s, folded (core.listfilter.fold: any case, "ё" as "е") — to the code;
    not the codes themselves."""
    i18n = get_i18n()
    out = {fold(word): code for word, code in TYPED_ALSO.get(group, {}).items()}
    for code, msgid in LABELS.get(group, {}).items():
        out[fold(msgid)] = code
        for lang in i18n.available_locales:
            out[fold(i18n.gettext(msgid, locale=lang))] = code
    return out


# other words people type for a label (its gender, a short form), in either language
TYPED_ALSO: dict[str, dict[str, str]] = {
    "direction": {
        **dict.fromkeys(("in", "incoming", "входящий", "входящая", "вход", "вх"), "in"),
        **dict.fromkeys(("out", "outgoing", "исходящий", "исходящая", "исх"), "out"),
    },
    "touch": {
        **dict.fromkeys(("phone", "phoned", "called", "созвон", "звонил", "позвонил"), "call"),
        **dict.fromkeys(("meet", "met", "встретились", "встречались"), "meeting"),
        **dict.fromkeys(("mail", "письмо", "почта", "мейл", "имейл", "емейл", "email"), "email"),
        **dict.fromkeys(("text", "sms", "смс", "msg", "chat", "переписка", "написал"), "message"),
        **dict.fromkeys(("ивент", "конференция", "выставка", "conference"), "event"),
        **dict.fromkeys(("соцсеть", "linkedin", "линкедин", "social media"), "social"),
    },
    "list": {
        **dict.fromkeys(("просрочено", "просрочен", "просроченные", "late"), "overdue"),
        **dict.fromkeys(("на сегодня", "сегодня"), "today"),
        **dict.fromkeys(("cold", "остывают", "остывает", "остывающие"), "cold"),
        **dict.fromkeys(("waiting", "ждут ответа", "ждут", "без ответа"), "waiting"),
        **dict.fromkeys(("archive", "архив", "в архиве", "архивные"), "archived"),
    },
    # plurals and other words for a list's filters: "/contacts clients", "/contacts лиды"
    "status": {
        **dict.fromkeys(("contacts", "контакты"), "contact"),
        **dict.fromkeys(("leads", "лиды"), "lead"),
        **dict.fromkeys(("clients", "customer", "customers", "клиенты"), "client"),
        **dict.fromkeys(("partners", "партнёры"), "partner"),
        **dict.fromkeys(("потерянные", "потеряны", "потерянный"), "lost"),
    },
    "source": {
        **dict.fromkeys(("events", "мероприятия"), "event"),
        **dict.fromkeys(("communities", "сообщества"), "community"),
        **dict.fromkeys(("partners", "партнёры"), "partner"),
        **dict.fromkeys(("social", "соцсети", "соцсеть", "digital/соцсеть"), "digital"),
        **dict.fromkeys(("webinars", "вебинары"), "webinar"),
        **dict.fromkeys(("входящие", "входящее"), "inbound"),
        **dict.fromkeys(("referrals", "рекомендации"), "referral"),
        **dict.fromkeys(("холодные контакты",), "cold"),
    },
    "filter_word": {
        **dict.fromkeys(("сегмент", "segment"), "segment"),
        **dict.fromkeys(("владелец", "owner", "ответственный"), "owner"),
    },
}


def label_codes(fields: Iterable[str]) -> dict[str, dict[str, str]]:
    """For each picked field, every label of its codes in every language, casefolded, to the
    code: a file written with labels ("мероприятие", "Decision maker") imports as with codes."""
    i18n = get_i18n()
    out: dict[str, dict[str, str]] = {}
    for field in fields:
        found: dict[str, str] = {}
        for code, msgid in LABELS.get(LABEL_GROUP.get(field, field), {}).items():
            found[msgid.casefold()] = code
            for lang in i18n.available_locales:
                found[i18n.gettext(msgid, locale=lang).casefold()] = code
        out[field] = found
    return out
