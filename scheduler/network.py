"""The weekly network analysis: a job of the clock's scheduler (``schedule_weekly``), apart from
the tick's workers and the daily jobs (whose sets and ledger rows are what they are).

Every hour it asks whether any scope's stored run is a week old
(a cheap query). Only then does it claim the week in ``job_runs`` (job "network_weekly", period
the ISO week), so the analysis runs once a week across replicas; a failed or vanished run is
claimed again by a later tick. Claiming only when there is work keeps ``job_runs`` free of rows
for weeks with nothing to do (the daily jobs' ledger is asserted row by row elsewhere).
The analysis itself runs in a worker thread (services.network.compute): the loop keeps serving.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from services import duework
from services import network as svc
from storage.uow import end_read, write_session

if TYPE_CHECKING:
    from scheduler import Clockwork

log = logging.getLogger(__name__)

JOB = "network_weekly"
CHECK_EVERY = timedelta(hours=1)
RUN_STALE = timedelta(hours=2)
_checked: dict[str, datetime] = {}  # worker id -> last look (per process)


def week_of(now: datetime) -> str:
    year, week, _day = now.isocalendar()
    return f"{year}-W{week:02d}"


async def network_weekly(cw: Clockwork) -> int:
    now = cw.clock.now()
    last = _checked.get(cw.worker_id)
    if last is not None and last <= now < last + CHECK_EVERY:
        return 0
    _checked[cw.worker_id] = now
    async with cw.session_factory() as session:
        scopes = await svc.scopes_to_refresh(session, now, everyone=bool(cw.settings.admin_ids))
        await end_read(session)
    if not scopes:
        return 0
    period = week_of(now)
    async with write_session(cw.session_factory) as session:
        token = await duework.claim_run(
            session, job=JOB, period=period, now=now, worker=cw.worker_id, stale_after=RUN_STALE
        )
    if token is None:
        return 0  # another replica runs (or ran) this week's analysis
    done, ok = 0, True
    for scope in scopes:
        try:
            await svc.compute(
                cw.session_factory,
                scope,
                now=now,
                settings_cadence=cw.settings.cadence_days,
                stale_days=cw.settings.stale_after_days,
            )
            done += 1
        except Exception:  # one scope's failure does not stop the others
            ok = False
            log.exception("network analysis of %s failed", scope.key)
    async with write_session(cw.session_factory) as session:
        await duework.finish_run(
            session, job=JOB, period=period, token=token, ok=ok, now=cw.clock.now()
        )
    return done


def schedule_weekly(cw: Clockwork) -> None:
    """Add the hourly look to the running clock (one instance at a time; missed runs coalesce)."""
    if cw.scheduler is None:
        return
    cw.scheduler.add_job(
        network_weekly,
        "interval",
        args=[cw],
        minutes=60,
        id=JOB,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        replace_existing=True,
    )
