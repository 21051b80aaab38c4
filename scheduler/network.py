"""The weekly network analysis: a daily job (run once a day across replicas, see
scheduler.Clockwork.run_daily) that renews every scope whose stored run is a week old."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from services import network as svc
from storage.uow import end_read

if TYPE_CHECKING:
    from scheduler import Clockwork

log = logging.getLogger(__name__)


async def network_weekly(cw: Clockwork) -> int:
    now = cw.clock.now()
    async with cw.session_factory() as session:
        scopes = await svc.scopes_to_refresh(session, now)
        await end_read(session)
    done = 0
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
            log.exception("network analysis of %s failed", scope.key)
    return done
