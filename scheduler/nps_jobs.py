"""Delivery of the NPS loop's due work: the question, its reminder, case alerts and notices."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.sender import SendStatus
from core.nps import category
from scheduler.delivery import AFTER_SEND, Rendered, renderer
from services import duework, nps
from storage.models import Contact, NpsCase, Survey, User
from storage.uow import writing
from views.callbacks import CardCb, CaseCb
from views.delivered import forward_text
from views.keyboards import InlineKeyboard
from views.nps_texts import question, score_keyboard
from views.rendering import h

if TYPE_CHECKING:
    from scheduler import Clockwork

log = logging.getLogger(__name__)


async def survey_link(cw: Clockwork, survey: Survey) -> str:
    me = await cw.sender.bot.me()
    return f"https://t.me/{me.username}?start={survey.token}"


@renderer(nps.NPS_SEND)
async def render_send(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    survey = await session.get(Survey, item.ref_id) if item.ref_id else None
    if survey is None or survey.status != "scheduled" or cw.clock.now() >= survey.expires_at:
        return None
    return question(cw.settings.company_name), score_keyboard(survey.id)


async def after_send(
    session: AsyncSession, item: duework.Claimed, status: SendStatus, cw: Clockwork
) -> None:
    if item.ref_id is None:
        return
    now = cw.clock.now()
    if status is SendStatus.SENT:
        await nps.mark_delivered(
            session, item.ref_id, now=now, remind_after=_hours(cw.settings.nps_reminder_hours)
        )
    elif status is SendStatus.UNREACHABLE:
        survey = await nps.fall_back_to_link(session, item.ref_id, now=now)
        if survey is not None:
            rep = await session.get(User, survey.rep_id)
            if rep is not None:
                await nps.notify(
                    session,
                    key=f"npslink:{survey.id}",
                    what="link",
                    chat_id=rep.tg_id,
                    user_id=rep.id,
                    contact_id=survey.contact_id,
                    ref_id=survey.id,
                    now=now,
                )


AFTER_SEND[nps.NPS_SEND] = after_send


def _hours(value: float):  # noqa: ANN202
    from datetime import timedelta

    return timedelta(hours=value)


@renderer(nps.NPS_REMIND)
async def render_remind(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    survey = await session.get(Survey, item.ref_id) if item.ref_id else None
    if survey is None or survey.answered_at is not None or survey.status != "sent":
        return None
    if cw.clock.now() >= survey.expires_at:
        return None
    return (
        _("A gentle reminder — your opinion matters to us.")
        + "\n\n"
        + question(cw.settings.company_name),
        score_keyboard(survey.id),
    )


async def after_remind(
    session: AsyncSession, item: duework.Claimed, status: SendStatus, cw: Clockwork
) -> None:
    if status is SendStatus.SENT and item.ref_id:
        survey = await session.get(Survey, item.ref_id)
        if survey is not None:
            survey.reminded_at = cw.clock.now()


AFTER_SEND[nps.NPS_REMIND] = after_remind


def case_keyboard(case_row: NpsCase):  # noqa: ANN201
    kb = InlineKeyboard()
    if case_row.status == "open":
        kb.button(text=_("🙋 Take it"), callback_data=CaseCb(a="take", id=case_row.id))
    if case_row.status in ("open", "taken"):
        kb.button(text=_("📞 Client contacted"), callback_data=CaseCb(a="cont", id=case_row.id))
    if case_row.status != "resolved":
        kb.button(text=_("✅ Resolve"), callback_data=CaseCb(a="res", id=case_row.id))
    kb.button(text=_("Open card"), callback_data=CardCb(action="open", id=case_row.contact_id))
    kb.adjust(2, 2)
    return kb.as_markup()


async def case_text(session: AsyncSession, case_row: NpsCase) -> str:
    survey = await session.get(Survey, case_row.survey_id)
    contact = await session.get(Contact, case_row.contact_id)
    rep = await session.get(User, case_row.rep_id)
    lines = [
        _("🚨 <b>Detractor</b>: {name} gave {score}/10.").format(
            name=h(contact.name if contact else "?"), score=survey.score if survey else "?"
        ),
        _("Rep: {rep}").format(rep=h(rep.display_name if rep else "?")),
    ]
    if survey is not None and survey.comment:
        lines.append(_("What went wrong: «{text}»").format(text=h(survey.comment[:1500])))
    return "\n".join(lines)


@renderer(nps.CASE_ALERT)
async def render_case_alert(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    case_row = await session.get(NpsCase, item.ref_id) if item.ref_id else None
    if case_row is None or case_row.status == "resolved":
        return None
    sla = _("Resolve within {hours} h.").format(hours=f"{cw.settings.nps_case_sla_hours:g}")
    return (await case_text(session, case_row)) + "\n" + sla, case_keyboard(case_row)


@renderer(nps.CASE_DUE, writes=True)
async def render_case_due(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    """Before the deadline: every manager of the team is reminded (fan-out into notices)."""
    case_row = await session.get(NpsCase, item.ref_id) if item.ref_id else None
    if case_row is None or case_row.status == "resolved":
        return None
    managers = [(m.tg_id, m.id) for m in await nps.case_managers(session, case_row)]
    await nps.notify_people(
        session, case_row, managers, what="case_due", key="casedue", now=cw.clock.now()
    )
    return None


@renderer(nps.CASE_ESCALATE, writes=True)
async def render_case_escalate(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    """Past the deadline: the admins get it (fan-out), the rep is told."""
    case_row = await session.get(NpsCase, item.ref_id) if item.ref_id else None
    if case_row is None or case_row.status == "resolved":
        return None
    now = cw.clock.now()
    admins = {
        u.tg_id: u
        for u in await session.scalars(select(User).where(User.tg_id.in_(cw.settings.admin_ids)))
    }
    people = [
        (tg_id, admins[tg_id].id if tg_id in admins else None)
        for tg_id in sorted(cw.settings.admin_ids)
    ]
    async with writing(session):
        case_row.escalated_at = now
        await nps.notify_people(
            session, case_row, people, what="case_escalated", key="caseesc", now=now
        )
        await nps.notify_rep(session, case_row, what="case_moved", key_suffix="escalated", now=now)
    return None


@renderer(nps.REFERRAL_NEW)
async def render_referral(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    contact = await session.get(Contact, item.contact_id) if item.contact_id else None
    promoter = await session.get(Contact, item.ref_id) if item.ref_id else None
    if contact is None or promoter is None:
        return None
    kb = InlineKeyboard()
    kb.button(text=_("Open card"), callback_data=CardCb(action="open", id=contact.id))
    return (
        _("🎁 <b>New referral</b>: {name}, introduced by {promoter}. Get in touch soon!").format(
            name=h(contact.name), promoter=h(promoter.name)
        ),
        kb.as_markup(),
    )


@renderer(nps.NPS_NOTICE)
async def render_notice(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    what = item.payload.get("what")
    if what == "link":
        survey = await session.get(Survey, item.ref_id) if item.ref_id else None
        contact = await session.get(Contact, item.contact_id) if item.contact_id else None
        if survey is None or contact is None or survey.answered_at is not None:
            return None
        link = await survey_link(cw, survey)
        return (
            _(
                "📋 {name} can't get the survey from me directly (they haven't started the bot). Forward them this text:"
            ).format(name=h(contact.name))
            + "\n\n"
            + forward_text(link, cw.settings.company_name),
            None,
        )
    if what == "comment":
        survey = await session.get(Survey, item.ref_id) if item.ref_id else None
        contact = await session.get(Contact, item.contact_id) if item.contact_id else None
        if survey is None or contact is None or survey.score is None or not survey.comment:
            return None
        kb = InlineKeyboard()
        kb.button(text=_("Open card"), callback_data=CardCb(action="open", id=contact.id))
        return (
            _("💬 {name} answered {score}/10 and wrote: «{text}»").format(
                name=h(contact.name), score=survey.score, text=h(survey.comment[:2000])
            ),
            kb.as_markup(),
        )
    if what == "score":
        survey = await session.get(Survey, item.ref_id) if item.ref_id else None
        contact = await session.get(Contact, item.contact_id) if item.contact_id else None
        if survey is None or contact is None or survey.score is None:
            return None
        labels = {"promoter": _("promoter"), "passive": _("passive"), "detractor": _("detractor")}
        return (
            _("📊 {name} answered the survey: {score}/10 ({category}).").format(
                name=h(contact.name),
                score=survey.score,
                category=labels[category(survey.score).value],
            ),
            None,
        )
    case_row = await session.get(NpsCase, item.ref_id) if item.ref_id else None
    if case_row is None:
        return None
    text = await case_text(session, case_row)
    if what == "case_opened":
        return _("A case was opened for your client; the manager is on it.") + "\n" + text, None
    if what == "case_due":
        if case_row.status == "resolved":
            return None
        return _("⏳ The case's deadline is close.") + "\n" + text, case_keyboard(case_row)
    if what == "case_escalated":
        if case_row.status == "resolved":
            return None
        return _(
            "⛔ The case missed its deadline and is escalated to you."
        ) + "\n" + text, case_keyboard(case_row)
    if what == "case_moved":
        status = {
            "open": _("open"),
            "taken": _("taken by the manager"),
            "contacted": _("client contacted"),
            "resolved": _("resolved"),
        }[case_row.status]
        extra = ""
        if case_row.escalated_at and case_row.status != "resolved":
            extra = "\n" + _("It is escalated to the administrators.")
        if case_row.resolution:
            extra += "\n" + _("Resolution: {text}").format(text=h(case_row.resolution))
        return _("Case update: {status}.").format(status=status) + extra + "\n" + text, None
    return None
