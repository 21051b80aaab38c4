"""Split HTML-formatted text into Telegram-sized messages without breaking tags or entities."""

from __future__ import annotations

import re

TELEGRAM_LIMIT = 4096
_TAG_RE = re.compile(r"<(/?)([a-zA-Z-]+)([^>]*)>")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _safe_cut(text: str, limit: int) -> int:
    """Largest index <= limit (in UTF-16 units) that is not inside a tag or an &entity;."""
    # convert the UTF-16 limit into a str index
    idx, units = 0, 0
    for idx, ch in enumerate(text):  # noqa: B007
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            break
    else:
        return len(text)
    cut = idx
    window = text[:cut]
    # prefer paragraph, then line, then word boundaries in the last half of the window
    for sep in ("\n\n", "\n", " "):
        pos = window.rfind(sep)
        if pos > limit // 2:
            cut = pos + len(sep)
            break
    # never inside a tag or an entity
    lt, gt = text.rfind("<", 0, cut), text.rfind(">", 0, cut)
    if lt > gt:
        cut = lt
    amp, semi = text.rfind("&", 0, cut), text.rfind(";", 0, cut)
    if amp > semi and cut - amp < 12:
        cut = amp
    return max(cut, 1)


def _open_tags(html: str) -> list[str]:
    stack: list[tuple[str, str]] = []
    for m in _TAG_RE.finditer(html):
        closing, name = m.group(1), m.group(2).lower()
        if closing:
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i:]
                    break
        else:
            stack.append((name, m.group(0)))
    return [tag for _, tag in stack]


def split_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Cut ``text`` into parts no longer than ``limit`` UTF-16 units of raw HTML.

    Open tags at a cut are closed in the part and reopened in the next, so each part is valid HTML.
    Raw length bounds the parsed length, so each part also fits Telegram's own limit.
    """
    parts: list[str] = []
    rest = text
    budget = limit - 128  # room for closing and reopening tags
    while utf16_len(rest) > limit:
        cut = _safe_cut(rest, budget)
        head = rest[:cut]
        opened = _open_tags(head)
        closers = "".join(f"</{_TAG_RE.match(t).group(2)}>" for t in reversed(opened))  # type: ignore[union-attr]
        parts.append(head.rstrip() + closers)
        rest = "".join(opened) + rest[cut:].lstrip("\n")
    if rest.strip():
        parts.append(rest)
    return parts


def excerpt(text: str, limit: int) -> tuple[str, bool]:
    """The start of ``text``, at most ``limit`` characters, cut at a line or word boundary when
    one is near; True when something was left out."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    for sep in ("\n", " "):
        pos = head.rfind(sep)
        if pos > limit * 3 // 4:
            head = head[:pos]
            break
    return head.rstrip(), True
