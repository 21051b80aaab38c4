"""The NPS loop's kinds of due work and its notices: one queued message per person, rendered
by scheduler.nps_jobs."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.workhours import WorkHours
from services import duework
from storage.models import NpsCase, Survey, User
from storage.uow import transactional

NPS_SEND = "nps_send"
NPS_REMIND = "nps_remind"
CASE_ALERT = "case_alert"
CASE_DUE = "case_due"
CASE_ESCALATE = "case_escalate"
REFERRAL_NEW = "referral_new"
NPS_NOTICE = "nps_notice"
CHANGE_WINDOW = timedelta(minutes=10)
CLIENT_DAYTIME = WorkHours(time(10, 0), time(20, 0), frozenset(range(1, 8)))
REF_PREFIX = "ref_"


def clip(text: str, limit: int | None) -> str:
    """``text`` within ``limit`` characters: a cut one ends in "…" (never cut silently)."""
    if limit is None or len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


def stamp(now: datetime) -> str:
    """A key's part that tells one change of an answer or of a case from the next ones (a
    client may change a score back and forth while it can still be changed)."""
    return f"{now:%Y%m%d%H%M%S%f}"


@transactional
async def notify(
    session: AsyncSession,
    *,
    key: str,
    what: str,
    chat_id: int,
    user_id: int | None,
    contact_id: int,
    ref_id: int,
    now: datetime,
    kind: str = NPS_NOTICE,
    extra: dict[str, int | str | None] | None = None,
) -> bool:
    """Queue a notice of the loop (rendered by scheduler.nps_jobs) for one person, once;
    ``extra`` rides in the payload next to ``what``."""
    return await duework.schedule(
        session,
        kind=kind,
        key=key,
        chat_id=chat_id,
        user_id=user_id,
        contact_id=contact_id,
        ref_id=ref_id,
        due_at=now,
        now=now,
        payload={"what": what, **(extra or {})},
    )


@transactional
async def notify_rep(
    session: AsyncSession,
    about: Survey | NpsCase,
    *,
    key: str,
    what: str,
    now: datetime,
    extra: dict[str, int | str | None] | None = None,
) -> None:
    """The rep of a survey or of a case hears of it (a score, a comment, a case opened…), if
    they still exist; the notice points at the survey or the case."""
    rep = await session.get(User, about.rep_id)
    if rep is None:
        return
    await notify(
        session,
        key=key,
        what=what,
        chat_id=rep.tg_id,
        user_id=rep.id,
        contact_id=about.contact_id,
        ref_id=about.id,
        now=now,
        extra=extra,
    )


@transactional
async def notify_people(
    session: AsyncSession,
    case_row: NpsCase,
    people: list[tuple[int, int | None]],
    *,
    what: str,
    key: str,
    now: datetime,
) -> None:
    """One notice per (chat id, user id) about a case: managers before the deadline, admins
    after, whoever was alerted when it closes on its own."""
    for chat_id, user_id in people:
        await notify(
            session,
            key=f"{key}:{case_row.id}:{chat_id}",
            what=what,
            chat_id=chat_id,
            user_id=user_id,
            contact_id=case_row.contact_id,
            ref_id=case_row.id,
            now=now,
        )
