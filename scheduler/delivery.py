"""Deliver claimed due work through the one Sender: the delivery loop with bounded concurrency,
a hold on each claimed row (lease, renewal, fencing), render, send and close.

What each kind becomes as a message is registered on the Clockwork by the app factory
(bot.app.register_renderers), from each job module's ``renderers()``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.logs import current_due_work_id
from bot.sender import Guard, SendResult, SendStatus
from core.roles import TEAM_ROLES
from scheduler.recipients import LATE_AFTER, recipient_lang
from services import duework, followups
from storage.models import User
from storage.uow import end_read, write_session, writing
from views.rendered import Composed, Rendered

if TYPE_CHECKING:
    from scheduler import Clockwork


log = logging.getLogger(__name__)


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
                skip_chats=sorted(self.busy_chats()),
            )

    def busy_chats(self) -> set[int]:
        """The chats being sent to now: of the deliveries not done yet. (Not kept by the done
        callbacks: a task is done one loop step before they run, and a claim made in that step
        skipped a chat that was free — drain() then returned with its row left pending.)"""
        return {item.chat_id for task, item in self.inflight.items() if not task.done()}

    def _spawn(self, item: duework.Claimed) -> asyncio.Task[Any]:
        task = asyncio.create_task(deliver_one(self.cw, item), name=f"due:{item.id}")
        self.inflight[task] = item
        self.handled += 1

        def done(t: asyncio.Task[Any]) -> None:
            self.inflight.pop(t, None)
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
    spec = cw.renderers.get(item.kind)
    if spec is None:
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
        lang = recipient_lang(user, cw)
        with cw.i18n.context(), cw.i18n.use_locale(lang):
            if spec.writes:
                # it writes (a fan-out into other rows): one write block that checks the claim
                async with writing(session):
                    if not await duework.renew(
                        session, item.id, token=item.token, now=cw.clock.now()
                    ):
                        hold.lose()
                        return SendStatus.ABORTED
                    rendered = await spec.render(session, item, user, cw)
                    if rendered is None:
                        await hold.stop()
                        await hold.finish(session, duework.DONE)
                        return None
            else:
                rendered = await spec.render(session, item, user, cw)
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
                and user.role in TEAM_ROLES
                and item.kind != followups.NOTICE
            ):
                user.reachable = False
                await followups.notify_manager_unreachable(
                    session, user, now=now, admin_ids=cw.settings.admin_ids
                )
        if closed:
            await _after_send(session, cw, item, result.status)
    return result.status


async def _after_send(
    session: AsyncSession, cw: Clockwork, item: duework.Claimed, status: SendStatus
) -> None:
    """The kind's after-send step, in the closing write block; if it fails, the message still
    counts as sent (a savepoint keeps the close): a bug there must never send it twice."""
    spec = cw.renderers.get(item.kind)
    hook = spec.after_send if spec is not None else None
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
