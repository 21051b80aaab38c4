"""What a card shows, read in one place: the contact, its last touch, the owner's name (for
someone who is not the owner) and who introduced them. Views render it; nobody else queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from core.cadence import SHORTEST_CADENCE, Cooling, cooling, quiet_since
from core.enums import Status
from services.timeline import TimelineItem, timeline
from services.viewer import Viewer
from storage.conditions import team_cadence
from storage.models import Contact, NpsCase, Survey, Touch, User


@dataclass(frozen=True, slots=True)
class CardData:
    contact: Contact
    last_touch: Touch | None
    owner: str | None  # the owner's name, when the viewer is not the owner
    introduced_by: str | None
    tz: str
    lang: str
    can_forget: bool = False  # a manager or an admin may erase the person (/forget)
    now: datetime | None = None  # when it was read: a next step before it is overdue
    cooling: Cooling | None = None  # going cold: how long quiet, what its stage asks for
    nps: NpsOnCard | None = None  # the client's latest answer, and its case if one was opened


@dataclass(frozen=True, slots=True)
class NpsOnCard:
    score: int
    answered_at: datetime
    case_status: str | None  # open | taken | contacted | resolved; None: no case


# built once: every card shown runs them
_LAST_TOUCH = (
    select(Touch)
    .where(Touch.contact_id == bindparam("contact_id"))
    .order_by(Touch.occurred_at.desc(), Touch.id.desc())
    .limit(1)
)
_USERS = select(User).where(User.id.in_(bindparam("ids", expanding=True)))
_LAST_ANSWER = (
    select(Survey.score, Survey.answered_at, NpsCase.status)
    .outerjoin(NpsCase, NpsCase.survey_id == Survey.id)
    .where(Survey.contact_id == bindparam("contact_id"), Survey.answered_at.is_not(None))
    .order_by(Survey.answered_at.desc(), Survey.id.desc())
    .limit(1)
)
_NAME_FIELDS = frozenset({"first_name", "last_name", "username", "tg_id"})  # User.display_name


async def last_touch(session: AsyncSession, contact_id: int) -> Touch | None:
    return await session.scalar(_LAST_TOUCH, {"contact_id": contact_id})


async def card_data(
    session: AsyncSession,
    contact: Contact,
    viewer: Viewer,
    *,
    now: datetime,
    settings_cadence: str | None,
) -> CardData:
    """The card as ``viewer`` sees it at ``now``. A live card with no next step is checked for
    going cold by its team's cadence, a card linked to a Telegram account reads its latest NPS
    answer (one more statement each, only then)."""
    owner = (
        await session.get(User, contact.owner_id) if contact.owner_id != viewer.user_id else None
    )
    return CardData(
        contact,
        await last_touch(session, contact.id),
        owner.display_name if owner else None,
        await introducer_name(session, contact),
        viewer.tz,
        viewer.lang,
        viewer.leads,
        now,
        await _cooling(session, contact, now=now, settings_cadence=settings_cadence),
        await last_answer(session, contact),
    )


async def introducer_name(session: AsyncSession, contact: Contact) -> str | None:
    """The name of the card of who introduced the person, if one is recorded."""
    if not contact.introduced_by_id:
        return None
    introducer = await session.get(Contact, contact.introduced_by_id)
    return introducer.name if introducer else None


async def last_answer(session: AsyncSession, contact: Contact) -> NpsOnCard | None:
    """The client's latest NPS answer, with the state of the case it opened. Only a card linked
    to a Telegram account can have one (a client answers in the messenger, and the answer links
    the card): other cards read nothing more."""
    if contact.tg_user_id is None:
        return None
    row = (await session.execute(_LAST_ANSWER, {"contact_id": contact.id})).first()
    if row is None or row.score is None:
        return None
    return NpsOnCard(row.score, row.answered_at, row.status)


async def _cooling(
    session: AsyncSession, contact: Contact, *, now: datetime, settings_cadence: str | None
) -> Cooling | None:
    if contact.next_step_due is not None or contact.archived_at is not None:
        return None
    if contact.status == Status.LOST.value:
        return None
    if now - quiet_since(contact.last_touch_at, contact.created_at) <= SHORTEST_CADENCE:
        return None  # no cadence is shorter than a day: no need to read the team's
    return cooling(
        stage=contact.stage,
        last_touch_at=contact.last_touch_at,
        created_at=contact.created_at,
        next_step_due=None,
        now=now,
        cadence=await team_cadence(session, contact.team_id, settings_cadence),
    )


async def actor_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    """The people named in a timeline, by user id. Those the update has loaded already (the
    viewer, on their own cards most often the only one) are not asked for again."""
    names: dict[int, str] = {}
    missing: list[int] = []
    for user_id in ids:
        loaded = session.identity_map.get(identity_key(User, user_id))
        if isinstance(loaded, User) and not _NAME_FIELDS & inspect(loaded).unloaded:
            names[user_id] = loaded.display_name
        else:
            missing.append(user_id)
    if missing:
        names.update(
            (u.id, u.display_name) for u in await session.scalars(_USERS, {"ids": missing})
        )
    return names


@dataclass(frozen=True, slots=True)
class TimelinePage:
    items: list[TimelineItem]
    more: bool
    names: dict[int, str]


async def timeline_page(session: AsyncSession, contact: Contact, page: int) -> TimelinePage:
    items, more = await timeline(session, contact.id, page)
    names = await actor_names(session, {i.actor_id for i in items if i.actor_id})
    return TimelinePage(items, more, names)
