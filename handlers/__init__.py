"""aiogram routers, one module per feature, built by factories."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import (
        adding,
        cards,
        cases,
        common,
        deals,
        digest,
        errors,
        exchange,
        inbound,
        invite,
        lists,
        media,
        network,
        nps,
        privacy,
        relay,
        reminders,
        settings,
        start,
        team,
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
        team.create_router(),
        reminders.create_router(),
        touches.create_router(),
        cases.create_router(),  # before the NPS staff router, which takes the other case taps
        media.create_router(),  # before /import, which takes any document
        relay.create_router(),
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
