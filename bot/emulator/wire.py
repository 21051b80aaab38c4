"""What the Bot API emulator speaks: how request fields are typed, the errors, the record of a
request, a chat's state, rate limits, and the checks Telegram makes on text and keyboards."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypedDict

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
class ChatState:
    user: dict[str, Any]
    started: bool = False
    blocked: bool = False
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None
    reply_keyboard_of: int | None = None  # the message that brought the reply keyboard
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)


class Profile(TypedDict, total=False):
    """What a user may have besides an id and a first name (FakeTelegram.add_user)."""

    last_name: str | None
    username: str | None
    language_code: str | None
    started: bool


def present(**fields: Any) -> dict[str, Any]:
    """The fields that have a value (Telegram leaves the empty ones out)."""
    return {k: v for k, v in fields.items() if v}


@dataclass
class RateLimits:
    global_per_second: float = 30.0
    global_burst: float = 30.0
    chat_per_second: float = 1.0
    chat_burst: float = 3.0
    retry_after: int = 1


class Bucket:
    """A token bucket: ``rate`` per second, up to ``burst`` at once."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.updated = rate, burst, burst, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def coerce_params(params: dict[str, Any]) -> None:
    """Form fields arrive as strings: JSON fields parsed, ids as ints, "true"/"false" as bools
    (never in a free-text field)."""
    for key, value in list(params.items()):
        if not isinstance(value, str):
            continue
        if key in JSON_FIELDS:
            params[key] = json.loads(value)
        elif key in INT_FIELDS and value.lstrip("-").isdigit():
            params[key] = int(value)
        elif value in BOOL_VALUES and key not in STRING_FIELDS:
            params[key] = BOOL_VALUES[value]


def check_text(text: Any, parse_mode: Any, *, caption: bool = False) -> str:
    """The text as Telegram would show it; refuses empty, malformed HTML and over-long text."""
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


def check_markup(markup: Any) -> None:
    """Refuses a keyboard Telegram would refuse (empty buttons, callback data over 64 bytes)."""
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
