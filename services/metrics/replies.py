"""Speed of reply (/stats): for inbound touches in the period, the time to the next outbound
touch with the same contact, as /work/shared/domain.md defines it; from the rollup of first
replies (services.rollup_replies), or counted directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core import metrics as m
from core.enums import Direction
from services import rollup_replies
from services.metrics.scope import (
    MetricScope,
    as_int,
    between,
    by_time,
    count_if,
    seconds_between,
)
from storage.models import Contact, Touch


@dataclass(frozen=True)
class ReplySpeed:
    inbound: int  # inbound touches in the period
    answered: int  # ... followed by an outbound touch with the same contact
    within: int  # ... answered within the reply window
    median_seconds: float | None  # over the answered ones
    window_hours: float
    open: int = 0  # ... not answered yet, and younger than the window: not late yet

    @property
    def decided(self) -> int:
        """The requests the share within the window is over: all but the still open ones."""
        return self.inbound - self.open


async def reply_speed(
    session: AsyncSession,
    scope: MetricScope,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    window_hours: float,
    direct: bool = False,
) -> ReplySpeed:
    """For inbound touches in [start, end): the time to the next outbound touch with the same
    contact (up to ``now``). The median is over the answered ones; the share within the window
    is over all of them but those still open — unanswered, and younger than the window, so
    neither in time nor late yet (an older unanswered request is not within it). The window is
    ``settings.inbound_reply_hours`` in plain hours, not working hours.

    From the first replies kept per inbound touch (services.rollup_replies: counts per day and
    delay band, the exact median from the one band it falls in); counted directly from the
    touches when the rollup cannot answer, or ``direct`` (:data:`reply_speed_direct`: the
    definition, which the rollup's answers must equal)."""
    if not direct:
        got = await rollup_replies.reply_figures(
            session,
            team_id=scope.team_id,
            rep_id=scope.rep_id,
            start=start,
            end=end,
            now=now,
            window_seconds=window_hours * 3600,
        )
        if got is not None:
            inbound_n, answered, within, middles, still_open = got
            return ReplySpeed(
                inbound_n, answered, within, m.median(middles), window_hours, still_open
            )
    out = aliased(Touch)
    # ORDER BY … LIMIT 1 rather than MIN(): the (contact_id, occurred_at) index is walked from
    # the request on and stops at the first outbound touch, even on a card with thousands
    reply_at = (
        select(out.occurred_at)
        .where(
            out.contact_id == Touch.contact_id,
            out.direction == Direction.OUT.value,
            out.occurred_at >= Touch.occurred_at,
            out.occurred_at <= now,
        )
        .order_by(out.occurred_at)
        .limit(1)
        .correlate(Touch)
        .scalar_subquery()
    )
    inbound = (
        select(Touch.occurred_at.label("at"), reply_at.label("reply_at"))
        .join(Contact, Contact.id == Touch.contact_id)
        .where(
            by_time(session, scope),
            Touch.direction == Direction.IN.value,
            between(Touch.occurred_at, start, end),
        )
        .cte("inbound")
    )
    delay = seconds_between(session, inbound.c.at, inbound.c.reply_at)
    window = window_hours * 3600
    ranked = (
        select(
            delay.label("d"),
            func.row_number().over(order_by=delay).label("rn"),
            func.count().over().label("n"),
        )
        .where(inbound.c.reply_at.is_not(None))
        .subquery()
    )
    # the middle row, or the two middle rows of an even count
    middle = (
        select(ranked.c.d)
        .where(or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == ranked.c.n // 2 + 1))
        .subquery()
    )
    # one statement: the inbound requests are collected once (a CTE used several times is
    # materialised by both backends)
    row = (
        await session.execute(
            select(
                select(func.count()).select_from(inbound).scalar_subquery(),
                select(func.count(inbound.c.reply_at)).scalar_subquery(),
                select(
                    count_if(and_(inbound.c.reply_at.is_not(None), delay <= window))
                ).scalar_subquery(),
                select(func.min(middle.c.d)).scalar_subquery(),
                select(func.max(middle.c.d)).scalar_subquery(),
                select(
                    count_if(
                        and_(
                            inbound.c.reply_at.is_(None),
                            inbound.c.at >= now - timedelta(seconds=window),
                        )
                    )
                ).scalar_subquery(),
            )
        )
    ).one()
    middles = [float(v) for v in row[3:5] if v is not None]
    return ReplySpeed(
        as_int(row[0]),
        as_int(row[1]),
        as_int(row[2]),
        m.median(middles),
        window_hours,
        as_int(row[5]),
    )


reply_speed_direct = partial(reply_speed, direct=True)  # the definition (see reply_speed)
