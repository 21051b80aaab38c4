"""Whose cards a person may see and change: a rep their own, a manager their team's (and their
own), an administrator everyone's. Every read of cards goes through a Scope; a card outside it
is simply "not found"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, true

from core.roles import Role
from storage.models import Contact, User


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: Role
    team_id: int | None

    @classmethod
    def of(cls, user: User, role: Role) -> Scope:
        return cls(user.id, role, user.team_id)

    def condition(self) -> ColumnElement[bool]:
        if self.role is Role.ADMIN:
            return true()
        if self.role is Role.MANAGER and self.team_id is not None:
            return or_(Contact.team_id == self.team_id, Contact.owner_id == self.user_id)
        return Contact.owner_id == self.user_id
