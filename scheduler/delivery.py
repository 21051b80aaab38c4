"""Turn claimed due work into messages and deliver them through the one Sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.callbacks import RemindCb
from bot.i18n import _, user_language
from bot.keyboards import InlineKeyboard
from bot.labels import label
from bot.logs import current_due_work_id
from bot.rendering import h
from bot.sender import Guard, SendResult, SendStatus
from core.cadence import effective_cadence, is_going_cold
from core.nextstep import format_local
from services import duework, followups, taps
from storage.models import Contact, Team, Touch, User
from storage.uow import end_read, write_session, writing

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
# kinds whose renderer writes (fans out into other rows): it runs inside a write block
WRITING_KINDS: set[str] = set()
# what happens after a send, by kind: (session, item, status, cw) — e.g. a survey marked delivered
AfterSend = Callable[[AsyncSession, duework.Claimed, SendStatus, "Clockwork"], Awaitable[None]]
AFTER_SEND: dict[str, AfterSend] = {}


def renderer(kind: str, *, writes: bool = False) -> Callable[[Renderer], Renderer]:
    """Register the renderer of a kind of due work. Renderers read (a read session, no write
    block, before the send); one that writes — a fan-out into other rows — says ``writes=True``
    and runs in a write block that first checks the claim is still held."""

    def register(fn: Renderer) -> Renderer:
        RENDERERS[kind] = fn
        if writes:
            WRITING_KINDS.add(kind)
        else:
            WRITING_KINDS.discard(kind)
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


# ------------------------------------------------------------------------------- delivery
class Hold:
    """This worker's hold on one claimed row.

    A heartbeat renews the lease every third of it; ``valid()`` is asked by the Sender right
    before each request: the claim must not be known lost, and this worker must still be inside
    the lease it last renewed, less a third of it (a margin for a missed beat and for clock
    skew between replicas). A worker that stalled past its lease therefore never sends what
    another worker may have taken over; a lost claim also cancels the send in progress.
    """

    def __init__(self, cw: Clockwork, item: duework.Claimed) -> None:
        self.cw = cw
        self.item = item
        self.lease = cw.lease
        self.margin = self.lease / 3
        self.valid_until = (item.claimed_at or cw.clock.now()) + self.lease - self.margin
        self.lost = False
        self.closed = False
        self.closing: asyncio.Future[SendStatus] | None = None  # the close after a send
        self._send: asyncio.Task[SendResult] | None = None
        self._beat: asyncio.Task[None] | None = None

    def valid(self) -> bool:
        return not self.lost and self.cw.clock.now() < self.valid_until

    def start(self) -> None:
        self._beat = asyncio.create_task(self._heartbeat(), name=f"heartbeat:{self.item.id}")

    async def stop(self) -> None:
        beat, self._beat = self._beat, None
        if beat is not None and not beat.done():
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _heartbeat(self) -> None:
        interval = self.lease.total_seconds() / 3
        while True:
            await self.cw.sleep(interval)
            now = self.cw.clock.now()
            try:
                async with write_session(self.cw.session_factory) as session:
                    held = await duework.renew(
                        session, self.item.id, token=self.item.token, now=now
                    )
            except Exception:
                # the database is away: the lease deadline still fences the send
                log.warning("could not renew the claim on due work %s", self.item.id, exc_info=True)
                continue
            if not held:
                self.lose()
                return
            self.valid_until = now + self.lease - self.margin

    def lose(self) -> None:
        if self.lost:
            return
        self.lost = True
        metrics.LEASE_EXPIRIES.labels("due_work").inc()
        log.warning(
            "the claim on due work %s (%s) was lost (taken over or settled): not sending it",
            self.item.id,
            self.item.kind,
        )
        if self._send is not None and not self._send.done():
            self._send.cancel()

    async def send(self, send: Awaitable[SendResult]) -> SendResult:
        """Run the send as a child task, so a lost claim can stop it (say, in a 429 wait)."""
        task = asyncio.ensure_future(send)
        self._send = task
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self.lost and task.cancelled() and not (current and current.cancelling()):
                return SendResult(SendStatus.ABORTED, error="claim lost")
            raise
        finally:
            self._send = None

    async def finish(self, session: AsyncSession, status: str, *, late: bool = False) -> bool:
        """Close the row (inside the caller's write block); False when the claim was lost."""
        closed = await duework.finish(
            session,
            self.item.id,
            token=self.item.token,
            status=status,
            now=self.cw.clock.now(),
            late=late,
        )
        self.closed = True
        if not closed:
            log.warning("due work %s (%s): the claim was lost before closing it", *self._who())
        return closed

    async def release(self, *, retry_in: timedelta | None = None, refund: bool = False) -> bool:
        """Back to pending: at once with ``refund`` (the try did not happen), else after
        ``retry_in`` (one more attempt spent; failed after duework.MAX_ATTEMPTS)."""
        now = self.cw.clock.now()
        if retry_in is None:
            retry_in = retry_delay(self.item.attempts)
        async with write_session(self.cw.session_factory) as session:
            released = await duework.release(
                session,
                self.item.id,
                token=self.item.token,
                retry_at=None if refund else now + retry_in,
                refund=refund,
            )
        self.closed = True
        return released

    def _who(self) -> tuple[int, str]:
        return self.item.id, self.item.kind


def retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=2 ** min(attempts, 6))


class DeliveryPool:
    """Claims due work one row at a time and delivers each in its own task, at most
    ``concurrency`` at once. A slow row takes one slot and nothing else: claiming goes on for
    the others, and a chat that is already being sent to is skipped until its send ends (a
    hanging chat holds one slot, never all of them).

    ``run()`` goes on until stopped (the bot), looking for due rows every ``poll_seconds``
    when there is nothing to claim; ``drain()`` returns once nothing is due and nothing is in
    flight (a tick, the tests). ``stop()`` stops claiming, gives the rows in flight a grace
    period, then cancels them: each goes back to pending at once.
    """

    def __init__(self, cw: Clockwork, concurrency: int) -> None:
        self.cw = cw
        self.concurrency = max(1, concurrency)
        self.inflight: dict[asyncio.Task[Any], duework.Claimed] = {}
        self.busy_chats: dict[int, int] = {}
        self.stopping = False
        self.handled = 0
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._idling = False

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if not self.running:
            self.stopping = False
            self._runner = asyncio.create_task(self.run(), name="delivery")

    async def _claim(self) -> duework.Claimed | None:
        async with write_session(self.cw.session_factory) as session:
            return await duework.claim_one(
                session,
                now=self.cw.clock.now(),
                worker=self.cw.worker_id,
                lease=self.cw.lease,
                skip_chats=list(self.busy_chats),
            )

    def _spawn(self, item: duework.Claimed) -> asyncio.Task[Any]:
        task = asyncio.create_task(deliver_one(self.cw, item), name=f"due:{item.id}")
        self.inflight[task] = item
        self.busy_chats[item.chat_id] = self.busy_chats.get(item.chat_id, 0) + 1
        self.handled += 1

        def done(t: asyncio.Task[Any]) -> None:
            self.inflight.pop(t, None)
            left = self.busy_chats.get(item.chat_id, 1) - 1
            if left > 0:
                self.busy_chats[item.chat_id] = left
            else:
                self.busy_chats.pop(item.chat_id, None)
            self._wake.set()

        task.add_done_callback(done)
        return task

    async def _take(self) -> duework.Claimed | None:
        item = await self._claim()
        if item is not None and self.stopping:
            # stopped while claiming: straight back, untouched
            hold = Hold(self.cw, item)
            await hold.release(refund=True)
            return None
        return item

    async def run(self) -> None:
        while not self.stopping:
            self._wake.clear()
            if len(self.inflight) >= self.concurrency:
                await self._wake.wait()  # a slot frees
                continue
            try:
                item = await self._take()
            except Exception:
                log.exception("claiming due work failed")
                item = None
            if item is None:
                if self.stopping:  # stopped while claiming
                    break
                # nothing due (or only rows of chats in flight): look again after a while
                self._idling = True
                try:
                    await self.cw.sleep(self.cw.poll_seconds)
                finally:
                    self._idling = False
                continue
            self._spawn(item)

    async def drain(self) -> int:
        mine: set[asyncio.Task[Any]] = set()
        handled = 0
        try:
            while not self.stopping:
                mine = {t for t in mine if not t.done()}
                if len(self.inflight) >= self.concurrency:
                    await self._wait_any(set(self.inflight))
                    continue
                item = await self._take()
                if item is None:
                    if not mine:
                        break
                    # rows of a busy chat, rows the ones in flight fan out into, and rows
                    # falling due meanwhile: when one ends, or after the poll interval
                    await self._wait_any(mine)
                    continue
                mine.add(self._spawn(item))
                handled += 1
            if mine:
                await asyncio.wait(mine)
        except asyncio.CancelledError:
            for task in mine:
                task.cancel()
            await asyncio.gather(*mine, return_exceptions=True)
            raise
        return handled

    async def _wait_any(self, tasks: set[asyncio.Task[Any]]) -> None:
        sleeper = asyncio.ensure_future(self.cw.sleep(self.cw.poll_seconds))
        try:
            await asyncio.wait({*tasks, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()

    async def stop(self, grace: float) -> None:
        self.stopping = True
        self._wake.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            if self._idling:
                runner.cancel()  # between polls: nothing of its own in flight
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        tasks = set(self.inflight)
        if tasks:
            every = asyncio.ensure_future(asyncio.wait(tasks))
            timer = asyncio.ensure_future(self.cw.sleep(grace))
            try:
                await asyncio.wait({every, timer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                every.cancel()
                timer.cancel()
        left = [t for t in tasks if not t.done()]
        for task in left:
            task.cancel()
        if left:
            log.info("shutdown: %s due-work rows in flight go back to the queue", len(left))
            await asyncio.gather(*left, return_exceptions=True)


async def deliver_due(cw: Clockwork) -> int:
    """Deliver what is due now. With the delivery loop running (the bot) that is the loop's
    job, done within its poll interval; otherwise (a tick in the tests, the bench) everything
    due is delivered before this returns. Returns how many rows were handled here."""
    pool = cw.pool
    if pool.running:
        return 0
    return await pool.drain()


async def deliver_one(cw: Clockwork, item: duework.Claimed) -> SendStatus | None:
    """Render, send and close one claimed row; never raises but for cancellation, when the row
    goes back to pending at once (a shutdown)."""
    current_due_work_id.set(item.id)  # this task's log records carry it (LOG_FORMAT=json)
    hold = Hold(cw, item)
    hold.start()
    try:
        return await _deliver(cw, item, hold)
    except asyncio.CancelledError:
        await hold.stop()
        if hold.closing is not None:
            # the message went out: its close must land, or it would be sent again
            with contextlib.suppress(Exception):
                await hold.closing
        elif not hold.closed:
            with contextlib.suppress(Exception):
                await hold.release(refund=True)
            log.info("due work %s (%s) interrupted: back in the queue", item.id, item.kind)
        raise
    except Exception:
        log.exception("delivery of due work %s (%s) failed", item.id, item.kind)
        await hold.stop()
        if not hold.closed:
            with contextlib.suppress(Exception):
                await hold.release()
        return None
    finally:
        await hold.stop()


async def _deliver(cw: Clockwork, item: duework.Claimed, hold: Hold) -> SendStatus | None:
    render = RENDERERS.get(item.kind)
    if render is None:
        log.error(
            "due work %s has a kind nobody renders (%r): left pending for a later try",
            item.id,
            item.kind,
        )
        await hold.stop()
        await hold.release()
        return None
    rendered: Rendered | Composed | None
    async with cw.session_factory() as session:
        user = await session.get(User, item.user_id) if item.user_id else None
        lang = _lang(user, cw)
        with cw.i18n.context(), cw.i18n.use_locale(lang):
            if item.kind in WRITING_KINDS:
                # it writes (a fan-out into other rows): one write block that checks the claim
                async with writing(session):
                    if not await duework.renew(
                        session, item.id, token=item.token, now=cw.clock.now()
                    ):
                        hold.lose()
                        return SendStatus.ABORTED
                    rendered = await render(session, item, user, cw)
                    if rendered is None:
                        await hold.stop()
                        await hold.finish(session, duework.DONE)
                        return None
            else:
                rendered = await render(session, item, user, cw)
                await end_read(session)
    if rendered is None:
        await hold.stop()
        async with write_session(cw.session_factory) as session:
            await hold.finish(session, duework.DONE)
        return None
    composed = rendered if isinstance(rendered, Composed) else Composed([rendered])
    result = await hold.send(_send_composed(cw, item.chat_id, composed, guard=hold.valid))
    await hold.stop()
    if result.status is SendStatus.ABORTED:
        # not sent: the claim was lost, or this worker could not renew it in time. Back to
        # pending if it is still ours; a no-op (the token differs) if someone else holds it.
        log.info("due work %s (%s) not sent: the claim was lost", item.id, item.kind)
        await hold.release(refund=True)
        return result.status
    if result.status is SendStatus.FAILED:
        await hold.release()
        return result.status
    # shielded: a shutdown that comes now waits for this close instead of undoing it
    hold.closing = asyncio.ensure_future(_close(cw, item, hold, result))
    return await asyncio.shield(hold.closing)


async def _close(
    cw: Clockwork, item: duework.Claimed, hold: Hold, result: SendResult
) -> SendStatus:
    """After a send that went out (or met a 403): one short write closes the row."""
    now = cw.clock.now()
    async with write_session(cw.session_factory) as session:
        if result.status is SendStatus.SENT:
            closed = await hold.finish(session, duework.SENT, late=now - item.due_at > LATE_AFTER)
        else:  # UNREACHABLE
            closed = await hold.finish(session, duework.FAILED)
            user = await session.get(User, item.user_id) if item.user_id else None
            if (
                closed
                and user is not None
                and user.role in ("rep", "manager")
                and item.kind != followups.NOTICE
            ):
                user.reachable = False
                await followups.notify_manager_unreachable(session, user, now=now)
        if closed:
            await _after_send(session, cw, item, result.status)
    return result.status


async def _after_send(
    session: AsyncSession, cw: Clockwork, item: duework.Claimed, status: SendStatus
) -> None:
    """The kind's after-send step, in the closing write block; if it fails, the message still
    counts as sent (a savepoint keeps the close): a bug there must never send it twice."""
    hook = AFTER_SEND.get(item.kind)
    if hook is None:
        return
    try:
        async with session.begin_nested():
            await hook(session, item, status, cw)
    except Exception:
        log.exception("after-send step of due work %s (%s) failed", item.id, item.kind)


async def _send_composed(
    cw: Clockwork, chat_id: int, composed: Composed, *, guard: Guard | None = None
) -> SendResult:
    """Every part in order, then the photo; stops at the first part that does not go out."""
    result = SendResult(SendStatus.SENT)
    for text, markup in composed.parts:
        result = await cw.sender.send(chat_id, text, reply_markup=markup, guard=guard)
        if not result.ok:
            return result
    if composed.photo is not None:
        png, caption = composed.photo
        result = await cw.sender.send_photo(chat_id, png, caption, guard=guard)
    return result


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
