"""Requests to Telegram go out when they are made, not after every other ready task.

aiohttp writes a request's body in a task of its own. On Python 3.12+ it starts that task
eagerly (``eager_start=True``): a small body is written at once and no task is left. On 3.11
the task is only queued, behind every task already ready. aiogram starts a whole poll's updates
as tasks at once, so on 3.11 the first update's reply went out only after every other update of
the poll had run up to its own first request, and the next long poll only after all of them:
at 50 reps with a 100 ms round trip an update spent ~65 ms of its ~165 ms in the bot waiting
for that, and the poll cycle grew by as much (``bench/bench_load.py`` prints where the time
goes).

:func:`install` gives the running loop a task factory that does for aiohttp's body writer what
3.12 does: the writer's first step runs at once, in a copy of the caller's context (as a task's
would). A body that fits the socket's buffer is then written and the writer is done (aiohttp
sees a finished task and keeps none); one that has to wait for the socket carries on as an
ordinary task from where it stopped. Every other coroutine becomes a task exactly as without a
factory. Nothing is installed on Python 3.12+ or when the loop already has a factory.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine, Generator
from contextvars import Context, copy_context
from typing import Any

# aiohttp.client_reqrep.ClientRequest.write_bytes (the request body's writer)
WRITER = "ClientRequest.write_bytes"


async def _rest(coro: Coroutine[Any, Any, Any], awaited: Any) -> Any:
    """Drive a coroutine whose first step already ran, as its task would have: wait for what it
    waits for, then resume it (with the exception, when the wait failed or was cancelled)."""
    while True:
        try:
            if awaited is None:  # a bare ``yield`` (asyncio.sleep(0)): one turn of the loop
                await asyncio.sleep(0)
            else:
                # the future the coroutine yielded is marked as awaited by it; a task clears the
                # mark on taking it over, and so does this, to wait for it on its behalf
                awaited._asyncio_future_blocking = False
                await awaited
        except BaseException as exc:  # noqa: BLE001 - handed to the coroutine, as a task does
            try:
                awaited = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                awaited = coro.send(None)
            except StopIteration as stop:
                return stop.value


def _eager(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: Context | None
) -> asyncio.Future[Any]:
    context = context if context is not None else copy_context()  # what a task would run in
    try:
        awaited = context.run(coro.send, None)
    except StopIteration as stop:
        done = loop.create_future()
        done.set_result(stop.value)
        return done
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - what the task would have held
        failed = loop.create_future()
        failed.set_exception(exc)
        return failed
    return asyncio.Task(_rest(coro, awaited), loop=loop, context=context)


def task_factory(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, Any] | Generator[Any, None, Any],
    *,
    context: Context | None = None,
) -> asyncio.Future[Any]:
    if getattr(coro, "__qualname__", None) == WRITER and hasattr(coro, "send"):
        return _eager(loop, coro, context)  # type: ignore[arg-type]
    return asyncio.Task(coro, loop=loop, context=context)


def needed() -> bool:
    return sys.version_info < (3, 12)


def install(loop: asyncio.AbstractEventLoop | None = None) -> bool:
    """Give ``loop`` (the running one by default) the factory; True when it was installed."""
    loop = loop or asyncio.get_running_loop()
    if not needed() or loop.get_task_factory() not in (None, task_factory):
        return False
    loop.set_task_factory(task_factory)  # type: ignore[arg-type]
    return True
