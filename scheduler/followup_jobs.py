"""The follow-ups' due work as messages (reminder, going cold, stale data, inbound alerts, notices)
and the daily scan that plans the checks."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import RemindCb
from bot.i18n import _
from bot.keyboards import InlineKeyboard
from bot.labels import label
from bot.rendering import h
from core.nextstep import format_local
from scheduler.registry import LATE_AFTER, Rendered, _lang, _tz, renderer
from services import duework, followups, taps
from storage.conditions import is_card_going_cold
from storage.models import Contact, Touch, User
from storage.uow import end_read

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


def _context(c: Contact, last: Touch | None, tz: str, lang: str) -> list[str]:
    who = f"<b>{h(c.name)}</b>" + "".join(f", {h(x)}" for x in (c.company,) if x)
    lines = [
        who,
        _("Stage: {stage} · Status: {status}").format(
            stage=label("stage", c.stage), status=label("status", c.status)
        ),
    ]
    if last is not None:
        lines.append(
            _("Last touch: {type}, {when}").format(
                type=label("touch", last.type), when=format_local(last.occurred_at, tz, lang)
            )
            + (f" — {h(last.summary[:200])}" if last.summary else "")
        )
    else:
        lines.append(_("No touches yet."))
    return lines


@renderer(followups.REMINDER)
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
    tz, lang = _tz(user, cw), _lang(user, cw)
    now = cw.clock.now()
    lines = [_("⏰ <b>Next step</b>: {step}").format(step=h(c.next_step or "—"))]
    lines.append(_("Planned for {when}").format(when=format_local(c.next_step_due, tz, lang)))
    if now - item.due_at > LATE_AFTER:
        lines.append(
            _("⚠️ Late: this reminder was due {when}.").format(
                when=format_local(item.due_at, tz, lang)
            )
        )
    lines.append("")
    lines += _context(c, await _last_touch(session, c.id), tz, lang)
    kb = InlineKeyboard()
    t = followups.step_stamp(c.next_step)  # the buttons act on this step only
    kb.button(text=_("✅ Done"), callback_data=RemindCb(a="ok", id=c.id, t=t))
    kb.button(text=_("+1 hour"), callback_data=RemindCb(a="s1h", id=c.id, t=t))
    kb.button(text=_("Tomorrow"), callback_data=RemindCb(a="stom", id=c.id, t=t))
    kb.button(text=_("Next week"), callback_data=RemindCb(a="swk", id=c.id, t=t))
    kb.button(text=_("📅 Reschedule"), callback_data=RemindCb(a="resch", id=c.id, t=t))
    kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
    kb.adjust(1, 3, 2)
    return "\n".join(lines), kb.as_markup()


@renderer(followups.COLD)
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
    tz, lang = _tz(user, cw), _lang(user, cw)
    lines = [_("🥶 <b>Going cold</b>: no touch within the stage's rhythm and no next step.")]
    lines += _context(c, await _last_touch(session, c.id), tz, lang)
    kb = InlineKeyboard()
    kb.button(text=_("📝 Log touch"), callback_data=RemindCb(a="done", id=c.id))
    kb.button(text=_("⏭ Next step"), callback_data=RemindCb(a="next", id=c.id))
    kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
    kb.adjust(2, 1)
    return "\n".join(lines), kb.as_markup()


@renderer(followups.STALE)
async def render_stale(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    c = await _live_card(session, item)
    if c is None:
        return None
    if cw.clock.now() - c.verified_at < timedelta(days=cw.settings.stale_after_days):
        return None
    if c.position and c.company:
        q = _("Is <b>{name}</b> still {position} at {company}?").format(
            name=h(c.name), position=h(c.position), company=h(c.company)
        )
    elif c.company:
        q = _("Is <b>{name}</b> still at {company}?").format(name=h(c.name), company=h(c.company))
    else:
        q = _("Are the details of <b>{name}</b> still right?").format(name=h(c.name))
    kb = InlineKeyboard()
    kb.button(text=_("Yes"), callback_data=RemindCb(a="vyes", id=c.id))
    kb.button(text=_("No, edit"), callback_data=RemindCb(a="vno", id=c.id))
    return _("🔎 Data check.") + " " + q, kb.as_markup()


@renderer(followups.INBOUND_REP)
async def render_inbound_rep(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    c = await session.get(Contact, item.contact_id) if item.contact_id else None
    touch = await session.get(Touch, item.ref_id) if item.ref_id else None
    if c is None or touch is None:
        return None
    tz, lang = _tz(user, cw), _lang(user, cw)
    text = _("📥 <b>{name}</b> is waiting for a reply since {when}.").format(
        name=h(c.name), when=format_local(touch.occurred_at, tz, lang)
    )
    if touch.summary:
        text += f"\n«{h(touch.summary[:300])}»"
    kb = InlineKeyboard()
    kb.button(text=_("📝 Log reply"), callback_data=RemindCb(a="done", id=c.id))
    kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
    return text, kb.as_markup()


@renderer(followups.INBOUND_MGR)
async def render_inbound_mgr(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    c = await session.get(Contact, item.contact_id) if item.contact_id else None
    touch = await session.get(Touch, item.ref_id) if item.ref_id else None
    if c is None or touch is None:
        return None
    rep = await session.get(User, c.owner_id)
    tz, lang = _tz(user, cw), _lang(user, cw)
    return (
        _(
            "🚨 Inbound request without a reply: <b>{name}</b> wrote {when}; {rep} has not answered yet."
        ).format(
            name=h(c.name),
            when=format_local(touch.occurred_at, tz, lang),
            rep=h(rep.display_name if rep else "?"),
        ),
        None,
    )


@renderer(followups.NOTICE)
async def render_notice(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    if item.payload.get("what") == "unreachable" and item.ref_id:
        rep = await session.get(User, item.ref_id)
        if rep is None or rep.reachable:
            return None
        return (
            _(
                "⚠️ {name} does not receive my messages (the bot is blocked or was never started), so their reminders are not delivered."
            ).format(name=h(rep.display_name)),
            None,
        )
    if item.payload.get("what") == "contact_wrote" and item.contact_id and item.ref_id:
        c = await session.get(Contact, item.contact_id)
        touch = await session.get(Touch, item.ref_id)
        if c is None or touch is None:
            return None
        kb = InlineKeyboard()
        kb.button(text=_("📝 Log reply"), callback_data=RemindCb(a="done", id=c.id))
        kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
        return (
            _("💬 <b>{name}</b> wrote to me:").format(name=h(c.name))
            + f"\n«{h(touch.summary[:1000])}»",
            kb.as_markup(),
        )
    return None


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
