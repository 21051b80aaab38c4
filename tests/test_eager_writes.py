"""bot.eager_writes: a request's body is written when the request is made (as aiohttp does on
Python 3.12+), not after every task that was ready before it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import BytesPayload, ClientSession, web

from bot import eager_writes
from bot.eager_writes import WRITER, task_factory

MARK: contextvars.ContextVar[str] = contextvars.ContextVar("mark", default="outer")


def _named(coro: Any) -> Any:
    """A coroutine the factory takes for aiohttp's body writer."""
    coro.__qualname__ = WRITER
    return coro


class Marked(BytesPayload):
    """A body that notes when aiohttp writes it."""

    def __init__(self, value: bytes, order: list[str]) -> None:
        super().__init__(value, content_type="application/x-www-form-urlencoded")
        self.order = order

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        self.order.append("body written")
        await super().write_with_length(writer, content_length)


@contextlib.asynccontextmanager
async def receiving(install: bool) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A loopback server that keeps every body it is sent: (its URL, the bodies); the loop has
    the factory (``install``) until the block ends."""
    received: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.json_response({"ok": True, "result": True})

    app = web.Application(client_max_size=64 * 2**20)
    app.router.add_post("/m", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    before = loop.get_task_factory()
    try:
        if install:
            loop.set_task_factory(task_factory)  # type: ignore[arg-type]
        yield f"http://127.0.0.1:{port}/m", received
    finally:
        loop.set_task_factory(before)
        await runner.cleanup()


async def _body_and_other_task(install: bool) -> list[str]:
    order: list[str] = []
    async with receiving(install) as (url, received), ClientSession() as session:
        async with session.post(url, data=b"warm=1"):  # the connection kept alive, as the bot's
            pass

        async def other() -> None:
            order.append("another update ran")

        async def request() -> None:
            ready = asyncio.ensure_future(other())  # ready before the request is made
            async with session.post(url, data=Marked(b"a=1", order)):
                pass
            await ready

        await asyncio.create_task(request())
    assert received == [b"warm=1", b"a=1"]
    return order


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="aiohttp starts the writer eagerly itself")
async def test_without_it_a_body_waits_for_every_ready_task() -> None:
    """What the module is for: on 3.11, aiohttp queues the body's writer behind other tasks."""
    assert await _body_and_other_task(install=False) == ["another update ran", "body written"]


async def test_the_body_is_written_before_other_ready_tasks_run() -> None:
    installed = sys.version_info < (3, 12)
    order = await _body_and_other_task(install=installed)
    assert order == ["body written", "another update ran"]


async def test_a_body_larger_than_the_socket_takes_is_sent_whole() -> None:
    """A big upload makes the writer wait for the socket: it carries on as a task."""
    body = bytes(range(256)) * (32 * 2**20 // 256)
    async with (
        receiving(install=True) as (url, received),
        ClientSession() as session,
        session.post(url, data=body) as response,
    ):
        assert (await response.json())["ok"]
    assert received == [body]


async def test_a_writer_that_never_waits_is_done_at_once() -> None:
    loop = asyncio.get_running_loop()
    ran: list[str] = []

    async def write() -> int:
        ran.append(MARK.get())
        MARK.set("inner")  # stays in the writer's own context, as in a task
        return 7

    fut = task_factory(loop, _named(write()))
    assert ran == ["outer"] and fut.done() and fut.result() == 7
    assert MARK.get() == "outer"


async def test_a_writer_that_waits_carries_on_as_a_task() -> None:
    loop = asyncio.get_running_loop()
    gate = loop.create_future()
    steps: list[str] = []

    async def write() -> str:
        steps.append("first")
        MARK.set("writer")
        value = await gate
        await asyncio.sleep(0)  # a bare yield on the way
        steps.append(f"after {value} in {MARK.get()}")
        return "done"

    task = task_factory(loop, _named(write()))
    assert steps == ["first"] and not task.done()
    gate.set_result("gate")
    assert await task == "done"
    assert steps == ["first", "after gate in writer"]
    assert MARK.get() == "outer"


async def test_a_failed_wait_and_a_cancel_reach_the_writer() -> None:
    loop = asyncio.get_running_loop()
    gate = loop.create_future()
    seen: list[str] = []

    async def write() -> None:
        try:
            await gate
        except ValueError as exc:
            seen.append(f"caught {exc}")
            await asyncio.Event().wait()  # waits until cancelled
        finally:
            seen.append("cleaned up")

    task = task_factory(loop, _named(write()))
    gate.set_exception(ValueError("broken pipe"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert seen == ["caught broken pipe"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["caught broken pipe", "cleaned up"]


async def test_a_writer_that_fails_at_once_holds_its_error() -> None:
    loop = asyncio.get_running_loop()

    async def write() -> None:
        raise OSError("connection reset")

    fut = task_factory(loop, _named(write()))
    assert fut.done()
    with pytest.raises(OSError, match="connection reset"):
        fut.result()


async def test_other_coroutines_become_ordinary_tasks() -> None:
    loop = asyncio.get_running_loop()
    ran: list[str] = []

    async def work() -> None:
        ran.append("ran")

    task = task_factory(loop, work())
    assert isinstance(task, asyncio.Task) and ran == []
    await task
    assert ran == ["ran"]


async def test_install_keeps_a_factory_already_there() -> None:
    loop = asyncio.get_running_loop()
    before = loop.get_task_factory()

    def theirs(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(theirs)
    try:
        assert not eager_writes.install(loop)
        assert loop.get_task_factory() is theirs
    finally:
        loop.set_task_factory(before)
