"""Roles and who may do what."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    REP = "rep"
    CLIENT = "client"


STAFF = frozenset({Role.ADMIN, Role.MANAGER, Role.REP})
LEADS = frozenset({Role.ADMIN, Role.MANAGER})
# the roles stored on a team member (an admin comes from the settings, not from a team)
TEAM_ROLES = frozenset({Role.MANAGER, Role.REP})


def effective_role(stored: str | None, tg_id: int, admin_ids: frozenset[int]) -> Role | None:
    """Admins come from settings; everyone else from the stored role (None for a stranger)."""
    if tg_id in admin_ids:
        return Role.ADMIN
    if stored in (Role.MANAGER, Role.REP, Role.CLIENT):
        return Role(stored)
    return None


def invitable_roles(inviter: Role | None) -> tuple[Role, ...]:
    """An admin invites managers and reps; a manager invites reps into their own team."""
    if inviter is Role.ADMIN:
        return (Role.MANAGER, Role.REP)
    if inviter is Role.MANAGER:
        return (Role.REP,)
    return ()


def can_invite(inviter: Role | None, role: Role) -> bool:
    return role in invitable_roles(inviter)


# Commands by role, in menu order. Names only; descriptions are translated in the bot layer.
_CONTACT_WORK = ("add", "find", "contacts", "log", "today", "delivered", "network", "intro")
_DATA_AND_HELP = ("export", "import", "settings", "help", "cancel")
_LEADS = (
    *_CONTACT_WORK,
    "nps",
    "cases",
    "digest",
    "stats",
    "team",
    "invite",
    "forget",
    *_DATA_AND_HELP,
)

COMMANDS_BY_ROLE: dict[Role | None, tuple[str, ...]] = {
    None: ("start", "help", "settings"),
    Role.CLIENT: ("start", "help", "settings", "stop", "forget"),
    Role.REP: (*_CONTACT_WORK, *_DATA_AND_HELP),
    Role.MANAGER: _LEADS,
    Role.ADMIN: _LEADS,
}

ALL_COMMANDS = frozenset(c for cmds in COMMANDS_BY_ROLE.values() for c in cmds)


def allowed_commands(role: Role | None) -> tuple[str, ...]:
    return COMMANDS_BY_ROLE[role]
