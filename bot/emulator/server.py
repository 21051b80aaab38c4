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
import json
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web

from bot.emulator.html import HtmlError, parse_html, utf16_len

JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "commands",
    "scope",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "media",
    "menu_button",
}
INT_FIELDS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "user_id",
    "cache_time",
    "from_chat_id",
    "message_thread_id",
}
BOOL_VALUES = {"true": True, "false": False}
# free-text fields: a user's "true" or "123" stays the string it is
STRING_FIELDS = {
    "text",
    "caption",
    "description",
    "short_description",
    "name",
    "title",
    "query",
    "callback_query_id",
    "file_id",
    "url",
    "emoji",
    "question",
    "explanation",
    "inline_message_id",
    "custom_title",
    "payload",
    "start_parameter",
    "message_effect_id",
    "business_connection_id",
    "language_code",
}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class Recorded:
    """One request. ``at`` is when it took effect (after the outbound half of the round trip
    and any hang); ``chat_id`` the chat it was addressed to (for answerCallbackQuery, the user
    who tapped); ``lost`` that it took effect but the bot got an HTML error page instead."""

    method: str
    params: dict[str, Any]
    ok: bool
    result: Any = None
    error: str | None = None
    at: float = 0.0
    chat_id: int | None = None
    lost: bool = False


def html_error_page(status: int) -> str:
    """The page an nginx in front of the Bot API answers with when the upstream fails."""
    title = f"{status} {HTTPStatus(status).phrase}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


@dataclass
class _Hang:
    seconds: float | None
    released: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class ChatState:
    user: dict[str, Any]
    started: bool = False
    blocked: bool = False
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class RateLimits:
    global_per_second: float = 30.0
    global_burst: float = 30.0
    chat_per_second: float = 1.0
    chat_burst: float = 3.0
    retry_after: int = 1


class _Bucket:
    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.updated = rate, burst, burst, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class FakeTelegram:
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
        self._global_bucket: _Bucket | None = None
        self._chat_buckets: dict[int, _Bucket] = {}
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
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        chat = self.chats.get(user_id)
        if chat is None:
            chat = ChatState(user=user, started=started)
            self.chats[user_id] = chat
        else:
            chat.user = user
            chat.started = chat.started or started
        return chat

    def chat_json(self, user_id: int) -> dict[str, Any]:
        user = self.chats[user_id].user
        chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _new_message_id(self, chat: ChatState) -> int:
        mid = chat.next_message_id
        chat.next_message_id += 1
        return mid

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
        for key, value in list(params.items()):
            if not isinstance(value, str):
                continue
            if key in JSON_FIELDS:
                params[key] = json.loads(value)
            elif key in INT_FIELDS and value.lstrip("-").isdigit():
                params[key] = int(value)
            elif value in BOOL_VALUES and key not in STRING_FIELDS:
                params[key] = BOOL_VALUES[value]
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

    # ------------------------------------------------------------------ checks
    def _chat_for_send(self, params: dict[str, Any]) -> ChatState:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        self._rate_limit(chat_id)
        return chat

    def _rate_limit(self, chat_id: int) -> None:
        limits = self.rate_limits
        if limits is None:
            return
        now = time.monotonic()
        if self._global_bucket is None:
            self._global_bucket = _Bucket(limits.global_per_second, limits.global_burst, now)
        bucket = self._chat_buckets.get(chat_id)
        if bucket is None:
            bucket = self._chat_buckets[chat_id] = _Bucket(
                limits.chat_per_second, limits.chat_burst, now
            )
        if not bucket.take(now) or not self._global_bucket.take(now):
            raise ApiError(
                429,
                f"Too Many Requests: retry after {limits.retry_after}",
                retry_after=limits.retry_after,
            )

    def _check_text(self, text: Any, parse_mode: Any, *, caption: bool = False) -> str:
        limit = 1024 if caption else 4096
        if not isinstance(text, str) or (not text.strip() and not caption):
            raise ApiError(400, "Bad Request: message text is empty")
        plain = text
        if parse_mode == "HTML":
            try:
                plain = parse_html(text)
            except HtmlError as exc:
                raise ApiError(400, f"Bad Request: {exc}") from None
        elif parse_mode not in (None, ""):
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
        if not caption and not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > limit:
            what = "message caption" if caption else "message"
            raise ApiError(400, f"Bad Request: {what} is too long")
        return plain

    def _check_markup(self, markup: Any) -> None:
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list):
                raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array')
            for row in rows:
                for button in row:
                    if not str(button.get("text", "")).strip():
                        raise ApiError(
                            400, "Bad Request: text buttons are unallowed in the inline keyboard"
                        )
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(data.encode()) <= 64:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                    kinds = {
                        "callback_data",
                        "url",
                        "switch_inline_query",
                        "copy_text",
                        "web_app",
                        "login_url",
                        "switch_inline_query_current_chat",
                        "switch_inline_query_chosen_chat",
                        "callback_game",
                        "pay",
                    }
                    if not kinds & button.keys():
                        raise ApiError(
                            400,
                            'Bad Request: can\'t find field "callback_data" in the inline keyboard button',
                        )
        elif "keyboard" in markup:
            for row in markup["keyboard"]:
                for button in row:
                    text = button if isinstance(button, str) else button.get("text", "")
                    if not str(text).strip():
                        raise ApiError(400, "Bad Request: keyboard button text is empty")

    def _bot_message(self, chat: ChatState, **content: Any) -> dict[str, Any]:
        markup = content.get("reply_markup")
        if markup is not None and "inline_keyboard" not in markup:
            # reply keyboards stay on the user's screen; a Message carries only inline ones
            chat.reply_keyboard = None if markup.get("remove_keyboard") else markup
            content["reply_markup"] = None
        message = {
            "message_id": self._new_message_id(chat),
            "date": int(self.now()),
            "chat": self.chat_json(chat.user["id"]),
            "from": self.bot_user,
            **{k: v for k, v in content.items() if v is not None},
        }
        chat.messages[message["message_id"]] = message
        for listener in self.listeners:
            listener(chat.user["id"], message)
        return message

    def _existing_bot_message(self, params: dict[str, Any]) -> tuple[ChatState, dict[str, Any]]:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: inline messages are not supported here")
        chat_id = params.get("chat_id")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        message = chat.messages.get(params.get("message_id"))  # type: ignore[arg-type]
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, message

    # ------------------------------------------------------------------ methods
    async def m_getMe(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return self.bot_user

    async def m_logOut(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return True

    async def m_close(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return True

    async def m_deleteWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def m_setWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        url = params.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ApiError(400, "Bad Request: bad webhook: an HTTPS URL must be provided")
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
        }
        return True

    async def m_getWebhookInfo(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        hook = self.webhook or {}
        return {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    async def m_getUpdates(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0, min(50, int(params.get("timeout") or 0)))
        async with self._cond:
            if offset:
                while self.updates and self.updates[0]["update_id"] < offset:
                    self.updates.popleft()
                if offset > self.confirmed_offset:
                    self.confirmed_offset = offset
                    self._cond.notify_all()
            if not self.updates and timeout:
                try:
                    await asyncio.wait_for(
                        self._cond.wait_for(lambda: bool(self.updates) or self._closing),
                        timeout,
                    )
                except TimeoutError:
                    pass
            return list(itertools.islice(self.updates, limit))

    async def m_setMyCommands(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100 items")
        for c in commands:
            name, desc = c.get("command", ""), c.get("description", "")
            if (
                not (1 <= len(name) <= 32)
                or not name.replace("_", "").isalnum()
                or name.lower() != name
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(desc) <= 256):
                raise ApiError(400, "Bad Request: command description is invalid")
        scope = params.get("scope") or {"type": "default"}
        if scope.get("type") == "chat" and scope.get("chat_id") not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        key = json.dumps(scope, sort_keys=True) + "|" + str(params.get("language_code") or "")
        self.commands[key] = commands
        return True

    async def m_deleteMyCommands(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return True

    async def m_sendChatAction(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self._chat_for_send(params)
        return True

    async def m_sendMessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat = self._chat_for_send(params)
        self._check_text(params.get("text"), params.get("parse_mode"))
        self._check_markup(params.get("reply_markup"))
        return self._bot_message(chat, text=params["text"], reply_markup=params.get("reply_markup"))

    async def m_editMessageText(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat, message = self._existing_bot_message(params)
        self._check_text(params.get("text"), params.get("parse_mode"))
        self._check_markup(params.get("reply_markup"))
        markup = params.get("reply_markup")
        if message.get("text") == params["text"] and message.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message["text"] = params["text"]
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(self.now())
        return message

    async def m_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat, message = self._existing_bot_message(params)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified")
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return message

    async def m_deleteMessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat, message = self._existing_bot_message(params)
        chat.messages.pop(message["message_id"], None)
        return True

    async def m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if self.callback_answers[query_id] is not None:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = {
            "text": text,
            "show_alert": bool(params.get("show_alert")),
        }
        return True

    def _store_file(
        self, files: dict[str, tuple[str, bytes]], key: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        existing = params.get(key)
        if key not in files and isinstance(existing, str) and existing in self.files:
            # sent again by file_id, as Telegram allows
            path, content = self.files[existing]
            return {
                "file_id": existing,
                "file_unique_id": existing,
                "file_name": path.split("_", 1)[1] if "_" in path else path,
                "file_size": len(content),
            }
        if key not in files:
            raise ApiError(400, f"Bad Request: there is no {key} in the request")
        name, content = files[key]
        if not content:
            raise ApiError(400, "Bad Request: file must be non-empty")
        file_id = f"F{next(self._file_ids)}"
        self.files[file_id] = (f"documents/{file_id}_{name}", content)
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": name,
            "file_size": len(content),
        }

    async def m_sendDocument(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat = self._chat_for_send(params)
        if params.get("caption"):
            self._check_text(params["caption"], params.get("parse_mode"), caption=True)
        self._check_markup(params.get("reply_markup"))
        document = self._store_file(files, "document", params)
        return self._bot_message(
            chat,
            document=document,
            caption=params.get("caption"),
            reply_markup=params.get("reply_markup"),
        )

    async def m_sendPhoto(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat = self._chat_for_send(params)
        if params.get("caption"):
            self._check_text(params["caption"], params.get("parse_mode"), caption=True)
        self._check_markup(params.get("reply_markup"))
        stored = self._store_file(files, "photo", params)
        photo = [
            {
                "file_id": stored["file_id"],
                "file_unique_id": stored["file_unique_id"],
                "width": 1280,
                "height": 720,
                "file_size": stored["file_size"],
            }
        ]
        return self._bot_message(
            chat,
            photo=photo,
            caption=params.get("caption"),
            reply_markup=params.get("reply_markup"),
        )

    async def m_getFile(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        file_id = params.get("file_id")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, content = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(content),
            "file_path": path,
        }

    # ------------------------------------------------------------------ helpers for users
    def upload(self, filename: str, content: bytes) -> dict[str, Any]:
        """A file a user sends: stored so the bot can getFile and download it."""
        file_id = f"U{next(self._file_ids)}"
        self.files[file_id] = (f"documents/{file_id}_{filename}", content)
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": filename,
            "file_size": len(content),
        }
