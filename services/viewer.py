"""Who is asking: the identity of one request, built once by middleware and injected.

A handler takes ``viewer: Viewer`` instead of re-deriving the scope, the time zone and the
language from the user, the role and the settings on every call."""

from __future__ import annotations

from dataclasses import dataclass

from core.roles import LEADS, Role
from services.scope import Scope
from storage.models import User


@dataclass(frozen=True, slots=True)
class Viewer:
    user: User
    role: Role
    tz: str  # the user's IANA time zone (their own choice, else the bot's default)
    lang: str  # the language this request is answered in

    @classmethod
    def of(cls, user: User, role: Role, *, default_tz: str, lang: str) -> Viewer:
        return cls(user, role, user.timezone or default_tz, lang)

    @property
    def scope(self) -> Scope:
        """Which cards this person may see and change."""
        return Scope.of(self.user, self.role)

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def team_id(self) -> int | None:
        return self.user.team_id

    @property
    def leads(self) -> bool:
        """A manager or an administrator."""
        return self.role in LEADS
