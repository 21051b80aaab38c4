"""A Telegram Bot API emulator on loopback, for tests and the sandbox.

It speaks the Bot API over HTTP (aiohttp), so the bot runs with its real HTTP client. Like
Telegram it refuses text over 4096 characters, callback data over 64 bytes, malformed HTML, a
message to a user who never started the bot or blocked it, and answers 429 with ``retry_after``
on demand or when its rate limits are switched on. Every request is recorded for the tests.

The network and the proxies in front of Telegram misbehave on demand too:

- a **round trip** (``round_trip``, ``jitter``; at construction or :meth:`set_round_trip` at run
  time): half of it passes before a request takes effect (the request on its way), the other half
  before the answer leaves (the answer on its way back). A long poll waits in between, so an
  update that arrives during a poll reaches the bot half a round trip later. Off by default.
- an **answer lost after the effect** (:meth:`lose_answer_next`): the message is delivered, but
  the bot gets a proxy's HTML error page instead of the JSON answer.
- an **HTML error page** instead of the request (:meth:`html_error_next`): 500/502/503/504 with a
  ``text/html`` body and no effect. aiogram raises ``ClientDecodeError`` for both.
- a **hanging chat** (:meth:`hang_chat`): every request addressed to that chat waits a set time,
  or until :meth:`release_chat`, before it takes effect; other chats are not held up.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.emulator.methods import BotApiMethods
from bot.emulator.wire import (
    ApiError,
    Bucket,
    ChatState,
    RateLimits,
    Recorded,
    coerce_params,
    html_error_page,
    present,
)

# names other modules import from here
__all__ = ["ApiError", "ChatState", "FakeTelegram", "RateLimits", "Recorded", "html_error_page"]


@dataclass
class _Hang:
    seconds: float | None
    released: asyncio.Event = field(default_factory=asyncio.Event)


class FakeTelegram(BotApiMethods):
    """The emulator: its users and chats, the HTTP server, and the faults it plays on demand
    (the Bot API methods themselves are in :class:`~bot.emulator.methods.BotApiMethods`)."""

    def __init__(
        self,
        *,
        token: str = "123456789:TEST-token_for-the-emulator",
        username: str = "netsales_test_bot",
        first_name: str = "NetSales",
        now: Callable[[], float] = time.time,
        rate_limits: RateLimits | None = None,
        round_trip: float = 0.0,
        jitter: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.now = now
        self.rate_limits = rate_limits
        self._global_bucket: Bucket | None = None
        self._chat_buckets: dict[int, Bucket] = {}
        self.chats: dict[int, ChatState] = {}
        self.updates: deque[dict[str, Any]] = deque()
        self.next_update_id = 1
        self.confirmed_offset = 0
        self._cond = asyncio.Condition()
        self.requests: list[Recorded] = []
        self.failures: dict[str, deque[ApiError]] = defaultdict(deque)
        self.callback_answers: dict[str, dict[str, Any] | None] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None  # setWebhook's url, secret_token, updates
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self.listeners: list[Callable[[int, dict[str, Any]], None]] = []
        # called with every recorded request once it has taken effect (or failed)
        self.request_listeners: list[Callable[[Recorded], None]] = []
        self.round_trip = 0.0
        self.jitter = 0.0
        self.set_round_trip(round_trip, jitter)
        self._rng = random.Random(seed)
        self.lost_answers: dict[str, deque[int]] = defaultdict(deque)
        self.html_errors: dict[str, deque[int]] = defaultdict(deque)
        self._hangs: dict[int, _Hang] = {}
        self.hanging: dict[int, int] = defaultdict(int)  # requests held per chat right now
        self._hang_cond = asyncio.Condition()
        self._callback_chats: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port: int | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        assert self.port is not None, "emulator not started"
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True
        for chat_id in list(self._hangs):
            self.release_chat(chat_id)
        async with self._cond:
            self._cond.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ users and updates
    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> ChatState:
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            **present(last_name=last_name, username=username, language_code=language_code),
        }
        chat = self.chats.get(user_id)
        if chat is None:
            chat = ChatState(user=user, started=started)
            self.chats[user_id] = chat
        else:
            chat.user = user
            chat.started = chat.started or started
        return chat

    async def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        async with self._cond:
            update_id = self.next_update_id
            self.next_update_id += 1
            self.updates.append({"update_id": update_id, kind: payload})
            self._cond.notify_all()
        return update_id

    async def user_message(self, user_id: int, **content: Any) -> tuple[int, dict[str, Any]]:
        """Inject a message from a user; a user who writes to the bot has started it."""
        chat = self.chats[user_id]
        chat.started = True
        chat.blocked = False
        message = {
            "message_id": self._new_message_id(chat),
            "date": int(self.now()),
            "chat": self.chat_json(user_id),
            "from": chat.user,
            **content,
        }
        chat.messages[message["message_id"]] = message
        update_id = await self.push_update("message", message)
        return update_id, message

    async def user_edit(self, user_id: int, message_id: int, text: str) -> int:
        """The user edits a message they sent: an ``edited_message`` update, as Telegram sends."""
        chat = self.chats[user_id]
        message = {**chat.messages[message_id], "text": text, "edit_date": int(self.now())}
        chat.messages[message_id] = message
        return await self.push_update("edited_message", message)

    async def user_callback(self, user_id: int, message: dict[str, Any], data: str) -> int:
        query_id = str(next(self._callback_ids))
        self.callback_answers[query_id] = None
        self._callback_chats[query_id] = user_id
        payload = {
            "id": query_id,
            "from": self.chats[user_id].user,
            "message": message,
            "chat_instance": str(user_id),
            "data": data,
        }
        return await self.push_update("callback_query", payload)

    async def set_blocked(self, user_id: int, blocked: bool = True, notify: bool = True) -> None:
        chat = self.chats[user_id]
        chat.blocked = blocked
        if notify:
            status_new = "kicked" if blocked else "member"
            status_old = "member" if blocked else "kicked"
            member = {"user": self.bot_user, "status": status_new}
            if blocked:
                member["until_date"] = 0
            await self.push_update(
                "my_chat_member",
                {
                    "chat": self.chat_json(user_id),
                    "from": chat.user,
                    "date": int(self.now()),
                    "old_chat_member": {"user": self.bot_user, "status": status_old},
                    "new_chat_member": member,
                },
            )

    async def wait_processed(self, update_id: int, within: float = 10.0) -> None:
        """The bot has handled an update once it asks for updates past it."""

        async def _wait() -> None:
            async with self._cond:
                await self._cond.wait_for(lambda: self.confirmed_offset > update_id)

        await asyncio.wait_for(_wait(), within)

    def fail_next(
        self, method: str, code: int = 429, description: str | None = None, retry_after: int = 1
    ) -> None:
        """Make the next call of ``method`` fail like Telegram would."""
        defaults = {
            429: f"Too Many Requests: retry after {retry_after}",
            403: "Forbidden: bot was blocked by the user",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        self.failures[method].append(
            ApiError(
                code,
                description or defaults.get(code, "Bad Request"),
                retry_after if code == 429 else None,
            )
        )

    # ------------------------------------------------------------------ a bad network, on demand
    def set_round_trip(self, seconds: float, jitter: float = 0.0) -> None:
        """Every request then takes ``seconds`` plus a uniform random extra of up to ``jitter``
        (half before it takes effect, half before the answer leaves); 0 switches it off."""
        if seconds < 0 or jitter < 0:
            raise ValueError("a round trip and its jitter cannot be negative")
        self.round_trip, self.jitter = seconds, jitter

    def _draw_round_trip(self) -> float:
        if self.jitter:
            return self.round_trip + self._rng.uniform(0.0, self.jitter)
        return self.round_trip

    def lose_answer_next(self, method: str, status: int = 502, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` take effect (a message IS delivered), but the
        answer is lost on the way back: the bot gets a proxy's HTML error page, not JSON."""
        self.lost_answers[method].extend([status] * times)

    def html_error_next(self, method: str, status: int = 502, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` never reach Telegram: a proxy answers with an
        HTML error page (500, 502, 503, 504 ...) and nothing happens."""
        if status < 400:
            raise ValueError("an error page needs an error status")
        self.html_errors[method].extend([status] * times)

    def hang_chat(self, chat_id: int, seconds: float | None = None) -> None:
        """Every request addressed to ``chat_id`` waits ``seconds`` (None: until
        :meth:`release_chat`) before it takes effect; requests for other chats go on."""
        old = self._hangs.get(chat_id)
        self._hangs[chat_id] = _Hang(seconds)
        if old is not None:
            old.released.set()

    def release_chat(self, chat_id: int) -> None:
        """Let the requests held for ``chat_id`` through, and stop holding new ones."""
        hang = self._hangs.pop(chat_id, None)
        if hang is not None:
            hang.released.set()

    async def wait_hanging(self, chat_id: int, count: int = 1, within: float = 5.0) -> None:
        """Until ``count`` requests for ``chat_id`` are being held."""

        async def _wait() -> None:
            async with self._hang_cond:
                await self._hang_cond.wait_for(lambda: self.hanging[chat_id] >= count)

        await asyncio.wait_for(_wait(), within)

    async def _hold(self, chat_id: int, hang: _Hang) -> None:
        async with self._hang_cond:
            self.hanging[chat_id] += 1
            self._hang_cond.notify_all()
        try:
            if hang.seconds is None:
                await hang.released.wait()
            else:
                try:
                    await asyncio.wait_for(hang.released.wait(), hang.seconds)
                except TimeoutError:
                    pass
        finally:
            async with self._hang_cond:
                self.hanging[chat_id] -= 1
                self._hang_cond.notify_all()

    def _addressed_chat(self, method: str, params: dict[str, Any]) -> int | None:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            return chat_id
        if method == "answerCallbackQuery":
            return self._callback_chats.get(str(params.get("callback_query_id", "")))
        return None

    # ------------------------------------------------------------------ HTTP
    async def _params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            body = await request.json()
            params.update(body)
            return params, files
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                name = part.name or ""
                if part.filename:
                    files[name] = (part.filename, bytes(await part.read()))
                else:
                    params[name] = (await part.read()).decode()
        elif request.can_read_body:
            post = await request.post()
            for key, value in post.items():
                params[key] = value if isinstance(value, str) else value.file.read()  # type: ignore[union-attr]
        coerce_params(params)
        for key, value in params.items():
            if isinstance(value, str) and value.startswith("attach://"):
                files[key] = files.get(value.removeprefix("attach://"), ("file", b""))
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        rtt = self._draw_round_trip()
        if rtt:
            await asyncio.sleep(rtt / 2)  # the request on its way
        response = await self._answer(request)
        if rtt:
            await asyncio.sleep(rtt / 2)  # the answer on its way back
        return response

    def _html_response(self, status: int) -> web.Response:
        return web.Response(status=status, text=html_error_page(status), content_type="text/html")

    async def _answer(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params, files = await self._params(request)
        chat_id = self._addressed_chat(method, params)
        hang = self._hangs.get(chat_id) if chat_id is not None else None
        if hang is not None and chat_id is not None:
            await self._hold(chat_id, hang)
        record = Recorded(method=method, params=params, ok=False, at=self.now(), chat_id=chat_id)
        if method != "getUpdates":
            self.requests.append(record)
        try:
            if self.html_errors.get(method):  # a proxy failed: the request never got through
                status = self.html_errors[method].popleft()
                record.error = f"HTML {status} (never reached Telegram)"
                return self._html_response(status)
            error = await self._effect(method, record, files)
            if self.lost_answers.get(method):  # it happened, but the bot never learns it
                record.lost = True
                return self._html_response(self.lost_answers[method].popleft())
            if error is not None:
                return error
            return web.json_response({"ok": True, "result": record.result})
        finally:
            if method != "getUpdates":
                for listener in self.request_listeners:
                    listener(record)

    async def _effect(
        self, method: str, record: Recorded, files: dict[str, tuple[str, bytes]]
    ) -> web.Response | None:
        """Run the method: the error answer, or None when it succeeded (``record.result``)."""
        try:
            if self.failures.get(method):
                raise self.failures[method].popleft()
            handler = getattr(self, "m_" + method[0].lower() + method[1:], None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(record.params, files)
        except ApiError as exc:
            record.error = exc.description
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return web.json_response(body, status=exc.code)
        record.ok = True
        record.result = result
        return None

    async def _download(self, request: web.Request) -> web.StreamResponse:
        rtt = self._draw_round_trip()
        if rtt:
            await asyncio.sleep(rtt)
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        path = request.match_info["path"]
        for name, content in self.files.values():
            if name == path:
                return web.Response(body=content)
        raise web.HTTPNotFound()
