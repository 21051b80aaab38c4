"""Delivery of a handover's notices (services.team.deactivate): the colleague who takes over and
the person leaving are told, in their own language, once the handover is committed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler import RendererSpec
from services import duework, team
from storage.models import User
from views import team as view
from views.rendered import Rendered

if TYPE_CHECKING:
    from scheduler import Clockwork


async def render_notice(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    return view.notice(item.payload)


def renderers() -> list[RendererSpec]:
    """The kinds of due work this module renders (registered by the app factory)."""
    return [RendererSpec(team.TEAM_NOTICE, render_notice)]
