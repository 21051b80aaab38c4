"""What a handler works with, in one object: the update's session, who is asking, the clock and
the settings. Built once per update by middleware and injected as ``ctx``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from core.clock import Clock
from core.nextstep import local_day
from services import cards, delivered, followups
from services.viewer import Viewer
from storage.models import Contact, User


@dataclass(frozen=True, slots=True)
class Ctx:
    session: AsyncSession
    viewer: Viewer
    clock: Clock
    settings: Settings

    @property
    def user(self) -> User:
        return self.viewer.user

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        """The viewer's own calendar day (in their time zone)."""
        return local_day(self.clock.now(), self.viewer.tz)

    async def card(self, contact: Contact) -> cards.CardData:
        """What ``contact``'s card shows to this viewer now."""
        return await cards.card_data(
            self.session,
            contact,
            self.viewer,
            now=self.clock.now(),
            settings_cadence=self.settings.cadence_days,
        )

    @property
    def rules(self) -> followups.Rules:
        """The settings due work depends on (services.followups)."""
        return followups.Rules.of(self.settings)

    @property
    def survey_rules(self) -> delivered.SurveyRules:
        """The settings a delivery depends on (services.delivered)."""
        return delivered.SurveyRules.of(self.settings)
