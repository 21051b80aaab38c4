"""Plain (non-async) filters and handlers run in the loop, not on a thread.

aiogram runs every callable that is not a coroutine function through ``asyncio.to_thread``:
each ``F.text`` / ``F.data.startswith(...)`` check of each candidate handler was a hand-over to
the default thread pool and back (about a fifth of an update's CPU in ``bench/bench_load.py``,
and a thread wake-up per check). A magic filter only reads attributes of the event, so it is
run where it is. :func:`run_inline` marks every such callable of a router tree once, at start.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject


def _inline(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return run


def callables(router: Router) -> Iterator[CallableObject]:
    """Every handler and filter of ``router`` and the routers under it."""
    for sub in router.chain_tail:
        for observer in sub.observers.values():
            for handler in [observer._handler, *observer.handlers]:  # noqa: SLF001
                yield handler
                yield from handler.filters or ()


def run_inline(router: Router) -> int:
    """Make every plain callable of the tree awaitable in the loop; returns how many."""
    changed = 0
    for obj in callables(router):
        if not obj.awaitable:
            obj.callback = _inline(obj.callback)
            obj.awaitable = True
            changed += 1
    return changed
