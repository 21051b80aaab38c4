"""The Bot API methods the emulator answers (getUpdates, sendMessage, editMessageText, sendPhoto,
answerCallbackQuery, ...), with the checks Telegram makes before a message goes out."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from bot.emulator.wire import ApiError, Bucket, ChatState, RateLimits, check_markup, check_text


def _file_json(file_id: str, name: str, content: bytes) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "file_unique_id": file_id,
        "file_name": name,
        "file_size": len(content),
    }


def _photo_sizes(stored: dict[str, Any]) -> list[dict[str, Any]]:
    """A stored file as a photo: one size."""
    return [
        {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "width": 1280,
            "height": 720,
            "file_size": stored["file_size"],
        }
    ]


class BotApiMethods:
    """Mixed into :class:`~bot.emulator.server.FakeTelegram`: a method ``m_<name>`` answers the Bot
    API method ``<name>`` with the request's params and uploaded files."""

    # the emulator's state these methods read and write (set up by FakeTelegram.__init__)
    bot_id: int
    bot_user: dict[str, Any]
    now: Callable[[], float]
    rate_limits: RateLimits | None
    _global_bucket: Bucket | None
    _chat_buckets: dict[int, Bucket]
    chats: dict[int, ChatState]
    updates: deque[dict[str, Any]]
    confirmed_offset: int
    _cond: asyncio.Condition
    _closing: bool
    callback_answers: dict[str, dict[str, Any] | None]
    files: dict[str, tuple[str, bytes]]
    commands: dict[str, list[dict[str, Any]]]
    _file_ids: itertools.count[int]
    listeners: list[Callable[[int, dict[str, Any]], None]]

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
            self._global_bucket = Bucket(limits.global_per_second, limits.global_burst, now)
        bucket = self._chat_buckets.get(chat_id)
        if bucket is None:
            bucket = self._chat_buckets[chat_id] = Bucket(
                limits.chat_per_second, limits.chat_burst, now
            )
        if not bucket.take(now) or not self._global_bucket.take(now):
            raise ApiError(
                429,
                f"Too Many Requests: retry after {limits.retry_after}",
                retry_after=limits.retry_after,
            )

    def _bot_message(self, chat: ChatState, **content: Any) -> dict[str, Any]:
        markup = content.get("reply_markup")
        message_id = self._new_message_id(chat)
        if markup is not None and "inline_keyboard" not in markup:
            # reply keyboards stay on the user's screen; a Message carries only inline ones
            chat.reply_keyboard = None if markup.get("remove_keyboard") else markup
            chat.reply_keyboard_of = message_id if chat.reply_keyboard else None
            content["reply_markup"] = None
        message = {
            "message_id": message_id,
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
        check_text(params.get("text"), params.get("parse_mode"))
        check_markup(params.get("reply_markup"))
        return self._bot_message(
            chat,
            text=params["text"],
            reply_markup=params.get("reply_markup"),
            reply_to_message=self._replied(chat, params.get("reply_parameters")),
        )

    def _replied(self, chat: ChatState, reply: Any) -> dict[str, Any] | None:
        """The message a reply quotes (``reply_parameters``), as Telegram puts it in the sent
        message; one that is not in the chat is refused unless the request allows it."""
        if not isinstance(reply, dict) or "message_id" not in reply:
            return None
        if reply.get("chat_id") not in (None, chat.user["id"]):
            raise ApiError(400, "Bad Request: replies to other chats are not supported here")
        found = chat.messages.get(reply["message_id"])
        if found is None and not reply.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")
        return found

    async def m_editMessageText(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat, message = self._existing_bot_message(params)
        check_text(params.get("text"), params.get("parse_mode"))
        check_markup(params.get("reply_markup"))
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
        check_markup(markup)
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
            return _file_json(existing, path.split("_", 1)[1] if "_" in path else path, content)
        if key not in files:
            raise ApiError(400, f"Bad Request: there is no {key} in the request")
        name, content = files[key]
        if not content:
            raise ApiError(400, "Bad Request: file must be non-empty")
        return self._keep("F", name, content)

    def _keep(self, prefix: str, name: str, content: bytes) -> dict[str, Any]:
        """Store a file under a new id (``prefix``: F sent by the bot, U by a user)."""
        file_id = f"{prefix}{next(self._file_ids)}"
        self.files[file_id] = (f"documents/{file_id}_{name}", content)
        return _file_json(file_id, name, content)

    def _send_file(
        self, params: dict[str, Any], files: dict[str, Any], key: str, shape: Any = None
    ) -> Any:
        """sendDocument and sendPhoto: the caption and keyboard checked, the file stored, the
        message sent with it under ``key`` (``shape`` turns the stored file into that field)."""
        chat = self._chat_for_send(params)
        if params.get("caption"):
            check_text(params["caption"], params.get("parse_mode"), caption=True)
        check_markup(params.get("reply_markup"))
        stored = self._store_file(files, key, params)
        content = {
            key: shape(stored) if shape else stored,
            "caption": params.get("caption"),
            "reply_markup": params.get("reply_markup"),
        }
        return self._bot_message(chat, **content)

    async def m_sendDocument(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return self._send_file(params, files, "document")

    async def m_sendPhoto(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return self._send_file(params, files, "photo", _photo_sizes)

    async def m_sendVoice(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat = self._chat_for_send(params)
        if params.get("caption"):
            check_text(params["caption"], params.get("parse_mode"), caption=True)
        check_markup(params.get("reply_markup"))
        stored = self._store_file(files, "voice", params)
        voice = {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "duration": 1,
            "file_size": stored["file_size"],
        }
        return self._bot_message(
            chat,
            voice=voice,
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
        return self._keep("U", filename, content)
