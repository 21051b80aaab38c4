"""Invites and membership."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from core.roles import Role, can_invite
from core.tokens import is_valid_token, new_token
from storage.models import Invite, Team, User
from storage.repo import invites as invites_repo
from storage.repo import users as users_repo
from storage.uow import writing


class InviteProblem(StrEnum):
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"
    ALREADY_MEMBER = "already_member"
    NO_TEAM = "no_team"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class InviteResult:
    invite: Invite | None = None
    problem: InviteProblem | None = None


@dataclass(frozen=True)
class JoinResult:
    role: Role | None = None
    team: Team | None = None
    problem: InviteProblem | None = None
    inviter: User | None = None


async def create_invite(
    session: AsyncSession,
    *,
    inviter: User,
    inviter_role: Role | None,
    role: Role,
    team_id: int | None,
    now: datetime,
    ttl: timedelta,
) -> InviteResult:
    if not can_invite(inviter_role, role):
        return InviteResult(problem=InviteProblem.FORBIDDEN)
    if inviter_role is Role.MANAGER:
        if inviter.team_id is None:
            return InviteResult(problem=InviteProblem.NO_TEAM)
        team_id = inviter.team_id  # a manager invites into their own team only
    if role is Role.MANAGER and team_id is None:
        pass  # a new manager gets a new team on joining
    elif role is Role.REP and team_id is None:
        return InviteResult(problem=InviteProblem.NO_TEAM)
    elif team_id is not None and await users_repo.get_team(session, team_id) is None:
        return InviteResult(problem=InviteProblem.NO_TEAM)
    async with writing(session):
        invite = await invites_repo.create(
            session,
            token=new_token(),
            role=role.value,
            team_id=team_id,
            created_by_id=inviter.id,
            now=now,
            ttl=ttl,
        )
    return InviteResult(invite=invite)


async def accept_invite(
    session: AsyncSession, *, user: User, current_role: Role | None, token: str, now: datetime
) -> JoinResult:
    """Join through an invite: one write transaction, committed when this returns."""
    if not is_valid_token(token):
        return JoinResult(problem=InviteProblem.INVALID)
    async with writing(session):
        return await _accept(session, user=user, current_role=current_role, token=token, now=now)


async def _accept(
    session: AsyncSession, *, user: User, current_role: Role | None, token: str, now: datetime
) -> JoinResult:
    invite = await invites_repo.get_by_token(session, token)
    if invite is None:
        return JoinResult(problem=InviteProblem.INVALID)
    if invite.used_at is not None:
        return JoinResult(problem=InviteProblem.USED)
    if invite.expires_at <= now:
        return JoinResult(problem=InviteProblem.EXPIRED)
    if current_role in (Role.ADMIN, Role.MANAGER, Role.REP):
        return JoinResult(problem=InviteProblem.ALREADY_MEMBER, role=current_role)
    role = Role(invite.role)
    team: Team | None = None
    if role is not Role.MANAGER or invite.team_id:  # a manager may join an existing team
        team = await users_repo.get_team(session, invite.team_id) if invite.team_id else None
        if team is None:
            return JoinResult(problem=InviteProblem.NO_TEAM)
    if not await invites_repo.claim(session, invite.id, user.id, now):
        return JoinResult(problem=InviteProblem.USED)
    if team is None:  # a manager invited to lead a team of their own
        team = await users_repo.create_team(session, user.display_name, now)
    assert team is not None
    user.role = role.value
    user.team_id = team.id
    user.left_at = None  # back through a new invite
    inviter = await users_repo.get(session, invite.created_by_id)
    return JoinResult(role=role, team=team, inviter=inviter)
