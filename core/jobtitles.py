"""Is a short text a job title ("CEO", "Head of Sales", "главный бухгалтер")?

Used by the quick add to file "/add Bob Stone, CEO" under position, not company. Conservative
on purpose: the whole text must be a title (or titles joined by "&", "/", "and", "и"), so a
company such as "Director Films" or "Партнёр-Строй" stays a company.
"""

from __future__ import annotations

import re

# Whole titles, compared casefolded, "ё" read as "е", hyphens and spaces as one space.
_TITLES = frozenset(
    {
        # English
        "ceo",
        "cto",
        "cfo",
        "coo",
        "cmo",
        "cio",
        "cpo",
        "cro",
        "chro",
        "founder",
        "co founder",
        "cofounder",
        "owner",
        "co owner",
        "president",
        "vice president",
        "vp",
        "chairman",
        "director",
        "managing director",
        "general director",
        "executive director",
        "commercial director",
        "technical director",
        "sales director",
        "art director",
        "creative director",
        "manager",
        "general manager",
        "sales manager",
        "account manager",
        "key account manager",
        "product manager",
        "project manager",
        "marketing manager",
        "office manager",
        "hr manager",
        "business development manager",
        "procurement manager",
        "purchasing manager",
        "engineer",
        "software engineer",
        "developer",
        "software developer",
        "programmer",
        "designer",
        "consultant",
        "advisor",
        "lawyer",
        "attorney",
        "accountant",
        "hr",
        "recruiter",
        "partner",
        "managing partner",
        "analyst",
        "architect",
        "marketer",
        "team lead",
        "teamlead",
        "tech lead",
        "entrepreneur",
        "investor",
        "buyer",
        "assistant",
        "secretary",
        # Russian
        "генеральный директор",
        "гендиректор",
        "гендир",
        "директор",
        "исполнительный директор",
        "коммерческий директор",
        "технический директор",
        "финансовый директор",
        "управляющий директор",
        "ит директор",
        "арт директор",
        "основатель",
        "сооснователь",
        "владелец",
        "совладелец",
        "учредитель",
        "соучредитель",
        "президент",
        "руководитель",
        "начальник",
        "менеджер",
        "аккаунт менеджер",
        "продакт менеджер",
        "проджект менеджер",
        "бухгалтер",
        "главбух",
        "юрист",
        "инженер",
        "разработчик",
        "программист",
        "дизайнер",
        "маркетолог",
        "эйчар",
        "рекрутер",
        "партнер",
        "управляющий партнер",
        "аналитик",
        "архитектор",
        "консультант",
        "закупщик",
        "ассистент",
        "секретарь",
        "предприниматель",
        "индивидуальный предприниматель",
        "ип",
        "инвестор",
    }
)
# "Senior Developer", "главный бухгалтер", "ведущий инженер": one of these before a title.
_GRADES = frozenset(
    {
        "senior",
        "junior",
        "lead",
        "principal",
        "chief",
        "sr",
        "jr",
        "старший",
        "младший",
        "ведущий",
        "главный",
    }
)
# "Head of Sales", "директор по развитию", "начальник отдела продаж", "VP of Marketing".
_LEADS = (
    "head of ",
    "vp of ",
    "vp ",
    "vice president of ",
    "director of ",
    "руководитель ",
    "начальник ",
    "директор по ",
    "менеджер по ",
    "заместитель ",
    "зам ",
)
_MAX_WORDS = 6
# What a title never holds: digits, quotes, a legal form (a company's name, then).
_NOT_TITLE_RE = re.compile(
    r"[\d«»\"“”„@#]|\b(?:ооо|оао|зао|пао|ао|llc|ltd|inc|gmbh|corp|plc)\b", re.IGNORECASE
)
_JOIN_RE = re.compile(r"\s*(?:&|/|\+|\band\b|\bи\b)\s*", re.IGNORECASE)
# "Chief Executive Officer", "Chief Revenue Officer"
_OFFICER_RE = re.compile(r"^chief(?: [^\W\d_]+){1,3} officer$")


def _key(text: str) -> str:
    text = text.casefold().replace("ё", "е").replace("-", " ").replace("‐", " ")
    return " ".join(text.replace(".", " ").split())


def _one_title(text: str) -> bool:
    key = _key(text)
    if not key or len(key.split()) > _MAX_WORDS:
        return False
    if key in _TITLES:
        return True
    grade, _, rest = key.partition(" ")
    if grade in _GRADES and rest in _TITLES:
        return True
    if _OFFICER_RE.match(key):
        return True
    return any(key.startswith(lead) for lead in _LEADS)


def is_job_title(text: str) -> bool:
    """True when the whole ``text`` is a job title, or titles joined ("CEO & Founder")."""
    text = text.strip().strip(".").strip()
    if not text or _NOT_TITLE_RE.search(text):
        return False
    pieces = _JOIN_RE.split(text)
    return all(_one_title(piece) for piece in pieces)
