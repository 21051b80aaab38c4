"""Minimum touch frequency by stage, and who is "going cold"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.enums import DEFAULT_CADENCE_DAYS, Stage

Cadence = dict[str, int]


SHORTEST_CADENCE = timedelta(days=1)  # a stage's cadence is 1 to 365 days (parse_cadence)

# the stage names a manager may type, as the domain and the prompt write them, in either
# language (compared lowercased, "ё" as "е", spaces collapsed): the code, the English label,
# the Russian label and its short forms
STAGE_NAMES: dict[str, str] = {
    **dict.fromkeys(("identification", "идентификация"), Stage.IDENTIFICATION.value),
    **dict.fromkeys(("connection", "установление связи", "связь"), Stage.CONNECTION.value),
    **dict.fromkeys(("development", "развитие"), Stage.DEVELOPMENT.value),
    **dict.fromkeys(
        (
            "commercial",
            "commercial interaction",
            "коммерческое взаимодействие",
            "коммерческое",
            "коммерция",
        ),
        Stage.COMMERCIAL.value,
    ),
    **dict.fromkeys(
        (
            "retention",
            "retention & referral",
            "retention & referrals",
            "retention and referral",
            "retention and referrals",
            "удержание",
            "удержание и рекомендации",
        ),
        Stage.RETENTION.value,
    ),
}


def stage_of(name: str) -> str | None:
    """A stage's code from its name as typed ("Развитие", "установление  связи",
    "retention & referral"); None when it names no stage."""
    return STAGE_NAMES.get(" ".join(name.lower().replace("ё", "е").split()))


def parse_cadence(text: str | None) -> Cadence | None:
    """ "connection=7,development=14" (or "развитие=14, удержание=30") -> {"connection": 7,
    ...}; None if malformed."""
    result: Cadence = {}
    if not text:
        return result
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, days = part.partition("=")
        stage = stage_of(name)
        if not sep or stage is None or not days.strip().isdigit():
            return None
        n = int(days)
        if not 1 <= n <= 365:
            return None
        result[stage] = n
    return result


def effective_cadence(settings_text: str | None, team_text: str | None) -> Cadence:
    cadence: Cadence = {s.value: d for s, d in DEFAULT_CADENCE_DAYS.items() if d}
    cadence.update(parse_cadence(settings_text) or {})
    cadence.update(parse_cadence(team_text) or {})
    return cadence


def encode_cadence(cadence: Cadence) -> str:
    return ",".join(f"{k}={v}" for k, v in cadence.items())


def quiet_since(last_touch_at: datetime | None, created_at: datetime) -> datetime:
    """Since when a card has been quiet: its last touch, or its creation if never touched."""
    return last_touch_at or created_at


def cold_cutoffs(cadence: Cadence, now: datetime) -> dict[str, datetime]:
    """Going cold, the one definition: a live card with no next step planned is going cold when
    it has been quiet since before its stage's cutoff (now − the stage's cadence in days).
    A stage without a cadence never goes cold. (The SQL form: storage.conditions.going_cold.)"""
    return {stage: now - timedelta(days=days) for stage, days in cadence.items() if days}


def is_going_cold(
    *,
    stage: str,
    last_touch_at: datetime | None,
    created_at: datetime,
    next_step_due: datetime | None,
    now: datetime,
    cadence: Cadence,
) -> bool:
    """No touch within the stage's cadence and no planned step (see :func:`cold_cutoffs`)."""
    cutoff = cold_cutoffs(cadence, now).get(stage)
    if cutoff is None or next_step_due is not None:
        return False
    return quiet_since(last_touch_at, created_at) < cutoff


@dataclass(frozen=True, slots=True)
class Cooling:
    """A card going cold, in numbers its card can show: quiet for ``quiet_days`` whole days where
    its stage asks for a touch every ``every_days``."""

    quiet_days: int
    every_days: int


def cooling(
    *,
    stage: str,
    last_touch_at: datetime | None,
    created_at: datetime,
    next_step_due: datetime | None,
    now: datetime,
    cadence: Cadence,
) -> Cooling | None:
    """:func:`is_going_cold`, with how long the card has been quiet; None when it is not."""
    if not is_going_cold(
        stage=stage,
        last_touch_at=last_touch_at,
        created_at=created_at,
        next_step_due=next_step_due,
        now=now,
        cadence=cadence,
    ):
        return None
    return Cooling((now - quiet_since(last_touch_at, created_at)).days, cadence[stage])


def stage_for_client(stage: str) -> str | None:
    """A client whose service was delivered is at "retention & referral" (the method's last
    stage, with its own 30-day cadence); a card left at an earlier stage moves there, so it is
    neither counted at the wrong stage nor left without a cadence. None: it is there already."""
    return None if stage == Stage.RETENTION.value else Stage.RETENTION.value
