"""Delivery of the NPS loop's due work: the question, its reminder, case alerts and notices.

Each renderer reads plain data from services (services.nps_cards), renders it with views.nps,
and hands it back to the delivery loop to send."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.links import start_link
from bot.sender import SendStatus
from scheduler import RendererSpec
from services import duework, nps, nps_cards
from storage.models import NpsCase, Survey, User
from storage.uow import writing
from views import nps as view
from views.rendered import Rendered

if TYPE_CHECKING:
    from scheduler import Clockwork

log = logging.getLogger(__name__)


async def render_send(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    # still scheduled, not expired, and the client neither a colleague now nor one who sent /stop
    if item.ref_id is None or not await nps.sendable(
        session, item.ref_id, admin_ids=cw.settings.admin_ids, now=cw.clock.now()
    ):
        return None
    return view.survey(cw.settings.company_name, item.ref_id)


async def after_send(
    session: AsyncSession, item: duework.Claimed, status: SendStatus, cw: Clockwork
) -> None:
    if item.ref_id is None:
        return
    now = cw.clock.now()
    if status is SendStatus.SENT:
        await nps.mark_delivered(
            session,
            item.ref_id,
            now=now,
            remind_after=timedelta(hours=cw.settings.nps_reminder_hours),
        )
    elif status is SendStatus.UNREACHABLE:
        survey = await nps.fall_back_to_link(session, item.ref_id, now=now)
        if survey is not None:
            await nps.notify_rep(session, survey, key=f"npslink:{survey.id}", what="link", now=now)


async def render_remind(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    survey = await nps_cards.survey_card(session, item.ref_id)
    if survey is None or survey.answered or survey.status != "sent":
        return None
    if cw.clock.now() >= survey.expires_at:
        return None
    return view.survey_reminder(cw.settings.company_name, survey.id)


async def after_remind(
    session: AsyncSession, item: duework.Claimed, status: SendStatus, cw: Clockwork
) -> None:
    if status is SendStatus.SENT and item.ref_id:
        survey = await session.get(Survey, item.ref_id)
        if survey is not None:
            survey.reminded_at = cw.clock.now()


async def render_case_alert(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    card = await nps_cards.case_card_by_id(session, item.ref_id)
    if card is None or card.resolved:
        return None
    if item.payload.get("what") == "comment":
        return view.case_comment_alert(card)
    return view.case_alert(card, cw.settings.nps_case_sla_hours)


async def render_case_due(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    """Before the deadline: every manager of the team is reminded (fan-out into notices)."""
    case_row = await session.get(NpsCase, item.ref_id) if item.ref_id else None
    if case_row is None or case_row.status == "resolved":
        return None
    leads = await nps.case_managers(session, case_row, cw.settings.admin_ids)
    managers = [(m.tg_id, m.id) for m in leads]
    await nps.notify_people(
        session, case_row, managers, what="case_due", key="casedue", now=cw.clock.now()
    )
    return None


async def render_case_escalate(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    """Past the deadline: the admins get it (fan-out), the rep is told."""
    case_row = await session.get(NpsCase, item.ref_id) if item.ref_id else None
    if case_row is None or case_row.status == "resolved":
        return None
    now = cw.clock.now()
    admins = await nps_cards.users_by_tg(session, cw.settings.admin_ids)
    people = [
        (tg_id, admins[tg_id].id if tg_id in admins else None)
        for tg_id in sorted(cw.settings.admin_ids)
    ]
    async with writing(session):
        case_row.escalated_at = now
        await nps.notify_people(
            session, case_row, people, what="case_escalated", key="caseesc", now=now
        )
        await nps.tell_about(
            session,
            case_row,
            "escalated",
            actor_id=None,
            now=now,
            admin_ids=cw.settings.admin_ids,
        )
    return None


async def render_referral(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    names = await nps_cards.contact_names(session, item.contact_id, item.ref_id)
    if names is None or item.contact_id is None:
        return None
    name, promoter = names
    return view.referral(item.contact_id, name, promoter)


async def render_notice(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    what = item.payload.get("what")
    if what in ("link", "comment", "score", "changed"):
        survey = await nps_cards.survey_card(session, item.ref_id, item.contact_id)
        if survey is None or survey.contact_id is None or survey.contact_name is None:
            return None
        if what == "link":
            if survey.answered:
                return None
            link = await start_link(cw.sender.bot, survey.token)
            return view.link_notice(
                survey.contact_name, link, cw.settings.company_name, survey.language
            )
        if survey.score is None:
            return None
        if what == "comment":
            if not survey.comment:
                return None
            return view.comment_notice(
                survey.contact_id, survey.contact_name, survey.score, survey.comment
            )
        if what == "changed":
            old, new = item.payload.get("old"), item.payload.get("new")
            if not isinstance(old, int) or not isinstance(new, int):
                return None
            closed = bool(item.payload.get("closed"))
            return view.change_notice(
                survey.contact_id, survey.contact_name, old, new, closed=closed
            )
        return view.score_notice(survey.contact_name, survey.score)
    card = await nps_cards.case_card_by_id(session, item.ref_id)
    if card is None or not isinstance(what, str):
        return None
    return view.case_notice(what, card)


def renderers() -> list[RendererSpec]:
    """The NPS loop's kinds of due work (registered by the app factory)."""
    return [
        RendererSpec(nps.NPS_SEND, render_send, after_send=after_send),
        RendererSpec(nps.NPS_REMIND, render_remind, after_send=after_remind),
        RendererSpec(nps.CASE_ALERT, render_case_alert),
        RendererSpec(nps.CASE_DUE, render_case_due, writes=True),
        RendererSpec(nps.CASE_ESCALATE, render_case_escalate, writes=True),
        RendererSpec(nps.REFERRAL_NEW, render_referral),
        RendererSpec(nps.NPS_NOTICE, render_notice),
    ]
