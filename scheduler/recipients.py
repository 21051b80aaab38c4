"""What every renderer of due work needs: when a message counts as late, and the recipient's
time zone and language. (Renderers themselves are registered on the Clockwork by the app
factory, from each job module's ``renderers()``.)"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.i18n import user_language
from services import followups
from storage.models import User

if TYPE_CHECKING:
    from scheduler import Clockwork

# a message that goes out this long after its due time is marked late
LATE_AFTER = timedelta(minutes=15)


def recipient_tz(user: User | None, cw: Clockwork) -> str:
    default = cw.settings.default_timezone
    return followups.user_tz(user, default) if user is not None else default


def recipient_lang(user: User | None, cw: Clockwork) -> str:
    if user is None:
        return cw.settings.default_language
    return user_language(user.language, user.tg_language, cw.settings.default_language)
