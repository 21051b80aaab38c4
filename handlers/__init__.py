"""aiogram routers, one module per feature, built by factories."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import (
        adding,
        cards,
        common,
        deals,
        digest,
        errors,
        exchange,
        inbound,
        invite,
        lists,
        network,
        nps,
        privacy,
        reminders,
        settings,
        start,
        touches,
    )

    return [
        errors.create_router(),
        common.create_cancel_router(),
        nps.create_client_router(),
        start.create_router(),
        privacy.create_router(),
        settings.create_router(),
        invite.create_router(),
        reminders.create_router(),
        touches.create_router(),
        nps.create_staff_router(),
        exchange.create_router(),
        adding.create_router(),
        cards.create_router(),
        cards.create_dialogue_router(),
        deals.create_router(),
        deals.create_dialogue_router(),
        lists.create_router(),
        digest.create_router(),
        network.create_router(),  # before inbound and the fallback, which take any message
        inbound.create_router(),
        common.create_fallback_router(),
    ]
