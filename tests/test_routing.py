"""bot.routing: a feature router declines at once only what none of its handlers could take.

The chat tests drive every handler through the real dispatcher, so a wrong "not mine" fails them;
these tests pin the gate itself on the real routers."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity, Update, User

from bot.app import build_app
from bot.routing import FeatureRouter, GatedDispatcher
from handlers import get_routers

ME = User(id=5, is_bot=False, first_name="Ann")


def message(text: str | None = None, caption: str | None = None) -> Message:
    chat = Chat(id=5, type="private")
    return Message(
        message_id=1, date=datetime(2026, 1, 1, tzinfo=UTC), chat=chat, text=text, caption=caption
    )


def callback(data: str) -> CallbackQuery:
    return CallbackQuery(id="1", from_user=ME, chat_instance="c", data=data)


def gate(router: FeatureRouter, update_type: str):  # noqa: ANN201
    return router._gate(update_type, router.observers[update_type])


def test_every_feature_router_is_a_leaf_that_can_decline() -> None:
    routers = get_routers()
    assert routers and all(isinstance(r, FeatureRouter) for r in routers)
    assert not any(r.sub_routers for r in routers)
    # the shortcut is used: most routers decline a callback they have no CallbackData for
    declining = [
        r.name for r in routers if not gate(r, "callback_query").may_take(callback("zz:1"))
    ]
    assert len(declining) >= len(routers) // 2, declining


def test_a_router_takes_every_callback_and_command_its_handlers_filter_on() -> None:
    checked = 0
    for router in get_routers():
        for handler in router.callback_query.handlers:
            for flt in handler.filters or ():
                if isinstance(flt.callback, CallbackQueryFilter):
                    cb = flt.callback.callback_data
                    data = cb.__prefix__ + cb.__separator__ + "1"
                    assert gate(router, "callback_query").may_take(callback(data)), (router, data)
                    checked += 1
        for handler in router.message.handlers:
            for flt in handler.filters or ():
                if isinstance(flt.callback, Command):
                    for command in flt.callback.commands:
                        if isinstance(command, str):
                            text = flt.callback.prefix[0] + command
                            assert gate(router, "message").may_take(message(text)), (router, text)
                            assert gate(router, "message").may_take(message(caption=text))
                            checked += 1
    assert checked > 40


def test_declines_only_when_certain() -> None:
    routers = {r.name: r for r in get_routers()}
    fallback = routers["fallback"]  # takes any message: never declines one
    assert gate(fallback, "message").may_take(message("hello"))
    assert gate(fallback, "message").may_take(message(None))
    commands_only = [
        r
        for r in routers.values()
        if r.message.handlers
        and all(
            any(isinstance(f.callback, Command) for f in h.filters or ())
            for h in r.message.handlers
        )
    ]
    assert commands_only  # a router of commands only declines plain text...
    for r in commands_only:
        assert not gate(r, "message").may_take(message("hello"))
        assert gate(r, "message").may_take(message("/whatever"))  # ...never a command
    # a router with a callback handler not filtered by CallbackData takes any callback
    for r in routers.values():
        loose = any(
            not any(isinstance(f.callback, CallbackQueryFilter) for f in h.filters or ())
            for h in r.callback_query.handlers
        )
        if loose:
            assert gate(r, "callback_query").may_take(callback("zz:1"))
    # no handler of the type at all: declined
    empty = [r for r in routers.values() if not r.callback_query.handlers]
    assert empty and not any(gate(r, "callback_query").may_take(callback("x")) for r in empty)


class Counting(FeatureRouter):
    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        self.asked = 0

    async def propagate_event(self, update_type: str, event, **kwargs):  # noqa: ANN001, ANN201
        self.asked += 1
        return await super().propagate_event(update_type, event, **kwargs)


def update(update_id: int, text: str) -> Update:
    entities = (
        [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
        if text.startswith("/")
        else None
    )
    msg = message(text).model_copy(update={"from_user": ME, "entities": entities})
    return Update(update_id=update_id, message=msg)


async def test_the_dispatcher_asks_a_declining_router_nothing() -> None:
    """A router that declines is skipped before its call is built (no copy of the event's
    data for it); the routers that may take the event run as aiogram runs them."""
    commands, plain, anything = Counting("commands"), Counting("plain"), Router(name="plain")
    taken: list[str] = []

    @commands.message(Command("a"))
    async def a(_: Message) -> str:
        taken.append("a")
        return "a"

    @plain.message(F.text == "hi")
    async def hi(_: Message) -> str:
        taken.append("hi")
        return "hi"

    @anything.message()
    async def rest(_: Message) -> str:
        taken.append("rest")
        return "rest"

    dp = GatedDispatcher()
    dp.include_routers(commands, plain, anything)
    bot = Bot("42:ROUTING-TEST")
    try:
        await dp.feed_update(bot, update(1, "hello"))
        assert (commands.asked, plain.asked, taken) == (0, 1, ["rest"])
        await dp.feed_update(bot, update(2, "/a"))
        assert (commands.asked, plain.asked, taken) == (1, 1, ["rest", "a"])
        await dp.feed_update(bot, update(3, "hi"))
        assert (commands.asked, plain.asked, taken) == (1, 2, ["rest", "a", "hi"])
        # no message handler in a router that has other handlers: declined before the call
        assert commands.declines("callback_query", callback("x"))
    finally:
        await bot.session.close()


async def test_the_bot_uses_the_gated_dispatcher(settings) -> None:  # noqa: ANN001
    app = build_app(settings, bot=Bot("42:ROUTING-TEST"), start_clockwork=False)
    try:
        assert type(app.dispatcher) is GatedDispatcher
        assert all(isinstance(r, FeatureRouter) for r in app.dispatcher.sub_routers)
    finally:
        await app.engine.dispose()
