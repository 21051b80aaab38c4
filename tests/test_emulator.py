"""The Bot API emulator itself, driven by a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.emulator import FakeTelegram
from tests import schema

USER = 777


@pytest.fixture
async def bot(emu: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    bot = Bot(emu.token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    try:
        yield bot
    finally:
        await bot.session.close()


@pytest.fixture
def user(emu: FakeTelegram) -> int:
    emu.add_user(USER, "Uma", started=True)
    return USER


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data=data)]]
    )


async def test_get_me(bot: Bot, emu: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.id == emu.bot_id
    assert me.is_bot
    assert me.username == "netsales_test_bot"


async def test_get_updates_honours_offset(bot: Bot, emu: FakeTelegram, user: int) -> None:
    for text in ("one", "two", "three"):
        await emu.user_message(user, text=text)
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    first = updates[0].update_id

    updates = await bot.get_updates(offset=first + 1)
    assert [u.message.text for u in updates if u.message] == ["two", "three"]
    # the confirmed update is gone for good, even without an offset
    assert [u.update_id for u in await bot.get_updates()] == [first + 1, first + 2]

    assert await bot.get_updates(offset=first + 3, timeout=0) == []
    assert emu.confirmed_offset == first + 3


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    bot: Bot, emu: FakeTelegram, user: int
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.1)
    assert not poll.done(), "a long poll with nothing to deliver must wait"
    await emu.user_message(user, text="ping")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["ping"]
    assert time.monotonic() - started < 1.5


async def test_text_length_is_counted_in_utf16_after_html(bot: Bot, user: int) -> None:
    await bot.send_message(user, "a" * 4096)
    await bot.send_message(user, "<b>" + "a" * 4096 + "</b>")  # tags do not count
    await bot.send_message(user, "&amp;" * 4096)  # an entity is one character
    await bot.send_message(user, "😀" * 2048)  # 4096 UTF-16 code units
    for too_long in ("a" * 4097, "<b>" + "a" * 4097 + "</b>", "😀" * 2048 + "a", "я" * 4097):
        with pytest.raises(TelegramBadRequest, match="too long"):
            await bot.send_message(user, too_long)


async def test_callback_data_over_64_bytes_refused(bot: Bot, user: int) -> None:
    await bot.send_message(user, "ok", reply_markup=keyboard("x" * 64))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user, "no", reply_markup=keyboard("x" * 65))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user, "no", reply_markup=keyboard("я" * 33))  # 66 bytes


@pytest.mark.parametrize(
    "text",
    ["<b>unclosed", "<blink>x</blink>", "Tom & Jerry", "1 < 2", "<b>x</i>", "&nbsp;"],
    ids=["unclosed", "unknown-tag", "bare-amp", "bare-lt", "mismatched", "named-entity"],
)
async def test_malformed_html_refused(bot: Bot, user: int, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="(?i)can't parse entities"):
        await bot.send_message(user, text)


async def test_well_formed_html_accepted(bot: Bot, user: int, emu: FakeTelegram) -> None:
    text = (
        '<b>bold</b> <i>it</i> <a href="https://e.com/?a=1&amp;b=2">link</a> '
        "<code>1 &lt; 2</code> &#128512; <tg-spoiler>s</tg-spoiler>"
    )
    sent = await bot.send_message(user, text)
    assert sent.text == text  # the emulator echoes what was sent
    assert emu.chats[user].messages[sent.message_id]["text"] == text


async def test_plain_text_that_looks_like_a_boolean_stays_text(bot: Bot, user: int) -> None:
    sent = await bot.send_message(user, "true")
    assert sent.text == "true"


async def test_cannot_write_first_or_to_a_blocker(bot: Bot, emu: FakeTelegram) -> None:
    emu.add_user(801, "Never")
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(801, "hello")

    emu.add_user(802, "Blocker", started=True)
    await bot.send_message(802, "hello")
    await emu.set_blocked(802, notify=False)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(802, "hello again")

    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(803, "nobody")


async def test_fail_next_answers_429_with_retry_after(
    bot: Bot, emu: FakeTelegram, user: int
) -> None:
    emu.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(user, "now")
    assert caught.value.retry_after == 3
    # only the next call fails
    assert (await bot.send_message(user, "later")).text == "later"


async def test_edit_unchanged_text_is_not_modified(bot: Bot, user: int) -> None:
    sent = await bot.send_message(user, "same", reply_markup=keyboard("k"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "same", chat_id=user, message_id=sent.message_id, reply_markup=keyboard("k")
        )
    edited = await bot.edit_message_text("changed", chat_id=user, message_id=sent.message_id)
    assert edited.text == "changed"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("changed", chat_id=user, message_id=sent.message_id)


async def test_answer_callback_query(bot: Bot, emu: FakeTelegram, user: int) -> None:
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("999")
    sent = await bot.send_message(user, "tap", reply_markup=keyboard("k"))
    await emu.user_callback(user, emu.chats[user].messages[sent.message_id], "k")
    query_id = max(emu.callback_answers, key=int)
    assert await bot.answer_callback_query(query_id, text="done")
    assert emu.callback_answers[query_id] == {"text": "done", "show_alert": False}
    with pytest.raises(TelegramBadRequest):  # a query is answered once
        await bot.answer_callback_query(query_id)


async def test_documents_and_photos_are_stored_and_downloadable(
    bot: Bot, emu: FakeTelegram, user: int
) -> None:
    doc = await bot.send_document(
        user, BufferedInputFile(b"name,phone\nAnna,+7\n", "contacts.csv"), caption="<b>CSV</b>"
    )
    assert doc.document is not None and doc.document.file_name == "contacts.csv"
    assert doc.caption == "<b>CSV</b>"
    file = await bot.get_file(doc.document.file_id)
    assert file.file_size == len(b"name,phone\nAnna,+7\n")
    data = await bot.download(doc.document.file_id)
    assert data is not None and data.read() == b"name,phone\nAnna,+7\n"

    photo = await bot.send_photo(user, BufferedInputFile(b"\x89PNG fake", "p.png"))
    assert photo.photo
    data = await bot.download(photo.photo[-1].file_id)
    assert data is not None and data.read() == b"\x89PNG fake"

    # a non-ASCII file name survives the round trip through the download URL
    doc = await bot.send_document(user, BufferedInputFile(b"vcard", "Контакты 1.vcf"))
    assert doc.document is not None
    data = await bot.download(doc.document.file_id)
    assert data is not None and data.read() == b"vcard"

    # a file the user uploaded is downloadable too
    uploaded = emu.upload("in.csv", b"x,y\n")
    data = await bot.download(uploaded["file_id"])
    assert data is not None and data.read() == b"x,y\n"

    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


async def test_send_document_by_file_id(bot: Bot, user: int) -> None:
    first = await bot.send_document(user, BufferedInputFile(b"abc", "a.txt"))
    assert first.document is not None
    again = await bot.send_document(user, first.document.file_id)
    assert again.document is not None and again.document.file_id == first.document.file_id


async def test_requests_are_recorded(bot: Bot, emu: FakeTelegram, user: int) -> None:
    await bot.send_message(user, "hi")
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(user, "<b>")
    sent, refused = [r for r in emu.requests if r.method == "sendMessage"]
    assert sent.ok and sent.params["chat_id"] == user and sent.params["parse_mode"] == "HTML"
    assert not refused.ok and "can't parse entities" in (refused.error or "").lower()


# ---------------------------------------------------------------------- the schema check itself


@pytest.fixture
def api() -> dict:
    loaded = schema.load_schema()
    if loaded is None:
        pytest.skip("Bot API schema not found")
    return loaded


def test_schema_accepts_a_valid_request(api: dict) -> None:
    schema.validate_request(
        "sendMessage",
        {
            "chat_id": 1,
            "text": "hi",
            "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]},
        },
        api,
    )


def test_schema_flags_unknown_and_missing_fields(api: dict) -> None:
    with pytest.raises(schema.SchemaError, match="unknown field 'colour'"):
        schema.validate_request("sendMessage", {"chat_id": 1, "text": "x", "colour": "red"}, api)
    with pytest.raises(schema.SchemaError, match="missing required field 'text'"):
        schema.validate_request("sendMessage", {"chat_id": 1}, api)
    with pytest.raises(schema.SchemaError, match="reply_markup"):  # a button without its text
        schema.validate_request(
            "sendMessage",
            {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"url": "u"}]]}},
            api,
        )
    with pytest.raises(schema.SchemaError, match="expected Integer"):
        schema.validate_request("sendMessage", {"chat_id": True, "text": "x"}, api)
    with pytest.raises(schema.SchemaError, match="no such Bot API method"):
        schema.validate_request("sendTelegram", {}, api)


def test_assert_requests_valid_reports_bad_requests(api: dict) -> None:
    from bot.emulator.server import Recorded

    good = Recorded("sendMessage", {"chat_id": 1, "text": "x"}, ok=True)
    bad = Recorded("sendMessage", {"chat_id": 1, "txt": "x"}, ok=True)
    schema.assert_requests_valid([good])
    with pytest.raises(AssertionError, match="txt"):
        schema.assert_requests_valid([good, bad])
