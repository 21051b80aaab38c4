"""Telegram's HTML parse mode, as the server checks it: allowed tags, balanced, entities escaped."""

from __future__ import annotations

import html
import re

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
    "tg-time",
}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*(/?)>"
)


class HtmlError(ValueError):
    pass


def parse_html(text: str) -> str:
    """Return the plain text Telegram would show, or raise HtmlError like Telegram's 400."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "<":
            m = _TAG_RE.match(text, i)
            if not m:
                raise HtmlError(
                    f"Can't parse entities: unsupported start tag at byte offset {_offset(text, i)}"
                )
            closing, name = m.group(1), m.group(2).lower()
            if name not in ALLOWED_TAGS:
                raise HtmlError(
                    f'Can\'t parse entities: unsupported start tag "{name}" at byte offset '
                    f"{_offset(text, i)}"
                )
            if closing:
                if not stack or stack[-1] != name:
                    raise HtmlError(
                        f"Can't parse entities: unmatched end tag at byte offset {_offset(text, i)}, "
                        f'expected "</{stack[-1] if stack else ""}>", found "</{name}>"'
                    )
                stack.pop()
            else:
                stack.append(name)
            i = m.end()
            continue
        if ch == "&":
            m = _ENTITY_RE.match(text, i)
            if not m:
                raise HtmlError(
                    f"Can't parse entities: unsupported entity at byte offset {_offset(text, i)}"
                )
            out.append(html.unescape(m.group(0)))
            i = m.end()
            continue
        if ch == ">":
            # Telegram tolerates a bare '>' but we stay strict to catch unescaped input early
            raise HtmlError(
                f"Can't parse entities: character '>' is reserved at byte offset {_offset(text, i)}"
            )
        out.append(ch)
        i += 1
    if stack:
        raise HtmlError(
            f"Can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
