"""/settings' answers about a changed time zone: what it did to the planned steps ahead, the
button that keeps their clock times, and what that button did (services.zone_change)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

from bot.i18n import _, ngettext


class KeepClockCb(CallbackData, prefix="kc"):
    """Keep the clock times of the steps ahead: ``z`` the zone left, ``t`` when (Unix seconds).
    The tapper's own cards only, the steps ahead at ``t`` and not changed since."""

    z: str
    t: int


def _clock(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def steps_ahead(count: int, first: datetime, *, old_tz: str, new_tz: str) -> str:
    """Said under "Time zone saved." when planned steps ahead now show other clock times."""
    return ngettext(
        "You have {n} planned step ahead. It stays at the same moment, so its clock time "
        "changes with the zone: {before} is now {after}.",
        "You have {n} planned steps ahead. They stay at the same moments, so their clock times "
        "change with the zone: e.g. {before} is now {after}.",
        count,
    ).format(n=count, before=_clock(first, old_tz), after=_clock(first, new_tz))


def keep_button(
    count: int, first: datetime, *, old_tz: str, changed_at: datetime
) -> InlineKeyboardButton:
    """The button that moves the steps ahead back to the clock times they were given."""
    text = ngettext(
        "Keep its clock time ({time} stays {time})",
        "Keep their clock times ({time} stays {time})",
        count,
    ).format(time=_clock(first, old_tz))
    data = KeepClockCb(z=old_tz, t=int(changed_at.timestamp())).pack()
    return InlineKeyboardButton(text=text, callback_data=data)


def kept(count: int) -> str:
    """What the button did."""
    if not count:
        return _(
            "Nothing to move: the steps planned then were changed since, or their clock times "
            "are the same in your zone now."
        )
    return ngettext(
        "✅ {n} planned step keeps its clock time in your new zone; its reminder moved with it.",
        "✅ {n} planned steps keep their clock times in your new zone; their reminders moved "
        "with them.",
        count,
    ).format(n=count)
