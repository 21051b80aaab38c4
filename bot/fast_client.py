"""Two per-object costs of aiogram's client, cut without changing what goes over the wire.

Measured on the bot under load (bench/bench_load.py, py-spy and cProfile of the bot's process),
both are Python work that an update pays many times over:

- **The request body.** aiogram's ``AiohttpSession`` hands a method's fields to aiohttp's
  ``FormData``, which encodes them with ``urllib.parse.urlencode``: ``quote_plus`` walks every
  byte that is not plain ASCII in a Python loop (a 600-character card in Russian, ~1,100 bytes:
  35 µs; its keyboard's JSON as much again). :class:`FormSession` builds the same
  ``application/x-www-form-urlencoded`` body with yarl's quoting (aiohttp's own URL library,
  written in C: about 5 µs). The fields, their order and their values decode exactly as before
  (tests/test_fast_client.py compares the two bodies, Hypothesis drawing the texts). Uploads
  still go as aiogram builds them (multipart). The method is dumped without its unset (None)
  fields, which aiogram's ``prepare_value`` would walk one by one and drop (a button has a dozen,
  two of them set): a ten-button card's body 54 → 38 µs. One difference, deliberate: a lone UTF-16
  surrogate (which JSON from a client can carry) is left out instead of failing the whole
  request with ``UnicodeEncodeError``.
- **Each Telegram object's start.** Every aiogram type and method (a sent message's answer is a
  ``Message`` with its chat, sender and every button of its keyboard: dozens per update) runs
  ``BotContextController.model_post_init``, which stores the bot of the validation context in
  the private attribute ``_bot``. Pydantic wraps that method once more at every level of the
  class hierarchy (``Message`` runs the private-attribute set-up four times) and the value goes
  in through ``BaseModel.__setattr__``. :func:`install_fast_post_init` gives each such class one
  function that stores the same ``{"_bot": bot}`` directly. Classes with any other private
  attribute, or a ``model_post_init`` of their own, keep pydantic's.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.context_controller import BotContextController
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiohttp import BytesPayload, FormData
from yarl import URL

FORM = "application/x-www-form-urlencoded"


def _text(value: Any) -> str:
    """What ``urlencode(..., doseq=True)`` sends for a value: a ``str`` subclass (``ParseMode``)
    as its characters, not its ``str()``."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    return str(value)


class FormSession(AiohttpSession):
    """aiogram's session, the form body encoded by yarl instead of urllib."""

    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData | BytesPayload:  # type: ignore[override]
        files: dict[str, Any] = {}
        fields: dict[str, str] = {}
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if not prepared:
                continue
            fields[key] = _text(prepared)
        if files:  # an upload: multipart, exactly as aiogram builds it
            return super().build_form_data(bot, method)
        body = URL.build(query=fields).raw_query_string.encode()
        return BytesPayload(body, content_type=FORM)

    async def close(self) -> None:
        """aiogram waits 250 ms after closing, for the SSL connections to shut down gracefully;
        a Bot API server over plain HTTP (a local one, the emulator) leaves none to wait for."""
        if self.api.base.lower().startswith("https:"):
            await super().close()
        elif self._session is not None and not self._session.closed:
            await self._session.close()


def _post_init(self: BotContextController, context: Any, /) -> None:
    bot = context.get("bot") if context else None
    private = getattr(self, "__pydantic_private__", None)
    if private is None:  # as pydantic-core leaves it before the post-init
        object.__setattr__(self, "__pydantic_private__", {"_bot": bot})
    else:  # a subclass made later, with private attributes of its own, set them up first
        private["_bot"] = bot


def _origin(fn: Any) -> Any:
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    return fn


def install_fast_post_init() -> int:
    """Give every aiogram type and method that only keeps the bot one direct post-init.
    Returns how many classes now use it (idempotent)."""
    original = _origin(BotContextController.__dict__["model_post_init"])
    done = 0
    pending: list[type] = [BotContextController]
    seen: set[type] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        post_init = cls.__dict__.get("model_post_init")
        if post_init is _post_init:
            done += 1
            continue
        if set(getattr(cls, "__private_attributes__", {})) != {"_bot"}:
            continue
        if _origin(cls.model_post_init) is not original:  # type: ignore[attr-defined]
            continue
        cls.model_post_init = _post_init  # type: ignore[attr-defined]
        done += 1
    return done
