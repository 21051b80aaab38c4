"""Delivery of a case's news (services.nps.cases.tell_about): what changed, for the case's rep
and the team's managers, rendered by views.cases in the recipient's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler import RendererSpec
from services import cases, duework, nps
from storage.models import User
from views import cases as view
from views.rendered import Rendered

if TYPE_CHECKING:
    from scheduler import Clockwork


async def render_news(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    move, by = item.payload.get("move"), item.payload.get("by")
    if not isinstance(move, str):
        return None
    found = await cases.case_news(
        session,
        item.ref_id,
        move=move,
        by=by if isinstance(by, int) else None,
        to_rep=bool(item.payload.get("rep")),
        admin_ids=cw.settings.admin_ids,
    )
    return view.news(found) if found is not None else None


def renderers() -> list[RendererSpec]:
    """The kinds of due work this module renders (registered by the app factory)."""
    return [RendererSpec(nps.CASE_NEWS, render_news)]
