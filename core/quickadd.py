"""Parse a one-line quick-add: "Anna Smirnova, Acme, CTO, +7 999 123-45-67, @anna #event"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.contactdata import (
    digits_only,
    is_name,
    normalize_email,
    normalize_phone,
    normalize_tag,
    normalize_username,
    phone_end,
)
from core.jobtitles import is_job_title

MIN_PHONE_DIGITS = 7

# Things that look like an e-mail: some non-space text, "@", some non-space text.
_EMAIL_CAND_RE = re.compile(r"(?<![^\s,;(<\[])[^\s,;@<>()\[\]]+@[^\s,;@<>()\[\]]+")
# Usernames and t.me links.
_TME_CAND_RE = re.compile(
    r"(?<!\S)(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/[A-Za-z0-9_]+/?(?=$|[\s,;])",
    re.IGNORECASE,
)
_USERNAME_CAND_RE = re.compile(r"(?<![^\s,;(])@[A-Za-z0-9_]+(?=$|[\s,;.!?)])")
_TAG_CAND_RE = re.compile(r"(?<![^\s,;(])#[^\s,;#.!?()\[\]{}<>\"'«»:]+")
# Optional "+", then digits mixed with spaces, dashes, dots and parentheses.
_PHONE_CAND_RE = re.compile(r"(?<![\w+])\(?\+?\(?\d[\d\s().\-]*\d\)?(?!\w)")
# a part that is only an extension, right after a phone's part: "+1 212 555 0101, ext. 12",
# "+7 495 123-45-67; доб. 55" — the phone's, not a company or a position
_EXT_PART_RE = re.compile(
    r"[ \t]*[,;][ \t]*(?P<ext>(?:ext(?:ension)?|(?-i:x)|доб(?:авочный)?|доп|вн(?:утр(?:енний)?)?)"
    r"[ \t]*[.:]?[ \t]*\d{1,7})[ \t.]*(?=$|[,;\n])",
    re.IGNORECASE,
)
# "+" and a digit is meant as a phone, however short or broken ("+7 999 12", "+7 abc")
_PLUS_PHONE_RE = re.compile(r"(?<![\w+])\+\s*\d[\d\s().\-]*")
# whatever still holds an "@" after e-mails and usernames were taken ("zed@@corp")
_AT_LEFTOVER_RE = re.compile(r"[^\s,;]*@[^\s,;]*")
_DATE_RE = re.compile(r"^\d{1,2}[./]\d{1,2}[./]\d{2,4}$|^\d{4}-\d{1,2}-\d{1,2}$")
_EMPTY_BRACKETS_RE = re.compile(r"\(\s*\)|\[\s*\]")
_EDGE_PUNCT = " \t-\u2013\u2014:|/"
_SPLIT_RE = re.compile(r"[,;\n]")
_WS_RE = re.compile(r"\s+")

# Labels typed around a phone, e-mail or username ("tel. 8 912 …", "email: anna@…", "tg @anna"):
# dropped, never taken for a name, a company or a position.
_LABEL = (
    r"(?:tel(?:ephone)?|phone|ph|mob(?:ile)?|cell(?:phone)?"
    r"|т|тел(?:ефон)?|тлф|моб(?:ильный)?|сот(?:овый)?"
    r"|[eе][-‐ ]?mail|mail|эл\.?\s*почта|электронная\s+почта|почта|[еи]?м[еэ]йл"
    r"|tg|тг|telegram|телеграмм?)(?!\w)"
)
# Words that are also companies' or people's ("Acme Mobile", "Royal Mail", "Т." an initial):
# after other words of their part they are labels only in lower case or with ":", and alone in
# a part only in lower case or with "." or ":" ("Telegram" alone may be somebody's company).
_WEAK_LABELS = frozenset(
    {"mobile", "cell", "т", "mail", "почта", "tg", "тг", "telegram", "телеграм", "телеграмм"}
)
_LABEL_RE = re.compile(_LABEL, re.IGNORECASE)
# a label ending right where a contact starts: "tel. ", "email:", "(тел."
_LABEL_TAIL_RE = re.compile(
    rf"(?<![^\s,;(\[])(?P<label>{_LABEL})(?P<mark>[\s.:\-\u2013\u2014]*)$",
    re.IGNORECASE,
)
# a label after a contact, the rest of its part: "+7 912 … (mob.)", "@anna telegram"
_LABEL_HEAD_RE = re.compile(
    rf"[ \t:\-\u2013\u2014]*+(?:\([ \t]*{_LABEL}[ \t.:]*\)|\[[ \t]*{_LABEL}[ \t.:]*\]"
    rf"|{_LABEL}[ \t.:]*)(?=$|[,;\n])",
    re.IGNORECASE,
)
# a part that is nothing but labels: "tel.", "email:", "моб. тел."
_LABELS_ONLY_RE = re.compile(rf"{_LABEL}(?:[\s.:/\-]*{_LABEL})*", re.IGNORECASE)
# a label glued to its contact ("email:anna@acme.io", "tg:@anna"): a space is put after ":"
_GLUED_LABEL_RE = re.compile(rf"(?<![^\s,;(\[])({_LABEL}:)(?=[\w@+(])", re.IGNORECASE)

# Legal forms written before a company's name ("ООО Ромашка", "LLC Romashka", "JSC Acme"):
# inside the name part (not as its first word, and with a name after it) one starts the company
# typed without a comma. Forms written after the name (Inc, Ltd, GmbH, Corp, PLC) never do:
# "Bob Acme Inc" cannot tell where the company starts, and is left as typed.
_LEGAL_FORM_RE = re.compile(
    r"(?<=\S)\s+(?=(?:ООО|ОАО|ЗАО|ПАО|НАО|АО|ИП|ТОО|АНО|НКО|ГУП|МУП|ФГУП|OOO|LLC"
    r"|P?JSC|[CO]JSC)\.?(?:\s+\S|\s*[«\"“„']))",
    re.IGNORECASE,
)
# what may stand between a name and its company: "Пётр Сидоров · ООО Ромашка"
_BETWEEN = "·•"


@dataclass(frozen=True, slots=True)
class QuickAdd:
    name: str | None = None
    company: str | None = None
    position: str | None = None
    phone: str | None = None
    email: str | None = None
    username: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    problems: tuple[tuple[str, str], ...] = ()

    @property
    def problem_codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.problems)

    @property
    def more_than_a_name(self) -> bool:
        """The text held more than a name: a one-line contact, or a phone or e-mail alone."""
        fields = (self.company, self.position, self.phone, self.email, self.username, self.notes)
        return self.name is None or any(fields) or bool(self.tags) or len(self.problems) > 0

    def card_fields(self) -> dict[str, str | None]:
        """The card's fields as the text gives them (the username is the card's Telegram one)."""
        return {
            "name": self.name,
            "company": self.company,
            "position": self.position,
            "phone": self.phone,
            "email": self.email,
            "tg_username": self.username,
            "notes": self.notes,
        }


def _clean(text: str) -> str:
    text = _EMPTY_BRACKETS_RE.sub(" ", text)
    text = _WS_RE.sub(" ", text).strip(_EDGE_PUNCT)
    if text.count("(") != text.count(")"):
        text = text.strip("()").strip(_EDGE_PUNCT)
    return text.rstrip()  # cut to its field's limit when saved, and said (views.adding)


def _blank(text: str, start: int, end: int) -> str:
    """Replace text[start:end] by spaces so later patterns never see it (offsets are kept)."""
    return text[:start] + " " * (end - start) + text[end:]


def _label_key(label: str) -> str:
    return "".join(ch for ch in label.casefold() if ch.isalpha())


def _drop_labels_before(rest: str, start: int) -> str:
    """Blank the labels ending where the contact at ``start`` begins ("моб. тел.: +7 …")."""
    while True:
        match = _LABEL_TAIL_RE.search(rest, max(0, start - 40), start)
        if match is None:
            return rest
        label, mark = match.group("label"), match.group("mark")
        before = rest[: match.start("label")].rstrip(" \t([")
        weak = _label_key(label) in _WEAK_LABELS
        if weak and before and before[-1] not in ",;\n":
            # "Acme Mobile +7 …", "Иванов И. Т. +7 …": a company's word or an initial
            if ":" not in mark and label != label.lower():
                return rest
        rest = _blank(rest, match.start("label"), start)
        start = match.start("label")


def _drop_labels_around(rest: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans):
        rest = _drop_labels_before(rest, start)
        after = _LABEL_HEAD_RE.match(rest, end)
        if after is not None:
            rest = _blank(rest, after.start(), after.end())
    return rest


def _is_label_only(part: str) -> bool:
    """ "tel.", "email:", "моб. тел.": a label without its contact, not a field. A capitalised
    weak label alone ("Telegram", "Mail") is kept: it may be somebody's company."""
    core = part.strip(_EDGE_PUNCT + "\n()[].")
    if not core or not _LABELS_ONLY_RE.fullmatch(core):
        return False
    labels = [_label_key(m.group(0)) for m in _LABEL_RE.finditer(core)]
    strong = any(label not in _WEAK_LABELS for label in labels)
    return strong or "." in part or ":" in part or core == core.lower()


_QUOTES = {'"': '"', "«": "»", "“": "”", "„": "“"}
# a legal form written after the company's name as a part of its own: "Acme, Inc."
_TRAILING_FORM_RE = re.compile(
    r"^(?:inc|ltd|llc|llp|lp|plc|corp|co|gmbh|ag|s\.?a|b\.?v|pty\.? ltd)\.?$", re.IGNORECASE
)


def _split_outside_quotes(text: str) -> list[str]:
    """Split by "," ";" and new lines, except inside quotes ("“Quotes, Inc.”" is one part)."""
    parts, current, closing = [], [], None
    for ch in text:
        if closing is not None:
            closing = None if ch == closing else closing
        elif ch in _QUOTES:
            closing = _QUOTES[ch]
        elif _SPLIT_RE.match(ch):
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    if closing is not None:  # a quote never closed: it quotes nothing
        return _SPLIT_RE.split(text)
    return [*parts, "".join(current)]


def _split_parts(rest: str) -> list[str]:
    """The name, company, position and notes, in the order typed; a company typed right after
    the name without a comma ("Мария Иванова ООО Ромашка") is a part of its own; a company's
    name in quotes and its legal form after a comma ("Acme, Inc.") stay the company's."""
    raw = [p for p in _split_outside_quotes(rest) if not _is_label_only(p)]
    parts = [part for part in (_clean(p) for p in raw) if part]
    if len(parts) > 2 and _TRAILING_FORM_RE.match(parts[2]):
        parts[1:3] = [f"{parts[1]}, {parts[2]}"]
    if parts:
        form = _LEGAL_FORM_RE.search(parts[0])
        if form is not None:
            name = _clean(_clean(parts[0][: form.start()]).rstrip(_BETWEEN))
            company = _clean(parts[0][form.end() :])
            parts[0:1] = [p for p in (name, company) if p and not _is_label_only(p)]
    return parts


def parse_quick_add(text: str, region: str) -> QuickAdd:
    """Split a free-form line into contact fields.

    Phones, e-mails, @usernames, t.me links and #tags are recognised anywhere. What remains,
    split by "," or ";" (or new lines), is name, company, position; further parts go to notes.
    Labels around a contact ("tel.", "email:", "тг") are dropped; a job title as the second and
    last part is the position ("Bob, CEO"); a legal form inside the name part starts the company
    ("Мария Иванова ООО Ромашка"). Invalid phones/e-mails are reported in ``problems`` as
    (code, raw value) and dropped.
    """
    problems: list[tuple[str, str]] = []
    rest = _GLUED_LABEL_RE.sub(r"\1 ", text)
    spans: list[tuple[int, int]] = []  # where the contacts were, for the labels around them
    email: str | None = None
    username: str | None = None
    phone: str | None = None
    tags: list[str] = []

    for match in list(_EMAIL_CAND_RE.finditer(rest)):
        raw = match.group(0).rstrip(".!?")
        rest = _blank(rest, match.start(), match.end())
        spans.append((match.start(), match.end()))
        value = normalize_email(raw)
        if value is None:
            problems.append(("bad_email", raw))
        elif email is None:
            email = value
        else:
            problems.append(("extra_email", raw))

    for pattern in (_TME_CAND_RE, _USERNAME_CAND_RE):
        for match in list(pattern.finditer(rest)):
            raw = match.group(0)
            rest = _blank(rest, match.start(), match.end())
            spans.append((match.start(), match.end()))
            value = normalize_username(raw)
            if value is None:
                problems.append(("bad_username", raw))
            elif username is None:
                username = value
            elif value != username:
                problems.append(("extra_username", raw))

    for match in list(_TAG_CAND_RE.finditer(rest)):
        raw = match.group(0)
        rest = _blank(rest, match.start(), match.end())
        tag = normalize_tag(raw)
        if tag is None:
            problems.append(("bad_tag", raw))
        elif tag not in tags:
            tags.append(tag)

    candidates = [(m, True) for m in _PLUS_PHONE_RE.finditer(rest)]
    taken = [(m.start(), m.end()) for m, _plus in candidates]
    candidates += [
        (m, False)
        for m in _PHONE_CAND_RE.finditer(rest)
        if not any(start <= m.start() < end for start, end in taken)
    ]
    candidates.sort(key=lambda pair: pair[0].start())
    read_to = 0  # where the last phone ended, with its extension ("… ext. 1234567")
    for match, plus in candidates:
        raw = match.group(0).strip().rstrip(".-(")
        if match.start() < read_to:
            continue
        if not plus and (len(digits_only(raw)) < MIN_PHONE_DIGITS or _DATE_RE.match(raw)):
            continue
        read_to = phone_end(rest, match.start(), match.end(), region)
        if read_to > match.end():  # "+1 212 555 0100 ext. 12", "… (доб. 123)": one phone
            raw = rest[match.start() : read_to].strip()
        elif ext := _EXT_PART_RE.match(rest, read_to):  # "+1 212 555 0100, ext. 12"
            raw, read_to = f"{raw} {ext['ext']}", ext.end()
        rest = _blank(rest, match.start(), read_to)
        spans.append((match.start(), read_to))
        value = normalize_phone(raw, region)
        if value is None:
            problems.append(("bad_phone", raw))
        elif phone is None:
            phone = value
        elif value != phone:
            problems.append(("extra_phone", raw))

    for match in list(_AT_LEFTOVER_RE.finditer(rest)):
        rest = _blank(rest, match.start(), match.end())
        spans.append((match.start(), match.end()))
        problems.append(("bad_email", match.group(0)))

    parts = _split_parts(_drop_labels_around(rest, spans))
    name = parts[0] if parts else None
    if name is not None and not is_name(name):
        problems.append(("not_a_name", name))  # "12345", "!!!": a slip, not somebody's name
        name = None
    company = parts[1] if len(parts) > 1 else None
    position = parts[2] if len(parts) > 2 else None
    if len(parts) == 2 and is_job_title(parts[1]):
        company, position = None, parts[1]  # "Bob Stone, CEO": a title, not a company
    notes = ", ".join(parts[3:]) if len(parts) > 3 else None
    if name is None:
        problems.insert(0, ("no_name", ""))

    return QuickAdd(
        name=name,
        company=company,
        position=position,
        phone=phone,
        email=email,
        username=username,
        tags=tuple(tags),
        notes=notes,
        problems=tuple(problems),
    )
