"""bot.fast_client: the same requests and the same objects as aiogram's, for less Python."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import aiohttp.formdata
import pytest
from aiogram import Bot
from aiogram.client.context_controller import BotContextController
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendDocument,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    TelegramObject,
)
from aiohttp import BytesPayload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import PrivateAttr, ValidationError

from bot import fast_client
from bot.emulator import FakeTelegram
from bot.fast_client import FormSession
from tests.conftest import ADMIN_ID

TOKEN = "42:FAST-CLIENT-TEST"
DEFAULTS = DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True)


def make_bot(session: Any = None, token: str = TOKEN) -> Bot:
    return Bot(token, session=session or AiohttpSession(), default=DEFAULTS)


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=t, callback_data=f"c:{i}")] for i, t in enumerate(labels)]
    return InlineKeyboardMarkup(inline_keyboard=rows)


# one of each, built once: a session's start loads certifi's CA file (~45 ms), and only the
# body it builds is compared
STOCK, FAST = AiohttpSession(), FormSession()


def stock_fields(bot: Bot, method: TelegramMethod[Any]) -> list[tuple[str, str]]:
    form = STOCK.build_form_data(bot, method)
    payload = form()
    assert not form.is_multipart
    return parse_qsl(payload._value.decode(), keep_blank_values=True)


def fast_fields(bot: Bot, method: TelegramMethod[Any]) -> list[tuple[str, str]]:
    payload = FAST.build_form_data(bot, method)
    assert isinstance(payload, BytesPayload)
    assert payload.content_type == "application/x-www-form-urlencoded"
    return parse_qsl(payload._value.decode(), keep_blank_values=True, strict_parsing=True)


CARD_RU = (
    "<b>Анна Смирнова</b> — ООО «Ромашка» & Co\n"
    "Статус: лид · Этап: знакомство\nТелефон: +7 999 000-00-00\n"
    "Следующий шаг: отправить КП (через 3 дня) 100% ✅ 👍 a=b;c/d?e#f"
)

METHODS = [
    SendMessage(chat_id=5, text=CARD_RU, reply_markup=keyboard("Открыть", "Log touch", "x&y=z")),
    SendMessage(chat_id=-1001, text="plain", parse_mode=None, disable_notification=True),
    SendMessage(
        chat_id=5,
        text="<i>hi</i>",
        link_preview_options=LinkPreviewOptions(is_disabled=False, url="https://e.x/?a=1&b=2"),
        reply_parameters=ReplyParameters(message_id=9),
    ),
    EditMessageText(chat_id=5, message_id=77, text=CARD_RU, reply_markup=keyboard("+", "%")),
    SendMessage(  # buttons of other kinds, and an option of the bot's defaults overridden
        chat_id=5,
        text="links",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="site", url="https://e.x/?q=1&r=2")],
                [InlineKeyboardButton(text="", callback_data="c:0")],
            ]
        ),
        link_preview_options=LinkPreviewOptions(is_disabled=True, show_above_text=False),
    ),
    AnswerCallbackQuery(callback_query_id="123456789", text="Сохранено", show_alert=True),
    AnswerCallbackQuery(callback_query_id="1"),
]


@pytest.mark.parametrize("method", METHODS, ids=lambda m: type(m).__name__)
def test_the_body_decodes_to_aiograms_own_fields(method: TelegramMethod[Any]) -> None:
    bot = make_bot()
    assert fast_fields(bot, method) == stock_fields(bot, method)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300),
    label=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20),
)
def test_any_text_decodes_to_the_same_fields(text: str, label: str) -> None:
    bot = make_bot(session=FAST)
    method = SendMessage(chat_id=5, text=text, reply_markup=keyboard(label))
    assert fast_fields(bot, method) == stock_fields(bot, method)


def test_a_lone_surrogate_is_left_out_instead_of_failing_the_request() -> None:
    bot = make_bot()
    method = SendMessage(chat_id=5, text="ok\ud800ok")
    with pytest.raises(UnicodeEncodeError):
        stock_fields(bot, method)
    assert dict(fast_fields(bot, method))["text"] == "okok"


def test_an_upload_goes_multipart_as_aiogram_builds_it() -> None:
    bot = make_bot()
    method = SendDocument(chat_id=5, document=BufferedInputFile(b"a,b\n", "c.csv"), caption="Ф")
    form = FormSession().build_form_data(bot, method)
    assert isinstance(form, aiohttp.FormData)
    form()
    assert form.is_multipart


@pytest.fixture
async def fast_bot(emu: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(FormSession(api=TelegramAPIServer.from_base(emu.base_url)), emu.token)
    try:
        yield bot
    finally:
        await bot.session.close()


async def test_the_emulator_receives_what_was_sent_without_urllib(
    emu: FakeTelegram, fast_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiohttp's own form encoding (urllib's per-byte loop) is not used at all."""

    def refused(*_args: Any, **_kwargs: Any) -> str:
        raise AssertionError("urllib's urlencode was used")

    monkeypatch.setattr(aiohttp.formdata, "urlencode", refused)
    emu.add_user(5, "Anna", started=True)
    html = CARD_RU.replace("& Co", "&amp; Co")
    sent = await fast_bot.send_message(5, html, reply_markup=keyboard("Открыть", "a&b"))
    assert sent.bot is fast_bot
    stored = emu.chats[5].messages[sent.message_id]
    assert stored["text"] == sent.text == html  # every character as written, & and emoji too
    buttons = [b["text"] for row in stored["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["Открыть", "a&b"]


# ---------------------------------------------------------------------------- post-init
def all_context_classes() -> list[type]:
    found: list[type] = []
    pending: list[type] = [BotContextController]
    while pending:
        cls = pending.pop()
        if cls not in found:
            found.append(cls)
            pending.extend(cls.__subclasses__())
    return found


MESSAGE = {
    "message_id": 1,
    "date": 1700000000,
    "chat": {"id": 5, "type": "private", "first_name": "Anna"},
    "from": {"id": 5, "is_bot": False, "first_name": "Anna"},
    "text": "hi",
    "reply_markup": {"inline_keyboard": [[{"text": "Go", "callback_data": "c:1"}]]},
}


def test_every_aiogram_type_and_method_gets_the_direct_post_init() -> None:
    fast_client.install_fast_post_init()
    patched = [c for c in all_context_classes() if c.__dict__.get("model_post_init")]
    assert len(patched) > 600  # every type and every method
    assert all(c.__dict__["model_post_init"] is fast_client._post_init for c in patched)
    assert fast_client.install_fast_post_init() == len(patched)  # idempotent


def test_objects_keep_the_bot_as_before() -> None:
    fast_client.install_fast_post_init()
    bot = make_bot()
    message = Message.model_validate(MESSAGE, context={"bot": bot})
    assert message.bot is bot and message.__pydantic_private__ == {"_bot": bot}
    assert message.chat.bot is bot and message.reply_markup is not None
    assert message.reply_markup.inline_keyboard[0][0].bot is bot
    assert Message.model_validate(MESSAGE).bot is None
    button = InlineKeyboardButton(text="Go", callback_data="x")
    assert button.bot is None and button.__pydantic_private__ == {"_bot": None}
    assert button.as_(bot).bot is bot
    assert message.model_copy().bot is bot
    assert Message.model_construct(message_id=1).bot is None
    assert SendMessage(chat_id=1, text="x").as_(bot).bot is bot
    with pytest.raises(ValidationError):  # still frozen
        message.text = "changed"


def test_a_class_with_other_private_attributes_keeps_pydantics_set_up() -> None:
    class Noted(TelegramObject):
        name: str
        _note: str = PrivateAttr(default="kept")

    fast_client.install_fast_post_init()
    assert Noted.__dict__["model_post_init"] is not fast_client._post_init
    noted = Noted.model_validate({"name": "n"}, context={"bot": None})
    assert noted._note == "kept" and noted.bot is None


async def test_the_bot_talks_through_the_fast_client(
    tg: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The running bot (build_app, the chat through the emulator) never falls back to urllib's
    form encoding and builds its Telegram objects with the direct post-init."""

    def refused(*_args: Any, **_kwargs: Any) -> str:
        raise AssertionError("urllib's urlencode was used")

    monkeypatch.setattr(aiohttp.formdata, "urlencode", refused)
    admin = tg.user(ADMIN_ID, "Ада")
    reply = await admin.send("/help")
    assert reply.text
    assert Message.__dict__["model_post_init"] is fast_client._post_init


@pytest.mark.parametrize(
    ("base", "waits"),
    [("http://127.0.0.1:8081", []), ("https://api.telegram.org", [0.25])],
)
async def test_closing_waits_for_ssl_connections_only_over_https(
    base: str, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiogram's 250 ms pause after closing is kept for HTTPS (its SSL connections shut down
    gracefully); over plain HTTP (a local Bot API server, the emulator) there is nothing to
    wait for, and every stop of the bot (and every chat test) was 250 ms longer for it."""
    import asyncio

    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded(delay: float, *args: Any) -> Any:
        slept.append(delay)
        return await real_sleep(0, *args)

    session = FormSession(api=TelegramAPIServer.from_base(base))
    await session.create_session()
    monkeypatch.setattr(asyncio, "sleep", recorded)
    await session.close()
    monkeypatch.undo()
    assert session._session is not None and session._session.closed
    assert slept == waits
