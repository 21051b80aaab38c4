"""Input limits in one place, shared by every path that takes text (chat, edit, import).

A value is first *cleaned*: NUL and other control characters are dropped (PostgreSQL refuses NUL
in text; the others corrupt exports and messages), single-line fields get their line breaks and
tabs folded into spaces. Then it is *fitted* to its field's length. Callers that talk to a person
check :func:`too_long` first and refuse with a clear answer; bulk paths (import) fit and report
what was cut. The database columns are sized from the same table (storage/models.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# characters per field (Python str length)
LIMITS: dict[str, int] = {
    "name": 256,
    "company": 256,
    "position": 256,
    "segment": 128,
    "icp_criterion": 512,
    "source_detail": 256,
    "email": 254,
    "tg_username": 64,
    "notes": 10_000,
    "summary": 4_000,  # a touch
    "next_step": 512,
    "reason": 256,  # no next step, because…
    "comment": 4_000,  # a client's survey comment
    "resolution": 4_000,  # a case's resolution note
    "team_name": 128,
}
MULTILINE = frozenset({"notes", "summary", "comment", "resolution"})

TAG_MAX_LEN = 32  # core.contactdata.normalize_tag
TAG_MAX_COUNT = 20  # stored as ";a;b;" in a 1,024-character column: 20 × 33 + 1 < 1,024

# C0/C1 controls and a few invisible troublemakers; \n and \t are handled per field
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_LINE_BREAKS = re.compile(r"[\r\n\t]+")


def clean(field: str, value: str) -> str:
    """Drop control characters; fold line breaks in single-line fields; strip the ends."""
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n")
    text = _CONTROL.sub("", text)
    if field in MULTILINE:
        text = text.replace("\r", "\n")
    else:
        text = _LINE_BREAKS.sub(" ", text)
    return text.strip()


def limit_of(field: str) -> int | None:
    return LIMITS.get(field)


def too_long(field: str, value: str) -> bool:
    """Whether the cleaned value is over its field's limit (then the person is asked again)."""
    limit = LIMITS.get(field)
    return limit is not None and len(clean(field, value)) > limit


@dataclass(frozen=True)
class Fitted:
    value: str | None
    cut: bool = False


def fit(field: str, value: str | None) -> Fitted:
    """Clean and cut to the field's limit; an empty result is None."""
    if value is None:
        return Fitted(None)
    text = clean(field, value)
    limit = LIMITS.get(field)
    cut = limit is not None and len(text) > limit
    if cut:
        text = text[:limit].rstrip()
    return Fitted(text or None, cut)


def fit_tags(tags: list[str]) -> tuple[list[str], bool]:
    """At most :data:`TAG_MAX_COUNT` tags (the first ones); True when some were dropped."""
    unique = list(dict.fromkeys(tags))
    return unique[:TAG_MAX_COUNT], len(unique) > TAG_MAX_COUNT
