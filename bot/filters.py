from __future__ import annotations

from aiogram import Router
from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.routing import FeatureRouter
from core.roles import LEADS, STAFF, Role


class RoleFilter(Filter):
    """Passes when the server-side role (resolved by UserMiddleware) is one of ``roles``."""

    def __init__(self, *roles: Role | frozenset[Role]) -> None:
        allowed: set[Role] = set()
        for r in roles:
            allowed.update(r if isinstance(r, frozenset) else {r})
        self.roles = frozenset(allowed)

    async def __call__(self, event: TelegramObject, role: Role | None = None) -> bool:
        return role in self.roles


def staff() -> RoleFilter:
    return RoleFilter(STAFF)


def leads() -> RoleFilter:
    return RoleFilter(LEADS)


class NotStaff(Filter):
    """Someone outside the team: a client, a referred person, a stranger."""

    async def __call__(self, event: TelegramObject, role: Role | None = None) -> bool:
        return role not in STAFF


def router_for(name: str, allowed: Filter) -> Router:
    """A feature's router whose messages and buttons pass only ``allowed`` (staff(), leads())."""
    router = FeatureRouter(name=name)
    router.message.filter(allowed)
    router.callback_query.filter(allowed)
    return router
