"""The follow-ups' due work as messages (reminder, going cold, stale data, inbound alerts, notices)
and the daily scan that plans the checks."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler import RendererSpec
from scheduler.recipients import LATE_AFTER, recipient_lang, recipient_tz
from services import duework, followups, media, taps
from storage.conditions import is_card_going_cold
from storage.models import Contact, Touch, User
from storage.uow import end_read
from views import reminders as views
from views.rendered import Rendered

if TYPE_CHECKING:
    from scheduler import Clockwork

log = logging.getLogger(__name__)


async def _live_card(session: AsyncSession, item: duework.Claimed) -> Contact | None:
    """The card the due work is about, unless it is gone or archived."""
    c = await session.get(Contact, item.contact_id) if item.contact_id else None
    return None if c is None or c.archived_at is not None else c


async def _last_touch(session: AsyncSession, contact_id: int) -> Touch | None:
    return await session.scalar(
        select(Touch)
        .where(Touch.contact_id == contact_id)
        .order_by(Touch.occurred_at.desc(), Touch.id.desc())
        .limit(1)
    )


async def render_reminder(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    c = await _live_card(session, item)
    if c is None or c.next_step_due is None:
        return None
    if item.payload.get("step_due") != c.next_step_due.isoformat():
        return None  # the step was moved since: that reminder is obsolete
    if item.user_id is not None and item.user_id != c.owner_id:
        return None  # the card has a new owner: their own reminder is planned
    late = cw.clock.now() - item.due_at > LATE_AFTER
    return views.reminder(
        c,
        await _last_touch(session, c.id),
        stamp=followups.step_stamp(c.next_step),
        late_since=item.due_at if late else None,
        tz=recipient_tz(user, cw),
        lang=recipient_lang(user, cw),
    )


async def render_cold(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    c = await _live_card(session, item)
    if c is None:
        return None
    still_cold = await is_card_going_cold(
        session, c, settings_cadence=cw.settings.cadence_days, now=cw.clock.now()
    )
    if not still_cold:
        return None  # touched, planned or moved to another stage since the scan
    last = await _last_touch(session, c.id)
    return views.going_cold(c, last, tz=recipient_tz(user, cw), lang=recipient_lang(user, cw))


async def render_stale(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    c = await _live_card(session, item)
    if c is None:
        return None
    if cw.clock.now() - c.verified_at < timedelta(days=cw.settings.stale_after_days):
        return None
    return views.data_check(c)


async def _inbound(session: AsyncSession, item: duework.Claimed) -> tuple[Contact, Touch] | None:
    """The card and the inbound touch an alert is about; None when either is gone."""
    c = await session.get(Contact, item.contact_id) if item.contact_id else None
    touch = await session.get(Touch, item.ref_id) if item.ref_id else None
    return (c, touch) if c is not None and touch is not None else None


async def render_inbound_rep(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    if (found := await _inbound(session, item)) is None:
        return None
    tz, lang = recipient_tz(user, cw), recipient_lang(user, cw)
    return views.waiting_for_reply(*found, tz=tz, lang=lang)


async def render_inbound_mgr(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    if (found := await _inbound(session, item)) is None:
        return None
    c, touch = found
    rep = await session.get(User, c.owner_id)
    tz, lang = recipient_tz(user, cw), recipient_lang(user, cw)
    return views.unanswered_for_manager(c, touch, rep, tz=tz, lang=lang)


async def render_notice(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    if item.payload.get("what") == "unreachable" and item.ref_id:
        rep = await session.get(User, item.ref_id)
        return None if rep is None or rep.reachable else views.rep_unreachable(rep)
    if item.payload.get("what") == "contact_wrote" and item.contact_id and item.ref_id:
        c = await session.get(Contact, item.contact_id)
        touch = await session.get(Touch, item.ref_id)
        if c is None or touch is None:
            return None
        kept = (await media.on_touches(session, [touch.id])).get(touch.id, [])
        files = [(m.id, m.kind) for m in kept]
        return views.contact_wrote(c, touch, case=bool(item.payload.get("case")), files=files)
    return None


def renderers() -> list[RendererSpec]:
    """The follow-ups' kinds of due work (registered by the app factory)."""
    return [
        RendererSpec(followups.REMINDER, render_reminder),
        RendererSpec(followups.COLD, render_cold),
        RendererSpec(followups.STALE, render_stale),
        RendererSpec(followups.INBOUND_REP, render_inbound_rep),
        RendererSpec(followups.INBOUND_MGR, render_inbound_mgr),
        RendererSpec(followups.NOTICE, render_notice),
    ]


async def daily_scan(cw: Clockwork) -> dict[str, int]:
    """Going-cold and stale-data checks; the scan writes in short batches of its own. The
    ledger of creating buttons (services.taps) is trimmed to two days on the same run."""
    async with cw.session_factory() as session:
        counts = await followups.scan(
            session,
            now=cw.clock.now(),
            settings_cadence=cw.settings.cadence_days,
            stale_days=cw.settings.stale_after_days,
            default_tz=cw.settings.default_timezone,
        )
        await end_read(session)
    async with cw.session_factory() as session:
        forgotten = await taps.forget_old(session, now=cw.clock.now())
    if forgotten:
        log.info("daily scan: %s old button taps forgotten", forgotten)
    return counts
