"""NPS as Bain defines it: promoters 9–10, passives 7–8, detractors 0–6."""

from __future__ import annotations

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
