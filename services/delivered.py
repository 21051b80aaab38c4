"""A service was delivered: one use case for /delivered, the card's button and a "service"
touch logged by hand. The touch and the survey it plans are written in one transaction, so
what the rep is then told is what was saved."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.cadence import stage_for_client
from core.enums import Direction, Status, TouchType
from core.mentions import is_only_names
from services import followups, nps, taps
from storage.models import Contact, Touch, User
from storage.uow import writing


@dataclass(frozen=True)
class SurveyRules:
    """The settings a delivery depends on: the NPS survey's, and the follow-ups' for the touch it
    logs."""

    delay: timedelta
    min_interval: timedelta
    expiry: timedelta
    default_tz: str
    follow: followups.Rules = field(default_factory=followups.Rules)
    admin_ids: frozenset[int] = frozenset()  # colleagues too: never surveyed as clients

    @classmethod
    def of(cls, settings: Any) -> SurveyRules:
        return cls(
            delay=timedelta(hours=settings.nps_delay_hours),
            min_interval=timedelta(days=settings.nps_min_interval_days),
            expiry=timedelta(days=settings.nps_expiry_days),
            default_tz=settings.default_timezone,
            follow=followups.Rules.of(settings),
            admin_ids=frozenset(settings.admin_ids),
        )


# after a delivery, the rep is offered to make these a client (a partner stays a partner)
BECOME_CLIENT_FROM = frozenset({Status.CONTACT.value, Status.LEAD.value, Status.LOST.value})


def may_become_client(contact: Contact) -> bool:
    """Whether "service delivered" offers to mark the contact a client (conversion and
    retention count clients, so a delivered service should not leave them a lead)."""
    return contact.status in BECOME_CLIENT_FROM and contact.archived_at is None


async def make_client(
    session: AsyncSession, contact: Contact, *, actor: User, now: datetime, follow: Any
) -> bool:
    """The contact becomes a client, at the "retention & referral" stage (through
    followups.change: the cadence follows); False when nothing changed (a second tap, or the
    card moved on meanwhile)."""
    if not may_become_client(contact):
        return False
    changes = {"status": Status.CLIENT.value}
    if stage := stage_for_client(contact.stage):
        changes["stage"] = stage
    async with writing(session):
        changed = await followups.change(
            session, contact, actor=actor, now=now, rules=follow, **changes
        )
    return bool(changed)


def names_it(query: str, contact: Contact) -> bool:
    """Whether ``query`` names the card well: each of its words (three at most) is a whole word
    of the card's name or company, as typed ("Carl", "carl client"; not "Петров" for Петрова,
    not a close spelling, a phone or an e-mail)."""
    return is_only_names(query, contact.name, contact.company, whole=True)


def pick_first(query: str, found: list[Contact]) -> list[Contact]:
    """/delivered's matches, live and archived together: the cards the query names well first
    (an exact name, live or archived), otherwise in the search's order."""
    return sorted(found, key=lambda c: not names_it(query, c))


def taken_at_once(query: str, found: list[Contact]) -> Contact | None:
    """The one card /delivered may act on without a tap: the only match, live, named well.
    A close spelling, a second match or an archived one that matches too is asked about (a
    survey goes to a client: never on a guess)."""
    if len(found) != 1:
        return None
    contact = found[0]
    if contact.archived_at is not None or not names_it(query, contact):
        return None
    return contact


@dataclass(frozen=True)
class Delivered:
    touch: Touch | None  # None: this button was tapped before, nothing new is logged
    planned: nps.Planned | None
    owner: User  # the card's owner: the survey is theirs, times are shown in their zone


async def plan_after(
    session: AsyncSession,
    contact: Contact,
    touch: Touch,
    *,
    actor: User,
    now: datetime,
    rules: SurveyRules,
) -> Delivered:
    """A "service" touch is saved: plan the client's survey (the rule lives here, once)."""
    owner = await session.get(User, contact.owner_id) or actor
    async with writing(session):
        planned = await nps.plan_survey(
            session,
            contact,
            rep=owner,
            touch_id=touch.id,
            now=now,
            delay=rules.delay,
            min_interval=rules.min_interval,
            expiry=rules.expiry,
            default_tz=rules.default_tz,
            admin_ids=rules.admin_ids,
        )
    return Delivered(touch, planned, owner)


async def deliver(
    session: AsyncSession,
    contact: Contact,
    *,
    actor: User,
    now: datetime,
    rules: SurveyRules,
    tap: dict[str, Any] | None = None,
) -> Delivered:
    """/delivered and the card's button: a "service delivered" touch and the survey, together.
    The card's open next step stays open, and so does its reminder. ``tap`` (the button's):
    once per card message, however often it is tapped."""
    owner = await session.get(User, contact.owner_id) or actor
    async with writing(session):
        if tap is not None and not await taps.first(session, **tap, now=now):
            return Delivered(None, None, owner)
        touch = await followups.log_touch(
            session,
            contact,
            author=actor,
            type_=TouchType.SERVICE.value,
            direction=Direction.OUT.value,
            summary="",
            now=now,
            rules=rules.follow,
        )
        return await plan_after(session, contact, touch, actor=actor, now=now, rules=rules)
