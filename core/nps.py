"""NPS as Bain defines it: promoters 9–10, passives 7–8, detractors 0–6."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class SurveyStatus(StrEnum):
    """Where a survey is (stored as its value in surveys.status)."""

    SCHEDULED = "scheduled"  # to be sent to the client directly
    LINK = "link"  # the rep forwards a personal link
    SENT = "sent"  # reached the client (or the client opened the link)
    ANSWERED = "answered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the client sent /stop


class CaseStatus(StrEnum):
    """Where a detractor case is (stored as its value in nps_cases.status)."""

    OPEN = "open"
    TAKEN = "taken"
    CONTACTED = "contacted"
    RESOLVED = "resolved"


# a case someone still has to act on
OPEN_CASES = (CaseStatus.OPEN, CaseStatus.TAKEN, CaseStatus.CONTACTED)


class Category(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


def category(score: int) -> Category:
    if not 0 <= score <= 10:
        raise ValueError("an NPS score is 0..10")
    if score >= 9:
        return Category.PROMOTER
    if score >= 7:
        return Category.PASSIVE
    return Category.DETRACTOR


def round_half_away(value: Decimal) -> int:
    """Round half away from zero (12.5 -> 13, -12.5 -> -13)."""
    sign = -1 if value < 0 else 1
    return sign * int(abs(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def nps(promoters: int, detractors: int, answers: int) -> int | None:
    """100 × (promoters − detractors) / answers, an integer; None (shown "—") with no answers."""
    if answers <= 0:
        return None
    return round_half_away(Decimal(100) * (promoters - detractors) / Decimal(answers))


def format_nps(value: int | None) -> str:
    return "—" if value is None else f"{value:+d}" if value else "0"


_SCORE_WORDS = {
    word: number
    for number, words in enumerate(
        (
            "zero ноль",
            "one один одна",
            "two два две",
            "three три",
            "four четыре",
            "five пять",
            "six шесть",
            "seven семь",
            "eight восемь",
            "nine девять",
            "ten десять",
        )
    )
    for word in words.split()
}
_TYPED_SCORE_RE = re.compile(
    r"^(?:(?:на|оценка|оцениваю|ставлю|score|my score is|i give|i'd give)\s*:?\s*)?"
    r"(?P<n>[0-9]{1,2}|" + "|".join(_SCORE_WORDS) + r")"
    r"(?:\s*(?:/|из|out of|of)\s*(?:10|десяти))?(?:\s*(?:баллов|балла|балл|points?))?$"
)


def typed_score(text: str) -> int | None:
    """A score a client types instead of tapping: "9", "10/10", "8 из 10", "девять", "nine";
    None for anything else (a sentence is a comment, not a score)."""
    low = " ".join(text.casefold().split()).strip(" .!)")
    match = _TYPED_SCORE_RE.match(low)
    if match is None:
        return None
    n = match.group("n")
    score = _SCORE_WORDS[n] if n in _SCORE_WORDS else int(n)
    return score if 0 <= score <= 10 else None
