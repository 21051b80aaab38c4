"""Whose cards a person may see and change: a rep their own, a manager their team's (and their
own), an administrator everyone's. Every read of cards goes through a Scope; a card outside it
is simply "not found"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, or_, true

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

    def mine(self) -> Scope:
        """The person's own cards only, whatever else they may see (/today: "your day")."""
        return Scope(self.user_id, Role.REP, self.team_id)

    def condition(self) -> ColumnElement[bool]:
        return _condition(self.kind, self.user_id, self.team_id)

    # A statement run on every update is built once (building one and its cache key costs as
    # much as running it): with the condition of the scope's kind in bound parameters, and
    # ``params`` as their values.
    @property
    def kind(self) -> str:
        if self.role is Role.ADMIN:
            return "all"
        return "team" if self.role is Role.MANAGER and self.team_id is not None else "own"

    @property
    def params(self) -> dict[str, int | None]:
        return {"scope_user": self.user_id, "scope_team": self.team_id}

    @staticmethod
    def bound_condition(kind: str) -> ColumnElement[bool]:
        """:meth:`condition` of a scope of ``kind``, its values bound to :attr:`params`."""
        return _condition(kind, bindparam("scope_user"), bindparam("scope_team"))


def _condition(kind: str, user: Any, team: Any) -> ColumnElement[bool]:
    if kind == "all":
        return true()
    if kind == "team":
        return or_(Contact.team_id == team, Contact.owner_id == user)
    return Contact.owner_id == user
