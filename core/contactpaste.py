"""Does a pasted text look like a contact ("Anna Smirnova, Acme, CTO, +7 999 123-45-67,
anna@acme.io", or the same on separate lines)? Strict on purpose: ordinary chat text is left
alone. The phone is read by phonenumbers (through core.quickadd)."""

from __future__ import annotations

from core.quickadd import QuickAdd, parse_quick_add

MAX_TEXT = 600
MAX_PART = 60
MAX_PART_WORDS = 6
NAME_MARKS = "-'’."


def _is_name_word(word: str) -> bool:
    return (
        word[:1].isalpha()
        and word[:1].isupper()
        and all(ch.isalpha() or ch in NAME_MARKS for ch in word)
    )


def looks_like_contact(text: str, region: str) -> QuickAdd | None:
    """The contact's fields when ``text`` is a name and a phone or e-mail (with, at most, a
    company, a position, a username and tags); None for anything that reads like a message."""
    text = text.strip()
    if not text or text.startswith("/") or len(text) > MAX_TEXT:
        return None
    parsed = parse_quick_add(text, region)
    if parsed.problems or parsed.notes or not parsed.name or not (parsed.phone or parsed.email):
        return None
    words = parsed.name.split()
    if not 1 <= len(words) <= 4 or not all(_is_name_word(w) for w in words):
        return None
    for part in (parsed.company, parsed.position):
        if part and (len(part) > MAX_PART or len(part.split()) > MAX_PART_WORDS):
            return None
    return parsed
