"""Feature routers that decline, in one step, an event none of their handlers can take.

aiogram offers an update to each of the ~25 feature routers in turn, and each one copies the
update's data, wraps its middlewares, runs its root filters and checks every handler's filters
(a callback's data is unpacked once per CallbackData handler) before the next router is asked.
That walk was ~13% of the bot's CPU per update (py-spy, bench/bench_load.py).

:class:`FeatureRouter` answers "not mine" before the walk when that answer is certain:
- it has no handler for the event's type;
- a callback query whose data no handler's CallbackData prefix can unpack, when every callback
  handler of the router filters on a CallbackData;
- a message that is not a command, when every message handler of the router requires one.

Only feature routers without sub-routers and without outer middlewares skip, so what runs for
an event a router does take is unchanged; tests/test_routing.py checks that each update of the
chat tests is handled by the same handler with and without the shortcut.

:class:`GatedDispatcher` asks each feature router before handing it the event, not after:
aiogram passes the event's data to every router it tries as keyword arguments (a new dict of
~30 entries per router), which for ~25 routers per update was ~3% of the bot's CPU on its own.
"""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery, Message, TelegramObject


class _Gate:
    """What one observer's handlers can take, worked out from their filters."""

    def __init__(self, observer: TelegramEventObserver) -> None:
        self.size = len(observer.handlers)
        self.prefixes: frozenset[tuple[str, str]] | None = None  # (prefix, separator)
        self.command_prefixes: tuple[str, ...] | None = None
        callbacks: set[tuple[str, str]] = set()
        commands: set[str] = set()
        all_callback = all_command = bool(observer.handlers)
        for handler in observer.handlers:
            found_cb = found_cmd = False
            for flt in handler.filters or ():
                if isinstance(flt.callback, CallbackQueryFilter):
                    data = flt.callback.callback_data
                    callbacks.add((data.__prefix__, data.__separator__))
                    found_cb = True
                elif isinstance(flt.callback, Command):
                    commands.update(flt.callback.prefix)
                    found_cmd = True
            all_callback &= found_cb
            all_command &= found_cmd
        if all_callback:
            self.prefixes = frozenset(callbacks)
        if all_command and commands:
            self.command_prefixes = tuple(commands)

    def may_take(self, event: TelegramObject) -> bool:
        if self.size == 0:
            return False
        if self.prefixes is not None and isinstance(event, CallbackQuery):
            data = event.data or ""
            return any(
                data == prefix or data.startswith(prefix + sep) for prefix, sep in self.prefixes
            )
        if self.command_prefixes is not None and isinstance(event, Message):
            text = event.text or event.caption or ""
            return text.startswith(self.command_prefixes)
        return True


class FeatureRouter(Router):
    """A router of one feature (a leaf under the dispatcher)."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self._gates: dict[str, _Gate] = {}

    def _gate(self, update_type: str, observer: TelegramEventObserver) -> _Gate:
        gate = self._gates.get(update_type)
        if gate is None or gate.size != len(observer.handlers):
            gate = self._gates[update_type] = _Gate(observer)
        return gate

    def declines(self, update_type: str, event: TelegramObject) -> bool:
        """Certain that none of this router's handlers can take the event."""
        observer = self.observers.get(update_type)
        return (
            observer is not None
            and not self.sub_routers
            and not observer.outer_middleware
            and not self._gate(update_type, observer).may_take(event)
        )

    async def propagate_event(self, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        if self.declines(update_type, event):
            return UNHANDLED
        return await super().propagate_event(update_type, event, **kwargs)


class GatedDispatcher(Dispatcher):
    """aiogram's dispatcher, skipping the feature routers that decline an event before it
    builds their call. The rest is ``Router._propagate_event`` as aiogram writes it."""

    async def _propagate_event(
        self,
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        response = UNHANDLED
        if observer:
            result, data = await observer.check_root_filters(event, **kwargs)
            if not result:
                return UNHANDLED
            kwargs.update(data)
            response = await observer.trigger(event, **kwargs)
            if response is REJECTED:
                return UNHANDLED
            if response is not UNHANDLED:
                return response
        for router in self.sub_routers:
            if isinstance(router, FeatureRouter) and router.declines(update_type, event):
                continue
            response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                break
        return response
