"""The scheduled digest: plan each lead's next one, and render a claimed one through
views.digest (the same functions /digest uses) for the one Sender to deliver."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from core.roles import LEADS, effective_role
from scheduler import RendererSpec
from scheduler.recipients import recipient_lang, recipient_tz
from services import digest as dg
from services import duework, reports
from services.followups import Rules
from storage.models import User
from storage.uow import write_session
from views import digest as view
from views.rendered import Composed

if TYPE_CHECKING:
    from scheduler import Clockwork


async def render_digest(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Composed | None:
    if user is None:
        return None
    role = effective_role(user.role, user.tg_id, cw.settings.admin_ids)
    if role not in LEADS:
        return None  # no longer a manager: nothing to report
    assert role is not None
    now = cw.clock.now()
    tz, lang = recipient_tz(user, cw), recipient_lang(user, cw)
    zone = ZoneInfo(tz)
    if now.astimezone(zone).date() != item.due_at.astimezone(zone).date():
        return None  # yesterday's digest (the bot was down): today's comes on its own
    prepared = await reports.prepare(
        session, user, role, now=now, tz=tz, rules=Rules.of(cw.settings), exclude_id=item.id
    )
    return await view.compose(prepared, tz, lang)


async def plan_digest_work(cw: Clockwork) -> int:
    """Runs on every tick: each manager's and admin's next digest is in the queue (idempotent)."""
    async with write_session(cw.session_factory) as session:
        added = await dg.plan_digests(
            session,
            now=cw.clock.now(),
            at=cw.settings.digest_clock,
            admin_ids=cw.settings.admin_ids,
            default_tz=cw.settings.default_timezone,
        )
    return added


def renderers() -> list[RendererSpec]:
    """The kinds of due work this module renders (registered by the app factory)."""
    return [RendererSpec(dg.DIGEST, render_digest)]
