"""Turn claimed due work into messages and deliver them through the one Sender."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import RemindCb
from bot.i18n import _, user_language
from bot.labels import label
from bot.rendering import h
from bot.sender import SendResult, SendStatus
from core.cadence import effective_cadence, is_going_cold
from core.nextstep import format_local
from services import duework, followups
from storage.models import Contact, Team, Touch, User
from storage.uow import write_session, writing

if TYPE_CHECKING:
    from scheduler import Clockwork

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=15)
Rendered = tuple[str, InlineKeyboardMarkup | None]


@dataclass
class Composed:
    """Several messages (text + keyboard each) and an optional photo (PNG bytes, caption)."""

    parts: list[Rendered] = field(default_factory=list)
    photo: tuple[bytes, str | None] | None = None


Renderer = Callable[
    [AsyncSession, duework.Claimed, User | None, "Clockwork"],
    Awaitable[Rendered | Composed | None],
]
RENDERERS: dict[str, Renderer] = {}
# what happens after a send, by kind: (session, item, status, cw) — e.g. a survey marked delivered
AfterSend = Callable[[AsyncSession, duework.Claimed, SendStatus, "Clockwork"], Awaitable[None]]
AFTER_SEND: dict[str, AfterSend] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        RENDERERS[kind] = fn
        return fn

    return register


def _tz(user: User | None, cw: Clockwork) -> str:
    default = cw.settings.default_timezone
    return followups.user_tz(user, default) if user is not None else default


def _lang(user: User | None, cw: Clockwork) -> str:
    if user is None:
        return cw.settings.default_language
    return user_language(user.language, user.tg_language, cw.settings.default_language)


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
    c = await session.get(Contact, item.contact_id) if item.contact_id else None
    if c is None or c.archived_at is not None or c.next_step_due is None:
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
    kb = InlineKeyboardBuilder()
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
    c = await session.get(Contact, item.contact_id) if item.contact_id else None
    if c is None or c.archived_at is not None:
        return None
    team = await session.get(Team, c.team_id) if c.team_id else None
    still_cold = is_going_cold(
        stage=c.stage,
        last_touch_at=c.last_touch_at,
        created_at=c.created_at,
        next_step_due=c.next_step_due,
        now=cw.clock.now(),
        cadence=effective_cadence(cw.settings.cadence_days, team.cadence if team else None),
    )
    if not still_cold:
        return None  # touched, planned or moved to another stage since the scan
    tz, lang = _tz(user, cw), _lang(user, cw)
    lines = [_("🥶 <b>Going cold</b>: no touch within the stage's rhythm and no next step.")]
    lines += _context(c, await _last_touch(session, c.id), tz, lang)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📝 Log touch"), callback_data=RemindCb(a="done", id=c.id))
    kb.button(text=_("⏭ Next step"), callback_data=RemindCb(a="next", id=c.id))
    kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
    kb.adjust(2, 1)
    return "\n".join(lines), kb.as_markup()


@renderer(followups.STALE)
async def render_stale(
    session: AsyncSession, item: duework.Claimed, user: User | None, cw: Clockwork
) -> Rendered | None:
    c = await session.get(Contact, item.contact_id) if item.contact_id else None
    if c is None or c.archived_at is not None:
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
    kb = InlineKeyboardBuilder()
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
    kb = InlineKeyboardBuilder()
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
        kb = InlineKeyboardBuilder()
        kb.button(text=_("📝 Log reply"), callback_data=RemindCb(a="done", id=c.id))
        kb.button(text=_("Open card"), callback_data=RemindCb(a="open", id=c.id))
        return (
            _("💬 <b>{name}</b> wrote to me:").format(name=h(c.name))
            + f"\n«{h(touch.summary[:1000])}»",
            kb.as_markup(),
        )
    return None


async def deliver_due(cw: Clockwork, batch: int = 100, concurrency: int = 32) -> int:
    """Claim due rows and deliver them; returns how many rows were handled."""
    lease = timedelta(seconds=cw.settings.claim_lease_seconds)
    handled = 0
    semaphore = asyncio.Semaphore(concurrency)

    async def one(item: duework.Claimed) -> None:
        async with semaphore:
            try:
                await deliver_one(cw, item)
            except Exception:
                log.exception("delivery of due work %s (%s) failed", item.id, item.kind)

    while True:
        async with write_session(cw.session_factory) as session:
            items = await duework.claim(
                session, now=cw.clock.now(), worker=cw.worker_id, lease=lease, limit=batch
            )
        if not items:
            return handled
        await asyncio.gather(*(one(i) for i in items))
        handled += len(items)
        # no early exit on a short batch: work may fan out into new rows that are due now


async def deliver_one(cw: Clockwork, item: duework.Claimed) -> SendStatus | None:
    render = RENDERERS.get(item.kind)
    async with cw.session_factory() as session:
        user = await session.get(User, item.user_id) if item.user_id else None
        lang = _lang(user, cw)
        rendered: Any
        if render is None:
            rendered = None
        else:
            with cw.i18n.context(), cw.i18n.use_locale(lang):
                rendered = await render(session, item, user, cw)
        now = cw.clock.now()
        if rendered is None:
            async with writing(session):
                await duework.finish(
                    session, item.id, worker=cw.worker_id, status=duework.DONE, now=now
                )
            return None
    composed = rendered if isinstance(rendered, Composed) else Composed([rendered])
    result = await _send_composed(cw, item.chat_id, composed)
    now = cw.clock.now()
    async with write_session(cw.session_factory) as session:
        hook = AFTER_SEND.get(item.kind)
        if hook is not None:
            await hook(session, item, result.status, cw)
        if result.status is SendStatus.SENT:
            await duework.finish(
                session,
                item.id,
                worker=cw.worker_id,
                status=duework.SENT,
                now=now,
                late=now - item.due_at > LATE_AFTER,
            )
        elif result.status is SendStatus.UNREACHABLE:
            await duework.finish(
                session, item.id, worker=cw.worker_id, status=duework.FAILED, now=now
            )
            user = await session.get(User, item.user_id) if item.user_id else None
            if (
                user is not None
                and user.role in ("rep", "manager")
                and item.kind != followups.NOTICE
            ):
                user.reachable = False
                await followups.notify_manager_unreachable(session, user, now=now)
        else:
            await duework.release(
                session,
                item.id,
                worker=cw.worker_id,
                retry_at=now + timedelta(minutes=2 ** min(item.attempts, 6)),
                attempts=item.attempts,
            )
    return result.status


async def _send_composed(cw: Clockwork, chat_id: int, composed: Composed) -> SendResult:
    """Every part in order, then the photo; stops at the first part that does not go out."""
    result = SendResult(SendStatus.SENT)
    for text, markup in composed.parts:
        result = await cw.sender.send(chat_id, text, reply_markup=markup)
        if not result.ok:
            return result
    if composed.photo is not None:
        png, caption = composed.photo
        result = await cw.sender.send_photo(chat_id, png, caption)
    return result


async def daily_scan(cw: Clockwork) -> dict[str, int]:
    async with write_session(cw.session_factory) as session:
        counts = await followups.scan(
            session,
            now=cw.clock.now(),
            settings_cadence=cw.settings.cadence_days,
            stale_days=cw.settings.stale_after_days,
            default_tz=cw.settings.default_timezone,
        )
    return counts
