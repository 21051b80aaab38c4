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
)

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
# "+" and a digit is meant as a phone, however short or broken ("+7 999 12", "+7 abc")
_PLUS_PHONE_RE = re.compile(r"(?<![\w+])\+\s*\d[\d\s().\-]*")
# whatever still holds an "@" after e-mails and usernames were taken ("zed@@corp")
_AT_LEFTOVER_RE = re.compile(r"[^\s,;]*@[^\s,;]*")
_DATE_RE = re.compile(r"^\d{1,2}[./]\d{1,2}[./]\d{2,4}$|^\d{4}-\d{1,2}-\d{1,2}$")
_EMPTY_BRACKETS_RE = re.compile(r"\(\s*\)|\[\s*\]")
_EDGE_PUNCT = " \t-\u2013\u2014:|/"
_SPLIT_RE = re.compile(r"[,;\n]")
_WS_RE = re.compile(r"\s+")


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


def parse_quick_add(text: str, region: str) -> QuickAdd:
    """Split a free-form line into contact fields.

    Phones, e-mails, @usernames, t.me links and #tags are recognised anywhere. What remains,
    split by "," or ";" (or new lines), is name, company, position; further parts go to notes.
    Invalid phones/e-mails are reported in ``problems`` as (code, raw value) and dropped.
    """
    problems: list[tuple[str, str]] = []
    rest = text
    email: str | None = None
    username: str | None = None
    phone: str | None = None
    tags: list[str] = []

    for match in list(_EMAIL_CAND_RE.finditer(rest)):
        raw = match.group(0).rstrip(".!?")
        rest = _blank(rest, match.start(), match.end())
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
    for match, plus in candidates:
        raw = match.group(0).strip().rstrip(".-(")
        if not plus and (len(digits_only(raw)) < MIN_PHONE_DIGITS or _DATE_RE.match(raw)):
            continue
        rest = _blank(rest, match.start(), match.end())
        value = normalize_phone(raw, region)
        if value is None:
            problems.append(("bad_phone", raw))
        elif phone is None:
            phone = value
        elif value != phone:
            problems.append(("extra_phone", raw))

    for match in list(_AT_LEFTOVER_RE.finditer(rest)):
        rest = _blank(rest, match.start(), match.end())
        problems.append(("bad_email", match.group(0)))

    parts = [part for part in (_clean(p) for p in _SPLIT_RE.split(rest)) if part]
    name = parts[0] if parts else None
    if name is not None and not is_name(name):
        problems.append(("not_a_name", name))  # "12345", "!!!": a slip, not somebody's name
        name = None
    company = parts[1] if len(parts) > 1 else None
    position = parts[2] if len(parts) > 2 else None
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
